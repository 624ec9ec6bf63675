"""What the kernel says about one netdev: its link, ethtool link modes and FEC, SR-IOV."""

from __future__ import annotations

from dataclasses import dataclass

from agent.drivers.linux.ethtool import FecModes, LinkModes
from agent.drivers.linux.links import Link
from agent.drivers.linux.sysfs import Sriov


@dataclass(frozen=True, slots=True)
class NetdevFacts:
    """A probed netdev: what the backend programs it by and reports its limits from."""

    link: Link
    modes: LinkModes | None
    fec: FecModes | None
    sriov: Sriov | None

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
