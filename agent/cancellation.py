"""Cooperative cancellation of work that runs in worker threads.

A request's work runs inside a :class:`WorkScope`: its deadline (the client's, or the
agent's per-request budget, whichever comes first) and a cancel flag that the event loop
sets when the client goes away. Long loops (tree walks, filters, encoders, state reads)
call :func:`checkpoint`, which raises :class:`WorkCancelled` once the scope is over, so
the worker is freed instead of finishing an answer nobody will read. Checkpoints also
offer the interpreter lock to other threads and, for work that has run long, step aside
for fresh work (agent.precedence).

The active scope travels in a context variable: ``asyncio.to_thread`` and
``contextvars.copy_context().run`` carry it into the worker thread. Outside any scope
``checkpoint`` does nothing, so library code stays usable on its own.
"""

from __future__ import annotations

import contextlib
import enum
import os
import threading
import time
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Final

from agent.clock import Clock
from agent.precedence import Turn

YIELD_EVERY: Final = 4
"""Checkpoints between two looks at the time since the last offer of the lock."""
YIELD_AFTER_NS: Final = 50_000
"""Work between two offers of the interpreter lock to other threads (50 us)."""


class CancelReason(enum.Enum):
    """Why a scope ended."""

    CANCELLED = "cancelled by the client"
    DEADLINE = "the client's deadline passed"
    BUDGET = "the per-request time budget ran out"


class WorkCancelled(Exception):
    """Raised by :func:`checkpoint` in work whose scope has ended."""

    def __init__(self, reason: CancelReason, budget_s: float | None = None) -> None:
        super().__init__(reason.value)
        self.reason = reason
        self.budget_s = budget_s


class WorkScope:
    """The deadline and cancel flag of one request's work (thread-safe)."""

    __slots__ = (
        "_budget_s",
        "_cancelled",
        "_checks",
        "_clock",
        "_deadline_ns",
        "_one_core",
        "_reason",
        "_turn",
        "_yielded_ns",
    )

    def __init__(
        self,
        clock: Clock,
        *,
        client_timeout_s: float | None = None,
        budget_s: float | None = None,
    ) -> None:
        """``client_timeout_s``: the client's remaining time; ``budget_s``: ours."""
        self._clock = clock
        self._budget_s = budget_s
        self._cancelled = threading.Event()
        self._reason: CancelReason | None = None
        self._checks = 0
        self._turn: Turn | None = None
        self._one_core = on_one_core()  # how to hand the interpreter lock over
        self._yielded_ns = time.perf_counter_ns()
        now = clock.monotonic_ns()
        deadline: int | None = None
        if budget_s is not None:
            deadline = now + int(budget_s * 1e9)
        if client_timeout_s is not None:
            client = now + int(max(client_timeout_s, 0.0) * 1e9)
            if deadline is None or client <= deadline:
                deadline = client
                self._budget_s = None  # the client's deadline comes first
        self._deadline_ns = deadline

    def take_turns(self, turn: Turn | None) -> None:
        """Makes the work step aside for fresh work as ``turn`` says (see
        agent.precedence); None: never."""
        self._turn = turn

    def cancel(self, reason: CancelReason = CancelReason.CANCELLED) -> None:
        """Ends the scope; the work stops at its next checkpoint."""
        if self._reason is None:
            self._reason = reason
        self._cancelled.set()

    @property
    def cancelled(self) -> bool:
        """True once the scope has ended (cancelled or past its deadline)."""
        try:
            self.check()
        except WorkCancelled:
            return True
        return False

    def check(self) -> None:
        """Raises WorkCancelled when the scope has ended. After every YIELD_AFTER_NS of
        work the thread also offers the interpreter lock to others (the event loop
        above all), so that a long request delays short ones by a slice, not by the
        interpreter's switch interval at every step."""
        self._checks += 1
        if not self._checks % YIELD_EVERY:
            now = time.perf_counter_ns()
            if now - self._yielded_ns >= YIELD_AFTER_NS:
                if self._turn is not None:
                    self._turn.step()
                offer_interpreter(self._one_core)
                self._yielded_ns = time.perf_counter_ns()
        if self._cancelled.is_set():
            raise WorkCancelled(self._reason or CancelReason.CANCELLED)
        if self._deadline_ns is not None and self._clock.monotonic_ns() >= self._deadline_ns:
            reason = CancelReason.BUDGET if self._budget_s is not None else CancelReason.DEADLINE
            self.cancel(reason)
            raise WorkCancelled(reason, self._budget_s)


def offer_interpreter(one_core: bool = False) -> None:
    """Lets a thread waiting for the interpreter lock run now.

    Both calls release the lock around a system call; which one hands it over depends on
    the cores the process may use (measured here, a 0.4 ms task next to a long one, p50 /
    p99): on one core ``os.sched_yield`` puts this thread behind the woken one (0.4 / 0.5
    ms; ``time.sleep(0)`` 0.5 / 5.2 ms, the waker keeps the core); on several cores
    ``time.sleep(0)`` gives the woken thread, running elsewhere, time to take it (0.4 /
    0.6 ms; ``sched_yield`` returns at once and takes it back: 98 ms / 1.4 s). Without
    either: 5.5 ms, the interpreter's switch interval.
    """
    if one_core and _SCHED_YIELD is not None:
        _SCHED_YIELD()
    else:
        time.sleep(0)


def on_one_core() -> bool:
    """Whether the calling thread may run on one core only."""
    getter = getattr(os, "sched_getaffinity", None)
    return getter is not None and len(getter(0)) == 1


_SCHED_YIELD: Final = getattr(os, "sched_yield", None)
_ACTIVE: Final[ContextVar[WorkScope | None]] = ContextVar("edge_agent_work_scope", default=None)


def checkpoint() -> None:
    """Raises WorkCancelled when the active scope (if any) has ended."""
    scope = _ACTIVE.get()
    if scope is not None:
        scope.check()


def active_scope() -> WorkScope | None:
    """The scope the calling code runs in, if any."""
    return _ACTIVE.get()


@contextlib.contextmanager
def running_in(scope: WorkScope) -> Iterator[WorkScope]:
    """Makes ``scope`` the active scope of the calling context for the block."""
    token = _ACTIVE.set(scope)
    try:
        yield scope
    finally:
        _ACTIVE.reset(token)
