"""What a subscriber asks for and what its session hands back, independent of the wire.

The gNMI handler turns a SubscriptionList into a ``SubscribeSpec`` and each ``Batch``
a session yields into SubscribeResponses; telemetry itself never sees protobuf.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum, IntEnum
from typing import Any

from agent.schema.nav import NodeInfo
from agent.schema.path import DataPath


class ListMode(IntEnum):
    """gnmi.SubscriptionList.Mode."""

    STREAM = 0
    ONCE = 1
    POLL = 2


class StreamMode(IntEnum):
    """gnmi.SubscriptionMode."""

    TARGET_DEFINED = 0
    ON_CHANGE = 1
    SAMPLE = 2


@dataclass(frozen=True, slots=True)
class Subscription:
    """One path of a subscription list (``path`` may hold wildcards)."""

    path: DataPath
    mode: StreamMode = StreamMode.TARGET_DEFINED
    sample_interval_ns: int = 0
    suppress_redundant: bool = False
    heartbeat_interval_ns: int = 0


@dataclass(frozen=True, slots=True)
class SubscribeSpec:
    """A whole subscription list."""

    mode: ListMode
    subscriptions: tuple[Subscription, ...]
    updates_only: bool = False
    modules: frozenset[str] | None = None  # use_models: top-level modules allowed; None = all


class Update:
    """New values of leaves of one container, observed at ``timestamp_ns``.

    ``values`` maps leaf names to RFC 7951 values; ``duplicates`` counts, per leaf, the
    values that were replaced before they could be delivered (None: none were).
    ``tag`` is the index of the subscription that matched; ``anchor`` identifies the
    container while it exists (handy as a cache key for encoders).
    """

    __slots__ = ("anchor", "duplicates", "info", "path", "tag", "timestamp_ns", "values")

    def __init__(
        self,
        path: DataPath,
        info: NodeInfo,
        values: Mapping[str, Any],
        timestamp_ns: int,
        tag: int,
        anchor: object,
    ) -> None:
        self.path = path
        self.info = info
        self.values = values
        self.timestamp_ns = timestamp_ns
        self.duplicates: dict[str, int] | None = None
        self.tag = tag
        self.anchor = anchor

    def __repr__(self) -> str:
        return f"Update({self.path}, {dict(self.values)!r}, ts={self.timestamp_ns})"


@dataclass(frozen=True, slots=True)
class Delete:
    """The node at ``path`` and everything below it no longer exist."""

    path: DataPath
    timestamp_ns: int
    tag: int


class Shared:
    """Values of many containers sent together (one watch's sample, full set or
    heartbeat), built once and queued as they are for every session that watches
    exactly the same containers with the same view.

    Read-only once built: ``items`` (Updates, never changed; a queue that must change
    one copies it first), ``anchors`` (anchor -> item), ``size`` (leaf values).
    ``encoded`` is for encoders: what they made of it, by encoder (serialized
    Notifications), so that sessions with equal encoders share the bytes too.
    """

    __slots__ = ("anchors", "encoded", "items", "size")

    def __init__(self, items: tuple[Update, ...]) -> None:
        self.items = items
        self.anchors = {item.anchor: item for item in items}
        self.size = sum(len(item.values) for item in items)
        self.encoded: dict[Any, Any] = {}

    def __repr__(self) -> str:
        return f"Shared({len(self.items)} containers, {self.size} values)"


Item = Update | Delete
Entry = Update | Delete | Shared


class Batch:
    """What a session hands its consumer in one go: ``entries`` in order (Updates,
    Deletes and Shared groups of Updates), then optionally the sync marker (all data of
    the subscription list sent at least once). ``items`` has the Shared groups spelt
    out."""

    __slots__ = ("_items", "entries", "sync")

    def __init__(self, entries: tuple[Entry, ...], sync: bool = False) -> None:
        self.entries = entries
        self.sync = sync
        self._items: tuple[Item, ...] | None = None

    @property
    def items(self) -> tuple[Item, ...]:
        if self._items is None:
            items: list[Item] = []
            for entry in self.entries:
                if isinstance(entry, Shared):
                    items.extend(entry.items)
                else:
                    items.append(entry)
            self._items = tuple(items)
        return self._items

    def __repr__(self) -> str:
        return f"Batch({list(self.entries)!r}, sync={self.sync})"


class ErrorKind(Enum):
    """Why a subscription is refused or ended."""

    INVALID = "invalid"
    NOT_FOUND = "not-found"
    RESOURCE_EXHAUSTED = "resource-exhausted"
    UNAVAILABLE = "unavailable"
    UNSUPPORTED = "unsupported"


class TelemetryError(Exception):
    """A subscription refused (before it starts) or ended (while it runs)."""

    def __init__(self, kind: ErrorKind, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message

    def __repr__(self) -> str:
        return f"TelemetryError({self.kind.name}, {self.message!r})"


class SessionEnded(Exception):
    """The session is over: ``error`` None means it ended normally (ONCE, POLL half-close)."""

    def __init__(self, error: TelemetryError | None = None) -> None:
        super().__init__(error.message if error else "session ended")
        self.error = error
