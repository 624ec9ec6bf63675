"""TelemetryService: one sampler and one state cache shared by every subscription.

- The sampler is one task. It sleeps until the earliest due schedule (sample intervals,
  heartbeats, ON_CHANGE re-reads; each aligned to multiples of its interval so equal
  intervals share one read) or until work arrives, then reads what is due from the
  drivers in one batched ``StateReader.sample`` call off the event loop, applies it to
  the cache and hands the differences to the sessions.
- Commits (the datastore's change feed) and driver events arrive on other threads and
  are bridged with ``loop.call_soon_threadsafe``. A commit goes into the cache at once;
  an event, or a commit that touches an entity, triggers an immediate re-read of just
  the entities concerned, so ON_CHANGE subscribers see link changes without waiting for
  the next sample.
- Sessions read the cache only. Each has a bounded coalescing queue, so a slow
  collector costs memory proportional to what it subscribed to, never to time, and
  never delays the sampler or the other sessions.

Everything runs on the event loop except driver reads (``blocking``, by default
``asyncio.to_thread``); time comes from the injected Clock and Timer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from agent.clock import Clock
from agent.datastore.changes import CommitEvent
from agent.datastore.errors import DatastoreError
from agent.datastore.errors import ErrorKind as DatastoreErrorKind
from agent.datastore.tree import TreeOps
from agent.drivers.errors import DriverError
from agent.drivers.events import DeviceEvent, Event, LinkEvent
from agent.drivers.interface import EventSource
from agent.mapping.state_tree import ReadableDriver, Selection, StateReader, render_state
from agent.schema.nav import SchemaNavigator
from agent.schema.path import DataPath, PathElem
from agent.telemetry.cache import Delta, StateCache
from agent.telemetry.flatten import Flattener
from agent.telemetry.limits import TelemetryLimits
from agent.telemetry.model import (
    ErrorKind,
    ListMode,
    StreamMode,
    SubscribeSpec,
    Subscription,
    TelemetryError,
)
from agent.telemetry.patterns import PathPattern, SchemaReach, selects
from agent.telemetry.selection import (
    EMPTY,
    SiteIndex,
    is_empty,
    selection_of,
    touched,
    union,
)
from agent.telemetry.session import Session, Watch
from agent.telemetry.timer import LoopTimer, Timer

log = logging.getLogger(__name__)

T = TypeVar("T")
Blocking = Callable[..., Awaitable[Any]]


class TelemetryDriver(ReadableDriver, EventSource, Protocol):
    """The driver roles telemetry uses: state, counters, capabilities and events."""


class RunningView(Protocol):
    """A running-configuration snapshot."""

    @property
    def version(self) -> int: ...

    @property
    def tree(self) -> dict[str, Any]: ...

    @property
    def timestamp_ns(self) -> int: ...


class ConfigSource(Protocol):
    """The datastore, as telemetry sees it."""

    @property
    def running(self) -> RunningView: ...

    def subscribe(self, listener: Callable[[CommitEvent], None]) -> Callable[[], None]: ...


@dataclass(slots=True)
class _Request:
    """A read of ``selection`` that may be skipped when all of it is younger than
    ``max_age_ns``; ``done`` (if any) is resolved once the cache holds the result."""

    selection: Selection
    max_age_ns: int
    done: asyncio.Future[None] | None


class _Ticker:
    """A recurring duty of one watch, due at multiples of its interval."""

    __slots__ = ("due_ns", "interval_ns", "kind", "watch")

    SAMPLE = "sample"  # send the watch's values
    HEARTBEAT = "heartbeat"  # re-send an ON_CHANGE watch's values
    READ = "read"  # re-read the hardware under an ON_CHANGE watch

    def __init__(self, watch: Watch, kind: str, interval_ns: int, now_ns: int) -> None:
        self.watch = watch
        self.kind = kind
        self.interval_ns = interval_ns
        self.due_ns = (now_ns // interval_ns + 1) * interval_ns

    @property
    def reads(self) -> bool:
        return self.kind != _Ticker.HEARTBEAT and self.watch.state


class TelemetryService:
    """The shared sampler, cache and session registry; start and stop it with the server.

    ``drivers`` maps device names to their (open) drivers and is looked up again after
    every commit; ``nav`` is the schema navigator (``SchemaEngine.nav``).
    """

    def __init__(
        self,
        datastore: ConfigSource,
        drivers: Mapping[str, TelemetryDriver],
        nav: SchemaNavigator,
        clock: Clock,
        *,
        limits: TelemetryLimits | None = None,
        timer: Timer | None = None,
        reader: StateReader | None = None,
        blocking: Blocking | None = None,
    ) -> None:
        self.limits = limits or TelemetryLimits()
        self._datastore = datastore
        self._drivers = drivers
        self._nav = nav
        self._ops = TreeOps(nav)
        self._clock = clock
        self._timer = timer or LoopTimer(clock)
        self._reader = reader or StateReader(drivers)
        self._blocking: Blocking = blocking or asyncio.to_thread
        self._cache = StateCache(nav)
        self._flattener = Flattener(nav)
        self._reach = SchemaReach(nav)
        self._tops = {c.name: c.module for c in nav.children(nav.root)}
        self._sessions: set[Session] = set()
        self._per_client: dict[str, int] = {}
        self._watches: list[Watch] = []
        self._tickers: list[_Ticker] = []
        self._requests: list[_Request] = []
        self._sampled: dict[str, int] = {}
        self._attached: dict[str, tuple[object, Callable[[], None]]] = {}
        self._minimums: dict[str, int] = {}
        self._drivers_dirty = False
        self._index: SiteIndex | None = None
        self._version = 0
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._stopped = False
        self.samples = 0  # hardware reads made
        self.missed = 0  # sample intervals skipped because the sampler was late

    # --- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        """Loads the running configuration and starts the sampler (after the datastore
        has started, so that the drivers are open)."""
        self._loop = asyncio.get_running_loop()
        self._unsubscribe = self._datastore.subscribe(self._commit_threadsafe)
        running = self._datastore.running
        self._version = running.version
        self._index = SiteIndex(running.tree)
        self._cache.load_config(self._flattener.config(running.tree), running.timestamp_ns)
        await self._blocking(self._sync_drivers)
        self._task = asyncio.create_task(self._run(), name="telemetry-sampler")

    async def stop(self) -> None:
        """Ends every session with UNAVAILABLE and stops the sampler. Call it before
        stopping the gRPC server so that open streams end at once."""
        self._stopped = True
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        gone = TelemetryError(ErrorKind.UNAVAILABLE, "the agent is shutting down")
        for session in list(self._sessions):
            session.fail(gone)
            self.close(session)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for request in self._requests:
            if request.done is not None and not request.done.done():
                request.done.cancel()
        self._requests.clear()
        for _, unsubscribe in self._attached.values():
            unsubscribe()
        self._attached.clear()

    # --- sessions -------------------------------------------------------------------------

    async def open(self, spec: SubscribeSpec, client: str = "") -> Session:
        """Checks ``spec`` and starts a session: its initial values (unless
        ``updates_only``) and sync marker are queued when this returns.

        Raises TelemetryError: INVALID or NOT_FOUND for a bad request,
        RESOURCE_EXHAUSTED at a cap, UNAVAILABLE once stopped.
        """
        if self._stopped or self._task is None:
            raise TelemetryError(ErrorKind.UNAVAILABLE, "telemetry is not running")
        limits = self.limits
        if not spec.subscriptions:
            raise TelemetryError(ErrorKind.INVALID, "the subscription list has no subscription")
        if len(spec.subscriptions) > limits.max_paths:
            raise TelemetryError(
                ErrorKind.RESOURCE_EXHAUSTED,
                f"{len(spec.subscriptions)} paths in one subscription list; at most "
                f"{limits.max_paths} are allowed",
            )
        watches, selection, max_age = self._compile(spec)
        if len(self._sessions) >= limits.max_sessions:
            raise TelemetryError(
                ErrorKind.RESOURCE_EXHAUSTED,
                f"the agent serves {limits.max_sessions} subscriptions already",
            )
        if self._per_client.get(client, 0) >= limits.max_sessions_per_client:
            raise TelemetryError(
                ErrorKind.RESOURCE_EXHAUSTED,
                f"client {client!r} has {limits.max_sessions_per_client} subscriptions open "
                "already",
            )
        session = Session(
            self,
            spec,
            watches,
            client,
            selection=selection,
            max_age_ns=max_age,
            limit=limits.max_pending,
        )
        self._sessions.add(session)
        self._per_client[client] = self._per_client.get(client, 0) + 1
        try:
            await self._refresh(selection, max_age)
            if session.closed:
                return session
            self._attach(session)
            self._full_set(session, initial=True)
            if spec.mode is ListMode.ONCE:
                session.finish()
            elif spec.mode is ListMode.STREAM:
                self._go_live(session)
        except BaseException:
            self.close(session)
            raise
        return session

    async def poll(self, session: Session) -> None:
        """Queues a fresh full set of values and a sync marker for a POLL session."""
        await self._refresh(session.selection, session.max_age_ns)
        if not session.closed:
            self._full_set(session, initial=False)

    def close(self, session: Session) -> None:
        """Forgets a session (called by Session.close)."""
        if session.closed:
            return
        session.closed = True
        session.live = False
        session.queue.end()
        self._sessions.discard(session)
        left = self._per_client.get(session.client, 1) - 1
        if left > 0:
            self._per_client[session.client] = left
        else:
            self._per_client.pop(session.client, None)
        mine = set(map(id, session.watches))
        self._watches = [w for w in self._watches if id(w) not in mine]
        self._tickers = [t for t in self._tickers if id(t.watch) not in mine]
        for watch in session.watches:
            for group in watch.groups:
                group.watchers.pop(watch, None)
            watch.groups.clear()

    def stats(self) -> dict[str, int]:
        """Sessions, cache size, hardware reads and missed sample intervals so far."""
        return {
            "sessions": len(self._sessions),
            "containers": len(self._cache),
            "leaves": self._cache.leaf_count(),
            "samples": self.samples,
            "missed": self.missed,
        }

    def sessions(self) -> tuple[Session, ...]:
        """The open sessions."""
        return tuple(self._sessions)

    @property
    def cache(self) -> StateCache:
        return self._cache

    @property
    def nav(self) -> SchemaNavigator:
        return self._nav

    # --- checking a request ---------------------------------------------------------------

    def _compile(self, spec: SubscribeSpec) -> tuple[list[Watch], Selection, int]:
        tops = None
        if spec.modules is not None:
            tops = frozenset(name for name, module in self._tops.items() if module in spec.modules)
        watches: list[Watch] = []
        selection = EMPTY
        max_age = 0
        for tag, subscription in enumerate(spec.subscriptions):
            made = self._watches_for(tag, subscription, spec, tops)
            for watch in made:
                if watch.state:
                    selection = union(selection, watch.selection)
            max_age = max(max_age, self._minimum(made[0].selection, made[0].state))
            watches += made
        return watches, selection, max_age

    def _watches_for(
        self, tag: int, sub: Subscription, spec: SubscribeSpec, tops: frozenset[str] | None
    ) -> list[Watch]:
        self._check_path(sub.path)
        pattern = PathPattern(sub.path)
        state = self._reach.reaches_state(pattern)
        selection = selection_of(pattern.path) if state else EMPTY
        minimum = self._minimum(selection, state)
        limits = self.limits

        def watch(sampled: bool, interval: int, **extra: Any) -> Watch:
            return Watch(
                pattern=pattern,
                tag=tag,
                sampled=sampled,
                interval_ns=interval,
                selection=selection,
                state=state,
                tops=tops,
                **extra,
            )

        if spec.mode is not ListMode.STREAM:
            return [watch(False, 0)]
        mode = sub.mode
        if mode not in (StreamMode.SAMPLE, StreamMode.ON_CHANGE, StreamMode.TARGET_DEFINED):
            raise TelemetryError(ErrorKind.INVALID, f"unknown subscription mode {int(mode)}")
        asked = sub.sample_interval_ns
        if asked and asked < minimum and mode is not StreamMode.ON_CHANGE:
            raise TelemetryError(
                ErrorKind.INVALID,
                f"{sub.path}: sample_interval {_duration(asked)} is below the minimum of "
                f"{_duration(minimum)} the devices under it support (0 picks the minimum)",
            )
        heartbeat = max(sub.heartbeat_interval_ns, minimum) if sub.heartbeat_interval_ns else 0
        change_read = max(minimum, limits.change_poll_interval_ns) if state else 0
        if mode is StreamMode.SAMPLE:
            return [
                watch(
                    True, asked or minimum, suppress=sub.suppress_redundant, heartbeat_ns=heartbeat
                )
            ]
        if mode is StreamMode.ON_CHANGE:
            return [watch(False, change_read, heartbeat_ns=heartbeat)]
        counters = asked or max(minimum, limits.target_defined_interval_ns)
        return [
            watch(
                True,
                counters,
                suppress=sub.suppress_redundant,
                heartbeat_ns=heartbeat,
                counters=True,
            ),
            watch(False, change_read, heartbeat_ns=heartbeat, counters=False),
        ]

    def _check_path(self, path: DataPath) -> None:
        try:
            self._ops.select({}, path)
        except DatastoreError as err:
            kind = (
                ErrorKind.NOT_FOUND
                if err.kind is DatastoreErrorKind.NOT_FOUND
                else ErrorKind.INVALID
            )
            raise TelemetryError(kind, f"{path}: {err.message}") from None

    def _minimum(self, selection: Selection, state: bool) -> int:
        floor = self.limits.min_sample_interval_ns
        if not state:
            return floor
        index = self._index
        devices = index.devices_reached(selection) if index is not None else None
        known = self._minimums
        chosen: list[int] = (
            list(known.values()) if devices is None else [known[d] for d in devices if d in known]
        )
        return max([floor, *chosen])

    # --- delivering -----------------------------------------------------------------------

    def _attach(self, session: Session) -> None:
        """Finds the containers each watch selects and keeps them current from now on."""
        for watch in session.watches:
            for group, leaves in self._cache.matching(watch.pattern):
                if watch.accepts(group):
                    group.watchers[watch] = leaves
                    watch.groups[group] = leaves
            self._watches.append(watch)

    def _full_set(self, session: Session, *, initial: bool) -> None:
        """Queues every selected value (unless updates_only) and a sync marker."""
        if not session.spec.updates_only:
            now = self._clock.now_ns()
            for watch in session.watches:
                self._send(watch, now)
        for watch in session.watches:
            watch.last_seq = self._cache.seq
            watch.last_full_ns = self._clock.monotonic_ns()
        session.queue.put_sync()

    def _go_live(self, session: Session) -> None:
        now = self._clock.monotonic_ns()
        for watch in session.watches:
            if watch.sampled:
                self._tickers.append(_Ticker(watch, _Ticker.SAMPLE, watch.interval_ns, now))
                continue
            if watch.interval_ns:
                self._tickers.append(_Ticker(watch, _Ticker.READ, watch.interval_ns, now))
            if watch.heartbeat_ns:
                self._tickers.append(_Ticker(watch, _Ticker.HEARTBEAT, watch.heartbeat_ns, now))
        session.live = True
        self._wake.set()

    def _send(self, watch: Watch, now_ns: int, since_seq: int = -1) -> None:
        """Queues the watch's values (only those changed after ``since_seq`` if >= 0)."""
        session = watch.session
        assert session is not None
        put = session.queue.put
        for group, leaves in watch.groups.items():
            if since_seq >= 0 and group.seq <= since_seq:
                continue
            values = watch.values(group, leaves, since_seq)
            if values:
                stamp = now_ns if group.config else group.timestamp_ns
                put(group.path, group.info, values, stamp, watch.tag, group)

    def _fire(self, ticker: _Ticker, now_ns: int, wall_ns: int) -> None:
        watch = ticker.watch
        if ticker.kind == _Ticker.SAMPLE:
            full = not watch.suppress or (
                watch.heartbeat_ns and now_ns - watch.last_full_ns >= watch.heartbeat_ns
            )
            self._send(watch, wall_ns, -1 if full else watch.last_seq)
            watch.last_seq = self._cache.seq
            if full:
                watch.last_full_ns = now_ns
        elif ticker.kind == _Ticker.HEARTBEAT:
            self._send(watch, wall_ns)

    def _dispatch(self, delta: Delta) -> None:
        """Hands the cache's differences to the sessions that watch them."""
        ts = delta.timestamp_ns
        if delta.created and self._watches:
            for group in delta.created:
                for watch in self._watches:
                    leaves = watch.leaves_of(group)
                    if not leaves:
                        continue
                    group.watchers[watch] = leaves
                    watch.groups[group] = leaves
                    session = watch.session
                    if session is not None and session.live and not watch.sampled:
                        values = watch.values(group, leaves)
                        if values:
                            session.queue.put(group.path, group.info, values, ts, watch.tag, group)
        for group, changed in delta.changed:
            for watch, leaves in group.watchers.items():
                session = watch.session
                if watch.sampled or session is None or not session.live:
                    continue
                current = group.values
                picked = {k: current[k] for k in changed if selects(leaves, k)}
                if picked:
                    session.queue.put(group.path, group.info, picked, ts, watch.tag, group)
        for group, gone in delta.removed_leaves:
            for watch, leaves in group.watchers.items():
                session = watch.session
                if session is None or not session.live:
                    continue
                for leaf in gone:
                    if selects(leaves, leaf):
                        leaf_path = DataPath((*group.path.elems, PathElem(leaf)))
                        session.queue.put_delete(leaf_path, ts, watch.tag)
        for path, groups in delta.removed:
            told: dict[Session, Watch] = {}
            for group in groups:
                for watch in group.watchers:
                    watch.groups.pop(group, None)
                    session = watch.session
                    if session is not None and session.live and session not in told:
                        told[session] = watch
                group.watchers.clear()
            for session, watch in told.items():
                session.queue.put_delete(path, ts, watch.tag)

    # --- the sampler ----------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            deadline = min((t.due_ns for t in self._tickers), default=None)
            await self._timer.wait(deadline, self._wake)
            self._wake.clear()
            try:
                await self._cycle()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("telemetry sampling failed")

    async def _cycle(self) -> None:
        now = self._clock.monotonic_ns()
        due = [t for t in self._tickers if t.due_ns <= now]
        requests, self._requests = self._requests, []
        if self._drivers_dirty:
            self._drivers_dirty = False
            await self._blocking(self._sync_drivers)
        wanted = EMPTY
        for ticker in due:
            if ticker.reads:
                wanted = union(wanted, ticker.watch.selection)
        for request in requests:
            if not self._fresh(request, now):
                wanted = union(wanted, request.selection)
        try:
            if not is_empty(wanted):
                await self._sample(wanted)
        finally:
            for request in requests:
                if request.done is not None and not request.done.done():
                    request.done.set_result(None)
        wall = self._clock.now_ns()
        for ticker in due:
            if ticker.watch.session is None or ticker.watch.session.closed:
                continue
            late = (now - ticker.due_ns) // ticker.interval_ns
            if late > 0 and ticker.kind == _Ticker.SAMPLE:
                self.missed += late
            self._fire(ticker, now, wall)
            ticker.due_ns = (now // ticker.interval_ns + 1) * ticker.interval_ns

    async def _sample(self, selection: Selection) -> None:
        """Reads ``selection`` from the drivers off the event loop (drivers block on I/O),
        then renders it into the cache on the loop: rendering is pure Python, and a
        thread doing it would only fight the loop for the GIL and slow every stream."""
        tree = self._datastore.running.tree
        stamp = self._clock.now_ns()
        readings = await self._blocking(self._reader.sample, tree, selection)
        self.samples += 1
        sample = self._flattener.state(render_state(tree, readings, selection))
        delta = self._cache.apply_state(sample, stamp)
        taken = self._clock.monotonic_ns()
        sampled = self._sampled
        for entity in sample.entities:
            sampled[entity] = taken
        self._dispatch(delta)

    def _fresh(self, request: _Request, now_ns: int) -> bool:
        if request.max_age_ns <= 0 or self._index is None:
            return False
        oldest = now_ns - request.max_age_ns
        sampled = self._sampled
        return all(
            sampled.get(entity, oldest - 1) >= oldest
            for entity in self._index.entities(request.selection)
        )

    async def _refresh(self, selection: Selection, max_age_ns: int) -> None:
        """Returns once the cache holds state of ``selection`` at most ``max_age_ns`` old."""
        if is_empty(selection):
            return
        assert self._loop is not None
        done: asyncio.Future[None] = self._loop.create_future()
        self._requests.append(_Request(selection, max_age_ns, done))
        self._wake.set()
        await done

    def _read_soon(self, selection: Selection) -> None:
        if is_empty(selection) or not any(s.reads_state for s in self._sessions):
            return
        self._requests.append(_Request(selection, 0, None))
        self._wake.set()

    # --- changes from other threads -------------------------------------------------------

    def _commit_threadsafe(self, event: CommitEvent) -> None:
        self._call_soon(self._on_commit, event)

    def _event_threadsafe(self, event: Event) -> None:
        self._call_soon(self._on_event, event)

    def _call_soon(self, callback: Callable[[T], None], argument: T) -> None:
        loop = self._loop
        if loop is None or self._stopped:
            return
        with contextlib.suppress(RuntimeError):  # a closed loop: the agent is stopping
            loop.call_soon_threadsafe(callback, argument)

    def _on_commit(self, event: CommitEvent) -> None:
        if self._stopped or event.version <= self._version:
            return
        self._version = event.version
        self._index = SiteIndex(event.tree)
        delta = self._cache.apply_changes(event.changes, event.timestamp_ns)
        self._dispatch(delta)
        self._drivers_dirty = True
        self._wake.set()
        self._read_soon(touched((c.path.without_modules() for c in event.changes), self._index))

    def _on_event(self, event: Event) -> None:
        if self._stopped or self._index is None:
            return
        if isinstance(event, LinkEvent):
            self._read_soon(self._index.for_ports((event.port,)))
        elif isinstance(event, DeviceEvent):
            self._read_soon(self._index.for_device(event.device))

    def _sync_drivers(self) -> None:
        """Listens to the events of every current driver and learns its minimum sample
        interval (runs off the event loop; drivers come and go with commits)."""
        current: dict[str, TelemetryDriver] = {}
        for name in list(self._drivers):
            driver = self._drivers.get(name)
            if driver is not None:
                current[name] = driver
        for name, (known, unsubscribe) in list(self._attached.items()):
            if current.get(name) is not known:
                unsubscribe()
                del self._attached[name]
                self._minimums.pop(name, None)
        for name, driver in current.items():
            if name in self._attached:
                continue
            self._attached[name] = (driver, driver.add_event_listener(self._event_threadsafe))
            try:
                self._minimums[name] = driver.capabilities().min_sample_interval_ns
            except DriverError as err:
                log.warning("device %s: no capabilities (%s)", name, err)


def _duration(ns: int) -> str:
    if ns % 1_000_000_000 == 0:
        return f"{ns // 1_000_000_000} s"
    if ns % 1_000_000 == 0:
        return f"{ns // 1_000_000} ms"
    return f"{ns} ns"
