"""Short requests first: request work that has run long steps aside for fresh work.

All request workers share one interpreter lock, so a tenant's whole-view Get and another
tenant's one-leaf Get split the interpreter evenly while both run, and the short one
takes twice as long. :class:`ShortFirst` gives fresh work precedence, the way a
multi-level feedback scheduler does: work that has used less than ``quantum_ns`` of CPU
is fresh; work past it is long, and at its checkpoints a long one waits (lock released)
while any fresh work is running. Fresh work becomes long after its quantum, so a stream
of short requests cannot hold a long one back for more than ``max_wait_ns`` at a time,
and between two waits the long work runs at least ``min_run_ns``.

Thread-safe: scopes enter and leave from worker threads.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

QUANTUM_NS: Final = 2_000_000
"""CPU a request's work may use before it counts as long (2 ms)."""
MAX_WAIT_NS: Final = 2_000_000
"""The longest a long request waits for fresh ones at one checkpoint."""
MIN_RUN_NS: Final = 500_000
"""How long a long request runs after a wait before it waits again."""


@dataclass(frozen=True, slots=True)
class Precedence:
    """The knobs of :class:`ShortFirst`."""

    quantum_ns: int = QUANTUM_NS
    max_wait_ns: int = MAX_WAIT_NS
    min_run_ns: int = MIN_RUN_NS


class ShortFirst:
    """Counts the fresh work running and lets long work wait for it."""

    def __init__(
        self,
        precedence: Precedence | None = None,
        cpu_ns: Callable[[], int] = time.thread_time_ns,
    ) -> None:
        """``cpu_ns``: the calling thread's CPU time (injectable for tests)."""
        self.precedence = precedence or Precedence()
        self.cpu_ns = cpu_ns
        self._lock = threading.Lock()
        self._fresh = 0
        self._none_fresh = threading.Event()
        self._none_fresh.set()
        self.waits = 0
        """How often long work stepped aside (approximate: counted without the lock)."""

    @property
    def fresh(self) -> int:
        """Fresh work running now."""
        return self._fresh

    def start(self) -> Turn:
        """Registers work starting on the calling thread; its Turn must be ended."""
        with self._lock:
            self._fresh += 1
            self._none_fresh.clear()
        return Turn(self)

    def _no_longer_fresh(self) -> None:
        with self._lock:
            self._fresh -= 1
            if not self._fresh:
                self._none_fresh.set()

    def _wait(self, timeout_ns: int) -> None:
        self.waits += 1
        self._none_fresh.wait(timeout_ns / 1e9)


class Turn:
    """One piece of work's standing with :class:`ShortFirst` (used by one thread)."""

    __slots__ = ("_fresh", "_owner", "_ran_from", "_started")

    def __init__(self, owner: ShortFirst) -> None:
        self._owner = owner
        self._fresh = True
        self._started = owner.cpu_ns()
        self._ran_from = 0

    def step(self) -> None:
        """At a checkpoint: past the quantum the work is long; long work waits while
        fresh work runs (at most ``max_wait_ns``, then runs ``min_run_ns``)."""
        owner = self._owner
        rules = owner.precedence
        used = owner.cpu_ns() - self._started
        if self._fresh:
            if used < rules.quantum_ns:
                return
            self._fresh = False
            owner._no_longer_fresh()
        if used - self._ran_from < rules.min_run_ns or not owner.fresh:
            return
        owner._wait(rules.max_wait_ns)
        self._ran_from = owner.cpu_ns() - self._started

    def end(self) -> None:
        """The work is over."""
        if self._fresh:
            self._fresh = False
            self._owner._no_longer_fresh()
