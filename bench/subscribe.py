"""Subscribe benchmark: updates/s and messages/s delivered to 1 and 10 subscribers of
``/ports/port/state/counters`` (1,024 ports x 12 counters, SAMPLE at the minimum
interval, PROTO) next to a raw grpc.aio stream of the same messages measured in the same
run; the time to read and encode one sample; missed sample intervals at 1 s with 10
subscribers. For one Notification per port (bundling CONTAINER) and one per sample's
~21 ports (SAMPLE, the default).

- The agent is built by ``agent.app.build_agent`` as ``edge-agent serve`` builds it
  (authentication, interceptors, the Subscribe servicer), plaintext on 127.0.0.1 on an
  ephemeral port, in this process; the collectors run in a separate process (as real
  collectors do), one thread per stream, parsing every message.
- Throughput: the sampler runs on a fake clock that is moved one interval ahead as soon
  as every subscriber's queue has been taken, so the pipeline (driver read, cache,
  encoding, gRPC) runs flat out and nothing is coalesced away. Baseline: a grpc.aio
  server in this process (no protobuf, no agent code) streams one message the agent
  sent, as bytes, as many times to as many streams, to the same collector code.
- Sample: one read of all 1,024 ports' counters through the sampler, into the cache and
  encoded (what every subscriber then shares), next to the drivers' reads alone.
- Cadence: the real clock, 10 subscribers at the switches' 1 s minimum, for a bounded
  number of seconds; a missed interval is a sample timestamp a subscriber never got.

Everything stops by itself. Run: .venv/bin/python bench/subscribe.py [--quick]
[--ports 1024] [--seconds 10] [--repeats 3]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

COUNTERS = "/ports/port/state/counters"
CLIENT_TIMEOUT_S = 300
NS = 1_000_000_000
USER, PASSWORD = "bench", "bench-password"
REPLAY = "/edgebench.Replay/Stream"
_COUNT = struct.Struct(">I")


# --- the collector side (runs in its own process) ------------------------------------------


def _client_main(options: dict[str, Any]) -> dict[str, Any]:
    import grpc

    from agent.gnmi.pb import gnmi_pb2, gnmi_pb2_grpc

    channel_options = [("grpc.max_receive_message_length", 64 * 1024 * 1024)]
    metadata = (("username", USER), ("password", PASSWORD))
    raw = options["kind"] == "raw"
    request = gnmi_pb2.SubscribeRequest(
        subscribe=gnmi_pb2.SubscriptionList(
            mode=0,
            encoding=options.get("encoding", 2),
            subscription=[
                gnmi_pb2.Subscription(
                    path=gnmi_pb2.Path(
                        elem=[gnmi_pb2.PathElem(name=n) for n in COUNTERS.strip("/").split("/")]
                    ),
                    mode=2,
                    sample_interval=options.get("interval_ns", 0),
                )
            ],
        )
    )
    stop_after = options.get("updates")  # per stream, after the initial sync
    deadline = time.monotonic() + options.get("seconds", CLIENT_TIMEOUT_S)
    streams: list[dict[str, Any]] = []
    ready = threading.Barrier(options["streams"] + 1)

    def responses(channel: Any) -> Any:
        if raw:
            replay = channel.unary_stream(
                REPLAY, response_deserializer=gnmi_pb2.SubscribeResponse.FromString
            )
            return replay(_COUNT.pack(options["messages"]), timeout=CLIENT_TIMEOUT_S)
        stub = gnmi_pb2_grpc.gNMIStub(channel)
        return stub.Subscribe(iter([request]), metadata=metadata, timeout=CLIENT_TIMEOUT_S)

    def stream() -> None:
        figures: dict[str, Any] = {"messages": 0, "updates": 0, "stamps": set(), "bytes": 0}
        streams.append(figures)
        channel = grpc.insecure_channel(options["target"], options=channel_options)
        call = responses(channel)
        synced = raw
        if raw:
            ready.wait()
        try:
            for response in call:
                if not synced:
                    synced = response.sync_response
                    if synced:
                        ready.wait()
                    continue
                now = time.perf_counter()
                if "first" not in figures:
                    figures["sample"] = base64.b64encode(response.SerializeToString()).decode()
                figures.setdefault("first", now)
                figures["last"] = now
                figures["messages"] += 1
                figures["updates"] += len(response.update.update)
                figures["bytes"] += response.ByteSize()
                figures["stamps"].add(response.update.timestamp)
                if stop_after is not None and figures["updates"] >= stop_after:
                    break
                if time.monotonic() > deadline:
                    break
        finally:
            call.cancel()
            channel.close()

    threads = [threading.Thread(target=stream) for _ in range(options["streams"])]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    ready.wait()
    print("synced", flush=True)
    for thread in threads:
        thread.join()
    first = min((s["first"] for s in streams if "first" in s), default=start)
    last = max((s["last"] for s in streams if "last" in s), default=start)
    return {
        "messages": sum(s["messages"] for s in streams),
        "updates": sum(s["updates"] for s in streams),
        "bytes": sum(s["bytes"] for s in streams),
        "seconds": last - first,
        "stamps": [sorted(s["stamps"]) for s in streams],
        "sample": next((s["sample"] for s in streams if "sample" in s), ""),
    }


class Collectors:
    """A collector process; ``synced`` is set once all its streams had sync_response."""

    def __init__(self, **options: Any) -> None:
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--client", json.dumps(options)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.synced = threading.Event()
        self.result: dict[str, Any] | None = None
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.startswith("synced"):
                self.synced.set()
            elif line.startswith("{"):
                self.result = json.loads(line)

    async def until_synced(self) -> None:
        while not self.synced.is_set():
            await asyncio.sleep(0.01)
            if self.process.poll() is not None:
                raise RuntimeError("the collector process ended early")

    def wait(self) -> dict[str, Any]:
        try:
            self.process.wait(timeout=CLIENT_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise
        self._reader.join(10)
        if self.result is None:
            raise RuntimeError("the collector process reported nothing")
        return self.result


# --- the agent side --------------------------------------------------------------------------


class Agent:
    """The agent as ``edge-agent serve`` builds it, on a site of ``ports`` ports with
    traffic on every port; ``fake``: the sampler runs on a hand-stepped fake clock."""

    def __init__(self, engine: Any, ports: int, *, fake: bool, bundling: Any) -> None:
        from dataclasses import replace

        from agent.clock import FakeClock, SystemClock
        from agent.config import ListenAddress, NetconfSettings, Settings, TlsSettings
        from agent.sitegen import scaled_site
        from agent.telemetry.limits import TelemetryLimits
        from agent.telemetry.timer import ManualTimer

        self._dir = tempfile.TemporaryDirectory()
        state = Path(self._dir.name)
        self.site = scaled_site(ports)
        (state / "site.json").write_text(json.dumps(self.site))
        settings = Settings(
            listen=ListenAddress("127.0.0.1", 0),
            state_dir=state / "state",
            site=state / "site.json",
            tls=TlsSettings(insecure=True),
            netconf=NetconfSettings(enabled=False),
            telemetry=replace(TelemetryLimits(), bundling=bundling),
        )
        self.clock: Any = FakeClock() if fake else SystemClock()
        self.timer = ManualTimer(self.clock) if fake else None
        self.engine = engine
        self._settings = settings
        self.agent: Any = None

    async def start(self) -> str:
        from agent.app import build_agent
        from agent.security.passwords import ScryptParams
        from agent.security.users import Role

        self.agent = build_agent(
            self._settings,
            clock=self.clock,
            telemetry_timer=self.timer,
            scrypt=ScryptParams(n=16, r=1, p=1),
            schema=self.engine,
        )
        self.agent.users.add(USER, Role.ADMIN, PASSWORD)
        await self.agent.start()
        drivers = self.agent.datastore.devices.drivers
        for port in self.site["edge-ports:ports"]["port"]:
            hardware = drivers[port["config"]["device"]].backend
            hardware.set_traffic(port["name"], bps=10_000_000_000, pps=1_000_000)
        return self.agent.address

    @property
    def telemetry(self) -> Any:
        return self.agent.telemetry

    async def stop(self) -> None:
        await self.agent.stop()
        self._dir.cleanup()

    async def drained(self) -> None:
        """Waits (real time) until every session's queue has been taken by its writer."""
        while any(s.queue.size for s in self.telemetry.sessions()):
            await asyncio.sleep(0.0005)


async def throughput(
    engine: Any, ports: int, subscribers: int, rounds: int, bundling: Any
) -> dict[str, Any]:
    agent = Agent(engine, ports, fake=True, bundling=bundling)
    target = await agent.start()
    collectors = Collectors(
        kind="agent", target=target, streams=subscribers, updates=rounds * ports * 12
    )
    try:
        await collectors.until_synced()
        await agent.drained()
        for _ in range(rounds):
            assert agent.timer is not None
            await agent.timer.advance(1.0)
            await agent.drained()
        result = await asyncio.to_thread(collectors.wait)
        result["coalesced"] = sum(s.queue.coalesced for s in agent.telemetry.sessions())
        return result
    finally:
        await agent.stop()


async def raw_stream(streams: int, messages: int, payload: bytes) -> dict[str, Any]:
    """A grpc.aio server streaming ``payload`` (bytes, no serializer) ``messages`` times
    on each of ``streams`` streams, to the same collector code."""
    import grpc
    from grpc import aio

    async def replay(request: bytes, context: Any) -> Any:
        for _ in range(_COUNT.unpack(request)[0]):
            yield payload

    server = aio.server(options=[("grpc.max_send_message_length", 64 * 1024 * 1024)])
    handler = grpc.unary_stream_rpc_method_handler(replay)
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler("edgebench.Replay", {"Stream": handler}),)
    )
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        collectors = Collectors(
            kind="raw", target=f"127.0.0.1:{port}", streams=streams, messages=messages
        )
        return await asyncio.to_thread(collectors.wait)
    finally:
        await server.stop(None)


async def sample_cost(engine: Any, ports: int, bundling: Any, rounds: int) -> dict[str, float]:
    """Median ms of one sample read, put in the cache and encoded (one session, in
    process), and of the drivers' counter reads alone."""
    from agent.gnmi.paths import to_gnmi_path
    from agent.gnmi.pb import gnmi_pb2
    from agent.mapping.state_tree import Selection, StateReader
    from agent.northbound.subscribe import SubscribeHandler
    from agent.schema.path import DataPath

    agent = Agent(engine, ports, fake=True, bundling=bundling)
    await agent.start()
    try:
        handler = SubscribeHandler(agent.telemetry, agent.clock, modules=engine.modules)
        subscription = gnmi_pb2.Subscription(path=to_gnmi_path(DataPath.parse(COUNTERS)), mode=2)
        request = gnmi_pb2.SubscribeRequest(
            subscribe=gnmi_pb2.SubscriptionList(encoding=2, subscription=[subscription])
        )
        spec, encoder = handler.plan(request)
        session = await agent.telemetry.open(spec, "bench")
        list(encoder.responses(await session.next()))  # the initial values
        running = agent.agent.datastore.running
        state = StateReader(agent.agent.datastore.devices.drivers)
        counters = Selection(frozenset(), None, frozenset(), frozenset(), counters_only=True)
        took, reads, messages = [], [], 0
        for _ in range(rounds):
            assert agent.timer is not None
            start = time.perf_counter()
            await agent.timer.advance(1.0)
            messages = len(list(encoder.responses(await session.next())))
            took.append(time.perf_counter() - start)
            start = time.perf_counter()
            state.sample(running.tree, counters)
            reads.append(time.perf_counter() - start)
        session.close()
        return {
            "ms": statistics.median(took) * 1e3,
            "read_ms": statistics.median(reads) * 1e3,
            "messages": messages,
        }
    finally:
        await agent.stop()


async def cadence(
    engine: Any, ports: int, subscribers: int, seconds: int, bundling: Any
) -> dict[str, Any]:
    agent = Agent(engine, ports, fake=False, bundling=bundling)
    target = await agent.start()
    collectors = Collectors(
        kind="agent", target=target, streams=subscribers, interval_ns=NS, seconds=seconds
    )
    try:
        result = await asyncio.to_thread(collectors.wait)
        result["server_missed"] = agent.telemetry.missed
        return result
    finally:
        await agent.stop()


def missed_intervals(stamps: list[list[int]], interval_ns: int) -> tuple[int, int]:
    """(missed, expected): sample timestamps absent between each stream's first and last."""
    missed = expected = 0
    for stream in stamps:
        if len(stream) < 2:
            continue
        span = round((stream[-1] - stream[0]) / interval_ns) + 1
        expected += span
        missed += span - len(stream)
    return missed, expected


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--client", help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="small counts (smoke run)")
    parser.add_argument("--ports", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=0, help="sample rounds per throughput run")
    parser.add_argument("--seconds", type=int, default=10, help="length of the cadence run")
    parser.add_argument("--repeats", type=int, default=3, help="throughput runs per figure")
    args = parser.parse_args(argv)
    if args.client:
        print(json.dumps(_client_main(json.loads(args.client))), flush=True)
        return 0

    import grpc

    from agent.schema.engine import SchemaEngine
    from agent.telemetry.limits import Bundling, TelemetryLimits

    ports = 128 if args.quick else args.ports
    seconds = 3 if args.quick else args.seconds
    repeats = 1 if args.quick else args.repeats
    engine = SchemaEngine()
    print(
        f"Subscribe {COUNTERS}: {ports} ports x 12 counters, SAMPLE at the minimum interval, "
        f"PROTO; grpcio {grpc.__version__}, Python {sys.version.split()[0]}, 127.0.0.1, "
        f"collectors in a separate process; median of {repeats} run(s)"
    )
    default = TelemetryLimits().bundling
    for bundling in (Bundling.CONTAINER, Bundling.SAMPLE):
        print(f"bundling {bundling.value}{' (default)' if bundling is default else ''}:")
        cost = asyncio.run(sample_cost(engine, ports, bundling, 5 if args.quick else 20))
        print(
            f"  one sample read and encoded: {cost['ms']:.1f} ms ({cost['messages']} "
            f"messages) | the drivers' counter reads alone: {cost['read_ms']:.1f} ms | "
            f"ratio {cost['ms'] / max(cost['read_ms'], 1e-9):.2f}"
        )
        for subscribers in (1, 10):
            rounds = args.rounds or (3 if args.quick else (20 if subscribers == 1 else 8))
            ours_runs, raw_runs = [], []
            for _ in range(repeats):
                ours = asyncio.run(throughput(engine, ports, subscribers, rounds, bundling))
                payload = base64.b64decode(ours["sample"])
                raw = asyncio.run(raw_stream(subscribers, ours["messages"] // subscribers, payload))
                ours_runs.append(ours)
                raw_runs.append(raw)
            ours_ups = statistics.median(r["updates"] / r["seconds"] for r in ours_runs)
            ours_mps = statistics.median(r["messages"] / r["seconds"] for r in ours_runs)
            raw_mps = statistics.median(r["messages"] / r["seconds"] for r in raw_runs)
            raw_ups = statistics.median(r["updates"] / r["seconds"] for r in raw_runs)
            per_message = ours_runs[0]["updates"] / max(1, ours_runs[0]["messages"])
            size = round(ours_runs[0]["bytes"] / max(1, ours_runs[0]["messages"]))
            coalesced = sum(r["coalesced"] for r in ours_runs)
            print(
                f"  {subscribers:>2} subscriber(s): {ours_ups:,.0f} updates/s, "
                f"{ours_mps:,.0f} msg/s ({per_message:.0f} updates, {size} B per message; "
                f"{coalesced} coalesced) | raw grpc.aio, same messages: {raw_ups:,.0f} "
                f"updates/s, {raw_mps:,.0f} msg/s | ratio {ours_ups / raw_ups:.2f}"
            )
        result = asyncio.run(cadence(engine, ports, 10, seconds, bundling))
        missed, expected = missed_intervals(result["stamps"], NS)
        print(
            f"  cadence, 10 subscribers at 1 s for {seconds} s: {missed} of {expected} sample "
            f"intervals missed (sampler late {result['server_missed']} times)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
