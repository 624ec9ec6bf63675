"""Commit pipeline benchmark: single-leaf update p50/p99, a 1,000-port transaction, and
loading a 10,000-port + 1,000-slice running configuration (time and RSS), each next to a
baseline measured in the same run: yangson parsing and validating the same data (A, what a
commit would cost if it validated the whole tree with yangson) and our own whole-tree
validation (B). Commits run on two sites, 1,024 ports and 10,000 ports + 1,000 slices;
every commit figure is given whole and without the time spent inside the configuration
store (the durable write), so that the write's share and the rest's are both visible,
and next to the same commits with the whole file rewritten per commit (persistence mode
"rewrite", how commits were saved before the journal). Restart is also measured in a
fresh process (time, RSS), next to a restart that validates the whole tree as every
restart did before the schema stamp.

Run: .venv/bin/python bench/commit.py [--sizes 1024:0,10000:1000 --commits 60 --quick]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from agent.clock import SystemClock  # noqa: E402
from agent.datastore.datastore import Datastore  # noqa: E402
from agent.datastore.edits import Edit  # noqa: E402
from agent.datastore.hardware import DevicePool  # noqa: E402
from agent.datastore.persistence import ConfigStore, PersistMode  # noqa: E402
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


RESTART_SCRIPT = """
import json, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[2])
import agent.datastore.datastore as datastore_module
from agent.schema.engine import SchemaEngine
from commit import build, rss_mib
engine = SchemaEngine()
if sys.argv[3] == "validate":  # as every restart did before the schema stamp
    datastore_module.validation_stamp = lambda modules: "not the stamp it was saved under"
start = time.perf_counter()
ds, _ = build(Path(sys.argv[1]), engine)
ds.start({})
elapsed = time.perf_counter() - start
print(json.dumps({"s": elapsed, "rss": rss_mib(), "peak": rss_mib("VmHWM")}))
ds.stop()
"""


def fresh_restart(state_dir: Path, *, validate: bool) -> dict[str, float]:
    """A restart from a copy of ``state_dir`` in a fresh process: seconds from building
    the datastore to devices programmed (the schema is loaded before), RSS and peak RSS
    (MiB) after it."""
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "state"
        shutil.copytree(state_dir, copy)
        how = "validate" if validate else "trust"
        result = subprocess.run(
            [sys.executable, "-c", RESTART_SCRIPT, str(copy), str(ROOT / "bench"), how],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=BASELINE_TIMEOUT_S,
            check=True,
        )
    figures: dict[str, float] = json.loads(result.stdout.splitlines()[-1])
    return figures


def rss_mib(field: str = "VmRSS") -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
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


class TimedStore:
    """A configuration store that counts the time spent inside it (the durable write and
    whatever else the datastore asks of its store)."""

    def __init__(self, store: ConfigStore) -> None:
        self._store = store
        self.spent_s = 0.0

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._store, name)
        if not callable(attr):
            return attr

        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                result = attr(*args, **kwargs)
                if isinstance(result, Future):  # a journal record: until it is durable
                    result.exception()
                return result
            finally:
                self.spent_s += time.perf_counter() - start

        return timed


def build(
    state_dir: Path, engine: SchemaEngine, mode: PersistMode = PersistMode.JOURNAL
) -> tuple[Datastore, TimedStore]:
    clock = SystemClock()
    registry = DriverRegistry.discover()
    store = TimedStore(ConfigStore(state_dir, mode=mode))
    datastore = Datastore(
        engine,
        DevicePool(lambda config: registry.create(config, clock)),
        store,  # type: ignore[arg-type]
        clock,
    )
    return datastore, store


@dataclass(frozen=True)
class Timed:
    """One measured commit: the whole commit and the part spent inside the store."""

    total_s: float
    store_s: float

    @property
    def rest_s(self) -> float:
        return self.total_s - self.store_s


def timed_commit(datastore: Datastore, store: TimedStore, edits: list[Edit]) -> Timed:
    before = store.spent_s
    start = time.perf_counter()
    datastore.commit(edits)
    total = time.perf_counter() - start
    return Timed(total, store.spent_s - before)


SKIPPED = -1.0
"""A baseline not measured (--quick)."""


def ratio(ours: float, base: float | None) -> str:
    """How ``ours`` compares with a baseline time (None: the baseline did not finish)."""
    if base == SKIPPED:
        return "(not measured)"
    if base is None:
        return f">{BASELINE_TIMEOUT_S / ours:.0f}x faster than"
    return f"{base / ours:.1f}x faster than" if ours < base else f"{ours / base:.1f}x slower than"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        default="1024:0,10000:1000",
        help="sites as PORTS:SLICES, comma-separated; the last one is also loaded",
    )
    parser.add_argument("--commits", type=int, default=60)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--quick", action="store_true", help="skip the yangson baseline (A)")
    args = parser.parse_args()
    sizes = [tuple(int(n) for n in size.split(":")) for size in args.sizes.split(",")]
    engine = SchemaEngine()
    rss_idle = rss_mib()
    for number, (ports, slices) in enumerate(sizes):
        last = number == len(sizes) - 1
        run_site(engine, ports, slices, args, load=last, rss_idle=rss_idle)
    return 0


def run_site(
    engine: SchemaEngine,
    port_count: int,
    slice_count: int,
    args: argparse.Namespace,
    *,
    load: bool,
    rss_idle: float,
) -> None:
    rng = random.Random(7)
    site = scaled_site(port_count, slice_count)
    print(f"site: {port_count} ports on Tofino 2 mocks, {slice_count} slices")
    base_load = SKIPPED if args.quick else yangson_baseline(site, "load")
    start = time.perf_counter()
    refusals = engine.refusals(site)
    full_validation = time.perf_counter() - start
    assert refusals == (), refusals[:3]

    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        ds, store = build(Path(tmp) / "state", engine)
        ds.start(site)
        first_start = time.perf_counter() - start
        rss_after = rss_mib()
        if load:
            ds.stop()
            start = time.perf_counter()
            ds, store = build(Path(tmp) / "state", engine)
            ds.start({})
            restart = time.perf_counter() - start
            devices = len(site["edge-platform:platform"]["devices"]["device"])
            print(f"load the running config ({devices} devices):")
            print(f"  first start (validate, save, program devices): {first_start:.2f} s")
            print(f"  restart from the state directory:              {restart:.2f} s")
            shown = (
                "not measured"
                if base_load == SKIPPED
                else f"> {BASELINE_TIMEOUT_S} s"
                if base_load is None
                else f"{base_load:.2f} s"
            )
            print(f"  baseline A, yangson parse+validate:            {shown}")
            print(f"  baseline B, whole-tree validation (ours):      {full_validation:.2f} s")
            print(f"  restart: {ratio(restart, base_load)} A; {ratio(restart, full_validation)} B")
            print(
                f"  RSS: {rss_idle:.0f} MiB with the code loaded, {rss_after:.0f} MiB with the "
                f"site running (+{rss_after - rss_idle:.0f} MiB)"
            )
            fresh = fresh_restart(Path(tmp) / "state", validate=False)
            before = fresh_restart(Path(tmp) / "state", validate=True)
            print(
                f"  restart in a fresh process: {fresh['s']:.2f} s, RSS {fresh['rss']:.0f} MiB "
                f"(peak {fresh['peak']:.0f} MiB); validating the whole tree as before: "
                f"{before['s']:.2f} s (peak {before['peak']:.0f} MiB), "
                f"{ratio(fresh['s'], before['s'])} that"
            )

        ports = [p["name"] for p in site["edge-ports:ports"]["port"]]
        commits = []
        for n in range(args.commits):
            port = rng.choice(ports)
            edit = Edit.update(f"/ports/port[name={port}]/config/mtu", 9000 + n % 200 + 1)
            commits.append(timed_commit(ds, store, [edit]))
        print(f"single-leaf update ({args.commits} commits):")
        for label, values in (
            ("whole commit", [c.total_s for c in commits]),
            ("inside the store (durable write)", [c.store_s for c in commits]),
            ("without the store", [c.rest_s for c in commits]),
        ):
            p50, p99 = statistics.median(values), pct(values, 0.99)
            print(f"  {label + ':':<34} p50 {p50 * 1000:6.2f} ms, p99 {p99 * 1000:6.2f} ms")
        p50 = statistics.median(c.total_s for c in commits)
        print(
            f"  p50: {ratio(p50, base_load)} A; {ratio(p50, full_validation)} B "
            "(validating the whole tree per commit)"
        )

        if len(ports) >= args.batch:
            chosen = rng.sample(ports, args.batch)
            edits = [Edit.update(f"/ports/port[name={p}]/config/mtu", 9216) for p in chosen]
            batch = timed_commit(ds, store, edits)
            print(
                f"one transaction touching {args.batch} ports: {batch.total_s:.3f} s "
                f"({batch.rest_s:.3f} s without the store); {ratio(batch.total_s, base_load)} A; "
                f"{ratio(batch.total_s, full_validation)} B"
            )
        ds.stop()
        ds, store = build(Path(tmp) / "state", engine, PersistMode.REWRITE)
        ds.start({})
        rewrites = []
        for n in range(args.commits):
            edit = Edit.update(f"/ports/port[name={rng.choice(ports)}]/config/mtu", 9001 + n % 200)
            rewrites.append(timed_commit(ds, store, [edit]))
        ds.stop()
        old = statistics.median(c.total_s for c in rewrites)
        old_store = statistics.median(c.store_s for c in rewrites)
        new_store = statistics.median(c.store_s for c in commits)
        print(
            f"single-leaf update, the whole file rewritten per commit (baseline, the same "
            f"{args.commits} commits): p50 {old * 1000:.2f} ms, {old_store * 1000:.2f} ms "
            f"inside the store; the journal is {ratio(p50, old)} it "
            f"(its durable write {ratio(new_store, old_store)} the rewrite)"
        )


if __name__ == "__main__":
    sys.exit(main())
