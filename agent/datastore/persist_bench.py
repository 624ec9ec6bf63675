"""Cost of the persistence layer on a large site, and the sample tree it uses.

``python -m agent.datastore.persist_bench [--ports N] [--commits C] [--rounds R]`` prints,
each next to its baseline measured in the same run:

- the durable write of a one-leaf commit: a journal record vs the whole file rewritten
  (``save``, how every commit was persisted before the journal);
- commits handed over without waiting for each other (group commit), per second, and
  how many syncs they took;
- a load that replays the journal vs a load of the same tree saved whole;
- the longest pause another thread sees while a checkpoint is encoded in pieces (as the
  background checkpoint does) vs in one piece;
- whole-file save and load times (``measure``).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.datastore.journal_format import read_segment
from agent.datastore.persist_format import encode_config
from agent.datastore.persistence import CheckpointPolicy, ConfigStore, PersistMode

_SPEEDS = ("10G", "25G", "100G", "400G")


def sample_tree(ports: int = 10_000, *, generation: int = 0, label: str = "") -> dict[str, Any]:
    """An RFC 7951 site configuration with ``ports`` ports over 32-port devices.

    Even and odd ``generation`` values differ in every port; ``generation`` and ``label``
    also appear in one slice, so each (generation, label) pair gives a distinct tree.
    """
    odd = generation % 2 == 1
    devices = max(1, (ports + 31) // 32)
    device_list = [
        {
            "name": f"sw{d}",
            "config": {
                "name": f"sw{d}",
                "chipset": "edge-types:tofino2",
                "backend": "mock",
                "address": f"10.0.{d // 256}.{d % 256}",
                "enabled": True,
            },
        }
        for d in range(devices)
    ]
    port_list = [
        {
            "name": f"sw{p // 32}/{p % 32}",
            "config": {
                "name": f"sw{p // 32}/{p % 32}",
                "device": f"sw{p // 32}",
                "index": p % 32,
                "enabled": not odd or p % 7 != 0,
                "speed": _SPEEDS[(p + generation) % len(_SPEEDS)],
                "fec": "rs544" if odd else "rs528",
                "mtu": 9000 if odd else 1500,
                "breakout": "none",
                "loopback": False,
                "description": f"uplink {p} rack {p // 480} {'odd' if odd else 'even'}",
            },
        }
        for p in range(ports)
    ]
    slices = [
        {
            "name": "embb",
            "config": {
                "name": "embb",
                "description": f"generation {generation} {label}".strip(),
                "tenant": "operator",
                "enabled": True,
                "sst": 1,
                "vlan-id": 100,
                "min-rate-bps": "1000000000",
                "max-rate-bps": "10000000000",
                "priority": 3,
            },
            "members": {
                "member": [
                    {"port": p["name"], "config": {"port": p["name"]}} for p in port_list[:8]
                ]
            },
        }
    ]
    return {
        "edge-platform:platform": {"devices": {"device": device_list}},
        "edge-ports:ports": {"port": port_list},
        "edge-slices:slices": {"slice": slices},
    }


@dataclass(frozen=True, slots=True)
class SaveLoadFigures:
    """Median wall times of ``rounds`` saves and loads of a ``ports``-port tree."""

    ports: int
    file_bytes: int
    rounds: int
    save_s: float
    load_s: float
    save_min_s: float
    load_min_s: float


def measure(state_dir: Path, *, ports: int = 10_000, rounds: int = 5) -> SaveLoadFigures:
    """Saves and loads alternating ``ports``-port trees ``rounds`` times in ``state_dir``."""
    store = ConfigStore(state_dir)
    trees = [sample_tree(ports, generation=g) for g in (0, 1)]
    start_version = (store.latest_version() or 0) + 1
    saves: list[float] = []
    loads: list[float] = []
    for i in range(rounds):
        began = time.perf_counter()
        store.save(start_version + i, trees[i % 2], {"bench": True})
        saves.append(time.perf_counter() - began)
        began = time.perf_counter()
        snapshot = store.load()
        loads.append(time.perf_counter() - began)
        if snapshot is None or snapshot.version != start_version + i:
            raise RuntimeError("the configuration just saved did not load back")
    return SaveLoadFigures(
        ports=ports,
        file_bytes=store.current_path.stat().st_size,
        rounds=rounds,
        save_s=statistics.median(saves),
        load_s=statistics.median(loads),
        save_min_s=min(saves),
        load_min_s=min(loads),
    )


@dataclass(frozen=True, slots=True)
class CommitFigures:
    """Durable cost of one-leaf commits on a ``ports``-port tree (seconds)."""

    ports: int
    commits: int
    rewrite_s: float  # median, the whole file rewritten per commit (the baseline)
    rewrite_p99_s: float
    journal_s: float  # median, one journal record per commit, one commit at a time
    journal_p99_s: float
    pipelined_per_s: float  # commits per second handed over without waiting
    pipelined_syncs: int  # the syncs (frames) those took
    replay_load_s: float  # load: checkpoint plus every record of the run
    whole_load_s: float  # load of the same tree saved whole
    replayed: int
    stall_pieces_s: float  # longest pause of another thread, checkpoint encoded in pieces
    stall_whole_s: float  # the same, encoded in one piece


def one_leaf_edits(tree: dict[str, Any], count: int) -> Iterator[dict[str, Any]]:
    """``count`` trees after ``tree``, each one mtu away from the one before and sharing
    everything else with it, as the datastore's copy-on-write commits do."""
    ports = tree["edge-ports:ports"]["port"]
    for n in range(count):
        position = (n * 7919) % len(ports)
        ports = list(ports)
        entry = ports[position]
        ports[position] = {**entry, "config": {**entry["config"], "mtu": 1000 + n % 8000}}
        tree = {**tree, "edge-ports:ports": {"port": ports}}
        yield tree


def measure_commits(state_dir: Path, *, ports: int = 10_000, commits: int = 200) -> CommitFigures:
    """One-leaf commits through both modes in ``state_dir``; see CommitFigures."""
    base = sample_tree(ports)
    quiet = CheckpointPolicy(every_records=10 * commits + 10, every_bytes=1 << 40)
    rewrite = ConfigStore(state_dir / "rewrite", mode=PersistMode.REWRITE)
    journal = ConfigStore(state_dir / "journal", policy=quiet)
    rewrite_times: list[float] = []
    journal_times: list[float] = []
    tree = base
    for store, times in ((rewrite, rewrite_times), (journal, journal_times)):
        store.save(1, base)
        for version, tree in enumerate(one_leaf_edits(base, commits), start=2):
            began = time.perf_counter()
            store.commit(version, tree).result()
            times.append(time.perf_counter() - began)
    frames_before = _frames(journal)
    trees = list(one_leaf_edits(tree, commits))
    began = time.perf_counter()
    futures = [journal.commit(v, t) for v, t in enumerate(trees, start=commits + 2)]
    for future in futures:
        future.result()
    pipelined = time.perf_counter() - began
    syncs = _frames(journal) - frames_before
    journal.close()
    replay_load, snapshot = _timed(lambda: ConfigStore(state_dir / "journal").load())
    whole = ConfigStore(state_dir / "whole")
    whole.save(1, snapshot.tree if snapshot else base)
    whole_load, _ = _timed(lambda: ConfigStore(state_dir / "whole").load())
    return CommitFigures(
        ports=ports,
        commits=commits,
        rewrite_s=statistics.median(rewrite_times),
        rewrite_p99_s=_p99(rewrite_times),
        journal_s=statistics.median(journal_times),
        journal_p99_s=_p99(journal_times),
        pipelined_per_s=commits / pipelined,
        pipelined_syncs=syncs,
        replay_load_s=replay_load,
        whole_load_s=whole_load,
        replayed=snapshot.replayed if snapshot else 0,
        stall_pieces_s=_longest_pause(lambda: encode_config(1, base, {}, 0, in_pieces=True)),
        stall_whole_s=_longest_pause(lambda: encode_config(1, base, {}, 0)),
    )


def _frames(store: ConfigStore) -> int:
    return sum(len(read_segment(p.read_bytes()).frames) for p in store.journal_dir.glob("*.log"))


def _timed(call: Callable[[], Any]) -> tuple[float, Any]:
    began = time.perf_counter()
    result = call()
    return time.perf_counter() - began, result


def _p99(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


def _longest_pause(work: Callable[[], Any]) -> float:
    """The longest gap between the ticks of a thread sleeping 1 ms while ``work`` runs on
    another thread (what the event loop would feel)."""
    worker = threading.Thread(target=work)
    longest, last = 0.0, time.perf_counter()
    worker.start()
    while worker.is_alive():
        time.sleep(0.001)
        now = time.perf_counter()
        longest, last = max(longest, now - last), now
    worker.join()
    return longest


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.2f} ms"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--ports", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--commits", type=int, default=200)
    parser.add_argument("--dir", type=Path, default=None, help="state directory (default: temp)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="edge-agent-persist-") as temp:
        where = args.dir or Path(temp)
        c = measure_commits(where / "commits", ports=args.ports, commits=args.commits)
        figures = measure(where / "whole-file", ports=args.ports, rounds=args.rounds)
    print(f"one-leaf commits on {c.ports} ports, {c.commits} each, durable write per commit:")
    print(f"  whole file rewritten (baseline): p50 {_ms(c.rewrite_s)}, p99 {_ms(c.rewrite_p99_s)}")
    print(
        f"  journal record:                  p50 {_ms(c.journal_s)}, p99 {_ms(c.journal_p99_s)}"
        f"  ({c.rewrite_s / c.journal_s:.1f}x less)"
    )
    print(
        f"  group commit (handed over without waiting): {c.pipelined_per_s:.0f} commits/s "
        f"in {c.pipelined_syncs} syncs, {c.pipelined_per_s * c.journal_s:.1f}x the one-at-a-time "
        f"rate, {c.pipelined_per_s * c.rewrite_s:.0f}x the baseline's"
    )
    print(
        f"load: checkpoint + {c.replayed} journal records {_ms(c.replay_load_s)}, the same tree "
        f"saved whole {_ms(c.whole_load_s)} ({c.replay_load_s / c.whole_load_s:.2f}x)"
    )
    print(
        f"longest pause of another thread while a checkpoint is encoded: in pieces "
        f"{_ms(c.stall_pieces_s)}, in one piece {_ms(c.stall_whole_s)}"
    )
    print(
        f"whole file: {figures.file_bytes / 1e6:.2f} MB, {figures.rounds} rounds, "
        f"save median {_ms(figures.save_s)} (min {_ms(figures.save_min_s)}), "
        f"load median {_ms(figures.load_s)} (min {_ms(figures.load_min_s)})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
