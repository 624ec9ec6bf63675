"""Waiting for deadlines: the event loop in production, a hand-driven timer in tests.

Telemetry has one task that waits (the sampler); it waits through a ``Timer`` so that
tests and benchmarks can move a FakeClock and run every due sample without real sleeps.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Protocol

from agent.clock import Clock, FakeClock

NS_PER_S = 1_000_000_000


class Timer(Protocol):
    """Waits until a monotonic deadline or an interruption, whichever comes first."""

    async def wait(self, deadline_ns: int | None, wake: asyncio.Event) -> None:
        """Returns once ``clock.monotonic_ns() >= deadline_ns`` or ``wake`` is set
        (``deadline_ns`` None: only ``wake`` ends the wait)."""
        ...


class LoopTimer:
    """Sleeps on the running event loop, reading time from ``clock``."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    async def wait(self, deadline_ns: int | None, wake: asyncio.Event) -> None:
        if wake.is_set():
            return
        if deadline_ns is None:
            await wake.wait()
            return
        delay = (deadline_ns - self._clock.monotonic_ns()) / NS_PER_S
        if delay <= 0:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), delay)


class ManualTimer:
    """A Timer for a FakeClock: time moves only through ``advance``.

    ``advance`` steps the clock from deadline to deadline and, at each one, lets the
    waiting task run until it waits again, so everything due in the interval happens
    in order and nothing is skipped. One task may wait at a time.
    """

    def __init__(self, clock: FakeClock) -> None:
        self._clock = clock
        self._deadline: int | None = None
        self._release: asyncio.Future[None] | None = None
        self._waiting = asyncio.Event()
        self._wake: asyncio.Event | None = None

    async def wait(self, deadline_ns: int | None, wake: asyncio.Event) -> None:
        if wake.is_set() or (deadline_ns is not None and deadline_ns <= self._clock.monotonic_ns()):
            await asyncio.sleep(0)
            return
        loop = asyncio.get_running_loop()
        release: asyncio.Future[None] = loop.create_future()
        self._deadline, self._release, self._wake = deadline_ns, release, wake
        woken = asyncio.ensure_future(wake.wait())
        self._waiting.set()
        try:
            await asyncio.wait((release, woken), return_when=asyncio.FIRST_COMPLETED)
        finally:
            self._waiting.clear()
            self._deadline, self._release, self._wake = None, None, None
            woken.cancel()
            release.cancel()

    async def settled(self) -> None:
        """Returns when the waiting task has nothing to do before its next deadline."""
        while True:
            for _ in range(3):
                await asyncio.sleep(0)  # callbacks queued from other threads run first
            wake = self._wake
            if self._waiting.is_set() and wake is not None and not wake.is_set():
                return
            if not self._waiting.is_set():
                await self._waiting.wait()

    async def advance(self, seconds: float = 0.0, *, ns: int = 0) -> None:
        """Moves the clock forward, running everything that falls due on the way."""
        target = self._clock.monotonic_ns() + int(seconds * NS_PER_S) + ns
        while True:
            await self.settled()
            deadline = self._deadline
            now = self._clock.monotonic_ns()
            if deadline is None or deadline > target:
                self._clock.advance(ns=target - now)
                await self.settled()
                return
            self._clock.advance(ns=max(0, deadline - now))
            release = self._release
            if release is not None and not release.done():
                release.set_result(None)
            await asyncio.sleep(0)
