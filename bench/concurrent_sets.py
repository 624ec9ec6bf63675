"""Acknowledged Sets per second from concurrent gNMI clients: the journal (group commit)
next to the whole file rewritten per commit, measured in the same run.

The agent runs as `edge-agent serve` in its own process (bench/served.py), once with
``[persistence] mode = "journal"`` and once with ``mode = "rewrite"``, on the same site
(agent.sitegen.scaled_site). Each client is a process of its own with a grpcio channel
and sets one leaf of its own port (alternating values, so every Set commits) as fast as
the answers come, for the same time in both runs; only answered Sets count.

    python bench/concurrent_sets.py [--clients 8] [--seconds 5] [--ports 1024] [--slices 0]
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from served import served

from agent.sitegen import scaled_site

PASSWORD = "bench-password"
METADATA = (("username", "bench"), ("password", PASSWORD))
MODES = ("rewrite", "journal")


@dataclass(frozen=True)
class ClientRun:
    """What one client got through: answered Sets and their latencies (seconds)."""

    answered: int
    failed: int
    latencies: list[float]


def _client(address: str, port: str, go: Any, seconds: float, results: Any) -> None:
    import grpc

    from agent.gnmi.pb import gnmi_pb2, gnmi_pb2_grpc

    leaf = gnmi_pb2.Path()
    for name, keys in (("ports", {}), ("port", {"name": port}), ("config", {}), ("mtu", {})):
        leaf.elem.add(name=name, key=keys)
    requests = [
        gnmi_pb2.SetRequest(
            update=[gnmi_pb2.Update(path=leaf, val=gnmi_pb2.TypedValue(json_val=b"%d" % mtu))]
        )
        for mtu in (9000, 9100)
    ]
    channel = grpc.insecure_channel(address)
    stub = gnmi_pb2_grpc.gNMIStub(channel)
    stub.Set(requests[1], metadata=METADATA, timeout=60)  # connected, and the value is set
    go.wait()
    answered = failed = 0
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds
    while (began := time.perf_counter()) < deadline:
        try:
            stub.Set(requests[answered % 2], metadata=METADATA, timeout=60)
        except grpc.RpcError:
            failed += 1
            continue
        latencies.append(time.perf_counter() - began)
        answered += 1
    channel.close()
    results.put(ClientRun(answered, failed, latencies))


def run_mode(mode: str, site: dict[str, Any], clients: int, seconds: float) -> list[ClientRun]:
    """Every client's run against an agent persisting in ``mode``."""
    ports = [p["name"] for p in site["edge-ports:ports"]["port"]][:clients]
    context = multiprocessing.get_context("spawn")
    settings = f'[persistence]\nmode = "{mode}"\n'
    with served({"bench": ("admin", PASSWORD, None)}, site=site, settings=settings) as agent:
        go, results = context.Event(), context.Queue()
        workers = [
            context.Process(target=_client, args=(agent.gnmi, port, go, seconds, results))
            for port in ports
        ]
        for worker in workers:
            worker.start()
        time.sleep(2.0)  # the clients connect and set their first value
        go.set()
        runs = [results.get(timeout=seconds + 120) for _ in workers]
        for worker in workers:
            worker.join(30)
    return runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--ports", type=int, default=1024)
    parser.add_argument("--slices", type=int, default=0)
    args = parser.parse_args(argv)
    site = scaled_site(args.ports, args.slices)
    print(
        f"{args.clients} concurrent clients, one Set after another each, for {args.seconds:g} s;"
        f" {args.ports} ports, {args.slices} slices"
    )
    rates: dict[str, float] = {}
    for mode in MODES:
        runs = run_mode(mode, site, args.clients, args.seconds)
        answered = sum(r.answered for r in runs)
        latencies = [t for r in runs for t in r.latencies]
        rates[mode] = answered / args.seconds
        p50 = statistics.median(latencies) * 1e3 if latencies else float("nan")
        print(
            f"  {mode:8} acknowledged {rates[mode]:7.1f} Sets/s, latency p50 {p50:.1f} ms, "
            f"{sum(r.failed for r in runs)} failed"
        )
    if rates["rewrite"] > 0:
        print(f"  journal: {rates['journal'] / rates['rewrite']:.1f}x the rewrite's Sets/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
