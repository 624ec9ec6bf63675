"""What Prometheus metrics cost: gNMI calls with metrics on next to off, and scrapes.

Two agents on the same site (agent.sitegen.scaled_site, 1,024 ports by default) run in
this process, each on its own event loop thread, built as `edge-agent serve` builds
them: one without metrics (the baseline), one with ``--metrics-listen`` and
``--metrics-counters``. Blocks of sequential calls alternate between the two so that
load from elsewhere hits both alike; each figure is the median over blocks.

- Get one leaf and Set one leaf: p50/p99 with metrics on, off, and the ratio;
- a scrape of /metrics with the per-entity counters (every port and slice read from the
  drivers) next to one of the same agent's own figures without them, and the ratio.

    python bench/metrics.py [--quick] [--ports N]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import urllib.request
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import grpc

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gnmi_unary import (
    METADATA,
    OPTIONS,
    PASSWORD,
    Block,
    Loop,
    _pair,
    _ratio,
    median_block,
    path,
    timed,
)

from agent.app import Agent, build_agent
from agent.config import ListenAddress, MetricsSettings, NetconfSettings, Settings, TlsSettings
from agent.gnmi.pb import gnmi_pb2, gnmi_pb2_grpc
from agent.metrics.collectors import DatastoreCollector, TelemetryCollector
from agent.metrics.listener import MetricsListener
from agent.metrics.registry import AgentMetrics
from agent.security.users import Role
from agent.site_file import summarise
from agent.sitegen import scaled_site


def started(loop: Loop, stack: ExitStack, tmp: Path, name: str, metrics: MetricsSettings) -> Agent:
    settings = Settings(
        listen=ListenAddress("127.0.0.1", 0),
        state_dir=tmp / name,
        site=tmp / "site.json",
        tls=TlsSettings(insecure=True),
        netconf=NetconfSettings(enabled=False),
        metrics=metrics,
    )
    agent = build_agent(settings)
    agent.users.add("bench", Role.ADMIN, PASSWORD)
    loop.run(agent.start())
    stack.callback(lambda: loop.run(agent.stop()))
    return agent


def scrape(url: str) -> int:
    with urllib.request.urlopen(url, timeout=60) as response:
        return len(response.read())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The cost of Prometheus metrics.")
    parser.add_argument("--quick", action="store_true", help="small counts (smoke run)")
    parser.add_argument("--ports", type=int, default=1024)
    args = parser.parse_args(argv)
    blocks, calls, sets, scrapes = (3, 200, 20, 3) if args.quick else (5, 1000, 60, 10)
    site = scaled_site(args.ports)
    ports = site["edge-ports:ports"]["port"]
    leaf = f"/ports/port[name={ports[len(ports) // 2]['name']}]/config/mtu"
    get_leaf = gnmi_pb2.GetRequest(path=[path(leaf)], encoding=gnmi_pb2.JSON)
    on = MetricsSettings(listen=ListenAddress("127.0.0.1", 0), counters=True)
    rows: list[tuple[str, Block, Block]] = []
    loop_off, loop_on = Loop(), Loop()
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        (Path(tmp) / "site.json").write_text(json.dumps(site))
        baseline = started(loop_off, stack, Path(tmp), "off", MetricsSettings())
        metered = started(loop_on, stack, Path(tmp), "on", on)
        assert metered.metrics is not None
        print(
            f"edge-agent metrics cost, {summarise(site)}, grpcio {grpc.__version__}, "
            f"Python {sys.version.split()[0]}, 127.0.0.1, plaintext, {blocks} blocks"
        )
        stubs = {}
        for name, agent in (("off", baseline), ("on", metered)):
            channel = grpc.insecure_channel(f"127.0.0.1:{agent.port}", options=OPTIONS)
            stack.callback(channel.close)
            stubs[name] = gnmi_pb2_grpc.gNMIStub(channel)
        toggle = [0]

        def get(name: str) -> Callable[[], Any]:
            return lambda: stubs[name].Get(get_leaf, metadata=METADATA, timeout=120)

        def set_leaf(name: str) -> Callable[[], Any]:
            def call() -> Any:
                toggle[0] ^= 1
                value = b"1500" if toggle[0] else b"9000"
                update = gnmi_pb2.Update(path=path(leaf), val=gnmi_pb2.TypedValue(json_val=value))
                return stubs[name].Set(
                    gnmi_pb2.SetRequest(update=[update]), metadata=METADATA, timeout=120
                )

            return call

        for name in stubs:  # warm up (the credential cache included)
            for _ in range(100):
                get(name)()
            set_leaf(name)()
        for label, make, count in (("Get one leaf", get, calls), ("Set one leaf", set_leaf, sets)):
            figures: dict[str, list[Block]] = {"on": [], "off": []}
            for _ in range(blocks):
                for name in ("off", "on"):
                    figures[name].append(timed(make(name), count)[0])
            rows.append((label, median_block(figures["on"]), median_block(figures["off"])))

        own = AgentMetrics()  # the agent's own figures, without the per-entity counters
        own.register(DatastoreCollector(metered.datastore, metered.datastore.devices))
        own.register(TelemetryCollector(metered.telemetry))
        plain = MetricsListener(ListenAddress("127.0.0.1", 0), own.registry)
        plain.start()
        stack.callback(plain.stop)
        sizes = scrape(metered.metrics.url) // 1024, scrape(plain.url) // 1024
        runs: dict[str, list[Block]] = {metered.metrics.url: [], plain.url: []}
        for _ in range(blocks):
            for url, out in runs.items():
                out.append(timed(lambda url=url: scrape(url), scrapes)[0])
        label = f"scrape /metrics ({sizes[0]} KiB / {sizes[1]} KiB)"
        rows.append((label, median_block(runs[metered.metrics.url]), median_block(runs[plain.url])))
    loop_on.close()
    loop_off.close()
    report(rows)
    return 0


def report(rows: list[tuple[str, Block, Block]]) -> None:
    width = max(len(name) for name, _, _ in rows)
    print(f"{'':<{width}}  {'measured p50/p99':>21}  {'baseline p50/p99':>21}  {'ratio':>13}")
    for name, measured, base in rows:
        print(f"{name:<{width}}  {_pair(measured)}  {_pair(base)}  {_ratio(measured, base)}")
    print(
        "Get/Set: measured = metrics on, baseline = metrics off. scrape: measured = with "
        "every port's and slice's counters, baseline = the agent's own figures only."
    )


if __name__ == "__main__":
    sys.exit(main())
