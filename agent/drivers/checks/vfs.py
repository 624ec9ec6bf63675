"""SR-IOV checks: virtual-function counts against the chip's limit and its scope."""

from __future__ import annotations

from collections.abc import Iterator

from agent.drivers.capabilities import VfScope
from agent.drivers.checks.context import CheckContext
from agent.drivers.problems import Problem

VF_COUNT = "vf-count"
VF_UNSUPPORTED = "vf-unsupported"
VF_LIMIT = "vf-limit"


def check_vf_limit(ctx: CheckContext) -> Iterator[Problem]:
    """VF counts are non-negative and within the per-port or per-device limit."""
    caps = ctx.caps
    with_vfs = [port for port in ctx.own_ports if port.num_vfs != 0]
    for port in with_vfs:
        if port.num_vfs < 0:
            yield Problem("port", port.name, VF_COUNT, f"num-vfs {port.num_vfs} is negative")
    with_vfs = [port for port in with_vfs if port.num_vfs > 0]
    if caps.vf_scope is VfScope.NONE:
        for port in with_vfs:
            yield Problem(
                "port",
                port.name,
                VF_UNSUPPORTED,
                f"num-vfs {port.num_vfs} requested but {caps.chipset} ports have no SR-IOV "
                "virtual functions",
            )
    elif caps.vf_scope is VfScope.PORT:
        for port in with_vfs:
            if port.num_vfs > caps.vf_limit:
                yield Problem(
                    "port",
                    port.name,
                    VF_LIMIT,
                    f"num-vfs {port.num_vfs} exceeds {caps.chipset}'s limit of "
                    f"{caps.vf_limit} VFs per port",
                )
    else:
        total = sum(port.num_vfs for port in with_vfs)
        if total > caps.vf_limit:
            listing = ", ".join(f"{p.name} {p.num_vfs}" for p in with_vfs)
            for port in with_vfs:
                yield Problem(
                    "port",
                    port.name,
                    VF_LIMIT,
                    f"num-vfs {port.num_vfs} brings the device to {total} VFs ({listing}); "
                    f"{caps.chipset} allows {caps.vf_limit} VFs per device",
                )
