"""Giving memory back after large requests.

A request of tens of MiB leaves two kinds of residue once answered: objects kept alive
only by reference cycles (an exception's traceback holds the frames that held the
request) until the cyclic collector's next full pass, which object counts rather than
bytes trigger, so it may be far off; and freed heap pages that the C allocator keeps
for later instead of returning them. :class:`MemoryReclaimer` removes both: after a
large request it runs a full collection and, on glibc, ``malloc_trim(0)`` in a worker
thread, at most once per ``min_interval_s``.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import gc
import logging
from collections.abc import Callable

from agent.clock import Clock

log = logging.getLogger(__name__)


def _malloc_trim() -> Callable[[], None] | None:
    """glibc's malloc_trim(0), or None where the C library has none."""
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        trim = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int

    def trim_heap() -> None:
        trim(0)

    return trim_heap


class MemoryReclaimer:
    """Collects cycles and trims the heap after requests of ``threshold_bytes`` or more."""

    def __init__(
        self,
        clock: Clock,
        *,
        threshold_bytes: int = 4 << 20,
        min_interval_s: float = 1.0,
        settle_s: float = 0.25,
    ) -> None:
        """``settle_s``: how long after a request to wait, so that the call's last
        references (its task, the transport's buffers) are gone first."""
        self._clock = clock
        self.threshold_bytes = threshold_bytes
        self._min_interval_ns = int(min_interval_s * 1e9)
        self._settle_s = settle_s
        self._last_ns: int | None = None
        self._pending = False
        self._trim = _malloc_trim()
        self.runs = 0

    def after_request(self, size: int) -> None:
        """Called on the event loop when a request of ``size`` bytes has ended."""
        if size < self.threshold_bytes or self._pending:
            return
        self._pending = True
        now = self._clock.monotonic_ns()
        wait_ns = 0 if self._last_ns is None else self._last_ns + self._min_interval_ns - now
        loop = asyncio.get_running_loop()
        delay = max(wait_ns / 1e9, self._settle_s)
        loop.call_later(delay, lambda: loop.create_task(self._reclaim()))

    async def _reclaim(self) -> None:
        try:
            await asyncio.to_thread(self.reclaim)
        finally:
            self._last_ns = self._clock.monotonic_ns()
            self._pending = False

    def reclaim(self) -> None:
        """A full collection, then the heap trimmed (where the C library can)."""
        gc.collect()
        if self._trim is not None:
            self._trim()
        self.runs += 1
        log.debug("memory reclaimed after a large request")
