"""E810 quirk: link aggregation and SR-IOV exclude each other on one device."""

from __future__ import annotations

from collections.abc import Iterator

from agent.drivers.checks import Check, CheckContext
from agent.drivers.problems import Problem

LAG_SRIOV = "e810-lag-sriov"


def check_lag_excludes_sriov(ctx: CheckContext) -> Iterator[Problem]:
    """No port may be in a LAG while any port of the same E810 has VFs, and vice versa."""
    in_lag = [port for port in ctx.own_ports if port.lag_group is not None]
    with_vfs = [port for port in ctx.own_ports if port.num_vfs > 0]
    if not in_lag or not with_vfs:
        return
    lag_text = ", ".join(f"{p.name} (lag {p.lag_group})" for p in in_lag)
    vf_text = ", ".join(f"{p.name} ({p.num_vfs} VFs)" for p in with_vfs)
    for port in sorted({*in_lag, *with_vfs}, key=lambda p: p.name):
        yield Problem(
            "port",
            port.name,
            LAG_SRIOV,
            f"link aggregation and SR-IOV exclude each other on {ctx.caps.chipset}: "
            f"in a LAG: {lag_text}; with VFs: {vf_text}",
            fields=("lag_group", "num_vfs"),
            involves=tuple(("port", p.name) for p in (*in_lag, *with_vfs) if p is not port),
        )


E810_CHECKS: tuple[Check, ...] = (check_lag_excludes_sriov,)
