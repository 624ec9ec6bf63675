"""Slice checks: VLAN, members, rates, priority and the per-port guarantee budget."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from agent.drivers.checks.context import CheckContext
from agent.drivers.problems import Problem
from agent.drivers.units import format_bps

SLICE_VLAN = "slice-vlan"
SLICE_VLAN_UNIQUE = "slice-vlan-unique"
SLICE_MEMBER = "slice-member"
SLICE_RATE = "slice-rate"
SLICE_PRIORITY = "slice-priority"
SLICE_GUARANTEE = "slice-guarantee"

VLAN_MIN = 1
VLAN_MAX = 4094


def check_slice_vlan(ctx: CheckContext) -> Iterator[Problem]:
    """VLAN IDs are usable, and one VLAN carries one slice on a device."""
    users: dict[int, list[str]] = defaultdict(list)
    for name in sorted(ctx.result.slices):
        slice_ = ctx.result.slices[name]
        if not VLAN_MIN <= slice_.vlan_id <= VLAN_MAX:
            yield Problem(
                "slice",
                name,
                SLICE_VLAN,
                f"vlan-id {slice_.vlan_id} is outside {VLAN_MIN}..{VLAN_MAX}",
                fields=("vlan_id",),
            )
        users[slice_.vlan_id].append(name)
    for vlan, names in sorted(users.items()):
        if len(names) < 2:
            continue
        for name in names:
            others = ", ".join(n for n in names if n != name)
            yield Problem(
                "slice",
                name,
                SLICE_VLAN_UNIQUE,
                f"vlan-id {vlan} is also used by slice {others} on device {ctx.device}; "
                "slices must not share a VLAN",
                fields=("vlan_id",),
                involves=tuple(("slice", n) for n in names if n != name),
            )


def check_slice_members(ctx: CheckContext) -> Iterator[Problem]:
    """Members are ports of this device, each listed once."""
    own = {port.name for port in ctx.own_ports}
    for name in sorted(ctx.result.slices):
        seen: set[str] = set()
        for member in ctx.result.slices[name].members:
            if member.port in seen:
                yield Problem(
                    "slice",
                    name,
                    SLICE_MEMBER,
                    f"member port {member.port} is listed twice",
                    fields=("members",),
                )
            seen.add(member.port)
            if member.port not in own:
                yield Problem(
                    "slice",
                    name,
                    SLICE_MEMBER,
                    f"member port {member.port} is not a port of device {ctx.device}",
                    fields=("members",),
                )


def _rate(name: str, message: str, *fields: str) -> Problem:
    return Problem("slice", name, SLICE_RATE, message, fields=fields)


def check_slice_rates(ctx: CheckContext) -> Iterator[Problem]:
    """Rates are non-negative and each member's guaranteed rate fits under the peak rate."""
    for name in sorted(ctx.result.slices):
        slice_ = ctx.result.slices[name]
        if slice_.min_rate_bps < 0:
            yield _rate(name, "min-rate-bps is negative", "min_rate_bps")
        if slice_.max_rate_bps is not None and slice_.max_rate_bps <= 0:
            yield _rate(name, "max-rate-bps must be positive", "max_rate_bps")
            continue
        for member in slice_.members:
            guaranteed = slice_.guaranteed_bps(member)
            if member.min_rate_bps is not None and member.min_rate_bps < 0:
                yield _rate(name, f"min-rate-bps of member {member.port} is negative", "members")
            elif slice_.max_rate_bps is not None and guaranteed > slice_.max_rate_bps:
                yield _rate(
                    name,
                    f"guaranteed rate {format_bps(guaranteed)} on port {member.port} exceeds "
                    f"the slice's max-rate {format_bps(slice_.max_rate_bps)}",
                    "min_rate_bps",
                    "max_rate_bps",
                    "members",
                )


def check_slice_priority(ctx: CheckContext) -> Iterator[Problem]:
    """The priority maps to one of the chip's queues."""
    levels = ctx.caps.priority_levels
    for name in sorted(ctx.result.slices):
        priority = ctx.result.slices[name].priority
        if not 0 <= priority < levels:
            yield Problem(
                "slice",
                name,
                SLICE_PRIORITY,
                f"priority {priority} is outside 0..{levels - 1} ({levels} queues per port "
                f"on {ctx.caps.chipset})",
                fields=("priority",),
            )


def check_slice_guarantees(ctx: CheckContext) -> Iterator[Problem]:
    """Per port, the guaranteed rates of all enabled slices add up to at most its speed."""
    for port in ctx.checked_ports:
        entries = ctx.guarantees.get(port.name, ())
        total = sum(rate for _, rate in entries)
        if total <= port.speed_bps:
            continue
        listing = ", ".join(f"slice {name} {format_bps(rate)}" for name, rate in entries)
        yield Problem(
            "port",
            port.name,
            SLICE_GUARANTEE,
            f"guaranteed rates add up to {format_bps(total)} ({listing}), above the port "
            f"speed {format_bps(port.speed_bps)}",
            fields=("speed_bps", "min_rate_bps", "members", "slice.enabled"),
            involves=tuple(("slice", name) for name, _ in entries),
        )
