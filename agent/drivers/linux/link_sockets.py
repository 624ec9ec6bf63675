"""Route-netlink sockets for links, on our own codec (``rtnl``).

``LinkRequests`` is a blocking socket used straight from the calling thread: one request
at a time under a lock, answers matched by sequence number, acks checked. ``LinkMonitor``
is a non-blocking socket in the RTNLGRP_LINK group, drained by whoever watches its file
descriptor; an overrun (ENOBUFS: the kernel dropped events) is reported so the caller can
read every link again instead of losing a change.
"""

from __future__ import annotations

import errno
import itertools
import socket
import threading
from collections.abc import Callable
from typing import TypeVar

from agent.drivers.linux import rtnl
from agent.drivers.linux.links import Link
from agent.drivers.linux.netns import open_socket

T = TypeVar("T")

_BUFFER = 1 << 16  # the kernel fills a dump datagram up to 32 KiB
_MONITOR_RCVBUF = 4 << 20  # room for a burst of events (thousands of links changing)
_SO_RCVBUFFORCE = 33
_DUMP_INTR = 0x10  # NLM_F_DUMP_INTR: the table changed during the dump
_DUMP_TRIES = 5


def _route_socket(netns: str | None) -> socket.socket:
    sock = open_socket(netns, socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
    try:
        sock.setsockopt(rtnl.SOL_NETLINK, rtnl.NETLINK_EXT_ACK, 1)
        sock.setsockopt(rtnl.SOL_NETLINK, rtnl.NETLINK_CAP_ACK, 1)
    except OSError:
        pass  # an old kernel: plain errno acks
    return sock


def _receive(sock: socket.socket, buffer: bytearray) -> memoryview:
    size = sock.recv_into(buffer, 0, socket.MSG_TRUNC)
    if size > len(buffer):
        raise rtnl.MalformedMessage(f"a datagram of {size} bytes overflowed the buffer")
    return memoryview(buffer)[:size]


class LinkRequests:
    """Link requests in one network namespace, answered on the calling thread."""

    def __init__(self, netns: str | None, timeout_s: float) -> None:
        self._sock = _route_socket(netns)
        self._sock.bind((0, 0))
        self._sock.settimeout(timeout_s)
        self._lock = threading.Lock()
        self._seq = itertools.count(1)
        self._buffer = bytearray(_BUFFER)

    def close(self) -> None:
        self._sock.close()

    def links(self) -> dict[str, Link]:
        """Every netdev of the namespace, by name (a consistent dump)."""
        for _ in range(_DUMP_TRIES):
            found, interrupted = self._dump()
            if not interrupted:
                break
        return {link.name: link for link in found}

    def link(self, index: int) -> Link | None:
        """One netdev by index, or None when it does not exist."""
        return self._one(lambda seq: rtnl.get_link(seq, index))

    def index(self, name: str) -> int | None:
        """The index of netdev ``name``, or None."""
        found = self._one(lambda seq: rtnl.get_link_by_name(seq, name))
        return found.index if found is not None else None

    def _one(self, build: Callable[[int], bytes]) -> Link | None:
        try:
            found = self._ask(build, _link)
        except rtnl.KernelRefused as error:
            if error.errno == errno.ENODEV:
                return None
            raise
        return found[0] if found else None

    def set_link(self, index: int, *, mtu: int | None = None, up: bool | None = None) -> None:
        """Sets the MTU and/or the admin state of a netdev in one request."""
        self._ask(lambda seq: rtnl.set_link(seq, index, mtu=mtu, up=up), _link)

    def add_macvlan(self, name: str, lower: int, tx_queue_len: int) -> int:
        """Creates a bridge-mode macvlan on ``lower``; its index."""
        self._ask(lambda seq: rtnl.add_macvlan(seq, name, lower, tx_queue_len), _link)
        index = self.index(name)
        if index is None:
            raise rtnl.KernelRefused(errno.ENODEV, f"{name} vanished after it was created")
        return index

    def delete_link(self, index: int) -> None:
        self._ask(lambda seq: rtnl.delete_link(seq, index), _link)

    def _dump(self) -> tuple[list[Link], bool]:
        interrupted = False

        def parse(message: rtnl.Message) -> Link:
            nonlocal interrupted
            interrupted = interrupted or bool(message.flags & _DUMP_INTR)
            return rtnl.link_of(message.payload)

        found = self._ask(rtnl.get_links, parse, dump=True)
        return found, interrupted

    def _ask(
        self,
        build: Callable[[int], bytes],
        parse: Callable[[rtnl.Message], T],
        *,
        dump: bool = False,
    ) -> list[T]:
        """Sends one request and reads its answer: the parsed RTM_NEWLINK replies, up to
        NLMSG_DONE (a dump), an ack, or the first reply of a get. Raises KernelRefused."""
        with self._lock:
            seq = next(self._seq)
            self._sock.send(build(seq))
            replies: list[T] = []
            while True:
                for message in rtnl.messages(_receive(self._sock, self._buffer)):
                    if message.seq != seq:
                        continue  # a late answer to a request that timed out
                    if message.kind == rtnl.NLMSG_ERROR:
                        refusal = rtnl.error_of(message)
                        if refusal is not None:
                            raise refusal
                        return replies
                    if message.kind == rtnl.NLMSG_DONE:
                        return replies
                    if message.kind == rtnl.RTM_NEWLINK:
                        replies.append(parse(message))
                if replies and not dump:
                    return replies


def _link(message: rtnl.Message) -> Link:
    return rtnl.link_of(message.payload)


LinkChange = Link | int
"""What the monitor saw: a Link (RTM_NEWLINK) or the index of a netdev that went."""


class LinkMonitor:
    """A non-blocking RTNLGRP_LINK listener in one network namespace."""

    def __init__(self, netns: str | None) -> None:
        sock = _route_socket(netns)
        try:
            try:
                sock.setsockopt(socket.SOL_SOCKET, _SO_RCVBUFFORCE, _MONITOR_RCVBUF)
            except OSError:  # without CAP_NET_ADMIN: as much as rmem_max allows
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, _MONITOR_RCVBUF)
            sock.bind((0, rtnl.RTMGRP_LINK))
            sock.setblocking(False)
        except BaseException:
            sock.close()
            raise
        self._sock = sock
        self._buffer = bytearray(_BUFFER)

    def fileno(self) -> int:
        return self._sock.fileno()

    def close(self) -> None:
        self._sock.close()

    def drain(self) -> tuple[list[LinkChange], bool]:
        """Everything queued now, and whether the kernel dropped events (then the caller
        must read every link again)."""
        changes: list[LinkChange] = []
        overrun = False
        while True:
            try:
                view = _receive(self._sock, self._buffer)
            except BlockingIOError:
                return changes, overrun
            except OSError as error:
                if error.errno != errno.ENOBUFS:
                    raise
                overrun = True
                continue
            for message in rtnl.messages(view):
                if message.kind == rtnl.RTM_NEWLINK:
                    changes.append(rtnl.link_of(message.payload))
                elif message.kind == rtnl.RTM_DELLINK:
                    changes.append(rtnl.index_of(message.payload))
