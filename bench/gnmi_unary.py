"""gNMI unary latency of the agent next to raw grpcio, measured in the same run.

Scenarios on a site of 1,024 ports (agent.sitegen.scaled_site; --ports and --slices for
others, e.g. 10,000 ports and 1,000 slices):

- Get one leaf (a config leaf of the middle port, JSON),
- Set one leaf (the same leaf, alternating values, so every Set commits),
- Get /ports, configuration only: warm (repeated at one running version) and cold (a
  commit before each Get, so nothing is cached),
- Get /ports with state (every port's state read from the drivers).

Each is put next to raw grpcio unary calls of the same request and response sizes
(bench/raw_grpc_baseline.py: synchronous server, no protobuf) and next to the same raw
calls on a grpc.aio server, the server type the agent uses (its floor). The agent is
built exactly as `edge-agent serve` builds it (plaintext like the baselines; credentials
in metadata on every call) and runs on its own event loop thread in this process, like the
baseline servers; the client is a synchronous grpcio channel, as in the baseline.
Measurements alternate between the agent and the baselines in blocks, and each figure is
the median over blocks, so that load from elsewhere on the machine hits all alike.

    python bench/gnmi_unary.py [--quick] [--ports N] [--slices N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import struct
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from grpc import aio

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from raw_grpc_baseline import SERVICE, measure_unary, raw_server

from agent.app import build_agent
from agent.config import ListenAddress, NetconfSettings, Settings, TlsSettings
from agent.gnmi.pb import gnmi_pb2, gnmi_pb2_grpc
from agent.schema.path import DataPath
from agent.security.users import Role
from agent.site_file import summarise
from agent.sitegen import scaled_site

PASSWORD = "bench-password"
METADATA = (("username", "bench"), ("password", PASSWORD))
OPTIONS = [("grpc.max_send_message_length", -1), ("grpc.max_receive_message_length", -1)]
ECHO_HEADER = struct.Struct(">II")  # the raw baseline's request header: (response size, 0)


@dataclass(frozen=True)
class Block:
    """p50/p99 of one block of sequential calls, in microseconds."""

    p50: float
    p99: float


@dataclass(frozen=True)
class Row:
    name: str
    calls: int
    request_bytes: int
    response_bytes: int
    agent: Block
    raw: Block
    raw_aio: Block


class Loop:
    """An asyncio event loop on a background thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coroutine: Any, timeout: float = 300) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


async def _echo(request: bytes, context: Any) -> bytes:
    size, _ = ECHO_HEADER.unpack_from(request)
    return bytes(size)


@contextmanager
def raw_aio_server(loop: Loop) -> Iterator[str]:
    """The raw baseline's echo method on a grpc.aio server; yields ``host:port``."""

    async def start() -> tuple[Any, int]:
        server = aio.server(options=OPTIONS)
        handler = grpc.unary_unary_rpc_method_handler(_echo)
        server.add_generic_rpc_handlers(
            (grpc.method_handlers_generic_handler(SERVICE, {"Echo": handler}),)
        )
        port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        return server, port

    server, port = loop.run(start())
    try:
        yield f"127.0.0.1:{port}"
    finally:
        loop.run(server.stop(None))


def percentile(samples: list[float], percent: float) -> float:
    ordered = sorted(samples)
    index = max(0, min(len(ordered) - 1, round(percent / 100 * len(ordered)) - 1))
    return ordered[index]


def timed(call: Callable[[], Any], calls: int) -> tuple[Block, Any]:
    samples = []
    response = None
    for _ in range(calls):
        start = time.perf_counter_ns()
        response = call()
        samples.append((time.perf_counter_ns() - start) / 1000)
    return Block(statistics.median(samples), percentile(samples, 99)), response


def median_block(blocks: list[Block]) -> Block:
    return Block(statistics.median(b.p50 for b in blocks), statistics.median(b.p99 for b in blocks))


def path(text: str) -> Any:
    message = gnmi_pb2.Path()
    for elem in DataPath.parse(text).elems:
        message.elem.add(name=elem.name, key=dict(elem.keys))
    return message


def set_request(leaf: str, value: int) -> Any:
    update = gnmi_pb2.Update(path=path(leaf), val=gnmi_pb2.TypedValue(json_val=b"%d" % value))
    return gnmi_pb2.SetRequest(update=[update])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="gNMI unary latency next to raw grpcio.")
    parser.add_argument("--quick", action="store_true", help="small counts (smoke run)")
    parser.add_argument("--ports", type=int, default=1024)
    parser.add_argument("--slices", type=int, default=0)
    args = parser.parse_args(argv)
    blocks = 3 if args.quick else 5
    per_block = (
        {"leaf": 100, "set": 10, "tree": 3}
        if args.quick
        else {
            "leaf": 1000,
            "set": 60,
            "tree": 12,
        }
    )

    site = scaled_site(args.ports, args.slices)
    ports = site["edge-ports:ports"]["port"]
    leaf = f"/ports/port[name={ports[len(ports) // 2]['name']}]/config/mtu"
    other = f"/ports/port[name={ports[0]['name']}]/config/mtu"
    get_leaf = gnmi_pb2.GetRequest(path=[path(leaf)], encoding=gnmi_pb2.JSON)
    get_config = gnmi_pb2.GetRequest(path=[path("/ports")], type=gnmi_pb2.GetRequest.CONFIG)
    get_all = gnmi_pb2.GetRequest(path=[path("/ports")], type=gnmi_pb2.GetRequest.ALL)

    loop = Loop()
    with tempfile.TemporaryDirectory() as tmp:
        site_file = Path(tmp) / "site.json"
        site_file.write_text(json.dumps(site))
        settings = Settings(
            listen=ListenAddress("127.0.0.1", 0),
            state_dir=Path(tmp) / "state",
            site=site_file,
            tls=TlsSettings(insecure=True),
            netconf=NetconfSettings(enabled=False),
        )
        agent = build_agent(settings)
        agent.users.add("bench", Role.ADMIN, PASSWORD)
        loop.run(agent.start())
        print(
            f"edge-agent gNMI unary, {summarise(site)}, grpcio {grpc.__version__}, "
            f"Python {sys.version.split()[0]}, 127.0.0.1, plaintext, {blocks} blocks"
        )
        channel = grpc.insecure_channel(f"127.0.0.1:{agent.port}", options=OPTIONS)
        stub = gnmi_pb2_grpc.gNMIStub(channel)
        toggle = [0]

        def get(request: Any) -> Callable[[], Any]:
            return lambda: stub.Get(request, metadata=METADATA, timeout=120)

        def set_leaf() -> Any:
            toggle[0] ^= 1
            request = set_request(leaf, 1500 if toggle[0] else 9000)
            return stub.Set(request, metadata=METADATA, timeout=120)

        def cold_get_config() -> tuple[Block, Any]:
            samples, response = [], None
            for _ in range(per_block["tree"]):
                toggle[0] ^= 1
                request = set_request(other, 1500 if toggle[0] else 9000)
                stub.Set(request, metadata=METADATA, timeout=120)
                start = time.perf_counter_ns()
                response = stub.Get(get_config, metadata=METADATA, timeout=120)
                samples.append((time.perf_counter_ns() - start) / 1000)
            return Block(statistics.median(samples), percentile(samples, 99)), response

        scenarios: list[tuple[str, str, Any, Callable[[], tuple[Block, Any]]]] = [
            ("Get one leaf", "leaf", get_leaf, lambda: timed(get(get_leaf), per_block["leaf"])),
            (
                "Set one leaf",
                "set",
                set_request(leaf, 1500),
                lambda: timed(set_leaf, per_block["set"]),
            ),
            (
                "Get /ports config, warm",
                "tree",
                get_config,
                lambda: timed(get(get_config), per_block["tree"]),
            ),
            ("Get /ports config, cold", "tree", get_config, cold_get_config),
            (
                "Get /ports config+state",
                "tree",
                get_all,
                lambda: timed(get(get_all), per_block["tree"]),
            ),
        ]
        set_leaf()  # warm up every path once (the credential cache included)
        for request in (get_config, get_all):
            stub.Get(request, metadata=METADATA, timeout=120)
        for _ in range(200):
            stub.Get(get_leaf, metadata=METADATA, timeout=120)

        rows: list[Row] = []
        with raw_server() as raw_target, raw_aio_server(loop) as aio_target:
            for name, kind, request, run in scenarios:
                ours, raws, aios = [], [], []
                response = None
                for _ in range(blocks):
                    block, response = run()
                    ours.append(block)
                    size = response.ByteSize()
                    for target, out in ((raw_target, raws), (aio_target, aios)):
                        figures = measure_unary(
                            target,
                            calls=max(per_block[kind], 50),
                            request_bytes=request.ByteSize(),
                            response_bytes=size,
                            warmup=20,
                        )
                        out.append(Block(figures.p50_us, figures.p99_us))
                rows.append(
                    Row(
                        name,
                        per_block[kind] * blocks,
                        request.ByteSize(),
                        response.ByteSize() if response is not None else 0,
                        median_block(ours),
                        median_block(raws),
                        median_block(aios),
                    )
                )
        channel.close()
        loop.run(agent.stop())
    loop.close()
    report(rows)
    return 0


def report(rows: list[Row]) -> None:
    width = max(len(r.name) for r in rows)
    print(
        f"{'':<{width}}  {'calls':>5}  {'request':>8}  {'response':>9}  "
        f"{'agent p50/p99':>21}  {'raw grpcio p50/p99':>21}  {'ratio':>13}  "
        f"{'raw grpc.aio p50/p99':>21}  {'ratio':>13}"
    )
    for r in rows:
        print(
            f"{r.name:<{width}}  {r.calls:>5}  {r.request_bytes:>6} B  {r.response_bytes:>7} B  "
            f"{_pair(r.agent)}  {_pair(r.raw)}  {_ratio(r.agent, r.raw)}  "
            f"{_pair(r.raw_aio)}  {_ratio(r.agent, r.raw_aio)}"
        )
    print(
        "ratio = agent / baseline (p50, p99); raw grpcio is the synchronous-server baseline, "
        "raw grpc.aio the same raw call on the server type the agent runs on"
    )


def _us(value: float) -> str:
    return f"{value / 1000:7.1f}ms" if value >= 10_000 else f"{value:7.0f}us"


def _pair(block: Block) -> str:
    return f"{_us(block.p50)} /{_us(block.p99)}".rjust(21)


def _ratio(agent: Block, base: Block) -> str:
    return f"{agent.p50 / base.p50:5.2f}x/{agent.p99 / base.p99:5.2f}x".rjust(13)


if __name__ == "__main__":
    sys.exit(main())
