"""The scrape-time collectors on a real datastore, mock drivers and telemetry (fake clock).

A stalled subscriber coalesces samples: the queue gauges and the coalesced counter show
it, and the counter keeps its count once the session is closed. The per-entity counters
come straight from the drivers, labelled with the device, the port or slice and the
tenant the running configuration gives them.
"""

from __future__ import annotations

import ast
from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.registry import Collector

import agent
from agent.drivers.counters import PORT_COUNTER_FIELDS, SLICE_COUNTER_FIELDS
from agent.mapping.state_tree import StateReader
from agent.metrics.collectors import EntityCounterCollector, TelemetryCollector
from agent.schema.engine import SchemaEngine
from agent.schema.path import DataPath
from agent.sitegen import scaled_site
from agent.telemetry.model import ListMode, StreamMode, SubscribeSpec, Subscription
from tests.datastore.harness import default_site
from tests.metrics.scrape import Samples, parse
from tests.telemetry.harness import PoolDrivers, Site, run, within

S = 1_000_000_000
SPEC = SubscribeSpec(
    ListMode.STREAM,
    (Subscription(DataPath.parse("/ports/port/state/counters"), StreamMode.SAMPLE, S),),
)
AGENT = Path(agent.__file__).parent


def collected(*collectors: Collector) -> Samples:
    registry = CollectorRegistry()
    for collector in collectors:
        registry.register(collector)
    return parse(generate_latest(registry).decode())


def test_a_stalled_subscriber_shows_in_the_queue_figures(
    engine: SchemaEngine, tmp_path: Path
) -> None:
    tree = scaled_site(8)

    async def main() -> None:
        site = await Site(engine, tmp_path / "state", tree).start()
        try:
            for port in tree["edge-ports:ports"]["port"]:
                site.hardware(port["config"]["device"]).set_traffic(
                    port["name"], bps=8_000_000, pps=1_000
                )
            service = site.service
            collector = TelemetryCollector(service)
            stalled = await service.open(SPEC, "stalled")
            await site.advance(5)
            got = collected(collector)
            assert got.get("edge_agent_subscriptions", mode="stream") == 1
            assert got.get("edge_agent_subscriptions", mode="once") == 0
            pending = got.get("edge_agent_subscription_queued_updates")
            # the initial values up to the sync marker, then one value per leaf since
            assert pending == stalled.queue.size == 2 * 8 * len(PORT_COUNTER_FIELDS)
            assert got.get("edge_agent_subscription_queued_updates_max") == pending
            coalesced = got.get("edge_agent_subscription_coalesced_updates_total")
            assert coalesced == stalled.queue.coalesced > 0
            assert got.get("edge_agent_telemetry_reads_total") == service.reads > 0
            await within(stalled.next())  # the collector takes everything at last
            stalled.close()
            got = collected(collector)
            assert got.get("edge_agent_subscriptions", mode="stream") == 0
            assert got.get("edge_agent_subscription_queued_updates") == 0
            assert got.get("edge_agent_subscription_coalesced_updates_total") == coalesced
        finally:
            await site.stop()

    run(main())


def test_entity_counters_carry_device_port_slice_and_tenant(
    engine: SchemaEngine, tmp_path: Path
) -> None:
    async def main() -> None:
        tree = default_site()
        site = await Site(engine, tmp_path / "state", tree).start()
        try:
            site.hardware("tor-tf1").set_traffic("tor-tf1/1", bps=8_000_000_000, pps=1_000_000)
            site.clock.advance(2.0)
            reader = StateReader(PoolDrivers(site.pool))
            collector = EntityCounterCollector(lambda: site.datastore.running.tree, reader.sample)
            got = collected(collector)
        finally:
            await site.stop()
        port = got.matching("edge_agent_port_in_octets_total", port="tor-tf1/1")
        assert list(port) == [
            frozenset({("device", "tor-tf1"), ("port", "tor-tf1/1"), ("tenant", "operator-a")})
        ]
        assert next(iter(port.values())) == 2_000_000_000  # 8 Gb/s for 2 s
        ports = {dict(k)["port"] for k in got.matching("edge_agent_port_out_pkts_total")}
        assert len(ports) == len(tree["edge-ports:ports"]["port"])
        slices = got.matching("edge_agent_slice_drops_total", slice="embb")
        assert slices and all(dict(k)["tenant"] == "operator-a" for k in slices)
        assert {dict(k)["device"] for k in slices} >= {"tor-tf1"}
        for name in (*PORT_COUNTER_FIELDS, *SLICE_COUNTER_FIELDS):
            kind = "port" if name in PORT_COUNTER_FIELDS else "slice"
            assert got.types.get(f"edge_agent_{kind}_{name}") == "counter"

    run(main())


def test_only_the_metrics_package_imports_prometheus_client() -> None:
    importers = set()
    for source in AGENT.rglob("*.py"):
        tree = ast.parse(source.read_text())
        for node in ast.walk(tree):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            if any(n == "prometheus_client" or n.startswith("prometheus_client.") for n in names):
                importers.add(source.relative_to(AGENT).as_posix())
    assert importers == {"metrics/registry.py", "metrics/collectors.py", "metrics/listener.py"}
