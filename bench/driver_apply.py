"""Apply throughput of the mock driver, against applying the same ops to a plain dict.

Workload on a Tofino2 mock (the largest profile): create 256 ports (32 cages in 8x25G),
change every port's MTU, create 64 slices of 4 members, then undo all of it. Each figure
is the best of several rounds; the baseline runs in the same process right before.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from collections.abc import Callable, Sequence

from agent.clock import FakeClock
from agent.drivers import (
    DeviceConfig,
    Op,
    PortConfig,
    PortOp,
    SliceConfig,
    SliceMember,
    SliceOp,
    invert,
)
from agent.drivers.chip_driver import ChipDriver
from agent.drivers.registry import DriverRegistry
from agent.drivers.units import GBPS

ROUNDS = 5
DEVICE = DeviceConfig("bench-sw", "tofino2")


def workload() -> list[tuple[Op, ...]]:
    """Three forward phases and their undo, as batches."""
    ports = [
        PortConfig(
            f"p{index}/{channel}",
            DEVICE.name,
            index,
            channel=channel,
            speed_bps=25 * GBPS,
            fec="rs528",
            breakout="8x25G",
        )
        for index in range(1, 33)
        for channel in range(8)
    ]
    create = tuple(PortOp(None, port) for port in ports)
    mtu = tuple(PortOp(port, dataclasses.replace(port, mtu=9000)) for port in ports)
    slices = tuple(
        SliceOp(
            None,
            SliceConfig(
                f"slice{n}",
                100 + n,
                min_rate_bps=GBPS,
                max_rate_bps=10 * GBPS,
                members=tuple(SliceMember(p.name) for p in ports[4 * n : 4 * n + 4]),
            ),
        )
        for n in range(64)
    )
    forward = [create, mtu, slices]
    undo = [invert(batch) for batch in reversed(forward)]
    return forward + undo


def new_driver() -> ChipDriver:
    driver = DriverRegistry.discover().create(DEVICE, FakeClock())
    assert isinstance(driver, ChipDriver)
    driver.open()
    return driver


def dict_baseline(batches: Sequence[tuple[Op, ...]]) -> float:
    tables: dict[str, dict[str, object]] = {"port": {}, "slice": {}, "device": {}}
    start = time.perf_counter()
    for batch in batches:
        for op in batch:
            table = tables[op.kind]
            if op.after is None:
                table.pop(op.name, None)
            else:
                table[op.name] = op.after
    return time.perf_counter() - start


def driver_batched(batches: Sequence[tuple[Op, ...]]) -> float:
    driver = new_driver()
    start = time.perf_counter()
    for batch in batches:
        driver.apply(batch)
    return time.perf_counter() - start


def driver_one_op_per_call(batches: Sequence[tuple[Op, ...]]) -> float:
    driver = new_driver()
    start = time.perf_counter()
    for batch in batches:
        for op in batch:
            driver.apply((op,))
    return time.perf_counter() - start


def mock_program_only(batches: Sequence[tuple[Op, ...]]) -> float:
    driver = new_driver()
    backend = driver.backend
    start = time.perf_counter()
    for batch in batches:
        for op in batch:
            backend.program(op)
    return time.perf_counter() - start


def validate_only(batches: Sequence[tuple[Op, ...]]) -> float:
    driver = new_driver()
    elapsed = 0.0
    for batch in batches:
        start = time.perf_counter()
        driver.validate(batch)
        elapsed += time.perf_counter() - start
        driver.apply(batch)  # untimed: moves the state on for the next batch
    return elapsed


def best(run: Callable[[Sequence[tuple[Op, ...]]], float], batches, rounds: int) -> float:
    return min(run(batches) for _ in range(rounds))


def main() -> int:
    batches = workload()
    ops = sum(len(batch) for batch in batches)
    baseline = best(dict_baseline, batches, ROUNDS)
    rows = [
        ("dict baseline (same ops)", baseline),
        ("driver.apply, one batch per phase", best(driver_batched, batches, ROUNDS)),
        ("driver.apply, one op per call", best(driver_one_op_per_call, batches, 1)),
        ("mock hardware only (program)", best(mock_program_only, batches, ROUNDS)),
        ("validate only, per phase", best(validate_only, batches, ROUNDS)),
    ]
    print(f"driver apply throughput: tofino2 mock, {ops} ops in {len(batches)} batches")
    print(f"{'measurement':<38}{'ops/s':>14}{'x slower than dict':>22}")
    for label, seconds in rows:
        print(f"{label:<38}{ops / seconds:>14,.0f}{seconds / baseline:>22,.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
