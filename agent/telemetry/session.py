"""Subscription sessions: one per Subscribe RPC, each with its own queue.

A session holds one ``Watch`` per subscribed path (two for TARGET_DEFINED: counters
sampled, everything else on change). A watch knows the cache containers it selects
(kept current as containers come and go), its schedule, and what it last sent.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from agent.mapping.state_tree import Selection
from agent.schema.path import DataPath
from agent.telemetry.cache import Group
from agent.telemetry.model import Batch, ListMode, SubscribeSpec, TelemetryError
from agent.telemetry.patterns import EVERY_LEAF, PathPattern
from agent.telemetry.queue import CoalescingQueue

if TYPE_CHECKING:
    from agent.telemetry.service import TelemetryService


class Visibility(Protocol):
    """What one session may see: asked for each container it would be sent."""

    def visible(self, path: DataPath) -> bool: ...


ViewOf = Callable[[Mapping[str, Any]], Visibility]
"""The session's visibility over a running configuration (re-derived at every commit)."""


class Watch:
    """One subscribed path of a session, in one mode.

    ``sampled``: values go out every ``interval_ns`` (SAMPLE); otherwise when they
    change (ON_CHANGE), the hardware being re-read every ``interval_ns`` (0: never)
    unless an event tells first. ``counters`` limits it to counter containers (True),
    to everything else (False) or not at all (None).
    """

    __slots__ = (
        "counters",
        "groups",
        "heartbeat_ns",
        "interval_ns",
        "last_full_ns",
        "last_seq",
        "pattern",
        "sampled",
        "selection",
        "session",
        "share_key",
        "state",
        "suppress",
        "tag",
        "tops",
    )

    def __init__(
        self,
        *,
        pattern: PathPattern,
        tag: int,
        sampled: bool,
        interval_ns: int,
        selection: Selection,
        state: bool,
        suppress: bool = False,
        heartbeat_ns: int = 0,
        counters: bool | None = None,
        tops: frozenset[str] | None = None,
    ) -> None:
        self.pattern = pattern
        self.tag = tag
        self.sampled = sampled
        self.interval_ns = interval_ns
        self.selection = selection
        self.state = state
        self.suppress = suppress
        self.heartbeat_ns = heartbeat_ns
        self.counters = counters
        self.tops = tops
        self.groups: dict[Group, frozenset[str]] = {}
        self.last_seq = 0
        self.last_full_ns = 0
        self.session: Session | None = None
        # watches with equal keys (and equal views) select the same values
        self.share_key = (pattern.path, tag, counters, tops)

    def accepts(self, group: Group) -> bool:
        """True when the watch's mode and models admit the container at all."""
        if self.counters is not None and group.counters is not self.counters:
            return False
        return self.tops is None or (
            bool(group.path.elems) and group.path.elems[0].name in self.tops
        )

    def leaves_of(self, group: Group) -> frozenset[str]:
        """The container's leaves this watch selects (possibly none)."""
        if not self.accepts(group):
            return frozenset()
        return self.pattern.leaves(self.pattern.consume(group.path))

    def values(self, group: Group, leaves: frozenset[str], since_seq: int = -1) -> dict[str, Any]:
        """The selected values of ``group`` (changed after ``since_seq`` when >= 0)."""
        values = group.values
        if since_seq >= 0:
            seqs = group.seqs
            return {
                k: v
                for k, v in values.items()
                if seqs.get(k, 0) > since_seq and (leaves is EVERY_LEAF or k in leaves)
            }
        if leaves is EVERY_LEAF:
            return values  # type: ignore[return-value]
        return {k: v for k, v in values.items() if k in leaves}


class Session:
    """One subscription list being served; consume it with ``next``."""

    def __init__(
        self,
        service: TelemetryService,
        spec: SubscribeSpec,
        watches: list[Watch],
        client: str,
        *,
        selection: Selection,
        max_age_ns: int,
        limit: int,
        view_of: ViewOf | None = None,
        group: str | None = None,
    ) -> None:
        """``view_of``: None for a session that sees everything; ``group``: the fair
        share it counts against (a tenant), if any."""
        self._service = service
        self.view_of = view_of
        self.visibility: Visibility | None = None
        self.group = group
        self.spec = spec
        self.watches = watches
        self.client = client
        self.selection = selection  # everything the watches read from hardware
        self.max_age_ns = max_age_ns  # how old state may be for a full snapshot
        self.queue = CoalescingQueue(limit)
        self.live = False  # delivers changes (STREAM, after the initial sync)
        self.closed = False
        self._on_close: list[Callable[[], None]] = []
        for watch in watches:
            watch.session = self

    def sees(self, path: DataPath) -> bool:
        """True when the session may be sent the container at ``path``."""
        return self.visibility is None or self.visibility.visible(path)

    @property
    def reads_state(self) -> bool:
        return any(w.state for w in self.watches)

    async def next(self) -> Batch:
        """The next batch to send; raises SessionEnded when the session is over."""
        return await self.queue.get()

    async def poll(self) -> None:
        """Queues a full set of current values and a sync marker (POLL)."""
        if self.spec.mode is not ListMode.POLL:
            raise ValueError("only POLL sessions are polled")
        await self._service.poll(self)

    def finish(self) -> None:
        """Ends the session normally once everything pending has been taken."""
        self.queue.end()

    def fail(self, error: TelemetryError) -> None:
        """Ends the session at once with ``error``."""
        self.queue.end(error)

    def close(self) -> None:
        """Releases everything the session holds; idempotent."""
        if not self.closed:
            self._service.close(self)

    def stats(self) -> dict[str, int]:
        """Queue figures: pending values, entries, bytes held, high water, coalesced."""
        figures = self.queue.stats()
        figures["high_water"] = self.queue.high_water
        figures["coalesced"] = self.queue.coalesced
        return figures
