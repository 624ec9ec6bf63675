"""The sampler: one task that decides when the hardware is read, for everyone.

It sleeps until the earliest due ticker or until work arrives (a read requested by a new
session, a poll, a driver event or a commit), then reads the union of what is due in
one batched call, and fires the due tickers. Tickers are aligned to multiples of their
interval on the monotonic clock, so subscribers with equal intervals share one read and
a 1 s subscriber is served by the reads of a 100 ms one. A read requested with a
``max_age`` is skipped when everything it names was read more recently than that (a
read of counters only counts for requests of counters only).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from enum import Enum

from agent.clock import Clock
from agent.datastore.selection import EMPTY
from agent.mapping.state_tree import Selection
from agent.telemetry.selection import is_empty, union
from agent.telemetry.session import Watch
from agent.telemetry.timer import Timer

log = logging.getLogger(__name__)


class Duty(Enum):
    """What a ticker does when due."""

    SAMPLE = "sample"  # send a SAMPLE watch's values (reading the hardware first)
    READ = "read"  # re-read the hardware under an ON_CHANGE watch
    HEARTBEAT = "heartbeat"  # re-send an ON_CHANGE watch's values


class Ticker:
    """A recurring duty of one watch."""

    __slots__ = ("due_ns", "duty", "interval_ns", "watch")

    def __init__(self, watch: Watch, duty: Duty, interval_ns: int, now_ns: int) -> None:
        self.watch = watch
        self.duty = duty
        self.interval_ns = interval_ns
        self.due_ns = (now_ns // interval_ns + 1) * interval_ns

    @property
    def reads(self) -> bool:
        return self.duty is not Duty.HEARTBEAT and self.watch.state


@dataclass(slots=True)
class _Request:
    selection: Selection
    max_age_ns: int
    done: asyncio.Future[None] | None


class Sampler:
    """Schedules hardware reads and ticker duties.

    ``read(selection)`` reads and applies a selection; ``fire(ticker, now, wall)``
    performs a due duty; ``prepare()`` runs before each round (driver bookkeeping);
    ``entities(selection)`` names what a selection covers (for freshness).
    """

    def __init__(
        self,
        clock: Clock,
        timer: Timer,
        *,
        read: Callable[[Selection], Awaitable[None]],
        fire: Callable[[Ticker, int, int], None],
        prepare: Callable[[], Awaitable[None]],
        entities: Callable[[Selection], list[str]],
    ) -> None:
        self._clock = clock
        self._timer = timer
        self._read = read
        self._fire = fire
        self._prepare = prepare
        self._entities = entities
        self._tickers: list[Ticker] = []
        self._requests: list[_Request] = []
        self._sampled: dict[str, int] = {}  # entity -> when its whole state was read
        self._counted: dict[str, int] = {}  # entity -> when its counters were read
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.reads = 0  # hardware reads made
        self.missed = 0  # sample intervals skipped because the sampler was late

    @property
    def running(self) -> bool:
        return self._task is not None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="telemetry-sampler")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for request in self._requests:
            if request.done is not None and not request.done.done():
                request.done.cancel()
        self._requests.clear()

    def add(self, watches: Iterable[Watch]) -> None:
        """Schedules the duties of newly live watches."""
        now = self._clock.monotonic_ns()
        for watch in watches:
            if watch.sampled:
                self._tickers.append(Ticker(watch, Duty.SAMPLE, watch.interval_ns, now))
                continue
            if watch.interval_ns:
                self._tickers.append(Ticker(watch, Duty.READ, watch.interval_ns, now))
            if watch.heartbeat_ns:
                self._tickers.append(Ticker(watch, Duty.HEARTBEAT, watch.heartbeat_ns, now))
        self._wake.set()

    def remove(self, watches: Iterable[Watch]) -> None:
        gone = set(map(id, watches))
        self._tickers = [t for t in self._tickers if id(t.watch) not in gone]

    def read_soon(self, selection: Selection) -> None:
        """Reads ``selection`` at the next opportunity (nobody waits for it)."""
        if not is_empty(selection):
            self._requests.append(_Request(selection, 0, None))
            self._wake.set()

    async def refresh(self, selection: Selection, max_age_ns: int) -> None:
        """Returns once the cache holds state of ``selection`` at most ``max_age_ns`` old."""
        if is_empty(selection):
            return
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._requests.append(_Request(selection, max_age_ns, done))
        self._wake.set()
        await done

    def wake(self) -> None:
        self._wake.set()

    def stamp(self, entities: Iterable[str], *, counters_only: bool = False) -> None:
        """Records that ``entities`` (their counters only) were just read."""
        now = self._clock.monotonic_ns()
        stamps = self._counted if counters_only else self._sampled
        for entity in entities:
            stamps[entity] = now

    async def _run(self) -> None:
        while True:
            deadline = min((t.due_ns for t in self._tickers), default=None)
            await self._timer.wait(deadline, self._wake)
            self._wake.clear()
            try:
                await self._round()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("telemetry sampling failed")

    async def _round(self) -> None:
        now = self._clock.monotonic_ns()
        due = [t for t in self._tickers if t.due_ns <= now]
        requests, self._requests = self._requests, []
        await self._prepare()
        wanted = EMPTY
        for ticker in due:
            if ticker.reads:
                wanted = union(wanted, ticker.watch.selection)
        for request in requests:
            if not self._fresh(request, now):
                wanted = union(wanted, request.selection)
        try:
            if not is_empty(wanted):
                self.reads += 1
                await self._read(wanted)
        finally:
            for request in requests:
                if request.done is not None and not request.done.done():
                    request.done.set_result(None)
        wall = self._clock.now_ns()
        for ticker in due:
            session = ticker.watch.session
            if session is None or session.closed:
                continue
            late = (now - ticker.due_ns) // ticker.interval_ns
            if late > 0 and ticker.duty is Duty.SAMPLE:
                self.missed += late
            self._fire(ticker, now, wall)
            ticker.due_ns = (now // ticker.interval_ns + 1) * ticker.interval_ns

    def _fresh(self, request: _Request, now_ns: int) -> bool:
        if request.max_age_ns <= 0:
            return False
        oldest = now_ns - request.max_age_ns
        sampled = self._sampled
        if not request.selection.counters_only:
            return all(
                sampled.get(entity, oldest - 1) >= oldest
                for entity in self._entities(request.selection)
            )
        counted = self._counted
        return all(
            max(sampled.get(entity, oldest - 1), counted.get(entity, oldest - 1)) >= oldest
            for entity in self._entities(request.selection)
        )
