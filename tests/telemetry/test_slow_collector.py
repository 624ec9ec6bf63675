"""A collector that stops reading: bounded memory for it, no missed samples for the others.

1,024 ports sampled every second on a fake clock for 60 s. One session is never read;
two are read after every sample. The stalled queue must hold at most one value per
subscribed leaf (coalesced, with duplicates counted), and the others must see every
sample timestamp. A smaller run does the same over real gRPC with a client that never
reads its stream.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

from grpc import aio

from agent.gnmi.pb import gnmi_pb2_grpc
from agent.schema.engine import SchemaEngine
from agent.schema.path import DataPath
from agent.sitegen import scaled_site
from agent.telemetry.limits import Bundling
from agent.telemetry.model import ListMode, StreamMode, SubscribeSpec, Subscription, Update
from agent.telemetry.session import Session
from tests.telemetry.harness import Server, Site, limits, run, subscription_list, within

S = 1_000_000_000
COUNTERS = "/ports/port/state/counters"
SPEC = SubscribeSpec(
    ListMode.STREAM, (Subscription(DataPath.parse(COUNTERS), StreamMode.SAMPLE, S),)
)


def traffic(site: Site, tree: dict[str, Any]) -> None:
    for port in tree["edge-ports:ports"]["port"]:
        hardware = site.hardware(port["config"]["device"])
        hardware.set_traffic(port["name"], bps=8_000_000, pps=1_000)


async def drain(session: Session) -> list[Update]:
    batch = await within(session.next())
    return [item for item in batch.items if isinstance(item, Update)]


def test_a_stalled_collector_stays_bounded_and_others_stay_on_cadence(
    engine: SchemaEngine, tmp_path: Path
) -> None:
    ports, seconds = 1024, 60
    tree = scaled_site(ports)
    leaves = ports * 12

    async def main() -> None:
        site = await Site(engine, tmp_path / "state", tree).start()
        try:
            traffic(site, tree)
            service = site.service
            stalled = await service.open(SPEC, "stalled")
            readers = [await service.open(SPEC, f"reader-{n}") for n in range(2)]
            for reader in readers:
                assert len(await drain(reader)) == ports  # the initial values
            start = site.clock.now_ns()
            stamps: list[list[int]] = [[] for _ in readers]
            sizes = []
            for second in range(1, seconds + 1):
                await site.advance(1)
                for reader, seen in zip(readers, stamps, strict=True):
                    updates = await drain(reader)
                    assert len(updates) == ports
                    seen.extend({u.timestamp_ns for u in updates})
                if second in (10, seconds):
                    sizes.append(stalled.stats())
            expected = [start + n * S for n in range(1, seconds + 1)]
            assert stamps == [expected, expected]  # no missed intervals
            assert service.missed == 0
            at_10, at_60 = sizes
            # the initial set plus one coalesced value per leaf, whatever the stall's length
            assert at_60["pending"] == at_10["pending"] == 2 * leaves
            assert at_60["entries"] == at_10["entries"] == 2 * ports
            assert stalled.queue.high_water == 2 * leaves
            assert at_60["bytes"] == at_10["bytes"]
            print(
                f"\nstalled collector after {seconds} s: {at_60['pending']} values pending "
                f"in {at_60['entries']} entries; queue structures {at_60['bytes'] / 2**10:.0f} "
                f"KiB, value maps {at_60['value_bytes'] / 2**10:.0f} KiB; after 10 s: "
                f"{at_10['bytes'] / 2**10:.0f} KiB + {at_10['value_bytes'] / 2**10:.0f} KiB",
                file=sys.stderr,
            )
            initial = await within(stalled.next())
            assert initial.sync and len(initial.items) == ports
            latest = await drain(stalled)
            assert len(latest) == ports
            assert all(u.timestamp_ns == start + seconds * S for u in latest)
            assert all(u.duplicates == dict.fromkeys(u.values, seconds - 1) for u in latest)
        finally:
            await site.stop()

    run(main())


def test_a_client_that_never_reads_does_not_slow_the_others(
    engine: SchemaEngine, tmp_path: Path
) -> None:
    ports, rounds = 512, 20
    tree = scaled_site(ports)

    async def main() -> None:
        per_port = limits(bundling=Bundling.CONTAINER)  # many small messages: flow control
        site = await Site(engine, tmp_path / "state", tree, limits=per_port).start()
        server = await Server(site).start()
        channel = aio.insecure_channel(
            f"127.0.0.1:{server.port}", options=[("grpc.http2.bdp_probe", 0)]
        )
        try:
            traffic(site, tree)
            request = subscription_list(COUNTERS, stream_mode=2)
            stalled = gnmi_pb2_grpc.gNMIStub(channel).Subscribe(iter([request]))
            await within(_until(lambda: len(site.service.sessions()) == 1))
            readers = [server.open(request) for _ in range(2)]
            for reader in readers:
                assert len(await reader.until_sync()) == ports
            start = site.clock.now_ns()
            for _ in range(rounds):
                await site.advance(1)
                for reader in readers:
                    stamps = {(await reader.read()).update.timestamp for _ in range(ports)}
                    assert stamps == {site.clock.now_ns()}
            assert site.clock.now_ns() == start + rounds * S
            (slow,) = [s for s in site.service.sessions() if s.queue.coalesced]
            assert slow.queue.high_water <= 2 * ports * 12
            stalled.cancel()
        finally:
            await channel.close()
            await server.stop()
            await site.stop()

    run(main())


async def _until(condition: Any) -> None:
    while not condition():
        await asyncio.sleep(0.01)
