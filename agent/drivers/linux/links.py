"""Netdevs as the kernel reports them in RTM_NEWLINK messages."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

IFF_UP = 0x1

_EMPTY: Mapping[str, int] = MappingProxyType({})


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

    @classmethod
    def from_message(cls, message: Any) -> Link:
        """Parses a pyroute2 ifinfmsg."""
        get = message.get
        info = get("IFLA_LINKINFO")
        kind = info.get("IFLA_INFO_KIND") if info is not None else None
        stats = get("IFLA_STATS64")
        lower = get("IFLA_LINK")
        return cls(
            index=int(message["index"]),
            name=str(get("IFLA_IFNAME")),
            kind=kind,
            mtu=int(get("IFLA_MTU") or 0),
            min_mtu=_optional_int(get("IFLA_MIN_MTU")),
            max_mtu=_optional_int(get("IFLA_MAX_MTU")),
            admin_up=bool(int(message["flags"]) & IFF_UP),
            carrier=bool(get("IFLA_CARRIER")),
            operstate=str(get("IFLA_OPERSTATE") or "UNKNOWN"),
            lower=int(lower) if lower else None,
            parent_bus=get("IFLA_PARENT_DEV_BUS_NAME"),
            parent_dev=get("IFLA_PARENT_DEV_NAME"),
            num_vfs=_optional_int(get("IFLA_NUM_VF")),
            tx_queue_len=int(get("IFLA_TXQLEN") or 0),
            stats=MappingProxyType(dict(stats)) if stats is not None else _EMPTY,
        )


def _optional_int(value: Any) -> int | None:
    """A range attribute: absent, or 0 (the kernel's "no limit"), means unknown."""
    return int(value) if value else None
