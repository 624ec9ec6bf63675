"""A validation that starts from a configuration the rules passed checks only the cages
its ops can make invalid, and finds exactly what checking everything finds."""

from __future__ import annotations

import dataclasses
import random

import pytest

from agent.drivers import Op, PortConfig, PortOp, SliceConfig, SliceMember, SliceOp
from agent.drivers.chip_driver import ChipDriver
from agent.drivers.intent import DeviceIntent

from .helpers import G, make_driver, port

CHIPSETS = ("tofino1", "tofino2", "connectx-6", "e810", "bluefield-3", "stratix10-dx")
SPEEDS = (1 * G, 10 * G, 25 * G, 40 * G, 50 * G, 100 * G, 200 * G, 400 * G, 7 * G)
BREAKOUTS = ("none", "1x100G", "2x50G", "4x25G", "4x10G", "2x200G", "8x50G", "3x7G")
MTUS = (64, 1514, 9000, 9216, 99_999)
FECS = ("auto", "none", "rs", "fc", "bogus")


def base_ports(driver: ChipDriver) -> list[PortConfig]:
    """A valid port per cage on the first cages of the chip, at a speed it runs."""
    caps = driver.capabilities()
    ports = []
    for index in range(1, min(caps.port_count, 8) + 1):
        group = caps.cage(index)
        speed = max(s for s in caps.speeds_bps if group is None or s <= group.capacity_bps)
        candidate = port(f"p{index}", index, speed_bps=speed)
        if driver.validate(tuple(PortOp(None, p) for p in (*ports, candidate))).ok:
            ports.append(candidate)
    return ports


def full_problems(driver: ChipDriver, ops: tuple[Op, ...]) -> list[str]:
    """What checking every port and cage finds (the driver forgets that its
    configuration passed)."""
    driver._valid = None  # the only way to ask for the unscoped run
    return [str(p) for p in driver.validate(ops).problems]


def mutation(rng: random.Random, intent: DeviceIntent, names: list[str]) -> tuple[Op, ...]:
    ports = [intent.ports[n] for n in names if n in intent.ports]
    ops: list[Op] = []
    for _ in range(rng.randint(1, 3)):
        before = rng.choice(ports)
        kind = rng.randrange(9)
        if kind == 0:
            ops.append(PortOp(before, None))
            continue
        if kind == 1:  # a new entry in an occupied or free cage
            new = port(f"n{rng.randrange(1000)}", rng.randint(1, 10), channel=rng.randrange(3))
            ops.append(PortOp(None, dataclasses.replace(new, speed_bps=rng.choice(SPEEDS))))
            continue
        if kind == 8:
            members = tuple(
                SliceMember(p.name, rng.choice((None, 10 * G, 500 * G))) for p in ports[:2]
            )
            ops.append(
                SliceOp(
                    None,
                    SliceConfig(
                        f"s{rng.randrange(9)}",
                        100,
                        members=members,
                        min_rate_bps=rng.choice((0, 60 * G)),
                    ),
                )
            )
            continue
        field, values = [
            ("speed_bps", SPEEDS),
            ("breakout", BREAKOUTS),
            ("mtu", MTUS),
            ("fec", FECS),
            ("index", (1, 2, 3, 9, 999)),
            ("channel", (0, 1, 3)),
            ("num_vfs", (0, 8, 300, -1)),
        ][kind - 2]
        after = dataclasses.replace(before, **{field: rng.choice(values)})
        ops.append(PortOp(before, after))
    seen: set[tuple[str, str]] = set()
    unique = []
    for op in ops:  # one op per entity
        key = (op.kind, (op.after or op.before).name)  # type: ignore[union-attr]
        if key not in seen:
            seen.add(key)
            unique.append(op)
    return tuple(unique)


@pytest.mark.parametrize("chipset", CHIPSETS)
def test_scoped_validation_finds_what_a_full_one_finds(chipset: str) -> None:
    driver, _ = make_driver(chipset)
    ports = base_ports(driver)
    assert ports, "the chip takes no port at all"
    base: tuple[Op, ...] = tuple(PortOp(None, p) for p in ports)
    slice_ = SliceConfig("s0", 10, min_rate_bps=1 * G, members=(SliceMember(ports[0].name),))
    base += (SliceOp(None, slice_),)
    driver.apply(base)
    names = [p.name for p in ports]
    rng = random.Random(chipset)
    refused = 0
    for _ in range(300):
        ops = mutation(rng, driver.applied(), names)
        scoped = [str(p) for p in driver.validate(ops).problems]
        assert scoped == full_problems(driver, ops), ops
        refused += bool(scoped)
        driver.apply(())  # the configuration is known to pass again
    assert 30 < refused < 300  # the mutations find problems, and not always
