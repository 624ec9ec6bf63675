"""Netdevs as the kernel reports them in RTM_NEWLINK messages (parsed by ``rtnl``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

IFF_UP = 0x1


@dataclass(frozen=True, slots=True)
class Link:
    """One netdev: identity, MTU and its range, admin and carrier state, IFLA_STATS64."""

    index: int
    name: str
    kind: str | None  # IFLA_INFO_KIND: veth, macvlan, ...; None for a physical NIC
    mtu: int
    min_mtu: int | None
    max_mtu: int | None
    admin_up: bool
    carrier: bool
    operstate: str
    lower: int | None  # IFLA_LINK: the lower netdev of a macvlan or the peer of a veth
    parent_bus: str | None  # IFLA_PARENT_DEV_BUS_NAME, e.g. "pci"
    parent_dev: str | None  # IFLA_PARENT_DEV_NAME, e.g. "0000:03:00.0"
    num_vfs: int | None  # IFLA_NUM_VF: VFs enabled on this netdev's function
    tx_queue_len: int
    stats: Mapping[str, int]  # empty when the kernel sent no IFLA_STATS64

    @property
    def oper_up(self) -> bool:
        """Whether the netdev passes packets (RFC 2863 operstate, or carrier when UNKNOWN)."""
        if not self.admin_up:
            return False
        if self.operstate == "UP":
            return True
        return self.operstate == "UNKNOWN" and self.carrier

    @property
    def kind_text(self) -> str:
        return self.kind or "physical"
