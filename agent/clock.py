"""Injectable clocks: the system clock in production, a fake one in tests."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """A source of wall-clock and monotonic time in nanoseconds."""

    def now_ns(self) -> int:
        """Wall-clock time, nanoseconds since the Unix epoch (gNMI timestamps)."""
        ...

    def monotonic_ns(self) -> int:
        """Monotonic time in nanoseconds, for intervals and deadlines."""
        ...


class SystemClock:
    """The real clock."""

    def now_ns(self) -> int:
        return time.time_ns()

    def monotonic_ns(self) -> int:
        return time.monotonic_ns()


class FakeClock:
    """A clock that moves only when told to; both readings advance together."""

    def __init__(self, start_ns: int = 1_700_000_000_000_000_000) -> None:
        self._wall = start_ns
        self._mono = 0

    def now_ns(self) -> int:
        return self._wall

    def monotonic_ns(self) -> int:
        return self._mono

    def advance(self, seconds: float = 0.0, *, ns: int = 0) -> None:
        """Moves time forward by ``seconds`` plus ``ns`` nanoseconds."""
        step = int(seconds * 1_000_000_000) + ns
        if step < 0:
            raise ValueError("a clock cannot go backwards")
        self._wall += step
        self._mono += step
