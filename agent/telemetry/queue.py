"""A subscriber's queue: bounded, coalescing by path, never blocking the producer.

Producers (the sampler, the change feed, driver events) put values; the subscriber's
writer takes everything pending in one go when the network lets it write. A value put
for a leaf that still has one pending replaces it and counts one more duplicate (only
when the two were observed at different times: the same observation reported by two
overlapping subscriptions is not a duplicate). A delete drops what is pending below it.
So a stalled collector holds at most one value per leaf it subscribed to, plus deletes;
``limit`` caps that total, and reaching it ends the session instead of growing memory.

Sync markers split the queue into segments: everything before a marker is delivered
before it, and values never coalesce across a marker.

A ``Shared`` group (a sample built once for every session that watches the same
containers) is queued as it is while nothing else pending touches its containers: that
is a collector keeping up, and queueing costs the same for one container or a thousand.
Otherwise its Updates are spelt out (copied) and coalesce one by one as above.
"""

from __future__ import annotations

import asyncio
import sys
from collections import deque
from collections.abc import Mapping
from typing import Any

from agent.schema.nav import NodeInfo
from agent.schema.path import DataPath
from agent.telemetry.model import (
    Batch,
    Delete,
    Entry,
    ErrorKind,
    SessionEnded,
    Shared,
    TelemetryError,
    Update,
)


class _Segment:
    __slots__ = ("deletes", "entries", "shared", "size", "sync")

    def __init__(self) -> None:
        self.entries: dict[Any, Entry] = {}
        self.shared: list[Shared] = []  # the Shared entries among them
        self.size = 0  # leaf values and deletes held
        self.deletes = 0
        self.sync = False


class CoalescingQueue:
    """Pending updates of one subscriber (used on the event loop only)."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._segments: deque[_Segment] = deque([_Segment()])
        self._size = 0
        self._ready = asyncio.Event()
        self._end: SessionEnded | None = None
        self.coalesced = 0  # values replaced before delivery, over the queue's life
        self.high_water = 0  # the most values ever pending

    @property
    def size(self) -> int:
        """Leaf values and deletes pending."""
        return self._size

    @property
    def closed(self) -> bool:
        return self._end is not None

    def put(
        self,
        path: DataPath,
        info: NodeInfo,
        values: Mapping[str, Any],
        timestamp_ns: int,
        tag: int,
        anchor: object,
    ) -> None:
        """Queues new values of leaves of the container at ``path``."""
        if self._end is not None or not values:
            return
        segment = self._segments[-1]
        if segment.shared and any(anchor in shared.anchors for shared in segment.shared):
            _spell_out(segment)
        entries = segment.entries
        if segment.deletes:
            self._revive(segment, path, values)
        old = entries.get(anchor)
        if not isinstance(old, Update):
            update = Update(path, info, values, timestamp_ns, tag, anchor)
            entries[anchor] = update
            self._grow(segment, len(values))
            return
        old_values = old.values
        overlap = old_values.keys() & values.keys()
        if overlap and old.timestamp_ns != timestamp_ns:
            duplicates = old.duplicates or {}
            old.duplicates = {k: duplicates.get(k, 0) + 1 for k in overlap}
            for k, n in duplicates.items():
                if k not in overlap:
                    old.duplicates[k] = n
            self.coalesced += len(overlap)
        if len(overlap) == len(old_values):
            old.values = values
        else:
            merged = dict(old_values)
            merged.update(values)
            old.values = merged
        self._grow(segment, len(old.values) - len(old_values))
        old.timestamp_ns = max(old.timestamp_ns, timestamp_ns)

    def put_shared(self, shared: Shared) -> None:
        """Queues a Shared group of Updates (as it is when nothing pending overlaps it)."""
        if self._end is not None or not shared.size:
            return
        segment = self._segments[-1]
        if not segment.deletes and not _overlaps(segment, shared):
            segment.entries[("shared", id(shared))] = shared
            segment.shared.append(shared)
            self._grow(segment, shared.size)
            return
        for item in shared.items:
            self.put(item.path, item.info, item.values, item.timestamp_ns, item.tag, item.anchor)

    def put_delete(self, path: DataPath, timestamp_ns: int, tag: int) -> None:
        """Queues the deletion of ``path``; pending values below it are dropped."""
        if self._end is not None:
            return
        segment = self._segments[-1]
        if segment.shared:
            _spell_out(segment)
        entries = segment.entries
        dropped = 0
        for key, item in list(entries.items()):
            if isinstance(item, Update):
                if item.path.startswith(path):
                    dropped += len(item.values)
                    del entries[key]
                elif len(path.elems) == len(item.path.elems) + 1 and path.startswith(item.path):
                    leaf = path.elems[-1].name
                    if leaf in item.values:
                        item.values = {k: v for k, v in item.values.items() if k != leaf}
                        dropped += 1
            elif isinstance(item, Delete) and item.path.startswith(path):
                dropped += 1
                segment.deletes -= 1
                del entries[key]
        key = ("delete", path)
        if key in entries:
            del entries[key]
            dropped += 1
            segment.deletes -= 1
        entries[key] = Delete(path, timestamp_ns, tag)
        segment.deletes += 1
        self._grow(segment, 1 - dropped)

    def _revive(self, segment: _Segment, path: DataPath, values: Mapping[str, Any]) -> None:
        """Drops pending deletes of leaves that exist again (their new values are queued
        with the container's earlier entry, which is delivered first)."""
        entries = segment.entries
        for leaf in values:
            key = ("delete", path.child(leaf))
            if key in entries:
                del entries[key]
                segment.deletes -= 1
                self._grow(segment, -1)

    def put_sync(self) -> None:
        """Marks the end of a full set of data (sync_response)."""
        if self._end is not None:
            return
        self._segments[-1].sync = True
        self._segments.append(_Segment())
        self._ready.set()

    def end(self, error: TelemetryError | None = None) -> None:
        """Ends the session once what is pending is delivered (``error``: at once)."""
        if self._end is not None:
            return
        self._end = SessionEnded(error)
        if error is not None:
            self._segments = deque([_Segment()])
            self._size = 0
        self._ready.set()

    async def get(self) -> Batch:
        """Everything pending up to the next sync marker; raises SessionEnded at the end."""
        while True:
            segment = self._segments[0]
            if segment.entries or segment.sync:
                if len(self._segments) == 1:
                    self._segments[0] = _Segment()
                else:
                    self._segments.popleft()
                self._size -= segment.size
                return Batch(tuple(segment.entries.values()), segment.sync)
            if len(self._segments) > 1:
                self._segments.popleft()
                continue
            if self._end is not None:
                raise self._end
            self._ready.clear()
            await self._ready.wait()

    def stats(self) -> dict[str, int]:
        """Pending values and entries, the bytes of the queue's own structures
        (``bytes``: entries, duplicate counts, segment maps) and of the value maps its
        entries refer to (``value_bytes``: maps shared with the cache while current)."""
        entries = 0
        held = sys.getsizeof(self._segments)
        maps = 0
        for segment in self._segments:
            held += sys.getsizeof(segment.entries) + sys.getsizeof(segment)
            held += sys.getsizeof(segment.shared)
            for entry in segment.entries.values():
                if isinstance(entry, Shared):  # shared with other sessions: counted once
                    entries += len(entry.items)
                    held += sys.getsizeof(entry) + sys.getsizeof(entry.items)
                    held += sys.getsizeof(entry.anchors)
                    held += sum(sys.getsizeof(item) for item in entry.items)
                    maps += sum(sys.getsizeof(item.values) for item in entry.items)
                    continue
                entries += 1
                held += sys.getsizeof(entry)
                if isinstance(entry, Update):
                    maps += sys.getsizeof(entry.values)
                    if entry.duplicates:
                        held += sys.getsizeof(entry.duplicates)
        return {"pending": self._size, "entries": entries, "bytes": held, "value_bytes": maps}

    def _grow(self, segment: _Segment, by: int) -> None:
        segment.size += by
        self._size += by
        if self._size > self.high_water:
            self.high_water = self._size
        self._ready.set()
        if self._size > self._limit:
            self.end(
                TelemetryError(
                    ErrorKind.RESOURCE_EXHAUSTED,
                    f"the collector is too slow: more than {self._limit} updates are "
                    "waiting for it",
                )
            )


def _overlaps(segment: _Segment, shared: Shared) -> bool:
    """True when something pending in ``segment`` is about a container ``shared`` has."""
    entries = segment.entries
    if not entries:
        return False
    anchors = shared.anchors
    if any(not pending.anchors.keys().isdisjoint(anchors) for pending in segment.shared):
        return True
    if len(entries) < len(anchors):
        return any(key in anchors for key in entries)
    return any(anchor in entries for anchor in anchors)


def _spell_out(segment: _Segment) -> None:
    """Replaces the segment's Shared entries by copies of their Updates, in place."""
    spelt: dict[Any, Entry] = {}
    for key, entry in segment.entries.items():
        if isinstance(entry, Shared):
            for item in entry.items:
                spelt[item.anchor] = Update(
                    item.path, item.info, item.values, item.timestamp_ns, item.tag, item.anchor
                )
        else:
            spelt[key] = entry
    segment.entries = spelt
    segment.shared = []
