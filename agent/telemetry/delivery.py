"""From the cache to the sessions' queues: full sets, samples, heartbeats and changes.

Timestamps: state values carry the time of the sample (or event re-read) that observed
them; configuration values carry the commit time when they change, and the time of
sending in a full set, a sample or a heartbeat (the cache follows every commit, so they
are current then).

What a watch sends at once (a sample, a full set, a heartbeat) is one ``Shared`` group,
built once for every session whose watch selects exactly the same containers and leaves
at the same moment with the same view (``Watch.share_key`` plus the view's signature,
checked against the containers themselves): each such session queues the same object,
and encoders encode it once. Sessions whose views have no signature never share.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agent.clock import Clock
from agent.schema.path import DataPath, PathElem
from agent.telemetry.cache import Delta, StateCache
from agent.telemetry.model import Shared, Update
from agent.telemetry.patterns import selects
from agent.telemetry.session import Session, Watch


class Delivery:
    """Knows every attached watch and feeds their sessions."""

    def __init__(self, cache: StateCache, clock: Clock) -> None:
        self._cache = cache
        self._clock = clock
        self._watches: list[Watch] = []
        self._built: dict[object, tuple[Watch, Shared]] = {}  # this moment's Shared groups
        self._built_at: tuple[int, int] = (-1, -1)  # (time, cache seq) they were built at

    def attach(self, session: Session) -> None:
        """Finds the containers each watch selects (and the session may see) and keeps
        them current from now on."""
        for watch in session.watches:
            for group, leaves in self._cache.matching(watch.pattern):
                if watch.accepts(group) and session.sees(group.path):
                    group.watchers[watch] = leaves
                    watch.groups[group] = leaves
            self._watches.append(watch)

    def follow_view(self, session: Session, tree: Mapping[str, Any], now_ns: int) -> None:
        """Re-derives the session's view over ``tree`` (a new running configuration):
        containers it may no longer see are dropped with one delete per entity that went
        out of view; containers that came into view are attached and, on a live session,
        sent at once."""
        if session.view_of is None:
            return
        before = session.visibility
        session.visibility = session.view_of(tree)
        if before is not None and _signature(before) == _signature(session.visibility):
            return  # nothing came into or went out of view
        gone: dict[DataPath, Watch] = {}
        for watch in session.watches:
            for group in [g for g in watch.groups if not session.sees(g.path)]:
                del watch.groups[group]
                group.watchers.pop(watch, None)
                gone.setdefault(_entity_of(group.path), watch)
            for group, leaves in self._cache.matching(watch.pattern):
                if group in watch.groups or not watch.accepts(group):
                    continue
                if not session.sees(group.path):
                    continue
                group.watchers[watch] = leaves
                watch.groups[group] = leaves
                if session.live and not watch.sampled:
                    values = watch.values(group, leaves)
                    if values:
                        stamp = now_ns if group.config else group.timestamp_ns
                        session.queue.put(group.path, group.info, values, stamp, watch.tag, group)
        if session.live:
            for path, watch in gone.items():
                session.queue.put_delete(path, now_ns, watch.tag)

    def detach(self, session: Session) -> None:
        mine = set(map(id, session.watches))
        self._watches = [w for w in self._watches if id(w) not in mine]
        for watch in session.watches:
            for group in watch.groups:
                group.watchers.pop(watch, None)
            watch.groups.clear()

    def full_set(self, session: Session, *, initial: bool) -> None:
        """Queues every selected value (initially unless updates_only) and a sync marker."""
        if not (initial and session.spec.updates_only):
            now = self._clock.now_ns()
            for watch in session.watches:
                self.send(watch, now)
        seq = self._cache.seq
        now_mono = self._clock.monotonic_ns()
        for watch in session.watches:
            watch.last_seq = seq
            watch.last_full_ns = now_mono
        session.queue.put_sync()

    def send(self, watch: Watch, now_ns: int, since_seq: int = -1) -> None:
        """Queues the watch's values (only those changed after ``since_seq`` if >= 0)."""
        session = watch.session
        assert session is not None
        session.queue.put_shared(self._shared(watch, session, now_ns, since_seq))

    def _shared(self, watch: Watch, session: Session, now_ns: int, since_seq: int) -> Shared:
        """The watch's values as a Shared group: the one another session's watch made at
        this moment (same clock reading, same cache contents) when it selects the same."""
        moment = (now_ns, self._cache.seq)
        if moment != self._built_at:
            self._built.clear()
            self._built_at = moment
        signature = None if session.visibility is None else _signature(session.visibility)
        key = (watch.share_key, signature, since_seq)
        found = self._built.get(key)
        if found is not None and found[0].groups == watch.groups:
            return found[1]
        items: list[Update] = []
        for group, leaves in watch.groups.items():
            if since_seq >= 0 and group.seq <= since_seq:
                continue
            values = watch.values(group, leaves, since_seq)
            if values:
                stamp = now_ns if group.config else group.timestamp_ns
                items.append(Update(group.path, group.info, values, stamp, watch.tag, group))
        shared = Shared(tuple(items))
        self._built[key] = (watch, shared)
        return shared

    def sample(self, watch: Watch, now_ns: int, wall_ns: int) -> None:
        """A SAMPLE watch's interval: everything, or with suppress_redundant only what
        changed since its last sample (everything again once per heartbeat)."""
        full = not watch.suppress or (
            watch.heartbeat_ns > 0 and now_ns - watch.last_full_ns >= watch.heartbeat_ns
        )
        self.send(watch, wall_ns, -1 if full else watch.last_seq)
        watch.last_seq = self._cache.seq
        if full:
            watch.last_full_ns = now_ns

    def dispatch(self, delta: Delta) -> None:
        """Hands the cache's differences to the sessions that watch them."""
        ts = delta.timestamp_ns
        if delta.created and self._watches:
            for group in delta.created:
                for watch in self._watches:
                    leaves = watch.leaves_of(group)
                    if not leaves:
                        continue
                    session = watch.session
                    if session is not None and not session.sees(group.path):
                        continue
                    group.watchers[watch] = leaves
                    watch.groups[group] = leaves
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


def _entity_of(path: DataPath) -> DataPath:
    """The list entry a container belongs to (``/slices/slice[name=x]``), else itself."""
    for depth, elem in enumerate(path.elems):
        if elem.keys:
            return DataPath(path.elems[: depth + 1])
    return path


def _signature(visibility: object) -> object:
    """What a visibility depends on (equal signatures: equal visibility), or a fresh
    object when it does not say (never equal)."""
    return getattr(visibility, "signature", object())
