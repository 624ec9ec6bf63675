"""Netlink I/O for one network namespace, on pyroute2's AsyncIPRoute.

Every coroutine here runs on the device's NetlinkLoop. Sockets are opened inside the
namespace by ``netns.open_socket`` (no fork); ethtool ioctls go through a datagram
socket opened the same way.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Mapping
from typing import Any

from pyroute2 import AsyncIPRoute
from pyroute2.netlink.exceptions import NetlinkError
from pyroute2.netlink.rtnl import RTMGRP_LINK

from agent.drivers.linux.links import Link
from agent.drivers.linux.netns import open_socket

HTB_ROOT = 0x10000  # 1:
HTB_SLICE = 0x10001  # 1:1, the slice's peak rate
HTB_GUARANTEE = 0x10010  # 1:10, the guaranteed rate, borrowing up to the peak
_HTB_DEFAULT = 0x10


class Netlink:
    """Route-netlink requests, a link-event monitor and an ethtool socket in one netns."""

    def __init__(self, netns: str | None) -> None:
        self.netns = netns
        self._requests: Any = None
        self._monitor: Any = None
        self.ethtool: socket.socket | None = None

    async def open(self) -> None:
        """Opens the sockets; raises OSError when the namespace cannot be entered."""
        requests = _iproute(self.netns)
        monitor = _iproute(self.netns)
        try:
            await monitor.bind(groups=RTMGRP_LINK)
            self.ethtool = open_socket(self.netns, socket.AF_INET, socket.SOCK_DGRAM)
        except BaseException:
            requests.close()
            monitor.close()
            raise
        self._requests, self._monitor = requests, monitor

    def close(self) -> None:
        for sock in (self._requests, self._monitor):
            if sock is not None:
                sock.close()
        if self.ethtool is not None:
            self.ethtool.close()
        self._requests = self._monitor = self.ethtool = None

    async def links(self) -> dict[str, Link]:
        """Every netdev of the namespace, by name."""
        found: dict[str, Link] = {}
        async for message in await self._requests.link("dump"):
            link = Link.from_message(message)
            found[link.name] = link
        return found

    async def link(self, index: int) -> Link | None:
        """One netdev by index, or None when it no longer exists."""
        try:
            messages = await self._requests.link("get", index=index)
        except NetlinkError as error:
            if error.code == 19:  # ENODEV
                return None
            raise
        for message in messages:
            return Link.from_message(message)
        return None

    async def set_link(self, index: int, **attributes: Any) -> None:
        """Sets link attributes (``mtu=``, ``state="up"|"down"``) in one request."""
        await self._requests.link("set", index=index, **attributes)

    async def add_macvlan(self, name: str, lower: int, tx_queue_len: int) -> int:
        """Creates a bridge-mode macvlan on ``lower``; its index."""
        await self._requests.link(
            "add",
            ifname=name,
            kind="macvlan",
            link=lower,
            macvlan_mode="bridge",
            txqlen=tx_queue_len,
        )
        for message in await self._requests.link("get", ifname=name):
            return int(message["index"])
        raise NetlinkError(19, f"{name} vanished after it was created")

    async def delete_link(self, index: int) -> None:
        await self._requests.link("del", index=index)

    async def shape(self, index: int, peak_bps: int, guaranteed_bps: int) -> None:
        """Replaces the root qdisc with HTB: 1:1 at the peak rate, 1:10 (the default
        class) guaranteed ``guaranteed_bps`` and borrowing up to the peak."""
        ipr = self._requests
        try:
            await ipr.tc("del", index=index, parent=0xFFFFFFFF)
        except NetlinkError as error:
            if error.code not in (2, 22):  # ENOENT / EINVAL: no root qdisc of ours
                raise
        await ipr.tc("add", "htb", index=index, handle=HTB_ROOT, default=_HTB_DEFAULT)
        peak = f"{peak_bps}bit"
        await ipr.tc(
            "add-class", "htb", index=index, handle=HTB_SLICE, parent=HTB_ROOT,
            rate=peak, ceil=peak,
        )  # fmt: skip
        await ipr.tc(
            "add-class", "htb", index=index, handle=HTB_GUARANTEE, parent=HTB_SLICE,
            rate=f"{guaranteed_bps}bit", ceil=peak,
        )  # fmt: skip

    async def qdisc_drops(self, index: int) -> int | None:
        """Packets the root qdisc dropped (None when there is none to ask)."""
        async for message in await self._requests.get_qdiscs(index=index):
            if message.get("parent") != 0xFFFFFFFF:
                continue
            stats = message.get("TCA_STATS2")
            queue = stats.get("TCA_STATS_QUEUE") if stats is not None else None
            if queue is not None:
                return int(queue["drops"])
        return None

    async def events(self) -> AsyncIterator[Link | int]:
        """Link messages as they arrive: a Link for RTM_NEWLINK, its index for
        RTM_DELLINK."""
        while True:
            async for message in self._monitor.get():
                event = message.get("event")
                if event == "RTM_NEWLINK":
                    yield Link.from_message(message)
                elif event == "RTM_DELLINK":
                    yield int(message["index"])


def _iproute(netns: str | None) -> Any:
    if netns is None:
        return AsyncIPRoute()
    sock = open_socket(netns, socket.AF_NETLINK, socket.SOCK_DGRAM)
    return AsyncIPRoute(fileno=sock.detach())


def links_by_index(links: Mapping[str, Link]) -> dict[int, Link]:
    return {link.index: link for link in links.values()}
