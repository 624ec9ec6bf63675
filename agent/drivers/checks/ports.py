"""Port checks: where a port sits, and what it runs (speed, FEC, MTU, loopback, LAG)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from agent.drivers.checks.context import CheckContext
from agent.drivers.config import FEC_MODES, LOOPBACK_MODES, PortConfig
from agent.drivers.problems import Problem
from agent.drivers.units import format_bps, format_speeds

PORT_DEVICE = "port-device"
PORT_INDEX = "port-index"
PORT_LOCATION = "port-location"
PORT_SPEED = "port-speed"
PORT_FEC = "port-fec"
PORT_MTU = "port-mtu"
PORT_LOOPBACK = "port-loopback"
DEVICE_BANDWIDTH = "device-bandwidth"
PORT_OPTION = "port-option"
LAG_SPEED = "lag-speed"
LAG_UNSUPPORTED = "lag-unsupported"


def _port(
    port: PortConfig,
    rule: str,
    message: str,
    fields: tuple[str, ...],
    involves: tuple[PortConfig, ...] = (),
) -> Problem:
    others = tuple(("port", other.name) for other in involves if other.name != port.name)
    return Problem("port", port.name, rule, message, fields=fields, involves=others)


def check_port_device(ctx: CheckContext) -> Iterator[Problem]:
    """Every port handed to this driver belongs to its device."""
    for name in sorted(ctx.result.ports):
        port = ctx.result.ports[name]
        if port.device != ctx.device:
            yield _port(
                port, PORT_DEVICE, f"belongs to device {port.device}, not {ctx.device}", ("device",)
            )


def check_port_index(ctx: CheckContext) -> Iterator[Problem]:
    """The cage index exists on the chip."""
    count = ctx.caps.port_count
    for port in ctx.checked_ports:
        if not 1 <= port.index <= count:
            yield _port(
                port,
                PORT_INDEX,
                f"index {port.index} is out of range: {ctx.caps.chipset} has ports 1..{count}",
                ("index",),
            )


def check_port_location(ctx: CheckContext) -> Iterator[Problem]:
    """No two ports claim the same cage channel."""
    for index, ports in ctx.checked_cages.items():
        owners: dict[int, list[str]] = defaultdict(list)
        for port in ports:
            owners[port.channel].append(port.name)
        for channel, names in owners.items():
            claim = f"cage {index} channel {channel} is also configured as"
            yield from claimed_twice(names, PORT_LOCATION, claim, ("index", "channel"))


def claimed_twice(
    names: list[str], rule: str, claim: str, fields: tuple[str, ...]
) -> Iterator[Problem]:
    """When more than one port claims one thing, a problem for each: ``claim`` and the
    others' names, e.g. "netdev va is also port p2"."""
    if len(names) < 2:
        return
    for name in names:
        others = [n for n in names if n != name]
        yield Problem(
            "port",
            name,
            rule,
            f"{claim} {', '.join(others)}",
            fields=fields,
            involves=tuple(("port", n) for n in others),
        )


def check_port_speed(ctx: CheckContext) -> Iterator[Problem]:
    """The speed is one the chip runs, and one its host interface runs when it has a
    probed list of them."""
    speeds = ctx.caps.speeds_bps
    for port in ctx.checked_ports:
        if port.speed_bps not in speeds:
            yield _port(
                port,
                PORT_SPEED,
                f"speed {format_bps(port.speed_bps)} is not supported by {ctx.caps.chipset} "
                f"(supported: {format_speeds(speeds)})",
                ("speed_bps",),
            )
            continue
        limits = ctx.caps.interface(port.interface_name)
        if limits is not None and limits.speeds_bps and port.speed_bps not in limits.speeds_bps:
            yield _port(
                port,
                PORT_SPEED,
                f"speed {format_bps(port.speed_bps)} is not a link mode of interface "
                f"{limits.name} (supported: {format_speeds(limits.speeds_bps)})",
                ("speed_bps", "interface_name"),
            )


def check_port_fec(ctx: CheckContext) -> Iterator[Problem]:
    """The FEC mode is known and valid for the port's speed on this chip."""
    for port in ctx.checked_ports:
        if port.fec not in FEC_MODES:
            yield _port(
                port,
                PORT_FEC,
                f"fec {port.fec!r} is unknown (valid: {', '.join(FEC_MODES)})",
                ("fec",),
            )
            continue
        rule = ctx.caps.fec_rule(port.speed_bps)
        if rule is None or port.fec == "auto" or port.fec in rule.modes:
            continue
        yield _port(
            port,
            PORT_FEC,
            f"fec {port.fec} is not valid at {format_bps(port.speed_bps)} on {ctx.caps.chipset} "
            f"(valid: {', '.join((*rule.modes, 'auto'))})",
            ("fec", "speed_bps"),
        )


def check_port_mtu(ctx: CheckContext) -> Iterator[Problem]:
    """The MTU is inside the chip's range and its host interface's probed range."""
    low, high = ctx.caps.mtu_min, ctx.caps.mtu_max
    for port in ctx.checked_ports:
        if not low <= port.mtu <= high:
            yield _port(
                port,
                PORT_MTU,
                f"mtu {port.mtu} is outside the range {low}..{high} of {ctx.caps.chipset}",
                ("mtu",),
            )
            continue
        limits = ctx.caps.interface(port.interface_name)
        if limits is not None and not limits.mtu_min <= port.mtu <= limits.mtu_max:
            yield _port(
                port,
                PORT_MTU,
                f"mtu {port.mtu} is outside the range {limits.mtu_min}..{limits.mtu_max} "
                f"of interface {limits.name}",
                ("mtu", "interface_name"),
            )


def check_port_loopback(ctx: CheckContext) -> Iterator[Problem]:
    """The loopback mode is known, and one the device's ports accept."""
    accepted = ctx.caps.loopback_modes
    for port in ctx.checked_ports:
        if port.loopback not in LOOPBACK_MODES:
            yield _port(
                port,
                PORT_LOOPBACK,
                f"loopback {port.loopback!r} is unknown (valid: {', '.join(LOOPBACK_MODES)})",
                ("loopback",),
            )
        elif port.loopback not in accepted:
            yield _port(
                port,
                PORT_LOOPBACK,
                f"loopback {port.loopback} is not supported by {ctx.caps.chipset} here "
                f"(valid: {', '.join(accepted)})",
                ("loopback",),
            )


def check_device_bandwidth(ctx: CheckContext) -> Iterator[Problem]:
    """Enabled ports together stay within what the device can carry."""
    limit = ctx.caps.max_total_bps
    if limit is None:
        return
    enabled = [port for port in ctx.own_ports if port.enabled]
    total = sum(port.speed_bps for port in enabled)
    if total <= limit:
        return
    listing = ", ".join(f"{p.name} {format_bps(p.speed_bps)}" for p in enabled)
    for port in enabled:
        yield _port(
            port,
            DEVICE_BANDWIDTH,
            f"enabled ports add up to {format_bps(total)} ({listing}); "
            f"{ctx.caps.chipset} carries at most {format_bps(limit)} in total",
            ("speed_bps", "enabled"),
            tuple(enabled),
        )


def check_port_option(ctx: CheckContext) -> Iterator[Problem]:
    """On cards with port options, the ports in use fit one of them."""
    options = ctx.caps.port_options
    if not options or not ctx.own_ports:
        return
    highest = max(port.index for port in ctx.own_ports)
    fastest = max(port.speed_bps for port in ctx.own_ports)
    if any(highest <= o.ports and fastest <= o.max_speed_bps for o in options):
        return
    names = ", ".join(o.name for o in options)
    for port in ctx.own_ports:
        fits = [o for o in options if port.index <= o.ports and port.speed_bps <= o.max_speed_bps]
        why = (
            f"no port option of {ctx.caps.chipset} ({names}) allows port {port.index}"
            f" at {format_bps(port.speed_bps)}"
            if not fits
            else f"ports 1..{highest} with speeds up to {format_bps(fastest)} fit no single "
            f"port option of {ctx.caps.chipset} ({names})"
        )
        yield _port(port, PORT_OPTION, why, ("index", "speed_bps"), ctx.own_ports)


def check_lag_supported(ctx: CheckContext) -> Iterator[Problem]:
    """Ports join a link aggregation group only where the device aggregates ports."""
    if ctx.caps.lag:
        return
    for port in ctx.checked_ports:
        if port.lag_group is not None:
            yield _port(
                port,
                LAG_UNSUPPORTED,
                f"lag-group {port.lag_group}: link aggregation is not supported by "
                f"{ctx.caps.chipset} here",
                ("lag_group",),
            )


def check_lag_speed(ctx: CheckContext) -> Iterator[Problem]:
    """Members of one link aggregation group run the same speed."""
    groups: dict[str, list[PortConfig]] = defaultdict(list)
    for port in ctx.own_ports:
        if port.lag_group is not None:
            groups[port.lag_group].append(port)
    for group, members in sorted(groups.items()):
        if len({port.speed_bps for port in members}) > 1:
            listing = ", ".join(f"{p.name} {format_bps(p.speed_bps)}" for p in members)
            yield Problem(
                "lag",
                group,
                LAG_SPEED,
                f"members run different speeds ({listing})",
                fields=("speed_bps", "lag_group"),
                involves=tuple(("port", p.name) for p in members),
            )
