"""A small route-netlink codec for links: the messages the linux backend sends and reads.

Pure functions over bytes, from the kernel's UAPI (linux/netlink.h, linux/rtnetlink.h,
linux/if_link.h): a message is a ``struct nlmsghdr`` and a payload; a link payload is a
``struct ifinfomsg`` followed by attributes, each a 4-byte aligned (length, type, value)
TLV. Parsing goes straight into ``Link`` and skips the attributes it does not use without
building anything for them.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from types import MappingProxyType

from agent.drivers.linux.links import IFF_UP, Link

# message types and flags (linux/netlink.h, linux/rtnetlink.h)
NLMSG_NOOP = 1
NLMSG_ERROR = 2
NLMSG_DONE = 3
NLMSG_OVERRUN = 4
RTM_NEWLINK = 16
RTM_DELLINK = 17
RTM_GETLINK = 18
NLM_F_REQUEST = 0x1
NLM_F_MULTI = 0x2
NLM_F_ACK = 0x4
NLM_F_DUMP = 0x300
NLM_F_EXCL = 0x200
NLM_F_CREATE = 0x400
NLM_F_CAPPED = 0x100  # in an NLMSG_ERROR: only the request's header is echoed
NLM_F_ACK_TLVS = 0x200  # in an NLMSG_ERROR: extended-ack attributes follow
NLMSGERR_ATTR_MSG = 1
RTMGRP_LINK = 0x1
SOL_NETLINK = 270
NETLINK_CAP_ACK = 10
NETLINK_EXT_ACK = 11

# link attributes (linux/if_link.h)
IFLA_IFNAME = 3
IFLA_MTU = 4
IFLA_LINK = 5
IFLA_TXQLEN = 13
IFLA_OPERSTATE = 16
IFLA_LINKINFO = 18
IFLA_NUM_VF = 21
IFLA_STATS64 = 23
IFLA_CARRIER = 33
IFLA_MIN_MTU = 50
IFLA_MAX_MTU = 51
IFLA_PARENT_DEV_NAME = 56
IFLA_PARENT_DEV_BUS_NAME = 57
IFLA_INFO_KIND = 1
IFLA_INFO_DATA = 2
IFLA_MACVLAN_MODE = 1
MACVLAN_MODE_BRIDGE = 4
NLA_F_NESTED = 0x8000
NLA_TYPE_MASK = 0x3FFF

OPERSTATES = ("UNKNOWN", "NOTPRESENT", "DOWN", "LOWERLAYERDOWN", "TESTING", "DORMANT", "UP")
"""IF_OPER_* (RFC 2863 operstates) by value."""

STATS64_FIELDS = (
    "rx_packets", "tx_packets", "rx_bytes", "tx_bytes", "rx_errors", "tx_errors",
    "rx_dropped", "tx_dropped", "multicast", "collisions", "rx_length_errors",
    "rx_over_errors", "rx_crc_errors", "rx_frame_errors", "rx_fifo_errors",
    "rx_missed_errors", "tx_aborted_errors", "tx_carrier_errors", "tx_fifo_errors",
    "tx_heartbeat_errors", "tx_window_errors", "rx_compressed", "tx_compressed",
    "rx_nohandler", "rx_otherhost_dropped",
)  # fmt: skip
"""struct rtnl_link_stats64 in field order; older kernels send a prefix of it."""

_HEADER = struct.Struct("=IHHII")  # nlmsghdr: len, type, flags, seq, pid
_IFINFO = struct.Struct("=BxHiII")  # ifinfomsg: family, type, index, flags, change
_ATTR = struct.Struct("=HH")  # nlattr: len, type
_U32 = struct.Struct("=I")
_ERRNO = struct.Struct("=i")
_STATS64_MIN = 23  # the fields every kernel with IFLA_STATS64 sends


class MalformedMessage(ValueError):
    """A netlink buffer that does not hold what its headers say."""


class KernelRefused(OSError):
    """An NLMSG_ERROR answer: ``errno`` and ``strerror`` as the kernel gave them, plus its
    extended-ack message when it sent one."""

    def __init__(self, code: int, detail: str | None = None) -> None:
        text = os.strerror(code)
        super().__init__(code, f"{text} ({detail})" if detail else text)
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Message:
    """One netlink message: its header fields and its payload (a view into the buffer)."""

    kind: int
    flags: int
    seq: int
    pid: int
    payload: memoryview


# ------------------------------------------------------------------------ encoding


def _align(length: int) -> int:
    return (length + 3) & ~3


def attribute(kind: int, value: bytes) -> bytes:
    """One attribute, padded to 4 bytes."""
    length = _ATTR.size + len(value)
    return _ATTR.pack(length, kind) + value + b"\0" * (_align(length) - length)


def _message(kind: int, flags: int, seq: int, payload: bytes) -> bytes:
    return _HEADER.pack(_HEADER.size + len(payload), kind, flags, seq, 0) + payload


def get_links(seq: int) -> bytes:
    """RTM_GETLINK dump: every netdev of the namespace."""
    return _message(RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, seq, _IFINFO.pack(0, 0, 0, 0, 0))


def get_link(seq: int, index: int) -> bytes:
    """RTM_GETLINK of one netdev by index."""
    return _message(RTM_GETLINK, NLM_F_REQUEST, seq, _IFINFO.pack(0, 0, index, 0, 0))


def set_link(seq: int, index: int, *, mtu: int | None = None, up: bool | None = None) -> bytes:
    """RTM_NEWLINK changing an existing netdev: its MTU and/or its admin state
    (IFF_UP through ifi_flags with ifi_change), acknowledged."""
    flags = IFF_UP if up else 0
    change = IFF_UP if up is not None else 0
    payload = _IFINFO.pack(0, 0, index, flags, change)
    if mtu is not None:
        payload += attribute(IFLA_MTU, _U32.pack(mtu))
    return _message(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, seq, payload)


def add_macvlan(seq: int, name: str, lower: int, tx_queue_len: int) -> bytes:
    """RTM_NEWLINK creating a bridge-mode macvlan ``name`` on netdev ``lower`` (refused
    with EEXIST when the name is taken)."""
    data = attribute(IFLA_MACVLAN_MODE, _U32.pack(MACVLAN_MODE_BRIDGE))
    info = attribute(IFLA_INFO_KIND, b"macvlan\0") + attribute(IFLA_INFO_DATA | NLA_F_NESTED, data)
    payload = (
        _IFINFO.pack(0, 0, 0, 0, 0)
        + attribute(IFLA_IFNAME, name.encode() + b"\0")
        + attribute(IFLA_LINK, _U32.pack(lower))
        + attribute(IFLA_TXQLEN, _U32.pack(tx_queue_len))
        + attribute(IFLA_LINKINFO | NLA_F_NESTED, info)
    )
    flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL
    return _message(RTM_NEWLINK, flags, seq, payload)


def get_link_by_name(seq: int, name: str) -> bytes:
    """RTM_GETLINK of one netdev by name."""
    payload = _IFINFO.pack(0, 0, 0, 0, 0) + attribute(IFLA_IFNAME, name.encode() + b"\0")
    return _message(RTM_GETLINK, NLM_F_REQUEST, seq, payload)


def delete_link(seq: int, index: int) -> bytes:
    """RTM_DELLINK of one netdev by index, acknowledged."""
    return _message(RTM_DELLINK, NLM_F_REQUEST | NLM_F_ACK, seq, _IFINFO.pack(0, 0, index, 0, 0))


# ------------------------------------------------------------------------- parsing


def messages(buffer: memoryview) -> Iterator[Message]:
    """The messages of one received datagram, in order."""
    offset, end = 0, len(buffer)
    while end - offset >= _HEADER.size:
        length, kind, flags, seq, pid = _HEADER.unpack_from(buffer, offset)
        if length < _HEADER.size or offset + length > end:
            raise MalformedMessage(f"a message claims {length} bytes, {end - offset} are left")
        yield Message(kind, flags, seq, pid, buffer[offset + _HEADER.size : offset + length])
        offset += _align(length)
    if offset < end:
        raise MalformedMessage(f"{end - offset} bytes after the last message")


def attributes(data: memoryview, offset: int = 0) -> Iterator[tuple[int, memoryview]]:
    """(type, value) of each attribute in ``data`` from ``offset`` (flags masked off)."""
    end = len(data)
    while end - offset >= _ATTR.size:
        length, kind = _ATTR.unpack_from(data, offset)
        if length < _ATTR.size or offset + length > end:
            raise MalformedMessage(f"an attribute claims {length} bytes, {end - offset} are left")
        yield kind & NLA_TYPE_MASK, data[offset + _ATTR.size : offset + length]
        offset += _align(length)


def error_of(message: Message) -> KernelRefused | None:
    """The refusal an NLMSG_ERROR carries, or None when it is an ack (errno 0)."""
    payload = message.payload
    if len(payload) < _ERRNO.size + _HEADER.size:
        raise MalformedMessage(f"an error message of {len(payload)} bytes")
    (code,) = _ERRNO.unpack_from(payload)
    if code == 0:
        return None
    detail = None
    if message.flags & NLM_F_ACK_TLVS:
        echoed = _HEADER.unpack_from(payload, _ERRNO.size)[0]
        skip = _ERRNO.size + (_HEADER.size if message.flags & NLM_F_CAPPED else _align(echoed))
        for kind, value in attributes(payload, skip):
            if kind == NLMSGERR_ATTR_MSG:
                detail = _text(value)
    return KernelRefused(-code, detail)


_LINK_ATTRIBUTES = frozenset(
    {
        IFLA_IFNAME, IFLA_MTU, IFLA_LINK, IFLA_TXQLEN, IFLA_OPERSTATE, IFLA_LINKINFO,
        IFLA_NUM_VF, IFLA_STATS64, IFLA_CARRIER, IFLA_MIN_MTU, IFLA_MAX_MTU,
        IFLA_PARENT_DEV_NAME, IFLA_PARENT_DEV_BUS_NAME,
    }
)  # fmt: skip
"""The attributes ``link_of`` reads; every other one is skipped unread."""


def link_of(payload: memoryview) -> Link:
    """An RTM_NEWLINK payload as a Link."""
    if len(payload) < _IFINFO.size:
        raise MalformedMessage(f"a link message of {len(payload)} bytes")
    _, _, index, flags, _ = _IFINFO.unpack_from(payload)
    found = {a: v for a, v in attributes(payload, _IFINFO.size) if a in _LINK_ATTRIBUTES}
    name = found.get(IFLA_IFNAME)
    if name is None:
        raise MalformedMessage(f"link {index} without IFLA_IFNAME")
    info, stats = found.get(IFLA_LINKINFO), found.get(IFLA_STATS64)
    state = _byte(found, IFLA_OPERSTATE)
    return Link(
        index=index,
        name=_text(name),
        kind=_kind(info) if info is not None else None,
        mtu=_number(found, IFLA_MTU) or 0,
        min_mtu=_number(found, IFLA_MIN_MTU) or None,  # 0: the kernel's "no limit"
        max_mtu=_number(found, IFLA_MAX_MTU) or None,
        admin_up=bool(flags & IFF_UP),
        carrier=bool(_byte(found, IFLA_CARRIER)),
        operstate=OPERSTATES[state] if state < len(OPERSTATES) else "UNKNOWN",
        lower=_number(found, IFLA_LINK) or None,
        parent_bus=_string(found, IFLA_PARENT_DEV_BUS_NAME),
        parent_dev=_string(found, IFLA_PARENT_DEV_NAME),
        num_vfs=_number(found, IFLA_NUM_VF),
        tx_queue_len=_number(found, IFLA_TXQLEN) or 0,
        stats=_stats64(stats) if stats is not None else MappingProxyType({}),
    )


def _number(found: dict[int, memoryview], attr: int) -> int | None:
    value = found.get(attr)
    return _u32(value) if value is not None else None


def _byte(found: dict[int, memoryview], attr: int) -> int:
    value = found.get(attr)
    return value[0] if value is not None and len(value) else 0


def _string(found: dict[int, memoryview], attr: int) -> str | None:
    value = found.get(attr)
    return _text(value) if value is not None else None


def index_of(payload: memoryview) -> int:
    """The ifi_index of a link payload (all an RTM_DELLINK needs)."""
    if len(payload) < _IFINFO.size:
        raise MalformedMessage(f"a link message of {len(payload)} bytes")
    index: int = _IFINFO.unpack_from(payload)[2]
    return index


def _u32(value: memoryview) -> int:
    if len(value) < 4:
        raise MalformedMessage(f"a 32-bit attribute of {len(value)} bytes")
    number: int = _U32.unpack_from(value)[0]
    return number


def _text(value: memoryview) -> str:
    return bytes(value).split(b"\0", 1)[0].decode(errors="replace")


def _kind(info: memoryview) -> str | None:
    for attr, value in attributes(info):
        if attr == IFLA_INFO_KIND:
            return _text(value)
    return None


def _stats64(value: memoryview) -> MappingProxyType[str, int]:
    count = min(len(value) // 8, len(STATS64_FIELDS))
    if count < _STATS64_MIN:
        raise MalformedMessage(f"IFLA_STATS64 of {len(value)} bytes")
    numbers = struct.unpack_from(f"={count}Q", value)
    return MappingProxyType(dict(zip(STATS64_FIELDS, numbers, strict=False)))
