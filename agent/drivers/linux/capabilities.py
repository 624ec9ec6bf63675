"""The capabilities of a linux-backed device: its chip profile narrowed by the kernel.

Every netdev of the namespace that can carry a port (all but loopback and the agent's
own slice children) is reported as a NetdevLimits (the probed MTU range, the
speeds its driver can be set to, its SR-IOV limit, plus what the linux rules need: the
running speed and whether it has FEC control). Device-wide values come from the netdevs
the device's ports name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from agent.drivers.capabilities import CageGroup, Capabilities, FecRule, InterfaceLimits, VfScope
from agent.drivers.fec import IEEE_FEC
from agent.drivers.linux.children import CHILD_PREFIX
from agent.drivers.linux.facts import NetdevFacts
from agent.drivers.linux.stats import KEPT_PORT_COUNTERS


@dataclass(frozen=True, slots=True)
class NetdevLimits(InterfaceLimits):
    """InterfaceLimits of a probed netdev, with what the linux rules check besides."""

    kind: str = "physical"
    running_bps: int | None = None
    has_fec: bool = False
    has_sriov: bool = False

    @property
    def label(self) -> str:
        return f"{self.name} ({self.kind})"


def netdev_limits(facts: NetdevFacts) -> NetdevLimits:
    span = facts.mtu_range or (facts.link.mtu, facts.link.mtu)
    return NetdevLimits(
        name=facts.link.name,
        mtu_min=span[0],
        mtu_max=span[1],
        speeds_bps=facts.settable_speeds,
        max_vfs=facts.sriov.total_vfs if facts.sriov is not None else None,
        kind=facts.link.kind_text,
        running_bps=facts.speed_bps,
        has_fec=facts.fec is not None,
        has_sriov=facts.sriov is not None,
    )


def limits_key(facts: NetdevFacts) -> tuple[object, ...]:
    """What of a netdev's facts its limits (and so the device's capabilities) depend on."""
    sriov = facts.sriov
    return (
        facts.link.kind,
        facts.mtu_range or facts.link.mtu,
        facts.modes,
        facts.fec is not None,
        sriov.total_vfs if sriov is not None else None,
    )


def probed_capabilities(
    profile: Capabilities,
    facts: Mapping[str, NetdevFacts],
    used: Iterable[str],
    sdk_version: str,
) -> Capabilities:
    """The device's capabilities after probing: ``used`` are the netdevs its ports name.

    Device-wide, from the used netdevs (from all while none is used): one netdev per
    port (no breakout, loopback or LAG; a DPU stays in its default mode), the widest MTU
    range (each port is held to its own netdev's range through ``interfaces``), the
    speeds they run or can be set to, FEC modes where they have FEC control, the largest
    SR-IOV limit among them, and as port count the netdevs that can carry a port (all but
    loopback and the agent's own slice children, plus used ones that vanished), at least
    the chip's.
    """
    carriers = [name for name, item in facts.items() if name != "lo" and not _is_child(name, item)]
    chosen = [facts[name] for name in used if name in facts]
    missing = {name for name in used if name not in facts}  # vanished: still ports
    spans = chosen or [facts[name] for name in carriers]
    ranges = [span for item in spans if (span := item.mtu_range) is not None]
    speeds = {s for item in spans for s in item.settable_speeds}
    speeds |= {item.speed_bps for item in spans if item.speed_bps}
    vfs = [item.sriov.total_vfs for item in chosen if item.sriov is not None]
    carriers = [name for name, item in facts.items() if name != "lo" and not _is_child(name, item)]
    speeds_bps = tuple(sorted(speeds)) or profile.speeds_bps
    port_count = max(len(carriers) + len(missing), profile.port_count)
    with_fec = any(item.fec is not None for item in spans)
    return replace(
        profile,
        model=f"{profile.model}, as linux netdevs",
        port_count=port_count,
        speeds_bps=speeds_bps,
        cages=(CageGroup(1, port_count, "netdev", 1, max(speeds_bps), ("none",)),),
        mtu_min=min((low for low, _ in ranges), default=profile.mtu_min),
        mtu_max=max((high for _, high in ranges), default=profile.mtu_max),
        vf_limit=max(vfs, default=0),
        vf_scope=VfScope.PORT if vfs else VfScope.NONE,
        fec=tuple(_fec_rule(speed, with_fec) for speed in speeds_bps),
        loopback_modes=("none",),
        lag=False,
        dpu_modes=(profile.default_dpu_mode,) if profile.default_dpu_mode else (),
        sdk_version=sdk_version,
        counters=KEPT_PORT_COUNTERS,
        max_total_bps=None,
        port_options=(),
        interfaces=tuple(netdev_limits(facts[name]) for name in sorted(carriers)),
    )


def _fec_rule(speed_bps: int, with_fec: bool) -> FecRule:
    """The standard FEC modes at a speed where the netdevs have FEC control; else only
    ``auto`` (leave it as it is) is valid."""
    if not with_fec:
        return FecRule(speed_bps, (), "none")
    return IEEE_FEC.get(speed_bps) or FecRule(speed_bps, ("none",), "none")


def _is_child(name: str, facts: NetdevFacts) -> bool:
    return facts.link.kind == "macvlan" and name.startswith(CHILD_PREFIX)
