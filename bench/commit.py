"""Commit pipeline benchmark: single-leaf update p50/p99, a 1,000-port transaction, and
loading a 10,000-port + 1,000-slice running configuration (time and RSS), each next to a
baseline measured in the same run: yangson parsing and validating the same data (what a
commit would cost if it validated the whole tree with yangson).

Run: .venv/bin/python bench/commit.py [--ports 10000 --slices 1000 --commits 60]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from agent.clock import SystemClock  # noqa: E402
from agent.datastore.datastore import Datastore  # noqa: E402
from agent.datastore.edits import Edit  # noqa: E402
from agent.datastore.hardware import DevicePool  # noqa: E402
from agent.datastore.persistence import ConfigStore  # noqa: E402
from agent.drivers.registry import DriverRegistry  # noqa: E402
from agent.schema.engine import SchemaEngine  # noqa: E402
from agent.sitegen import scaled_site  # noqa: E402

BASELINE_TIMEOUT_S = 120

BASELINE_SCRIPT = """
import json, sys, time
from agent.schema.engine import SchemaEngine
engine = SchemaEngine()
tree = engine.normalise(json.load(open(sys.argv[1])))
start = time.perf_counter()
engine.model.from_raw(tree).validate()
print(time.perf_counter() - start)
"""


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def yangson_baseline(tree: dict, label: str) -> float | None:
    """Seconds yangson takes to parse and validate ``tree``, in a fresh process."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(tree, handle)
    try:
        result = subprocess.run(
            [sys.executable, "-c", BASELINE_SCRIPT, handle.name],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=BASELINE_TIMEOUT_S,
            check=True,
        )
    except subprocess.TimeoutExpired:
        print(f"  baseline ({label}): did not finish in {BASELINE_TIMEOUT_S} s")
        return None
    finally:
        Path(handle.name).unlink()
    return float(result.stdout.strip())


def build(state_dir: Path, engine: SchemaEngine) -> Datastore:
    clock = SystemClock()
    registry = DriverRegistry.discover()
    return Datastore(
        engine,
        DevicePool(lambda config: registry.create(config, clock)),
        ConfigStore(state_dir),
        clock,
    )


def ratio(ours: float, base: float | None) -> str:
    """How ``ours`` compares with a baseline time."""
    if base is None:
        return f">{BASELINE_TIMEOUT_S / ours:.0f}x faster than"
    return f"{base / ours:.1f}x faster than" if ours < base else f"{ours / base:.1f}x slower than"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ports", type=int, default=10_000)
    parser.add_argument("--slices", type=int, default=1_000)
    parser.add_argument("--commits", type=int, default=60)
    parser.add_argument("--batch", type=int, default=1_000)
    args = parser.parse_args()
    rng = random.Random(7)

    engine = SchemaEngine()
    rss_idle = rss_mib()
    site = scaled_site(args.ports, args.slices)
    print(f"site: {args.ports} ports on Tofino 2 mocks, {args.slices} slices")
    base_load = yangson_baseline(site, "load")
    start = time.perf_counter()
    refusals = engine.refusals(site)
    full_validation = time.perf_counter() - start
    assert refusals == (), refusals[:3]

    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        ds = build(Path(tmp) / "state", engine)
        ds.start(site)
        first_start = time.perf_counter() - start
        rss_after = rss_mib()
        ds.stop()
        start = time.perf_counter()
        ds = build(Path(tmp) / "state", engine)
        ds.start({})
        restart = time.perf_counter() - start

        devices = len(site["edge-platform:platform"]["devices"]["device"])
        print(f"load the running config ({devices} devices):")
        print(f"  first start (validate, save, program devices): {first_start:.2f} s")
        print(f"  restart from the state directory:              {restart:.2f} s")
        shown = f"{base_load:.2f} s" if base_load is not None else f"> {BASELINE_TIMEOUT_S} s"
        print(f"  baseline A, yangson parse+validate:            {shown}")
        print(f"  baseline B, whole-tree validation (ours):      {full_validation:.2f} s")
        print(f"  restart: {ratio(restart, base_load)}; {ratio(restart, full_validation)} B")
        print(
            f"  RSS: {rss_idle:.0f} MiB with the code loaded, {rss_after:.0f} MiB with the "
            f"site running (+{rss_after - rss_idle:.0f} MiB)"
        )

        ports = [p["name"] for p in site["edge-ports:ports"]["port"]]
        times = []
        for n in range(args.commits):
            port = rng.choice(ports)
            edit = Edit.update(f"/ports/port[name={port}]/config/mtu", 9000 + n % 200 + 1)
            start = time.perf_counter()
            ds.commit([edit])
            times.append(time.perf_counter() - start)
        p50, p99 = statistics.median(times), pct(times, 0.99)
        print(f"single-leaf update ({args.commits} commits):")
        print(f"  p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms")
        print(
            f"  p50: {ratio(p50, base_load)} A; {ratio(p50, full_validation)} B "
            "(validating the whole tree per commit)"
        )

        chosen = rng.sample(ports, args.batch)
        edits = [Edit.update(f"/ports/port[name={p}]/config/mtu", 9216) for p in chosen]
        start = time.perf_counter()
        result = ds.commit(edits)
        batch = time.perf_counter() - start
        print(
            f"one transaction touching {args.batch} ports: {batch:.2f} s "
            f"({len(result.changes)} changes); {ratio(batch, base_load)} A; "
            f"{ratio(batch, full_validation)} B"
        )
        ds.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
