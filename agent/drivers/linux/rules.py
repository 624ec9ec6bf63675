"""The linux backend's own rules, run after the family's (which already hold each port to
its netdev's probed MTU range, link modes and SR-IOV limit, and refuse loopback and LAG,
which the backend's capabilities do not offer).

They read what the kernel reported through ``ctx.caps.interfaces`` (NetdevLimits); before
the device is open nothing was probed and the rules that need the kernel stay silent.
Rules that read the kernel check only the ports a batch creates or changes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from agent.drivers.checks import Check, CheckContext
from agent.drivers.checks.ports import PORT_FEC, PORT_SPEED, claimed_twice
from agent.drivers.checks.vfs import VF_UNSUPPORTED
from agent.drivers.config import PortConfig
from agent.drivers.linux.address import AddressError, netns_of
from agent.drivers.linux.capabilities import NetdevLimits
from agent.drivers.ops import PortOp
from agent.drivers.problems import Problem
from agent.drivers.units import format_bps

INTERFACE_NAME = "linux-interface-name"
INTERFACE_UNIQUE = "linux-interface-unique"
NETDEV = "linux-netdev"
BREAKOUT = "linux-breakout"
DEVICE_ADDRESS = "device-address"
DPU_MODE = "linux-dpu-mode"


def _port(port: PortConfig, rule: str, message: str, *fields: str) -> Problem:
    return Problem("port", port.name, rule, message, fields=fields)


def _changed_ports(ctx: CheckContext) -> list[PortConfig]:
    names = {op.name for op in ctx.ops if isinstance(op, PortOp) and op.after is not None}
    return [port for port in ctx.own_ports if port.name in names]


def _where(ctx: CheckContext) -> str:
    try:
        netns = netns_of(ctx.identity.address)
    except AddressError:
        return "the device's namespace"
    return f"network namespace {netns}" if netns else "the agent's namespace"


def check_address(ctx: CheckContext) -> Iterator[Problem]:
    """The device's address is ``netns:NAME`` or empty."""
    device = ctx.result.device or ctx.identity
    try:
        netns_of(device.address)
    except AddressError as error:
        yield Problem("device", device.name, DEVICE_ADDRESS, str(error), fields=("address",))


def check_dpu_mode_fixed(ctx: CheckContext) -> Iterator[Problem]:
    """The DPU mode is not changed through netdevs."""
    before, after = ctx.current.device, ctx.result.device
    if before is None or after is None:
        return
    old, new = (ctx.caps.effective_dpu_mode(d.dpu_mode) for d in (before, after))
    if old == new:
        return
    yield Problem(
        "device",
        after.name,
        DPU_MODE,
        f"dpu-mode {old} -> {new} is not changed by the linux backend "
        "(the mode lives in the DPU's firmware, not in its netdevs)",
        fields=("dpu_mode",),
    )


def check_interfaces(ctx: CheckContext) -> Iterator[Problem]:
    """Every port names a netdev, and no two ports the same one."""
    users: dict[str, list[str]] = defaultdict(list)
    for port in ctx.own_ports:
        if port.interface_name is None:
            yield _port(
                port,
                INTERFACE_NAME,
                f"has no interface-name: a port of the linux-backed device {ctx.device} names "
                "its netdev in /ports/port/config/interface-name",
                "interface_name",
            )
        else:
            users[port.interface_name].append(port.name)
    for ifname, names in sorted(users.items()):
        claim = f"netdev {ifname} is also port"
        yield from claimed_twice(names, INTERFACE_UNIQUE, claim, ("interface_name",))


def check_netdevs(ctx: CheckContext) -> Iterator[Problem]:
    """Each changed port's netdev exists and can run what the port asks for."""
    if not ctx.caps.interfaces:
        return  # not probed (the device is not open): nothing to check against
    for port in _changed_ports(ctx):
        if port.interface_name is None:
            continue
        limits = ctx.caps.interface(port.interface_name)
        if not isinstance(limits, NetdevLimits):
            yield _port(
                port,
                NETDEV,
                f"netdev {port.interface_name} does not exist in {_where(ctx)}",
                "interface_name",
            )
            continue
        yield from _against(port, limits)


def _against(port: PortConfig, netdev: NetdevLimits) -> Iterator[Problem]:
    running = netdev.running_bps
    if not netdev.speeds_bps and port.speed_bps != running:
        now = f"it runs {format_bps(running)}" if running else "its speed is unknown"
        yield _port(
            port,
            PORT_SPEED,
            f"speed {format_bps(port.speed_bps)} cannot be set on netdev {netdev.label}: its "
            f"driver offers no link modes to choose from ({now})",
            "speed_bps",
            "interface_name",
        )
    if port.fec != "auto" and not netdev.has_fec:
        yield _port(
            port,
            PORT_FEC,
            f"fec {port.fec} cannot be set on netdev {netdev.label}: its driver has no FEC "
            "control (ethtool reports none); use fec auto",
            "fec",
            "interface_name",
        )
    if port.num_vfs > 0 and not netdev.has_sriov:
        yield _port(
            port,
            VF_UNSUPPORTED,
            f"num-vfs {port.num_vfs} cannot be created on netdev {netdev.label}: no PCI "
            "function with SR-IOV (sriov_totalvfs) is behind it",
            "num_vfs",
            "interface_name",
        )


def check_whole_netdevs(ctx: CheckContext) -> Iterator[Problem]:
    """A netdev is one whole port: no breakout, channel 0."""
    for port in ctx.own_ports:
        if port.breakout != "none" or port.channel != 0:
            yield _port(
                port,
                BREAKOUT,
                f"breakout {port.breakout} channel {port.channel}: a netdev is one whole port "
                "(breakout none, channel 0); split ports are netdevs of their own",
                "breakout",
                "channel",
            )


LINUX_CHECKS: tuple[Check, ...] = (
    check_address,
    check_dpu_mode_fixed,
    check_interfaces,
    check_netdevs,
    check_whole_netdevs,
)
"""The checks the linux backend adds to its family's."""
