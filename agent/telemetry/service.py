"""TelemetryService: one sampler and one state cache shared by every subscription.

- The sampler (``sampler.Sampler``) is one task: it reads what is due from the drivers
  in one batched ``StateReader.sample`` call off the event loop, and the typed state
  (``StateReader.states``, ``ingest.StateIngest``) goes into the cache on the loop.
- Commits (the datastore's change feed) and driver events arrive on other threads and
  are bridged with ``loop.call_soon_threadsafe``. A commit goes into the cache at once;
  an event, or a commit that touches an entity, triggers an immediate re-read of just
  the entities concerned, so ON_CHANGE subscribers see a link going down, or the mtu a
  Set changed, without waiting for the next sample.
- Sessions read the cache only (``delivery.Delivery``). Each has a bounded coalescing
  queue, so a slow collector costs memory proportional to what it subscribed to, never
  to time, and never delays the sampler or the other sessions.

Everything but driver calls runs on the event loop; time comes from the injected Clock
and Timer, driver calls go through ``blocking`` (by default ``asyncio.to_thread``).
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
from agent.drivers.errors import DriverError
from agent.drivers.events import DeviceEvent, Event, LinkEvent
from agent.drivers.interface import EventSource
from agent.mapping.state_tree import ReadableDriver, Selection, StateReader
from agent.schema.nav import SchemaNavigator
from agent.telemetry.cache import StateCache
from agent.telemetry.delivery import Delivery
from agent.telemetry.flatten import Flattener
from agent.telemetry.ingest import StateIngest
from agent.telemetry.limits import TelemetryLimits
from agent.telemetry.model import ErrorKind, ListMode, SubscribeSpec, TelemetryError
from agent.telemetry.planning import Planner
from agent.telemetry.sampler import Duty, Sampler, Ticker
from agent.telemetry.selection import SiteIndex, touched
from agent.telemetry.session import Session, ViewOf
from agent.telemetry.timer import LoopTimer, Timer

log = logging.getLogger(__name__)

T = TypeVar("T")
Blocking = Callable[..., Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class FairShare:
    """A group of sessions with caps of its own (a tenant): streams and paths at once."""

    name: str  # as refusals name it, e.g. "tenant 'operator-a'"
    max_streams: int | None = None
    max_paths: int | None = None


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
        self._clock = clock
        self._reader = reader or StateReader(drivers)
        self._blocking: Blocking = blocking or asyncio.to_thread
        self._cache = StateCache(nav)
        self._flattener = Flattener(nav)
        self._ingest = StateIngest(nav)
        self._planner = Planner(nav, self.limits)
        self._delivery = Delivery(self._cache, clock)
        self._sampler = Sampler(
            clock,
            timer or LoopTimer(clock),
            read=self._read,
            fire=self._fire,
            prepare=self._prepare,
            entities=self._entities,
        )
        self._sessions: set[Session] = set()
        self._coalesced_closed = 0  # coalesced updates of the sessions already closed
        self._per_client: dict[str, int] = {}
        self._shares: dict[str, tuple[int, int]] = {}  # fair share -> (streams, paths)
        self._attached: dict[str, tuple[object, Callable[[], None]]] = {}
        self._minimums: dict[str, int] = {}
        self._drivers_dirty = False
        self._index: SiteIndex | None = None
        self._site: Any = None  # the running tree the index is of
        self._version = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._stopped = False

    # --- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        """Loads the running configuration and starts the sampler (after the datastore
        has started, so that the drivers are open)."""
        self._loop = asyncio.get_running_loop()
        self._unsubscribe = self._datastore.subscribe(self._commit_threadsafe)
        running = self._datastore.running
        self._version = running.version
        self._site, self._index = running.tree, None
        self._cache.load_config(self._flattener.config(running.tree), running.timestamp_ns)
        await self._blocking(self._sync_drivers)
        self._sampler.start()

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
        await self._sampler.stop()
        for _, unsubscribe in self._attached.values():
            unsubscribe()
        self._attached.clear()

    # --- sessions -------------------------------------------------------------------------

    async def open(
        self,
        spec: SubscribeSpec,
        client: str = "",
        *,
        view_of: ViewOf | None = None,
        share: FairShare | None = None,
    ) -> Session:
        """Checks ``spec`` and starts a session: its initial values (unless
        ``updates_only``) and sync marker are queued when this returns.

        ``view_of`` limits the session to what it may see, re-derived at every commit
        (None: everything); ``share`` is the fair share it counts against (a tenant's
        streams and subscribed paths).

        Raises TelemetryError: INVALID or NOT_FOUND for a bad request,
        RESOURCE_EXHAUSTED at a cap, UNAVAILABLE once stopped.
        """
        if self._stopped or not self._sampler.running:
            raise TelemetryError(ErrorKind.UNAVAILABLE, "telemetry is not running")
        plan = self._planner.plan(spec, self._site_index(), self._minimums)
        limits = self.limits
        if share is not None:
            self._check_share(share, len(spec.subscriptions))
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
            plan.watches,
            client,
            selection=plan.selection,
            max_age_ns=plan.max_age_ns,
            limit=limits.max_pending,
            view_of=view_of,
            group=share.name if share is not None else None,
        )
        if view_of is not None:
            session.visibility = view_of(self._datastore.running.tree)
        self._sessions.add(session)
        self._per_client[client] = self._per_client.get(client, 0) + 1
        if share is not None:
            used = self._shares.get(share.name, (0, 0))
            self._shares[share.name] = (used[0] + 1, used[1] + len(spec.subscriptions))
        try:
            await self._sampler.refresh(plan.selection, plan.max_age_ns)
            if session.closed:
                return session
            self._delivery.attach(session)
            self._delivery.full_set(session, initial=True)
            if spec.mode is ListMode.ONCE:
                session.finish()
            elif spec.mode is ListMode.STREAM:
                session.live = True
                self._sampler.add(session.watches)
        except BaseException:
            self.close(session)
            raise
        return session

    async def poll(self, session: Session) -> None:
        """Queues a fresh full set of values and a sync marker for a POLL session."""
        await self._sampler.refresh(session.selection, session.max_age_ns)
        if not session.closed:
            self._delivery.full_set(session, initial=False)

    def close(self, session: Session) -> None:
        """Forgets a session (called by Session.close)."""
        if session.closed:
            return
        session.closed = True
        session.live = False
        session.queue.end()
        self._sessions.discard(session)
        self._coalesced_closed += session.queue.coalesced
        if session.group is not None:
            streams, paths = self._shares.get(session.group, (1, 0))
            paths -= len(session.spec.subscriptions)
            if streams > 1:
                self._shares[session.group] = (streams - 1, max(paths, 0))
            else:
                self._shares.pop(session.group, None)
        left = self._per_client.get(session.client, 1) - 1
        if left > 0:
            self._per_client[session.client] = left
        else:
            self._per_client.pop(session.client, None)
        self._sampler.remove(session.watches)
        self._delivery.detach(session)

    def sessions(self) -> tuple[Session, ...]:
        """The open sessions."""
        return tuple(self._sessions)

    def share_used(self, name: str) -> tuple[int, int]:
        """(streams, subscribed paths) the fair share ``name`` holds now."""
        return self._shares.get(name, (0, 0))

    def _check_share(self, share: FairShare, paths: int) -> None:
        streams, held = self._shares.get(share.name, (0, 0))
        if share.max_streams is not None and streams >= share.max_streams:
            raise TelemetryError(
                ErrorKind.RESOURCE_EXHAUSTED,
                f"{share.name} holds {streams} subscriptions: its max-subscriptions quota is "
                f"{share.max_streams}",
            )
        if share.max_paths is not None and held + paths > share.max_paths:
            raise TelemetryError(
                ErrorKind.RESOURCE_EXHAUSTED,
                f"{share.name} would subscribe to {held + paths} paths: over its limit of "
                f"{share.max_paths} subscribed paths",
            )

    @property
    def reads(self) -> int:
        """Hardware reads made so far (each one batched for every subscriber)."""
        return self._sampler.reads

    @property
    def coalesced(self) -> int:
        """Updates replaced in subscribers' queues before delivery so far, closed sessions
        included (the sum of the ``duplicates`` counts sent and pending)."""
        return self._coalesced_closed + sum(s.queue.coalesced for s in tuple(self._sessions))

    @property
    def missed(self) -> int:
        """Sample intervals skipped because the sampler was late."""
        return self._sampler.missed

    def stats(self) -> dict[str, int]:
        """Sessions, cache size, hardware reads and missed sample intervals so far."""
        return {
            "sessions": len(self._sessions),
            "containers": len(self._cache),
            "leaves": self._cache.leaf_count(),
            "reads": self.reads,
            "missed": self.missed,
        }

    @property
    def cache(self) -> StateCache:
        return self._cache

    @property
    def nav(self) -> SchemaNavigator:
        return self._nav

    # --- the sampler's callbacks ----------------------------------------------------------

    async def _read(self, selection: Selection) -> None:
        """Reads ``selection`` from the drivers off the event loop (drivers block on I/O),
        then puts the typed state into the cache on the loop: that is pure Python, and a
        thread doing it would only fight the loop for the GIL and slow every stream."""
        tree = self._datastore.running.tree
        stamp = self._clock.now_ns()
        readings = await self._blocking(self._reader.sample, tree, selection)
        counters_only = selection.counters_only
        states = self._reader.states(tree, readings, selection)
        sample = self._ingest.sample(states, counters_only=counters_only)
        delta = self._cache.apply_state(sample, stamp)
        self._sampler.stamp(sample.entities, counters_only=counters_only)
        self._delivery.dispatch(delta)

    def _fire(self, ticker: Ticker, now_ns: int, wall_ns: int) -> None:
        if ticker.duty is Duty.SAMPLE:
            self._delivery.sample(ticker.watch, now_ns, wall_ns)
        elif ticker.duty is Duty.HEARTBEAT:
            self._delivery.send(ticker.watch, wall_ns)

    async def _prepare(self) -> None:
        if self._drivers_dirty:
            self._drivers_dirty = False
            await self._blocking(self._sync_drivers)

    def _entities(self, selection: Selection) -> list[str]:
        index = self._site_index()
        return index.entities(selection) if index is not None else []

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
        self._site, self._index = event.tree, None  # indexed when first needed
        for session in self._sessions:
            if session.view_of is not None:
                self._delivery.follow_view(session, event.tree, event.timestamp_ns)
        self._delivery.dispatch(self._cache.apply_changes(event.changes, event.timestamp_ns))
        self._drivers_dirty = True
        self._sampler.wake()
        index = self._site_index() if any(s.reads_state for s in self._sessions) else None
        if index is not None:
            paths = (c.path.without_modules() for c in event.changes)
            self._sampler.read_soon(touched(paths, index))

    def _site_index(self) -> SiteIndex | None:
        """Who is where in the running tree, built once per commit when asked for."""
        if self._index is None and self._site is not None:
            self._index = SiteIndex(self._site)
        return self._index

    def _on_event(self, event: Event) -> None:
        index = self._site_index()
        if self._stopped or index is None:
            return
        if isinstance(event, LinkEvent):
            self._read_soon(index.for_ports((event.port,)))
        elif isinstance(event, DeviceEvent):
            self._read_soon(index.for_device(event.device))

    def _read_soon(self, selection: Selection) -> None:
        if any(s.reads_state for s in self._sessions):
            self._sampler.read_soon(selection)

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
