"""The telemetry service below the wire: the shared sampler, per-slice counters, device
events, and encodings identical to the wire layer's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agent.gnmi.encoding import Encoding, encode_value
from agent.gnmi.schema_info import CachedSchema
from agent.gnmi.tree_codec import iter_leaves
from agent.gnmi.typed_values import value_encoder
from agent.mapping.state_tree import StateReader
from agent.schema.engine import SchemaEngine
from agent.schema.path import DataPath
from agent.telemetry.model import (
    Batch,
    Delete,
    ErrorKind,
    ListMode,
    StreamMode,
    SubscribeSpec,
    Subscription,
    TelemetryError,
    Update,
)
from tests.telemetry.harness import PoolDrivers, Site, run, within

S = 1_000_000_000
MS = 1_000_000


def spec(
    *paths: str,
    listing: ListMode = ListMode.STREAM,
    mode: StreamMode = StreamMode.TARGET_DEFINED,
    **options: Any,
) -> SubscribeSpec:
    subscriptions = tuple(Subscription(DataPath.parse(p), mode, **options) for p in paths)
    return SubscribeSpec(listing, subscriptions)


def values_of(batch: Batch) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in batch.items:
        if isinstance(item, Update):
            for leaf, value in item.values.items():
                out[f"{item.path}/{leaf}"] = value
    return out


def test_every_value_telemetry_holds_encodes_as_get_encodes_it(
    engine: SchemaEngine, tmp_path: Path, site: dict[str, Any]
) -> None:
    schema = CachedSchema(engine)

    async def main() -> None:
        agent = await Site(engine, tmp_path / "state", site).start()
        try:
            session = await agent.service.open(spec("/", listing=ListMode.ONCE))
            batch = await within(session.next())
        finally:
            await agent.stop()
        checked = 0
        for item in batch.items:
            assert isinstance(item, Update)
            for leaf, value in item.values.items():
                where = item.path.child(leaf)
                leaf_type = engine.nav.child(item.info, leaf)
                assert leaf_type is not None
                for encoding in (Encoding.JSON, Encoding.JSON_IETF, Encoding.PROTO):
                    typed = encode_value(where, value, encoding, schema)
                    encoded = value_encoder(leaf_type.leaf_type, encoding, where).encode(value)
                    assert type(typed).FromString(encoded) == typed, (str(where), encoding)
                    checked += 1
        assert checked > 1000

    run(main())


def test_slice_counters_sum_the_devices_the_slice_spans(
    engine: SchemaEngine, tmp_path: Path, site: dict[str, Any]
) -> None:
    members = ["tor-tf1", "spine-tf2", "nic-cx7", "dpu-bf3"]  # embb's member ports' devices

    async def main() -> None:
        agent = await Site(engine, tmp_path / "state", site).start()
        try:
            for n, device in enumerate(members, start=1):
                agent.hardware(device).set_slice_traffic("embb", bps=8000 * n, pps=10 * n)
            await agent.advance(2)
            session = await agent.service.open(
                spec("/slices/slice[name=embb]/state/counters", listing=ListMode.ONCE)
            )
            values = values_of(await within(session.next()))
        finally:
            await agent.stop()
        where = "/slices/slice[name=embb]/state/counters"
        assert values[f"{where}/in-octets"] == sum(2 * 1000 * n for n in range(1, 5))
        assert values[f"{where}/in-pkts"] == sum(2 * 10 * n for n in range(1, 5))
        assert values[f"{where}/drops"] == 0

    run(main())


def test_a_device_going_down_arrives_on_change(
    engine: SchemaEngine, tmp_path: Path, site: dict[str, Any]
) -> None:
    where = "/ports/port[name=nic-cx6/1]/state"

    async def main() -> None:
        agent = await Site(engine, tmp_path / "state", site).start()
        try:
            session = await agent.service.open(
                spec(
                    where, "/platform/devices/device[name=nic-cx6]/state", mode=StreamMode.ON_CHANGE
                )
            )
            initial = values_of(await within(session.next()))
            assert initial[f"{where}/oper-status"] == "UP"
            agent.hardware("nic-cx6").set_available(False)
            await agent.settle()
            batch = await within(session.next())
            changed = values_of(batch)
            removed = [str(i.path) for i in batch.items if isinstance(i, Delete)]
        finally:
            await agent.stop()
        assert changed[f"{where}/oper-status"] == "UNKNOWN"
        assert changed["/platform/devices/device[name=nic-cx6]/state/oper-status"] == "DOWN"
        # unreadable: no counters and no last-change to report any more
        assert sorted(removed) == [f"{where}/counters", f"{where}/last-change"]

    run(main())


def test_one_read_per_tick_shared_by_all_subscribers(
    engine: SchemaEngine, tmp_path: Path, site: dict[str, Any]
) -> None:
    nic = "/ports/port[name=nic-cx7/1]/state/counters"

    async def main() -> None:
        agent = await Site(engine, tmp_path / "state", site).start()
        try:
            service = agent.service
            slow = [
                await service.open(spec(nic, mode=StreamMode.SAMPLE, sample_interval_ns=S))
                for _ in range(3)
            ]
            before = service.reads
            await agent.advance(3)
            assert service.reads - before == 3  # three sessions, one read per second
            fast = await service.open(
                spec(nic, mode=StreamMode.SAMPLE, sample_interval_ns=100 * MS)
            )
            before = service.reads
            await agent.advance(1)
            assert service.reads - before == 10  # now every 100 ms, the 1 s ones included
            for session in slow:
                await within(session.next())  # the initial values
                stamps = {u.timestamp_ns for u in (await within(session.next())).items}
                assert len(stamps) == 1  # 4 s of samples, coalesced: the latest one
            assert fast.queue.size > 0
        finally:
            await agent.stop()

    run(main())


@pytest.mark.parametrize(
    ("subscription", "kind", "message"),
    [
        (Subscription(DataPath.parse("/ports/nope")), ErrorKind.NOT_FOUND, "nope"),
        (
            Subscription(DataPath.parse("/ports/port/state"), StreamMode.SAMPLE, 50 * MS),
            ErrorKind.INVALID,
            "below the minimum",
        ),
    ],
)
def test_refusals(
    engine: SchemaEngine,
    tmp_path: Path,
    site: dict[str, Any],
    subscription: Subscription,
    kind: ErrorKind,
    message: str,
) -> None:
    async def main() -> None:
        agent = await Site(engine, tmp_path / "state", site).start()
        try:
            with pytest.raises(TelemetryError) as refused:
                await agent.service.open(SubscribeSpec(ListMode.STREAM, (subscription,)))
        finally:
            await agent.stop()
        assert refused.value.kind is kind and message in refused.value.message

    run(main())


def test_telemetry_holds_the_state_get_renders(
    engine: SchemaEngine, tmp_path: Path, site: dict[str, Any]
) -> None:
    """The typed values the cache holds and the RFC 7951 tree Get renders from the same
    reading are the same leaves, and encode to the same TypedValues."""
    schema = CachedSchema(engine)

    async def main() -> tuple[dict[str, Any], dict[str, Any]]:
        agent = await Site(engine, tmp_path / "state", site).start()
        try:
            agent.hardware("nic-e810").set_traffic("nic-e810/2", bps=8_000_000_000, pps=10**6)
            await agent.advance(2)
            session = await agent.service.open(spec("/", listing=ListMode.ONCE))
            held = values_of(await within(session.next()))
            reader = StateReader(PoolDrivers(agent.pool))
            tree = reader.read(agent.datastore.running.tree)
            rendered = {
                str(path.without_modules()): value
                for path, _, value in iter_leaves(DataPath.root(), tree, schema)
            }
            return held, rendered
        finally:
            await agent.stop()

    held, rendered = run(main())
    state = {path for path in rendered if "/state/" in path}
    assert state and state == {path for path in held if "/state/" in path}
    assert held["/ports/port[name=nic-e810/2]/state/counters/in-octets"] == 2 * 10**9
    for path in state:
        where = DataPath.parse(path)
        for encoding in (Encoding.JSON, Encoding.JSON_IETF, Encoding.PROTO):
            assert encode_value(where, held[path], encoding, schema) == encode_value(
                where, rendered[path], encoding, schema
            ), path
