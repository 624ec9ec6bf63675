"""The per-subscriber queue: coalescing, duplicates, deletes, sync markers, the cap."""

from __future__ import annotations

import asyncio

import pytest

from agent.schema.engine import SchemaEngine
from agent.schema.nav import NodeInfo
from agent.schema.path import DataPath
from agent.telemetry.model import Batch, Delete, ErrorKind, SessionEnded, Shared, Update
from agent.telemetry.queue import CoalescingQueue
from tests.telemetry.harness import run

A = DataPath.parse("/ports/port[name=a]/state/counters")
B = DataPath.parse("/ports/port[name=b]/state/counters")


@pytest.fixture
def info(engine: SchemaEngine) -> NodeInfo:
    return engine.nav.root


def take(queue: CoalescingQueue) -> Batch:
    return run(_take(queue))


async def _take(queue: CoalescingQueue) -> Batch:
    return await asyncio.wait_for(queue.get(), 5)


def updates(batch: Batch) -> list[Update]:
    return [item for item in batch.items if isinstance(item, Update)]


def test_overwritten_values_are_coalesced_and_counted(info: NodeInfo) -> None:
    queue = CoalescingQueue(limit=100)
    anchor = object()
    queue.put(A, info, {"in-octets": "1", "in-pkts": "1"}, 10, 0, anchor)
    queue.put(A, info, {"in-octets": "2", "in-pkts": "2"}, 20, 0, anchor)
    queue.put(A, info, {"in-octets": "3"}, 30, 0, anchor)
    assert queue.size == 2
    (update,) = updates(take(queue))
    assert dict(update.values) == {"in-octets": "3", "in-pkts": "2"}
    assert update.duplicates == {"in-octets": 2, "in-pkts": 1}
    assert update.timestamp_ns == 30
    assert queue.coalesced == 3


def test_one_observation_reported_twice_is_no_duplicate(info: NodeInfo) -> None:
    queue = CoalescingQueue(limit=100)
    anchor = object()
    queue.put(A, info, {"mtu": 9000}, 10, 0, anchor)
    queue.put(A, info, {"mtu": 9000}, 10, 1, anchor)  # an overlapping subscription
    (update,) = updates(take(queue))
    assert update.duplicates is None


def test_delete_drops_what_is_pending_below(info: NodeInfo) -> None:
    queue = CoalescingQueue(limit=100)
    queue.put(A, info, {"in-octets": "1"}, 10, 0, object())
    queue.put(B, info, {"in-octets": "1"}, 10, 0, object())
    queue.put_delete(DataPath.parse("/ports/port[name=a]"), 20, 0)
    batch = take(queue)
    assert [str(u.path) for u in updates(batch)] == [str(B)]
    assert [str(i.path) for i in batch.items if isinstance(i, Delete)] == ["/ports/port[name=a]"]


def test_a_leaf_back_after_its_delete_is_not_lost(info: NodeInfo) -> None:
    queue = CoalescingQueue(limit=100)
    anchor = object()
    queue.put(A, info, {"in-octets": "1", "in-pkts": "1"}, 10, 0, anchor)
    queue.put_delete(A.child("in-pkts"), 20, 0)
    queue.put(A, info, {"in-pkts": "4"}, 30, 0, anchor)
    batch = take(queue)
    assert not [i for i in batch.items if isinstance(i, Delete)]
    (update,) = updates(batch)
    assert dict(update.values) == {"in-octets": "1", "in-pkts": "4"}


def test_sync_markers_keep_order_and_stop_coalescing(info: NodeInfo) -> None:
    queue = CoalescingQueue(limit=100)
    anchor = object()
    queue.put(A, info, {"in-octets": "1"}, 10, 0, anchor)
    queue.put_sync()
    queue.put(A, info, {"in-octets": "2"}, 20, 0, anchor)
    first = take(queue)
    assert first.sync and dict(updates(first)[0].values) == {"in-octets": "1"}
    second = take(queue)
    assert not second.sync and dict(updates(second)[0].values) == {"in-octets": "2"}
    assert updates(second)[0].duplicates is None


def test_the_cap_ends_the_session(info: NodeInfo) -> None:
    queue = CoalescingQueue(limit=3)
    for n in range(4):
        queue.put(DataPath.parse(f"/ports/port[name=p{n}]/state"), info, {"mtu": 1}, 1, 0, n)
    with pytest.raises(SessionEnded) as ended:
        take(queue)
    assert ended.value.error is not None
    assert ended.value.error.kind is ErrorKind.RESOURCE_EXHAUSTED
    assert queue.size == 0  # what was pending is let go at once


def test_a_normal_end_comes_after_what_is_pending(info: NodeInfo) -> None:
    queue = CoalescingQueue(limit=10)
    queue.put(A, info, {"in-octets": "1"}, 1, 0, object())
    queue.put_sync()
    queue.end()
    assert take(queue).sync
    with pytest.raises(SessionEnded) as ended:
        take(queue)
    assert ended.value.error is None


def shared(info: NodeInfo, anchors: list[object], octets: int, stamp: int) -> Shared:
    paths = [DataPath.parse(f"/ports/port[name=p{i}]/state/counters") for i in range(len(anchors))]
    return Shared(
        tuple(
            Update(path, info, {"in-octets": octets, "in-pkts": octets}, stamp, 0, anchor)
            for path, anchor in zip(paths, anchors, strict=True)
        )
    )


def test_a_shared_sample_is_queued_as_it_is_for_a_collector_keeping_up(info: NodeInfo) -> None:
    queue = CoalescingQueue(limit=100)
    sample = shared(info, [object(), object()], 5, 10)
    queue.put_shared(sample)
    assert queue.size == 4
    batch = take(queue)
    assert batch.entries == (sample,)  # the very object every session shares
    assert [dict(u.values) for u in updates(batch)] == [{"in-octets": 5, "in-pkts": 5}] * 2


def test_a_stalled_collector_coalesces_shared_samples_per_leaf(info: NodeInfo) -> None:
    queue = CoalescingQueue(limit=100)
    anchors = [object(), object()]
    first, second = shared(info, anchors, 5, 10), shared(info, anchors, 7, 20)
    queue.put_shared(first)
    queue.put_shared(second)
    queue.put_shared(shared(info, anchors, 9, 30))
    assert queue.size == 4  # one value per leaf, however many samples arrive
    batch = take(queue)
    assert all(not isinstance(entry, Shared) for entry in batch.entries)
    got = updates(batch)
    assert [dict(u.values) for u in got] == [{"in-octets": 9, "in-pkts": 9}] * 2
    assert [u.duplicates for u in got] == [{"in-octets": 2, "in-pkts": 2}] * 2
    assert [u.timestamp_ns for u in got] == [30, 30]
    # the shared samples themselves are untouched: other sessions deliver them as built
    assert [dict(u.values) for u in first.items] == [{"in-octets": 5, "in-pkts": 5}] * 2
    assert all(u.duplicates is None for u in first.items + second.items)


def test_a_value_for_a_container_of_a_pending_shared_sample_coalesces(info: NodeInfo) -> None:
    queue = CoalescingQueue(limit=100)
    anchors = [object(), object()]
    sample = shared(info, anchors, 5, 10)
    queue.put_shared(sample)
    path = sample.items[1].path
    queue.put(path, info, {"in-octets": 6}, 11, 0, anchors[1])
    batch = take(queue)
    got = updates(batch)
    assert [dict(u.values) for u in got] == [
        {"in-octets": 5, "in-pkts": 5},
        {"in-octets": 6, "in-pkts": 5},
    ]
    assert got[1].duplicates == {"in-octets": 1}
    assert dict(sample.items[1].values) == {"in-octets": 5, "in-pkts": 5}


def test_a_delete_drops_the_values_of_a_pending_shared_sample_below_it(info: NodeInfo) -> None:
    queue = CoalescingQueue(limit=100)
    sample = shared(info, [object(), object()], 5, 10)
    queue.put_shared(sample)
    queue.put_delete(DataPath.parse("/ports/port[name=p0]"), 12, 0)
    batch = take(queue)
    assert [str(u.path) for u in updates(batch)] == ["/ports/port[name=p1]/state/counters"]
    assert [str(i.path) for i in batch.items if isinstance(i, Delete)] == ["/ports/port[name=p0]"]
    assert queue.size == 0


def test_shared_samples_count_against_the_cap(info: NodeInfo) -> None:
    queue = CoalescingQueue(limit=3)
    queue.put_shared(shared(info, [object(), object()], 5, 10))
    with pytest.raises(SessionEnded) as ended:
        take(queue)
    assert ended.value.error is not None
    assert ended.value.error.kind is ErrorKind.RESOURCE_EXHAUSTED
