"""What the kernel says about one netdev: its link, ethtool link modes and FEC, SR-IOV."""

from __future__ import annotations

from dataclasses import dataclass

from agent.drivers.linux.ethtool import FecModes, LinkModes
from agent.drivers.linux.links import Link
from agent.drivers.linux.sysfs import Sriov
from agent.drivers.units import format_bps, format_speeds


@dataclass(frozen=True, slots=True)
class NetdevFacts:
    """A probed netdev: the capabilities the rules check a port's configuration against."""

    link: Link
    modes: LinkModes | None
    fec: FecModes | None
    sriov: Sriov | None

    @property
    def label(self) -> str:
        """``va (veth)``: the netdev and its kind, as refusals name it."""
        return f"{self.link.name} ({self.link.kind_text})"

    @property
    def mtu_range(self) -> tuple[int, int] | None:
        """(IFLA_MIN_MTU, IFLA_MAX_MTU), or None when the kernel reports no range."""
        low, high = self.link.min_mtu, self.link.max_mtu
        if low is None or high is None:
            return None
        return low, high

    @property
    def speed_bps(self) -> int | None:
        return self.modes.speed_bps if self.modes is not None else None

    @property
    def settable_speeds(self) -> tuple[int, ...]:
        return self.modes.supported_bps if self.modes is not None else ()

    def speed_refusal(self, speed_bps: int) -> str | None:
        """Why ``speed_bps`` cannot be run on this netdev, or None when it can."""
        if speed_bps == self.speed_bps or speed_bps in self.settable_speeds:
            return None
        running = f"it runs {format_bps(self.speed_bps)}" if self.speed_bps else "speed unknown"
        if not self.settable_speeds:
            return (
                f"speed {format_bps(speed_bps)} cannot be set on netdev {self.label}: its "
                f"driver offers no link modes to choose from ({running})"
            )
        return (
            f"speed {format_bps(speed_bps)} is not a link mode of netdev {self.label} "
            f"(supported: {format_speeds(self.settable_speeds)}; {running})"
        )

    def fec_refusal(self, fec: str) -> str | None:
        """Why FEC ``fec`` cannot be configured on this netdev, or None when it can."""
        if fec == "auto":
            return None
        if self.fec is None:
            return (
                f"fec {fec} cannot be set on netdev {self.label}: its driver has no FEC "
                "control (ethtool reports none)"
            )
        return None

    def vf_refusal(self, num_vfs: int) -> str | None:
        """Why ``num_vfs`` VFs cannot be created on this netdev, or None when they can."""
        if num_vfs == 0:
            return None
        if self.sriov is None:
            return (
                f"num-vfs {num_vfs} requested but netdev {self.label} has no SR-IOV "
                "(no PCI function with sriov_totalvfs behind it)"
            )
        if num_vfs > self.sriov.total_vfs:
            return (
                f"num-vfs {num_vfs} exceeds the {self.sriov.total_vfs} VFs that "
                f"{self.sriov.device} (netdev {self.link.name}) offers (sriov_totalvfs)"
            )
        return None
