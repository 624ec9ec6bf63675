"""SR-IOV checks: virtual-function counts against the chip's limit and its scope."""

from __future__ import annotations

from collections.abc import Iterator

from agent.drivers.capabilities import VfScope
from agent.drivers.checks.context import CheckContext
from agent.drivers.problems import Entity, Problem

VF_COUNT = "vf-count"
VF_UNSUPPORTED = "vf-unsupported"
VF_LIMIT = "vf-limit"


def _vfs(name: str, rule: str, message: str, involves: tuple[Entity, ...] = ()) -> Problem:
    return Problem("port", name, rule, message, fields=("num_vfs",), involves=involves)


def check_vf_limit(ctx: CheckContext) -> Iterator[Problem]:
    """VF counts are non-negative and within the per-port or per-device limit, and
    within the probed limit of the port's host interface."""
    caps = ctx.caps
    with_vfs = [port for port in ctx.own_ports if port.num_vfs != 0]
    for port in with_vfs:
        if port.num_vfs < 0:
            yield _vfs(port.name, VF_COUNT, f"num-vfs {port.num_vfs} is negative")
    with_vfs = [port for port in with_vfs if port.num_vfs > 0]
    for port in with_vfs:
        limits = caps.interface(port.interface_name)
        if limits is not None and limits.max_vfs is not None and port.num_vfs > limits.max_vfs:
            yield _vfs(
                port.name,
                VF_LIMIT,
                f"num-vfs {port.num_vfs} exceeds the {limits.max_vfs} VFs interface "
                f"{limits.name} offers",
            )
    if caps.vf_scope is VfScope.NONE:
        for port in with_vfs:
            yield _vfs(
                port.name,
                VF_UNSUPPORTED,
                f"num-vfs {port.num_vfs} requested but {caps.chipset} ports have no SR-IOV "
                "virtual functions",
            )
    elif caps.vf_scope is VfScope.PORT:
        for port in with_vfs:
            if port.num_vfs > caps.vf_limit:
                yield _vfs(
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
                yield _vfs(
                    port.name,
                    VF_LIMIT,
                    f"num-vfs {port.num_vfs} brings the device to {total} VFs ({listing}); "
                    f"{caps.chipset} allows {caps.vf_limit} VFs per device",
                    tuple(("port", p.name) for p in with_vfs if p is not port),
                )
