"""The linux backend on veth pairs in namespaces the tests create: kernel state read back
independently with ``ip -j`` and ``tc -j``."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest

from agent.clock import SystemClock
from agent.drivers import (
    DeviceConfig,
    DeviceIntent,
    DeviceOp,
    DeviceUnavailable,
    Driver,
    LinkEvent,
    OperStatus,
    PortConfig,
    PortOp,
    SliceConfig,
    SliceMember,
    SliceOp,
)
from agent.drivers.linux.children import child_name
from agent.drivers.registry import DriverRegistry

from .netns_lab import NetnsLab, htb_classes, ip, lab, udp_blast

__all__ = ["lab"]

GBPS = 1_000_000_000


@pytest.fixture
def nic(lab: NetnsLab) -> Iterator[tuple[NetnsLab, str, str, Driver]]:
    """A connectx-7 device on netns ``host`` with port p1 on veth ``va`` (peer ``vb`` up in
    ``peer``); yields (lab, host, peer, open driver)."""
    host, peer = lab.netns("host"), lab.netns("peer")
    lab.veth(host, "va", peer, "vb")
    device = DeviceConfig("nic1", "connectx-7", backend="linux", address=f"netns:{host}")
    driver = DriverRegistry.discover().create(device, SystemClock())
    driver.open()
    try:
        yield lab, host, peer, driver
    finally:
        driver.close()


def port(name: str = "p1", ifname: str | None = "va", **changes: object) -> PortConfig:
    base = PortConfig(name, "nic1", 1, speed_bps=10 * GBPS, fec="auto", interface_name=ifname)
    return replace(base, **changes)  # type: ignore[arg-type]


def problems(driver: Driver, *ops: PortOp | SliceOp) -> list[str]:
    return [str(p) for p in driver.validate(ops).problems]


def test_a_port_without_interface_name_is_refused(nic) -> None:
    _, _, _, driver = nic
    found = problems(driver, PortOp(None, port(ifname=None)))
    assert any(
        "port p1: has no interface-name" in p and "/ports/port/config/interface-name" in p
        for p in found
    ), found


def test_mtu_range_is_probed_and_an_mtu_above_it_is_refused(nic) -> None:
    lab, host, _, driver = nic
    kernel = lab.link(host, "va")
    limits = driver.capabilities().interface("va")
    assert limits is not None
    assert (limits.mtu_min, limits.mtu_max) == (kernel["min_mtu"], kernel["max_mtu"])
    above = kernel["max_mtu"] + 1
    found = problems(driver, PortOp(None, port(mtu=above)))
    assert any(
        p.startswith("port p1:") and f"mtu {above}" in p
        and f"{kernel['min_mtu']}..{kernel['max_mtu']}" in p and "[rule port-mtu]" in p
        for p in found
    ), found  # fmt: skip


def test_speed_fec_and_vfs_on_a_veth_are_refused_with_the_reason(nic) -> None:
    lab, host, _, driver = nic
    before = lab.kernel_dump(host)
    ops = (PortOp(None, port(speed_bps=25 * GBPS, fec="rs528", num_vfs=4)),)
    found = problems(driver, *ops)
    for text in (
        "port p1: speed 25G cannot be set on netdev va (veth): its driver offers no link modes",
        "port p1: fec rs528 cannot be set on netdev va (veth): its driver has no FEC control",
        "port p1: num-vfs 4 cannot be created on netdev va (veth)",
    ):
        assert any(p.startswith(text) for p in found), (text, found)
    with pytest.raises(Exception, match="speed 25G cannot be set"):
        driver.apply(ops)
    assert lab.kernel_dump(host) == before, "a refused batch touched the kernel"


def test_a_netdev_that_does_not_exist_is_refused(nic) -> None:
    _, host, _, driver = nic
    found = problems(driver, PortOp(None, port(ifname="nosuch0")))
    assert f"port p1: netdev nosuch0 does not exist in network namespace {host}" in found[0]


def test_mtu_and_admin_state_reach_the_kernel_and_deleting_gives_them_back(nic) -> None:
    lab, host, _, driver = nic
    found = lab.link(host, "va")
    p1 = port(mtu=2222)
    driver.reconcile(DeviceIntent.of(driver.config, [p1]))
    link = lab.link(host, "va")
    assert (link["mtu"], "UP" in link["flags"]) == (2222, True)
    assert driver.read_port_states(["p1"])["p1"].mtu == 2222
    driver.apply((PortOp(p1, replace(p1, enabled=False, mtu=1400)),))
    link = lab.link(host, "va")
    assert (link["mtu"], "UP" in link["flags"]) == (1400, False)
    driver.apply((PortOp(replace(p1, enabled=False, mtu=1400), None),))
    link = lab.link(host, "va")
    assert (link["mtu"], link["flags"]) == (found["mtu"], found["flags"])


def test_counters_come_from_stats64_and_the_ones_not_kept_are_absent(nic) -> None:
    lab, host, peer, driver = nic
    driver.reconcile(DeviceIntent.of(driver.config, [port()]))
    ip("-n", host, "addr", "add", "10.66.0.1/24", "dev", "va")
    ip("-n", peer, "addr", "add", "10.66.0.2/24", "dev", "vb")
    first = driver.read_counters(["p1"])["p1"]
    assert first.in_unicast_pkts is None and first.in_broadcast_pkts is None
    names = [leaf for leaf, _ in first.yang_items()]
    assert "in-unicast-pkts" not in names and "in-octets" in names
    sent = udp_blast(peer, "10.66.0.1", seconds=0.3, rate_bps=8_000_000)
    time.sleep(0.1)
    after = driver.read_counters(["p1"])["p1"]
    kernel = lab.link(host, "va")["stats64"]["rx"]
    assert after.in_octets is not None and first.in_octets is not None
    assert after.in_octets - first.in_octets >= sent  # payloads plus headers
    assert after.in_octets == kernel["bytes"] and after.in_pkts == kernel["packets"]


def test_a_peer_going_down_raises_a_link_event(nic) -> None:
    _, _, peer, driver = nic
    driver.reconcile(DeviceIntent.of(driver.config, [port()]))
    seen: list[LinkEvent] = []
    down = threading.Event()

    def listen(event: object) -> None:
        if isinstance(event, LinkEvent) and event.oper_status is OperStatus.DOWN:
            seen.append(event)
            down.set()

    driver.add_event_listener(listen)
    ip("-n", peer, "link", "set", "vb", "down")
    assert down.wait(5), "no link event"
    assert (seen[0].port, seen[0].reason) == ("p1", "no-peer")
    assert driver.read_port_states(["p1"])["p1"].oper_status is OperStatus.DOWN


def test_a_slice_member_becomes_a_shaped_child_that_holds_the_max_rate(nic) -> None:
    lab, host, peer, driver = nic
    p1 = port()
    peak, floor = 20_000_000, 5_000_000
    slice_ = SliceConfig(
        "embb", 100, min_rate_bps=floor, max_rate_bps=peak, members=(SliceMember("p1"),)
    )
    driver.reconcile(DeviceIntent.of(driver.config, [p1], [slice_]))
    child = child_name("embb", "p1")
    link = lab.link(host, child)
    assert link["linkinfo"]["info_kind"] == "macvlan"
    assert link["link"] == "va"  # its lower netdev
    classes = htb_classes(host, child)
    assert classes["1:1"] == {"rate": peak, "ceil": peak}
    assert classes["1:10"] == {"rate": floor, "ceil": peak}
    assert driver.read_slice_states(["embb"])["embb"].members_up == ("p1",)

    ip("-n", host, "addr", "add", "10.67.0.1/24", "dev", child)
    ip("-n", peer, "addr", "add", "10.67.0.2/24", "dev", "vb")
    sender = threading.Thread(target=udp_blast, args=(host, "10.67.0.2"), kwargs={"seconds": 4})
    sender.start()
    try:
        time.sleep(1.0)  # past HTB's initial burst
        start, t0 = lab.link(peer, "vb")["stats64"]["rx"]["bytes"], time.monotonic()
        time.sleep(2.5)
        end, t1 = lab.link(peer, "vb")["stats64"]["rx"]["bytes"], time.monotonic()
    finally:
        sender.join()
    rate = (end - start) * 8 / (t1 - t0)
    assert abs(rate - peak) <= peak * 0.10, (
        f"{rate / 1e6:.2f} Mbit/s through a {peak / 1e6} Mbit/s slice"
    )
    counters = driver.read_slice_counters(["embb"])["embb"]
    assert counters.out_octets >= end - start  # the slice's counters come from its child

    driver.apply((SliceOp(slice_, None),))
    assert child not in ip("-n", host, "-j", "link", "show")


def test_disabling_the_device_downs_its_ports_and_enabling_brings_them_back(nic) -> None:
    lab, host, _, driver = nic
    device = driver.config
    driver.reconcile(DeviceIntent.of(device, [port()]))
    off = replace(device, enabled=False)
    driver.apply((DeviceOp(device, off),))
    assert "UP" not in lab.link(host, "va")["flags"]
    state = driver.read_port_states(["p1"])["p1"]
    assert (state.oper_status, state.down_reason) == (OperStatus.DOWN, "device-down")
    driver.apply((DeviceOp(off, device),))
    assert "UP" in lab.link(host, "va")["flags"]


def test_an_address_that_is_not_a_namespace_is_refused(lab: NetnsLab) -> None:
    device = DeviceConfig("nic1", "connectx-7", backend="linux", address="pci:0000:03:00.0")
    driver = DriverRegistry.discover().create(device, SystemClock())
    found = [str(p) for p in driver.validate((PortOp(None, port()),)).problems]
    assert any(
        p.startswith("device nic1: address 'pci:0000:03:00.0' is not a network namespace")
        for p in found
    ), found
    with pytest.raises(DeviceUnavailable, match="is not a network namespace"):
        driver.open()


def test_a_namespace_that_does_not_exist_leaves_the_device_unavailable(lab: NetnsLab) -> None:
    device = DeviceConfig("nic1", "connectx-7", backend="linux", address=f"netns:no-{lab.tag}")
    driver = DriverRegistry.discover().create(device, SystemClock())
    with pytest.raises(DeviceUnavailable, match=f"cannot open network namespace no-{lab.tag}"):
        driver.open()
    assert driver.read_device_state().oper_status is OperStatus.DOWN
