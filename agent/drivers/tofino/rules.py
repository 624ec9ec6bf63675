"""Tofino quirks: a breakout change rebuilds the cage's port layout."""

from __future__ import annotations

from collections.abc import Iterator

from agent.drivers.checks import Check, CheckContext
from agent.drivers.checks.context import group_by_cage
from agent.drivers.problems import Problem, Severity

LAYOUT_REBUILD = "tofino-layout-rebuild"


def check_layout_rebuild(ctx: CheckContext) -> Iterator[Problem]:
    """Warns which cages get their port layout rebuilt (every channel goes down briefly)."""
    cages = ctx.checked_cages
    before = group_by_cage(
        p for p in ctx.current.ports.values() if p.device == ctx.device and p.index in cages
    )
    for index, ports in sorted(cages.items()):
        old = {port.breakout for port in before.get(index, ())}
        new = {port.breakout for port in ports}
        if len(old) != 1 or len(new) != 1 or old == new:
            continue
        (was,), (becomes,) = old, new
        for port in ports:
            yield Problem(
                "port",
                port.name,
                LAYOUT_REBUILD,
                f"cage {index} changes breakout {was} -> {becomes}: the SDE rebuilds the "
                "cage's port layout and every channel of the cage goes down until it is done",
                Severity.WARNING,
                fields=("breakout",),
            )


TOFINO_CHECKS: tuple[Check, ...] = (check_layout_rebuild,)
