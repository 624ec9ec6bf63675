"""Our route-netlink codec and sockets against this kernel: what they parse matches what
``ip -j`` reports, what they encode the kernel obeys, refusals carry the kernel's errno and
message, broken buffers raise MalformedMessage, and a monitor overrun is reported."""

from __future__ import annotations

import errno
import json
import socket
import struct
from collections.abc import Iterator

import pytest

from agent.clock import SystemClock
from agent.drivers.linux import rtnl
from agent.drivers.linux.link_sockets import LinkMonitor, LinkRequests
from agent.drivers.linux.netdevs import NetdevTable
from agent.drivers.linux.netlink import Netlink
from agent.drivers.linux.netns import open_socket

from .netns_lab import NetnsLab, ip, lab

__all__ = ["lab"]

# the counters of struct rtnl_link_stats64 as `ip -s -j` names them
_IP_STATS = {
    ("rx", "bytes"): "rx_bytes",
    ("rx", "packets"): "rx_packets",
    ("rx", "errors"): "rx_errors",
    ("rx", "dropped"): "rx_dropped",
    ("rx", "multicast"): "multicast",
    ("tx", "bytes"): "tx_bytes",
    ("tx", "packets"): "tx_packets",
    ("tx", "errors"): "tx_errors",
    ("tx", "dropped"): "tx_dropped",
}


@pytest.fixture
def pair(lab: NetnsLab) -> Iterator[tuple[NetnsLab, str]]:
    """Netns ``host`` with veths va (down) and vb (up) paired to each other, and lo up."""
    host = lab.netns("codec")
    ip("-n", host, "link", "add", "va", "type", "veth", "peer", "name", "vb")
    ip("-n", host, "link", "set", "vb", "mtu", "4000", "up")
    yield lab, host


def _requests(host: str) -> LinkRequests:
    return LinkRequests(host, timeout_s=5)


def test_a_dump_parses_into_what_ip_reports(pair: tuple[NetnsLab, str]) -> None:
    _, host = pair
    requests = _requests(host)
    try:
        ours = requests.links()
    finally:
        requests.close()
    shown = json.loads(ip("-n", host, "-j", "-s", "-d", "link", "show"))
    assert sorted(ours) == sorted(entry["ifname"] for entry in shown)
    for entry in shown:
        link = ours[entry["ifname"]]
        assert link.index == entry["ifindex"]
        assert link.mtu == entry["mtu"]
        # 0 is the kernel's "no limit": unknown to us
        assert link.min_mtu == (entry.get("min_mtu") or None)
        assert link.max_mtu == (entry.get("max_mtu") or None)
        assert link.admin_up == ("UP" in entry["flags"])
        assert link.operstate == entry["operstate"]
        assert link.tx_queue_len == entry["txqlen"]
        assert link.kind == entry.get("linkinfo", {}).get("info_kind")
        for (side, name), ours_name in _IP_STATS.items():
            assert link.stats[ours_name] == entry["stats64"][side][name], (link.name, name)
    va, vb = ours["va"], ours["vb"]
    assert (va.lower, vb.lower) == (vb.index, va.index)  # a veth's IFLA_LINK is its peer
    assert ours["lo"].kind is None and ours["lo"].min_mtu is None


def test_sets_reach_the_kernel_and_refusals_carry_its_errno_and_message(
    pair: tuple[NetnsLab, str],
) -> None:
    made, host = pair
    requests = _requests(host)
    try:
        va = requests.links()["va"]
        requests.set_link(va.index, mtu=2000, up=True)
        assert made.link(host, "va")["mtu"] == 2000
        assert "UP" in made.link(host, "va")["flags"]
        requests.set_link(va.index, up=False)  # the admin state alone; the MTU stays
        shown = made.link(host, "va")
        assert shown["mtu"] == 2000 and "UP" not in shown["flags"]
        with pytest.raises(rtnl.KernelRefused) as refused:
            requests.set_link(va.index, mtu=(va.max_mtu or 65535) + 1)
        assert refused.value.errno == errno.EINVAL
        assert "Invalid argument" in str(refused.value)
        assert refused.value.detail and "mtu" in refused.value.detail.lower()
        assert made.link(host, "va")["mtu"] == 2000  # a refused set changes nothing
        assert requests.link(10_000) is None  # ENODEV is "no such netdev", not an error
        with pytest.raises(rtnl.KernelRefused) as gone:
            requests.delete_link(10_000)
        assert gone.value.errno == errno.ENODEV
        child = requests.add_macvlan("mv0", va.index, 10)
        shown = made.link(host, "mv0")
        assert shown["ifindex"] == child and shown["linkinfo"]["info_kind"] == "macvlan"
        assert shown["linkinfo"]["info_data"]["mode"] == "bridge" and shown["txqlen"] == 10
        with pytest.raises(rtnl.KernelRefused) as taken:
            requests.add_macvlan("mv0", va.index, 10)
        assert taken.value.errno == errno.EEXIST
        requests.delete_link(child)
        assert "mv0" not in requests.links()
    finally:
        requests.close()


def test_encoded_requests_parse_back_field_by_field() -> None:
    message = rtnl.set_link(7, 42, mtu=9000, up=True)
    (parsed,) = list(rtnl.messages(memoryview(message)))
    assert (parsed.kind, parsed.seq) == (rtnl.RTM_NEWLINK, 7)
    assert parsed.flags == rtnl.NLM_F_REQUEST | rtnl.NLM_F_ACK
    family, _, index, flags, change = struct.unpack_from("=BxHiII", parsed.payload)
    assert (family, index, flags, change) == (0, 42, 1, 1)
    assert [(k, bytes(v)) for k, v in rtnl.attributes(parsed.payload, 16)] == [
        (rtnl.IFLA_MTU, struct.pack("=I", 9000))
    ]
    down = next(rtnl.messages(memoryview(rtnl.set_link(8, 42, up=False))))
    assert struct.unpack_from("=BxHiII", down.payload)[3:] == (0, 1)  # IFF_UP cleared
    mtu_only = next(rtnl.messages(memoryview(rtnl.set_link(9, 42, mtu=1500))))
    assert struct.unpack_from("=BxHiII", mtu_only.payload)[4] == 0  # flags untouched
    dump = next(rtnl.messages(memoryview(rtnl.get_links(3))))
    assert dump.flags == rtnl.NLM_F_REQUEST | rtnl.NLM_F_DUMP


def _raw_dump(host: str) -> bytes:
    sock = open_socket(host, socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
    try:
        sock.send(rtnl.get_links(1))
        return sock.recv(1 << 16)
    finally:
        sock.close()


def test_truncated_and_malformed_buffers_raise_a_clear_error(pair: tuple[NetnsLab, str]) -> None:
    _, host = pair
    datagram = _raw_dump(host)
    whole = list(rtnl.messages(memoryview(datagram)))
    assert rtnl.RTM_NEWLINK in [m.kind for m in whole]
    for message in whole:
        if message.kind == rtnl.RTM_NEWLINK:
            rtnl.link_of(message.payload)
    boundaries, offset = set(), 0
    for message in whole:
        offset += (16 + len(message.payload) + 3) & ~3
        boundaries.add(offset)
    for cut in range(1, len(datagram)):
        if cut in boundaries:
            continue  # whole messages: a shorter datagram, not a broken one
        try:
            for message in rtnl.messages(memoryview(datagram[:cut])):
                if message.kind == rtnl.RTM_NEWLINK:
                    rtnl.link_of(message.payload)
        except rtnl.MalformedMessage:
            continue
        pytest.fail(f"a datagram cut at {cut} of {len(datagram)} bytes parsed")
    first = whole[0].payload
    with pytest.raises(rtnl.MalformedMessage):
        rtnl.link_of(first[:10])  # shorter than struct ifinfomsg
    oversized = bytearray(first)
    struct.pack_into("=H", oversized, 16, 0xFFF0)  # the first attribute claims too much
    with pytest.raises(rtnl.MalformedMessage):
        rtnl.link_of(memoryview(bytes(oversized)))
    nameless = bytes(first[:16]) + rtnl.attribute(rtnl.IFLA_MTU, struct.pack("=I", 1500))
    with pytest.raises(rtnl.MalformedMessage, match="IFLA_IFNAME"):
        rtnl.link_of(memoryview(nameless))
    short_stats = (
        bytes(first[:16])
        + rtnl.attribute(rtnl.IFLA_IFNAME, b"x\0")
        + rtnl.attribute(rtnl.IFLA_STATS64, b"\0" * 16)
    )
    with pytest.raises(rtnl.MalformedMessage, match="IFLA_STATS64"):
        rtnl.link_of(memoryview(short_stats))
    with pytest.raises(rtnl.MalformedMessage):
        rtnl.error_of(rtnl.Message(rtnl.NLMSG_ERROR, 0, 1, 0, memoryview(b"\0\0")))


def test_the_monitor_sees_changes_and_reports_an_overrun(pair: tuple[NetnsLab, str]) -> None:
    _, host = pair
    monitor = LinkMonitor(host)
    requests = _requests(host)
    try:
        index = requests.links()["va"].index
        ip("-n", host, "link", "set", "va", "mtu", "3000")
        changes, overrun = monitor.drain()
        assert not overrun
        assert [c.mtu for c in changes if not isinstance(c, int) and c.name == "va"][-1] == 3000
        ip("-n", host, "link", "add", "gone", "type", "veth", "peer", "name", "gone-peer")
        ip("-n", host, "link", "del", "gone")
        changes, _ = monitor.drain()
        assert any(isinstance(c, int) for c in changes)  # RTM_DELLINK: the index
        # a receive buffer too small for a burst: the kernel drops events, and says so
        monitor._sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1)
        for mtu in range(1300, 1500):
            requests.set_link(index, mtu=mtu)
        changes, overrun = monitor.drain()
        assert overrun
        assert monitor.drain() == ([], False)  # the overrun is reported once
    finally:
        monitor.close()
        requests.close()


def test_after_an_overrun_the_netdev_table_reads_every_link_again(
    pair: tuple[NetnsLab, str],
) -> None:
    _, host = pair
    netlink = Netlink(host, timeout_s=5)
    netlink.open()
    changed: list[str] = []
    table = NetdevTable("test", SystemClock(), lambda name, _: changed.append(name))
    try:
        table.load(netlink)
        index = table.facts["va"].link.index
        netlink.monitor._sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1)
        for mtu in range(1300, 1500):
            netlink.requests.set_link(index, mtu=mtu)
        netlink.requests.set_link(index, up=True)
        table.drain(netlink)
        assert table.facts["va"].link.mtu == 1499
        assert table.facts["va"].link.admin_up
    finally:
        netlink.close()
