"""Netlink I/O for one network namespace.

Links (the hot path: reads, MTU and admin state, macvlan children) go through our own
codec on plain sockets; traffic control (HTB, qdisc statistics), rare, through pyroute2's
AsyncIPRoute, whose coroutines run on the device's NetlinkLoop. Sockets are opened
inside the namespace by ``netns.open_socket`` (no fork); ethtool ioctls go through a
datagram socket opened the same way.
"""

from __future__ import annotations

import errno
import socket
from typing import Any

from pyroute2 import AsyncIPRoute
from pyroute2.netlink.exceptions import NetlinkError

from agent.drivers.linux.link_sockets import LinkMonitor, LinkRequests
from agent.drivers.linux.netns import open_socket

HTB_ROOT = 0x10000  # 1:
HTB_SLICE = 0x10001  # 1:1, the slice's peak rate
HTB_GUARANTEE = 0x10010  # 1:10, the guaranteed rate, borrowing up to the peak
_HTB_DEFAULT = 0x10


class Netlink:
    """The netlink sockets of one netns: link requests and a link monitor on our own codec
    (answered on the calling thread), traffic control on pyroute2's AsyncIPRoute (on the
    device's NetlinkLoop), and an ethtool socket."""

    def __init__(self, netns: str | None, timeout_s: float) -> None:
        self.netns = netns
        self._timeout_s = timeout_s
        self._requests: LinkRequests | None = None
        self._monitor: LinkMonitor | None = None
        self._tc: Any = None
        self.ethtool: socket.socket | None = None

    def open(self) -> None:
        """Opens the link sockets; raises OSError when the namespace cannot be entered."""
        requests = LinkRequests(self.netns, self._timeout_s)
        try:
            self._monitor = LinkMonitor(self.netns)
            self.ethtool = open_socket(self.netns, socket.AF_INET, socket.SOCK_DGRAM)
        except BaseException:
            requests.close()
            self.close()
            raise
        self._requests = requests

    async def open_tc(self) -> None:
        """Opens the traffic-control socket (on the loop that will use it)."""
        self._tc = _iproute(self.netns)

    def close(self) -> None:
        for sock in (self._requests, self._monitor, self._tc, self.ethtool):
            if sock is not None:
                sock.close()
        self._requests = self._monitor = self._tc = self.ethtool = None

    @property
    def requests(self) -> LinkRequests:
        if self._requests is None:
            raise OSError(errno.EBADF, "the netlink sockets are closed")
        return self._requests

    @property
    def monitor(self) -> LinkMonitor:
        if self._monitor is None:
            raise OSError(errno.EBADF, "the netlink sockets are closed")
        return self._monitor

    async def shape(self, index: int, peak_bps: int, guaranteed_bps: int) -> None:
        """Replaces the root qdisc with HTB: 1:1 at the peak rate, 1:10 (the default
        class) guaranteed ``guaranteed_bps`` and borrowing up to the peak."""
        ipr = self._tc
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

    async def qdisc_drops(self, indexes: list[int]) -> dict[int, int | None]:
        """Packets the root qdisc of each netdev dropped (None when there is none to ask)."""
        return {index: await self._root_drops(index) for index in indexes}

    async def _root_drops(self, index: int) -> int | None:
        async for message in await self._tc.get_qdiscs(index=index):
            if message.get("parent") != 0xFFFFFFFF:
                continue
            stats = message.get("TCA_STATS2")
            queue = stats.get("TCA_STATS_QUEUE") if stats is not None else None
            if queue is not None:
                return int(queue["drops"])
        return None


def _iproute(netns: str | None) -> Any:
    if netns is None:
        return AsyncIPRoute()
    sock = open_socket(netns, socket.AF_NETLINK, socket.SOCK_DGRAM)
    return AsyncIPRoute(fileno=sock.detach())
