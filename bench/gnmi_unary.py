"""gNMI unary latency: Get one leaf, Set one leaf, Get the whole /ports tree (1,024 ports),
each next to raw grpcio unary calls of the same request and response sizes, measured in
the same run and the same process.

The agent is built exactly as `edge-agent serve` builds it (plaintext, like the
baseline; credentials in metadata on every call) and runs on its own event loop thread;
the client is a synchronous grpcio channel, as in the baseline.

    python bench/gnmi_unary.py [--quick] [--ports N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from raw_grpc_baseline import measure_unary, raw_server  # noqa: E402

from agent.app import Agent, build_agent  # noqa: E402
from agent.config import ListenAddress, Settings, TlsSettings  # noqa: E402
from agent.gnmi.pb import gnmi_pb2, gnmi_pb2_grpc  # noqa: E402
from agent.schema.path import DataPath  # noqa: E402
from agent.security.users import Role  # noqa: E402
from agent.site_file import summarise  # noqa: E402
from agent.sitegen import scaled_site  # noqa: E402

PASSWORD = "bench-password"
METADATA = (("username", "bench"), ("password", PASSWORD))
OPTIONS = [("grpc.max_send_message_length", -1), ("grpc.max_receive_message_length", -1)]


@dataclass(frozen=True)
class Figures:
    name: str
    calls: int
    request_bytes: int
    response_bytes: int
    p50_us: float
    p99_us: float


def percentile(samples: list[float], percent: float) -> float:
    ordered = sorted(samples)
    index = max(0, min(len(ordered) - 1, round(percent / 100 * len(ordered)) - 1))
    return ordered[index]


def measure(name: str, call: Callable[[], Any], request: Any, calls: int, warmup: int) -> Figures:
    response = None
    for _ in range(warmup):
        response = call()
    samples = []
    for _ in range(calls):
        start = time.perf_counter_ns()
        response = call()
        samples.append((time.perf_counter_ns() - start) / 1000)
    return Figures(
        name,
        calls,
        request.ByteSize(),
        response.ByteSize() if response is not None else 0,
        statistics.median(samples),
        percentile(samples, 99),
    )


class AgentThread:
    """The agent on an event loop in a background thread."""

    def __init__(self, agent: Agent) -> None:
        self.agent = agent
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> AgentThread:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.agent.start(), self.loop).result(300)
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.agent.stop(), self.loop).result(60)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


def path(text: str) -> Any:
    message = gnmi_pb2.Path()
    for elem in DataPath.parse(text).elems:
        message.elem.add(name=elem.name, key=dict(elem.keys))
    return message


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small counts (smoke run)")
    parser.add_argument("--ports", type=int, default=1024)
    args = parser.parse_args(argv)
    leaf_calls, set_calls, tree_calls = (200, 40, 10) if args.quick else (3000, 300, 60)

    with tempfile.TemporaryDirectory() as tmp:
        state_dir = Path(tmp) / "state"
        site_file = Path(tmp) / "site.json"
        site = scaled_site(args.ports)
        site_file.write_text(json.dumps(site))
        settings = Settings(
            listen=ListenAddress("127.0.0.1", 0),
            state_dir=state_dir,
            site=site_file,
            tls=TlsSettings(insecure=True),
        )
        agent = build_agent(settings)
        agent.users.add("bench", Role.ADMIN, PASSWORD)
        middle = site["edge-ports:ports"]["port"][args.ports // 2]["name"]
        leaf = f"/ports/port[name={middle}]/config/mtu"
        get_leaf = gnmi_pb2.GetRequest(path=[path(leaf)], encoding=gnmi_pb2.JSON)
        sets = [
            gnmi_pb2.SetRequest(
                update=[gnmi_pb2.Update(path=path(leaf), val=gnmi_pb2.TypedValue(json_val=v))]
            )
            for v in (b"1500", b"9000")
        ]
        get_tree = {
            data_type: gnmi_pb2.GetRequest(path=[path("/ports")], type=data_type)
            for data_type in (gnmi_pb2.GetRequest.CONFIG, gnmi_pb2.GetRequest.ALL)
        }
        print(
            f"edge-agent gNMI unary, {summarise(site)}, grpcio {grpc.__version__}, "
            f"Python {sys.version.split()[0]}, 127.0.0.1, plaintext"
        )
        results: list[tuple[Figures, Figures]] = []
        with AgentThread(agent) as running:
            target = f"127.0.0.1:{running.agent.port}"
            with grpc.insecure_channel(target, options=OPTIONS) as channel:
                stub = gnmi_pb2_grpc.gNMIStub(channel)
                figures = [
                    measure(
                        "Get one leaf",
                        lambda: stub.Get(get_leaf, metadata=METADATA, timeout=30),
                        get_leaf,
                        leaf_calls,
                        200,
                    )
                ]
                toggle = [0]

                def set_leaf() -> Any:
                    toggle[0] ^= 1
                    return stub.Set(sets[toggle[0]], metadata=METADATA, timeout=60)

                figures.append(measure("Set one leaf", set_leaf, sets[0], set_calls, 10))
                for data_type, request in get_tree.items():
                    kind = "config" if data_type == gnmi_pb2.GetRequest.CONFIG else "config+state"
                    figures.append(
                        measure(
                            f"Get /ports ({kind})",
                            lambda r=request: stub.Get(r, metadata=METADATA, timeout=60),
                            request,
                            tree_calls,
                            3,
                        )
                    )
        with raw_server() as raw_target:
            for figure in figures:
                baseline = measure_unary(
                    raw_target,
                    calls=max(figure.calls, 200),
                    request_bytes=figure.request_bytes,
                    response_bytes=figure.response_bytes,
                )
                results.append(
                    (
                        figure,
                        Figures(
                            "raw",
                            baseline.calls,
                            baseline.request_bytes,
                            baseline.response_bytes,
                            baseline.p50_us,
                            baseline.p99_us,
                        ),
                    )
                )
    width = max(len(f.name) for f, _ in results)
    for figure, raw in results:
        print(
            f"{figure.name:<{width}}  {figure.calls:>5} calls  "
            f"{figure.request_bytes:>6} B -> {figure.response_bytes:>8} B  "
            f"p50 {_us(figure.p50_us)}  p99 {_us(figure.p99_us)}  |  raw grpcio "
            f"p50 {_us(raw.p50_us)}  p99 {_us(raw.p99_us)}  |  ratio p50 "
            f"{figure.p50_us / raw.p50_us:5.2f}x  p99 {figure.p99_us / raw.p99_us:5.2f}x"
        )
    return 0


def _us(value: float) -> str:
    return f"{value / 1000:8.2f} ms" if value >= 10_000 else f"{value:6.0f} us"


if __name__ == "__main__":
    sys.exit(main())
