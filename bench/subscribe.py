"""Subscribe benchmark: updates/s and messages/s delivered to 1 and 10 subscribers of
``/ports/port/state/counters`` (1,024 ports x 12 counters, SAMPLE at the minimum
interval), next to a raw grpcio stream of the same message shape measured in the same
run, and missed sample intervals at 1 s with 10 subscribers; for one Notification per
port (bundling CONTAINER) and one per sample (SAMPLE).

- Throughput: the agent's sampler runs on a fake clock that is moved one interval
  ahead as soon as every subscriber's queue has been taken, so the pipeline (driver
  read, cache, queues, encoding, gRPC) runs flat out with nothing coalesced away.
  Baseline: raw grpcio (no agent code) streams a message the agent actually sent, already
  serialized, the same number of times to the same number of streams, and its collector
  parses and counts every message exactly as the agent's collector does.
- Cadence: the real clock, 10 subscribers at the switches' 1 s minimum, for a bounded
  number of seconds; a missed interval is a sample timestamp a subscriber never got.

The agent serves on 127.0.0.1 (ephemeral port) in this process; the collectors run in a
separate process (as real collectors do), one thread per stream, for ours and for the
baseline alike. Everything stops by itself.

Run: .venv/bin/python bench/subscribe.py [--quick] [--ports 1024] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

COUNTERS = "/ports/port/state/counters"
CLIENT_TIMEOUT_S = 300
NS = 1_000_000_000


# --- the collector side (runs in its own process) ------------------------------------------


def _client_main(options: dict[str, Any]) -> dict[str, Any]:
    import grpc

    from agent.gnmi.pb import gnmi_pb2, gnmi_pb2_grpc

    if options["kind"] == "raw":
        from raw_grpc_baseline import replay_stream

        payload = base64.b64decode(options["payload"])
        counts: list[tuple[int, int]] = [(0, 0)] * options["streams"]

        def raw(index: int) -> None:
            messages = updates = 0
            for response in replay_stream(
                options["target"],
                payload,
                options["messages"],
                gnmi_pb2.SubscribeResponse.FromString,
            ):
                # the same per-message work as the agent's collector below
                messages += 1
                updates += len(response.update.update)
                response.ByteSize()
                _ = response.update.timestamp
            counts[index] = (messages, updates)

        start = time.perf_counter()
        threads = [threading.Thread(target=raw, args=(i,)) for i in range(options["streams"])]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seconds = time.perf_counter() - start
        return {
            "messages": sum(m for m, _ in counts),
            "updates": sum(u for _, u in counts),
            "seconds": seconds,
        }

    request = gnmi_pb2.SubscribeRequest(
        subscribe=gnmi_pb2.SubscriptionList(
            mode=0,
            encoding=options["encoding"],
            subscription=[
                gnmi_pb2.Subscription(
                    path=gnmi_pb2.Path(
                        elem=[gnmi_pb2.PathElem(name=n) for n in COUNTERS.strip("/").split("/")]
                    ),
                    mode=2,
                    sample_interval=options["interval_ns"],
                )
            ],
        )
    )
    channel_options = [("grpc.max_receive_message_length", 64 * 1024 * 1024)]
    stop_after = options.get("updates")  # per stream, after the initial sync
    deadline = time.monotonic() + options.get("seconds", CLIENT_TIMEOUT_S)
    streams: list[dict[str, Any]] = []
    ready = threading.Barrier(options["streams"] + 1)

    def stream() -> None:
        figures: dict[str, Any] = {"messages": 0, "updates": 0, "stamps": set(), "bytes": 0}
        streams.append(figures)
        channel = grpc.insecure_channel(options["target"], options=channel_options)
        stub = gnmi_pb2_grpc.gNMIStub(channel)
        call = stub.Subscribe(iter([request]), timeout=CLIENT_TIMEOUT_S)
        synced = False
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
    for thread in threads:
        thread.start()
    ready.wait()
    print("synced", flush=True)
    for thread in threads:
        thread.join()
    first = min(s["first"] for s in streams if "first" in s)
    last = max(s["last"] for s in streams if "last" in s)
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
    """Datastore, mock drivers, telemetry and a Subscribe-only gRPC server."""

    def __init__(self, engine: Any, ports: int, *, fake: bool, bundling: Any) -> None:
        from agent.clock import FakeClock, SystemClock
        from agent.datastore.datastore import Datastore
        from agent.datastore.hardware import DevicePool
        from agent.datastore.persistence import ConfigStore
        from agent.drivers.registry import DriverRegistry
        from agent.sitegen import scaled_site

        self.engine = engine
        self.clock: Any = FakeClock() if fake else SystemClock()
        registry = DriverRegistry.discover()
        self.pool = DevicePool(lambda config: registry.create(config, self.clock))
        self._dir = tempfile.TemporaryDirectory()
        store = ConfigStore(Path(self._dir.name), clock=self.clock)
        self.datastore = Datastore(engine, self.pool, store, self.clock)
        self.tree = scaled_site(ports)
        self.timer: Any = None
        self.bundling = bundling

    async def start(self) -> str:
        from grpc import aio

        from agent.app import LiveDrivers
        from agent.gnmi.pb import gnmi_pb2_grpc
        from agent.northbound.subscribe import SubscribeHandler
        from agent.telemetry.limits import TelemetryLimits
        from agent.telemetry.service import TelemetryService
        from agent.telemetry.timer import LoopTimer, ManualTimer

        await asyncio.to_thread(self.datastore.start, self.tree)
        for device, driver in self.pool.drivers.items():
            hardware = driver.backend  # type: ignore[attr-defined]
            for port in self.tree["edge-ports:ports"]["port"]:
                if port["config"]["device"] == device:
                    hardware.set_traffic(port["name"], bps=10_000_000_000, pps=1_000_000)
        from agent.clock import FakeClock

        fake = isinstance(self.clock, FakeClock)
        self.timer = ManualTimer(self.clock) if fake else LoopTimer(self.clock)
        self.telemetry = TelemetryService(
            self.datastore,
            LiveDrivers(self.pool),
            self.engine.nav,
            self.clock,
            timer=self.timer,
            limits=TelemetryLimits(bundling=self.bundling),
        )
        await self.telemetry.start()
        handler = SubscribeHandler(self.telemetry, self.clock, modules=self.engine.modules)

        class Servicer(gnmi_pb2_grpc.gNMIServicer):  # type: ignore[misc]
            async def Subscribe(self, requests: Any, context: Any) -> Any:  # noqa: N802
                async for response in handler.subscribe(requests, context):
                    yield response

        self.server = aio.server(options=[("grpc.max_send_message_length", 64 * 1024 * 1024)])
        gnmi_pb2_grpc.add_gNMIServicer_to_server(Servicer(), self.server)
        port = self.server.add_insecure_port("127.0.0.1:0")
        await self.server.start()
        return f"127.0.0.1:{port}"

    async def stop(self) -> None:
        await self.telemetry.stop()
        await self.server.stop(None)
        await asyncio.to_thread(self.datastore.stop)
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
    per_round = ports * 12
    collectors = Collectors(
        kind="agent",
        target=target,
        streams=subscribers,
        interval_ns=0,
        encoding=2,
        updates=rounds * per_round,
    )
    try:
        while not collectors.synced.is_set():
            await asyncio.sleep(0.01)
            if collectors.process.poll() is not None:
                raise RuntimeError("the collector process ended early")
        await agent.drained()
        for _ in range(rounds):
            await agent.timer.advance(1.0)
            await agent.drained()
        result = await asyncio.to_thread(collectors.wait)
        coalesced = sum(s.queue.coalesced for s in agent.telemetry.sessions())
        result["coalesced"] = coalesced
        return result
    finally:
        await agent.stop()


def raw_baseline(streams: int, messages: int, payload: str) -> dict[str, Any]:
    """Raw grpcio streaming ``payload`` (a message the agent sent, base64) ``messages``
    times per stream, the collector parsing each one as the agent's collector does."""
    from raw_grpc_baseline import raw_server

    with raw_server(max_workers=max(4, streams + 2)) as target:
        collectors = Collectors(
            kind="raw", target=target, streams=streams, messages=messages, payload=payload
        )
        return collectors.wait()


async def cadence(
    engine: Any, ports: int, subscribers: int, seconds: int, bundling: Any
) -> dict[str, Any]:
    agent = Agent(engine, ports, fake=False, bundling=bundling)
    target = await agent.start()
    collectors = Collectors(
        kind="agent",
        target=target,
        streams=subscribers,
        interval_ns=NS,
        encoding=2,
        seconds=seconds,
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
        for subscribers in (1, 10):
            rounds = args.rounds or (3 if args.quick else (20 if subscribers == 1 else 8))
            ours_runs, raw_runs = [], []
            for _ in range(repeats):
                ours = asyncio.run(throughput(engine, ports, subscribers, rounds, bundling))
                size = max(1, round(ours["bytes"] / max(1, ours["messages"])))
                raw = raw_baseline(subscribers, ours["messages"] // subscribers, ours["sample"])
                ours_runs.append(ours)
                raw_runs.append(raw)
            ours_ups = statistics.median(r["updates"] / r["seconds"] for r in ours_runs)
            ours_mps = statistics.median(r["messages"] / r["seconds"] for r in ours_runs)
            raw_mps = statistics.median(r["messages"] / r["seconds"] for r in raw_runs)
            raw_ups = statistics.median(r["updates"] / r["seconds"] for r in raw_runs)
            per_message = ours_runs[0]["updates"] / max(1, ours_runs[0]["messages"])
            coalesced = sum(r["coalesced"] for r in ours_runs)
            print(
                f"  {subscribers:>2} subscriber(s): {ours_ups:,.0f} updates/s, "
                f"{ours_mps:,.0f} msg/s ({per_message:.0f} updates, {size} B per message; "
                f"{coalesced} coalesced) | raw grpcio, same shape: {raw_ups:,.0f} updates/s, "
                f"{raw_mps:,.0f} msg/s | ratio {ours_ups / raw_ups:.2f}"
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
