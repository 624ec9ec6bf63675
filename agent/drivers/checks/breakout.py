"""Breakout checks: legal mode per cage, one mode per cage, channels and their speed."""

from __future__ import annotations

from collections.abc import Iterator

from agent.drivers.capabilities import CageGroup
from agent.drivers.checks.context import CheckContext
from agent.drivers.config import PortConfig
from agent.drivers.problems import Problem
from agent.drivers.units import format_bps, parse_breakout

BREAKOUT_MODE = "breakout-mode"
BREAKOUT_AGREEMENT = "breakout-agreement"
BREAKOUT_CHANNEL = "breakout-channel"
BREAKOUT_SPEED = "breakout-speed"


def _cage_text(index: int, group: CageGroup) -> str:
    return f"cage {index} ({group.connector}, {group.lanes} lanes of {format_bps(group.lane_bps)})"


def _lanes_needed(channels: int, channel_bps: int, lane_bps: int) -> int:
    return channels * -(-channel_bps // lane_bps)


def check_breakout_mode(ctx: CheckContext) -> Iterator[Problem]:
    """The cage accepts the breakout mode."""
    for port in ctx.checked_ports:
        group = ctx.caps.cage(port.index)
        if group is None or port.breakout in group.breakouts:
            continue
        parsed = parse_breakout(port.breakout)
        legal = ", ".join(group.breakouts)
        if parsed is None:
            reason = f"breakout {port.breakout!r} is not a breakout mode"
        elif (
            parsed.channel_bps is not None
            and (lanes := _lanes_needed(parsed.channels, parsed.channel_bps, group.lane_bps))
            > group.lanes
        ):
            reason = (
                f"breakout {port.breakout} needs {lanes} lanes of "
                f"{format_bps(group.lane_bps)}; {_cage_text(port.index, group)} has "
                f"{group.lanes}"
            )
        else:
            reason = f"breakout {port.breakout} is not possible on {_cage_text(port.index, group)}"
        yield Problem(
            "port",
            port.name,
            BREAKOUT_MODE,
            f"{reason} (legal on {ctx.caps.chipset}: {legal})",
            fields=("breakout", "index"),
        )


def check_breakout_agreement(ctx: CheckContext) -> Iterator[Problem]:
    """All entries of one cage carry the same breakout."""
    for index, ports in sorted(ctx.checked_cages.items()):
        if len({port.breakout for port in ports}) < 2:
            continue
        listing = ", ".join(f"{p.name} {p.breakout}" for p in ports)
        for port in ports:
            yield Problem(
                "port",
                port.name,
                BREAKOUT_AGREEMENT,
                f"the entries of cage {index} disagree on its breakout ({listing}); "
                "every channel of a cage carries the same breakout",
                fields=("breakout", "index"),
                involves=tuple(("port", p.name) for p in ports if p is not port),
            )


def check_breakout_channel(ctx: CheckContext) -> Iterator[Problem]:
    """The channel exists in the cage's breakout mode."""
    for port in ctx.checked_ports:
        parsed = parse_breakout(port.breakout)
        if parsed is None:
            continue
        if not 0 <= port.channel < parsed.channels:
            valid = "0" if parsed.channels == 1 else f"0..{parsed.channels - 1}"
            yield Problem(
                "port",
                port.name,
                BREAKOUT_CHANNEL,
                f"channel {port.channel} does not exist with breakout {port.breakout} "
                f"(channels {valid})",
                fields=("channel", "breakout"),
            )


def _speed_problem(port: PortConfig, group: CageGroup | None) -> str | None:
    parsed = parse_breakout(port.breakout)
    if parsed is None:
        return None
    if parsed.channel_bps is not None and port.speed_bps != parsed.channel_bps:
        return (
            f"speed {format_bps(port.speed_bps)} does not match breakout {port.breakout} "
            f"(each channel runs at {format_bps(parsed.channel_bps)})"
        )
    if group is not None and port.speed_bps > group.capacity_bps:
        return (
            f"speed {format_bps(port.speed_bps)} exceeds {_cage_text(port.index, group)}, "
            f"which carries at most {format_bps(group.capacity_bps)}"
        )
    return None


def check_breakout_speed(ctx: CheckContext) -> Iterator[Problem]:
    """A split channel runs the mode's per-channel speed; an unsplit cage fits its lanes."""
    speeds = ctx.caps.speeds_bps
    for port in ctx.checked_ports:
        if port.speed_bps not in speeds:
            continue  # reported by the speed check
        problem = _speed_problem(port, ctx.caps.cage(port.index))
        if problem is not None:
            yield Problem(
                "port",
                port.name,
                BREAKOUT_SPEED,
                problem,
                fields=("speed_bps", "breakout", "index"),
            )
