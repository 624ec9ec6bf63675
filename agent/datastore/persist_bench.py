"""Save/load cost of the persistence layer on a large site, and the sample tree it uses.

``python -m agent.datastore.persist_bench [--ports N] [--rounds R] [--dir PATH]`` prints
the figures; ``measure()`` returns them for a benchmark in bench/.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.datastore.persistence import ConfigStore

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


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--ports", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--dir", type=Path, default=None, help="state directory (default: temp)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="edge-agent-persist-") as temp:
        figures = measure(args.dir or Path(temp), ports=args.ports, rounds=args.rounds)
    print(
        f"ports={figures.ports} file={figures.file_bytes / 1e6:.2f} MB rounds={figures.rounds} "
        f"save median={figures.save_s * 1e3:.1f} ms (min {figures.save_min_s * 1e3:.1f}) "
        f"load median={figures.load_s * 1e3:.1f} ms (min {figures.load_min_s * 1e3:.1f})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
