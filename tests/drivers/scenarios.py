"""Configurations built from a chip's Capabilities: valid ones at random, and violations."""

from __future__ import annotations

from dataclasses import dataclass, replace
from random import Random
from typing import Any

from agent.drivers import (
    Capabilities,
    DeviceConfig,
    DeviceIntent,
    DeviceOp,
    Op,
    PortConfig,
    PortOp,
    SliceConfig,
    SliceMember,
    SliceOp,
    VfScope,
)
from agent.drivers.capabilities import CageGroup, InterfaceLimits
from agent.drivers.config import BREAKOUT_MODES
from agent.drivers.units import GBPS, parse_breakout

ALL_SPEEDS = tuple(s * GBPS for s in (1, 10, 25, 40, 50, 100, 200, 400, 800))


def port_name(device: str, index: int, channel: int = 0) -> str:
    return f"{device}-p{index}-{channel}"


def _legal_modes(caps: Capabilities, group: CageGroup, speed_cap: int) -> list[str]:
    modes = []
    for mode in group.breakouts:
        parsed = parse_breakout(mode)
        assert parsed is not None
        if parsed.channel_bps is None or (
            parsed.channel_bps in caps.speeds_bps and parsed.channel_bps <= speed_cap
        ):
            modes.append(mode)
    return modes


def _unsplit_speeds(caps: Capabilities, group: CageGroup, speed_cap: int) -> list[int]:
    limit = min(speed_cap, group.capacity_bps)
    return [speed for speed in caps.speeds_bps if speed <= limit]


def random_device(caps: Capabilities, device: DeviceConfig, rng: Random) -> DeviceConfig:
    """The device entry: sometimes disabled, with a random DPU mode on DPUs."""
    dpu_mode = rng.choice((None, *caps.dpu_modes)) if caps.dpu_modes else None
    return DeviceConfig(
        name=device.name,
        chipset=device.chipset,
        backend=device.backend,
        address=device.address,
        enabled=rng.random() < 0.9,
        dpu_mode=dpu_mode,
    )


def random_ports(
    caps: Capabilities, device: str, rng: Random, *, max_cages: int = 4
) -> list[PortConfig]:
    """Ports that satisfy every rule of ``caps``, chosen at random.

    When the backend reported host interfaces, each port names one of its own and keeps
    to that interface's limits as well.
    """
    option = rng.choice(caps.port_options) if caps.port_options else None
    interfaces = list(caps.interfaces)
    rng.shuffle(interfaces)
    last_index = option.ports if option else caps.port_count
    speed_cap = option.max_speed_bps if option else max(caps.speeds_bps)
    # A small pool of cages (the first few and the last) so that two intents drawn for the
    # same chip overlap: ports change speed, breakout and FEC rather than only come and go.
    pool = sorted({*range(1, min(last_index, 5) + 1), last_index})
    count = rng.randint(1, min(max_cages, len(pool)))
    extras = rng.choice(("plain", "vfs", "lag") if caps.lag else ("plain", "vfs"))
    vf_budget = caps.vf_limit
    ports: list[PortConfig] = []
    total_bps = 0
    for index in sorted(rng.sample(pool, count)):
        group = caps.cage(index)
        assert group is not None
        mode = rng.choice(_legal_modes(caps, group, speed_cap))
        parsed = parse_breakout(mode)
        assert parsed is not None
        if parsed.channel_bps is None:
            speed = rng.choice(_unsplit_speeds(caps, group, speed_cap))
            channels = [0]
        else:
            speed = parsed.channel_bps
            channels = sorted(rng.sample(range(parsed.channels), rng.randint(1, parsed.channels)))
        for channel in channels:
            if caps.interfaces and not interfaces:
                break
            limits = interfaces.pop() if caps.interfaces else None
            if limits is not None and limits.speeds_bps and speed not in limits.speeds_bps:
                continue
            rule = caps.fec_rule(speed)
            assert rule is not None
            enabled = rng.random() < 0.85
            if caps.max_total_bps is not None and total_bps + speed > caps.max_total_bps:
                enabled = False
            total_bps += speed if enabled else 0
            vfs = 0
            if extras == "vfs" and caps.vf_scope is not VfScope.NONE:
                if caps.vf_scope is VfScope.PORT:
                    vfs = rng.randint(0, caps.vf_limit)
                else:
                    vfs = rng.randint(0, vf_budget // 2)
                    vf_budget -= vfs
            lag = f"lag{speed // GBPS}" if extras == "lag" and rng.random() < 0.5 else None
            ports.append(
                PortConfig(
                    # now and then a port is renamed: same cage channel, another name
                    port_name(device, index, channel) + ("r" if rng.random() < 0.15 else ""),
                    device,
                    index,
                    channel=channel,
                    enabled=enabled,
                    speed_bps=speed,
                    fec=rng.choice((*rule.modes, "auto")),
                    mtu=rng.choice(_mtus(caps, limits)),
                    breakout=mode,
                    loopback=rng.choice(
                        ("none",) * 6 + tuple(m for m in caps.loopback_modes if m != "none")
                    ),
                    num_vfs=vfs
                    if limits is None or limits.max_vfs is None
                    else min(vfs, limits.max_vfs),
                    lag_group=lag,
                    interface_name=None if limits is None else limits.name,
                )
            )
    return ports


def _mtus(caps: Capabilities, limits: InterfaceLimits | None) -> tuple[int, ...]:
    """MTUs worth trying: both ends of the allowed range and two common sizes in it."""
    low, high = caps.mtu_min, caps.mtu_max
    if limits is not None:
        low, high = max(low, limits.mtu_min), min(high, limits.mtu_max)
    return tuple(mtu for mtu in (low, 1514, 9000, high) if low <= mtu <= high)


def random_slices(
    caps: Capabilities, ports: list[PortConfig], rng: Random, *, max_slices: int = 3
) -> list[SliceConfig]:
    """Slices over ``ports`` whose guaranteed rates fit every port's speed."""
    budget = {port.name: port.speed_bps for port in ports}
    slices: list[SliceConfig] = []
    if not ports:
        return slices
    vlans = rng.sample(range(1, 4095), max_slices)
    for number in range(rng.randint(0, max_slices)):
        chosen = rng.sample(ports, rng.randint(1, min(3, len(ports))))
        floor = min(budget[p.name] for p in chosen) // 4
        slice_min = rng.choice((0, floor))
        members = []
        for port in chosen:
            override = rng.randint(0, budget[port.name] // 2) if rng.random() < 0.5 else None
            members.append(SliceMember(port.name, override))
            budget[port.name] -= slice_min if override is None else override
        highest = max(slice_min if m.min_rate_bps is None else m.min_rate_bps for m in members)
        slices.append(
            SliceConfig(
                f"slice{number}",
                vlans[number],
                min_rate_bps=slice_min,
                max_rate_bps=rng.choice((None, highest + 1 + rng.randint(0, GBPS))),
                priority=rng.randint(0, caps.priority_levels - 1),
                enabled=rng.random() < 0.8,
                members=tuple(members),
            )
        )
    return slices


def random_intent(caps: Capabilities, device: DeviceConfig, seed: int) -> DeviceIntent:
    """A valid configuration of ``device`` drawn from ``seed``."""
    rng = Random(seed)
    ports = random_ports(caps, device.name, rng)
    return DeviceIntent.of(random_device(caps, device, rng), ports, random_slices(caps, ports, rng))


def fastest_unsplit_speed(caps: Capabilities, index: int = 1) -> int:
    """The fastest speed an unsplit port on cage ``index`` can run (within port options)."""
    group = caps.cage(index) or caps.cages[0]
    limit = group.capacity_bps
    if caps.port_options:
        limit = min(limit, max(o.max_speed_bps for o in caps.port_options))
    return max(s for s in caps.speeds_bps if s <= limit)


def base_port(
    caps: Capabilities, device: str, name: str, index: int = 1, **changes: Any
) -> PortConfig:
    """A valid unsplit port on cage ``index``, with ``changes`` applied; on a backend that
    reported host interfaces, on the ``index``-th of them."""
    values: dict[str, Any] = {"speed_bps": fastest_unsplit_speed(caps), "fec": "auto"}
    if caps.interfaces:
        values["interface_name"] = caps.interfaces[(index - 1) % len(caps.interfaces)].name
    values.update(changes)
    return PortConfig(name, device, index, **values)


def one_port_intent(caps: Capabilities, device: DeviceConfig, **changes: Any) -> DeviceIntent:
    """The device with one enabled port, ``p1`` on cage 1."""
    return DeviceIntent.of(device, (base_port(caps, device.name, "p1", **changes),))


@dataclass(frozen=True)
class Violation:
    """Ops that break one rule; the problem must name ``kind`` ``entity`` and ``rule``."""

    rule: str
    kind: str
    entity: str
    ops: tuple[Op, ...]


def _fec_violation(caps: Capabilities) -> tuple[int, str]:
    for speed in sorted(caps.speeds_bps, reverse=True):
        if speed > fastest_unsplit_speed(caps):
            continue
        rule = caps.fec_rule(speed)
        assert rule is not None
        for fec in ("fc", "none", "rs544", "rs528"):
            if fec not in rule.modes:
                return speed, fec
    raise AssertionError(f"{caps.chipset}: every FEC is valid at every speed")


def violations(caps: Capabilities, device: DeviceConfig) -> list[Violation]:
    """A violation of every rule ``caps`` lets one break, each on its own entities.

    Meant to be applied to a device without ports or slices.
    """
    dev = device.name
    found: list[Violation] = []
    fast = fastest_unsplit_speed(caps)
    cage = caps.cage(1)
    assert cage is not None

    def port(name: str, index: int = 1, **changes: Any) -> PortConfig:
        return base_port(caps, dev, name, index, **changes)

    def add(rule: str, entity: str, *ops: Op, kind: str = "port") -> None:
        found.append(Violation(rule, kind, entity, ops))

    def create(rule: str, *ports: PortConfig, entity: str | None = None, kind: str = "port"):
        add(rule, entity or ports[0].name, *(PortOp(None, p) for p in ports), kind=kind)

    def with_slices(rule: str, entity: str, kind: str, anchor: PortConfig, *slices: SliceConfig):
        add(rule, entity, PortOp(None, anchor), *(SliceOp(None, s) for s in slices), kind=kind)

    # -- ports
    create("port-device", replace(port("foreign"), device="some-other-device"))
    create("port-index", port("index-zero", 0))
    create("port-index", port("index-high", caps.port_count + 1))
    create("port-location", port("twin-a", 2), port("twin-b", 2))
    create("port-speed", port("too-fast", speed_bps=ALL_SPEEDS[-1]))
    speed, fec = _fec_violation(caps)
    create("port-fec", port("bad-fec", speed_bps=speed, fec=fec))
    create("port-fec", port("unknown-fec", fec="turbo"))
    create("port-mtu", port("mtu-high", mtu=caps.mtu_max + 1))
    create("port-mtu", port("mtu-low", mtu=caps.mtu_min - 1))
    create("port-loopback", port("bad-loopback", loopback="remote"))
    slower = min(caps.speeds_bps)
    if caps.lag:
        create(
            "lag-speed",
            port("lag-a", 1, lag_group="mixed"),
            port("lag-b", 2, lag_group="mixed", speed_bps=slower),
            entity="mixed",
            kind="lag",
        )
    else:
        create("lag-unsupported", port("lag-member", 1, lag_group="bond0"))
    if "mac" not in caps.loopback_modes:
        create("port-loopback", port("mac-loopback", loopback="mac"))
    if caps.max_total_bps is not None:
        create("device-bandwidth", port("bw-a", 1), port("bw-b", 2, speed_bps=fast))
    if caps.port_options:
        create("port-option", port("no-option", caps.port_count, speed_bps=fast))

    # -- breakout
    illegal = next(mode for mode in BREAKOUT_MODES if mode not in cage.breakouts)
    create("breakout-mode", port("bad-breakout", breakout=illegal))
    create("breakout-channel", port("bad-channel", channel=1))
    split = [m for m in cage.breakouts if m != "none"]
    if split:
        parsed = parse_breakout(split[0])
        assert parsed is not None and parsed.channel_bps is not None
        other = next(s for s in caps.speeds_bps if s != parsed.channel_bps)
        create("breakout-speed", port("split-speed", breakout=split[0], speed_bps=other))
    if len(split) > 1:
        a, b = (parse_breakout(m) for m in split[:2])
        assert a is not None and b is not None
        create(
            "breakout-agreement",
            port("agree-a", 3, breakout=a.mode, speed_bps=a.channel_bps),
            port("agree-b", 3, breakout=b.mode, speed_bps=b.channel_bps, channel=1),
        )

    # -- SR-IOV
    create("vf-count", port("negative-vfs", num_vfs=-1))
    if caps.vf_scope is VfScope.NONE:
        create("vf-unsupported", port("switch-vfs", num_vfs=1))
    elif caps.vf_scope is VfScope.PORT:
        create("vf-limit", port("many-vfs", num_vfs=caps.vf_limit + 1))
    else:
        half = caps.vf_limit // 2 + 1
        create("vf-limit", port("vfs-a", 1, num_vfs=half), port("vfs-b", 2, num_vfs=half))

    # -- device
    add(
        "device-identity",
        dev,
        DeviceOp(device, replace(device, chipset="tofino9")),
        kind="device",
    )
    add("device-removal", dev, PortOp(None, port("orphan")), DeviceOp(device, None), kind="device")
    mode = "warp" if caps.dpu_modes else "dpu"
    add("dpu-mode", dev, DeviceOp(device, replace(device, dpu_mode=mode)), kind="device")

    # -- slices
    anchor = port("anchor")
    member = (SliceMember("anchor"),)
    with_slices("slice-vlan", "vlan-zero", "slice", anchor, SliceConfig("vlan-zero", 0))
    with_slices(
        "slice-vlan-unique",
        "same-vlan-a",
        "slice",
        anchor,
        SliceConfig("same-vlan-a", 10, members=member),
        SliceConfig("same-vlan-b", 10, members=member),
    )
    with_slices(
        "slice-member",
        "ghost-member",
        "slice",
        anchor,
        SliceConfig("ghost-member", 11, members=(SliceMember("no-such-port"),)),
    )
    with_slices(
        "slice-rate",
        "cir-above-pir",
        "slice",
        anchor,
        SliceConfig("cir-above-pir", 12, min_rate_bps=2 * GBPS, max_rate_bps=GBPS, members=member),
    )
    with_slices(
        "slice-priority",
        "bad-priority",
        "slice",
        anchor,
        SliceConfig("bad-priority", 13, priority=caps.priority_levels, members=member),
    )
    half_plus = anchor.speed_bps // 2 + 1
    with_slices(
        "slice-guarantee",
        "anchor",
        "port",
        anchor,
        SliceConfig("greedy-a", 14, min_rate_bps=half_plus, members=member),
        SliceConfig("greedy-b", 15, members=(SliceMember("anchor", half_plus),)),
    )

    # -- ops
    add("op-shape", "renamed", PortOp(port("original"), port("renamed")))
    return found
