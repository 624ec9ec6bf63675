"""Behaviour of the shared mock backend beyond the contract: layouts, restarts, reads."""

from __future__ import annotations

import dataclasses

import pytest

from agent.clock import FakeClock
from agent.drivers import (
    DeviceEvent,
    DeviceOp,
    DeviceUnavailable,
    DownReason,
    LinkEvent,
    OperStatus,
    PortOp,
    SliceConfig,
    SliceMember,
    SliceOp,
    ValidationFailed,
    canonical_order,
)
from agent.drivers.mock import PortTraffic

from .helpers import G, create, make_driver, port


def _quad(device: str = "dut") -> list:
    return [
        port(f"eth1/{ch}", breakout="4x25G", channel=ch, speed_bps=25 * G, device=device)
        for ch in range(4)
    ]


def test_a_breakout_change_rebuilds_the_cage_and_flaps_every_channel() -> None:
    driver, hw = make_driver("tofino1")
    quad = _quad()
    driver.apply(create(*quad))
    assert hw.layout_rebuilds == 0
    events: list[object] = []
    driver.add_event_listener(events.append)
    pair = [port(f"eth1/{ch}", breakout="2x50G", channel=ch, speed_bps=50 * G) for ch in range(2)]
    ops = canonical_order(
        [
            PortOp(quad[0], pair[0]),
            PortOp(quad[1], pair[1]),
            PortOp(quad[2], None),
            PortOp(quad[3], None),
        ]
    )
    driver.apply(ops)
    assert hw.layout_rebuilds == 1
    assert [c.layout for c in hw.hw_snapshot().cages] == ["2x50G"]
    downs = {e.port for e in events if isinstance(e, LinkEvent) and not e.up}
    ups = [e.port for e in events if isinstance(e, LinkEvent) and e.up]
    assert downs == {"eth1/0", "eth1/1", "eth1/2", "eth1/3"}
    assert sorted(ups) == ["eth1/0", "eth1/1"]
    states = driver.read_port_states()
    assert all(s.oper_status is OperStatus.UP for s in states.values())


def test_a_channel_waits_for_its_cage_to_agree() -> None:
    driver, hw = make_driver("tofino1")
    quad = _quad()
    driver.apply(create(*quad))
    changed = dataclasses.replace(quad[0], breakout="4x10G", speed_bps=10 * G)
    hw.program(PortOp(quad[0], changed))  # the rest of the cage has not followed yet
    state = driver.read_port_states(["eth1/0", "eth1/1"])
    assert state["eth1/0"].down_reason is DownReason.LAYOUT_PENDING
    assert state["eth1/1"].oper_status is OperStatus.UP
    assert hw.layout_rebuilds == 0


def test_two_ports_on_one_channel_are_both_down() -> None:
    driver, hw = make_driver("tofino1")
    hw.program(PortOp(None, port("a")))
    hw.program(PortOp(None, port("b")))
    reasons = {n: s.down_reason for n, s in driver.read_port_states().items()}
    assert reasons == {"a": DownReason.LOCATION_CONFLICT, "b": DownReason.LOCATION_CONFLICT}
    hw.program(PortOp(port("b"), None))
    assert driver.read_port_states()["a"].oper_status is OperStatus.UP


def test_a_dpu_mode_change_restarts_the_bluefield() -> None:
    driver, hw = make_driver("bluefield-2")
    driver.apply(create(port("p0")))
    events: list[object] = []
    driver.add_event_listener(events.append)
    before = driver.config
    driver.apply((DeviceOp(before, dataclasses.replace(before, dpu_mode="zero-trust")),))
    assert hw.restarts == 1
    assert [type(e).__name__ + ":" + e.oper_status for e in events] == [
        "DeviceEvent:DOWN",
        "LinkEvent:DOWN",
        "DeviceEvent:UP",
        "LinkEvent:UP",
    ]
    assert driver.read_device_state().dpu_mode == "zero-trust"
    driver.apply((DeviceOp(dataclasses.replace(before, dpu_mode="zero-trust"), before),))
    assert driver.read_device_state().dpu_mode == "dpu", "dpu is the default mode"


def test_disabling_the_device_takes_every_link_down() -> None:
    driver, _ = make_driver("tofino2")
    driver.apply(create(port("a"), port("b", 2)))
    before = driver.config
    driver.apply((DeviceOp(before, dataclasses.replace(before, enabled=False)),))
    assert driver.read_device_state().oper_status is OperStatus.DOWN
    assert {s.down_reason for s in driver.read_port_states().values()} == {DownReason.DEVICE_DOWN}


def test_the_device_entry_can_only_go_once_it_is_empty() -> None:
    driver, hw = make_driver("tofino1")
    driver.apply(create(port("a")))
    with pytest.raises(ValidationFailed, match="device-removal"):
        driver.apply((DeviceOp(driver.config, None),))
    driver.apply((PortOp(port("a"), None), DeviceOp(driver.config, None)))
    assert hw.hw_snapshot().device.configured is False
    assert driver.read_device_state().oper_status is OperStatus.DOWN


def test_a_closed_driver_refuses_work_and_reports_down() -> None:
    driver, _ = make_driver("connectx-6")
    driver.close()
    driver.close()
    assert not driver.is_open
    with pytest.raises(DeviceUnavailable, match="not open"):
        driver.apply(create(port("p0")))
    with pytest.raises(DeviceUnavailable):
        driver.read_counters()
    assert driver.read_device_state().oper_status is OperStatus.DOWN
    assert driver.validate(create(port("p0"))).ok, "validation needs no device"
    driver.open()
    driver.open()
    driver.apply(create(port("p0")))


def test_reads_are_batched_and_skip_unknown_names() -> None:
    driver, _ = make_driver("tofino2")
    driver.apply(create(port("a"), port("b", 2), port("c", 3)))
    assert list(driver.read_port_states()) == ["a", "b", "c"]
    assert list(driver.read_port_states(["c", "zz", "a"])) == ["c", "a"]
    assert list(driver.read_counters(["b", "zz"])) == ["b"]
    assert driver.read_slice_states(["nothing"]) == {}


def test_auto_fec_resolves_to_the_speed_default() -> None:
    driver, hw = make_driver("tofino2")
    driver.apply(create(port("a", speed_bps=400 * G), port("b", 2, speed_bps=40 * G)))
    states = driver.read_port_states()
    assert (states["a"].fec, states["b"].fec) == ("rs544", "none")
    assert [p.fec_active for p in hw.hw_snapshot().ports] == ["rs544", "none"]


def test_slice_programming_installs_vlan_membership_and_rate_limiters() -> None:
    driver, hw = make_driver("tofino1")
    driver.apply(create(port("a"), port("b", 2)))
    slice_ = SliceConfig(
        "embb", 100, min_rate_bps=10 * G, max_rate_bps=40 * G, priority=3,
        members=(SliceMember("a"), SliceMember("b", 20 * G)),
    )  # fmt: skip
    driver.apply((SliceOp(None, slice_),))
    snap = hw.hw_snapshot()
    assert [(v.vlan_id, v.port) for v in snap.vlans] == [(100, "a"), (100, "b")]
    assert [(r.port, r.cir_bps, r.pir_bps, r.priority) for r in snap.rate_limiters] == [
        ("a", 10 * G, 40 * G, 3),
        ("b", 20 * G, 40 * G, 3),
    ]
    state = driver.read_slice_states()["embb"]
    assert (state.oper_status, state.members_up) == (OperStatus.UP, ("a", "b"))
    off = dataclasses.replace(slice_, enabled=False)
    driver.apply((SliceOp(slice_, off),))
    snap = hw.hw_snapshot()
    assert (snap.vlans, snap.rate_limiters) == ((), ())
    assert [s.enabled for s in snap.slices] == [False]
    assert driver.read_slice_states()["embb"].oper_status is OperStatus.DOWN


def test_slice_counters_stop_when_its_members_go_down() -> None:
    clock = FakeClock()
    driver, hw = make_driver("tofino1", clock=clock)
    driver.apply(create(port("a")))
    driver.apply((SliceOp(None, SliceConfig("s", 5, members=(SliceMember("a"),))),))
    hw.set_slice_traffic("s", bps=8_000, pps=10)
    clock.advance(1)
    hw.pull_cable("a")
    clock.advance(1)
    counters = driver.read_slice_counters(["s"])["s"]
    assert (counters.in_octets, counters.in_pkts, counters.drops) == (1000, 10, 0)


def test_a_recreated_port_starts_its_counters_from_zero() -> None:
    clock = FakeClock()
    driver, hw = make_driver("tofino1", clock=clock)
    driver.apply(create(port("a")))
    hw.set_traffic("a", bps=8 * G, pps=1000)
    clock.advance(1)
    assert driver.read_counters()["a"].in_octets == G
    driver.apply((PortOp(port("a"), None),))
    driver.apply(create(port("a")))
    assert driver.read_counters()["a"].in_octets == 0
    clock.advance(1)
    assert driver.read_counters()["a"].in_octets == G, "offered traffic outlives the port"


def test_port_traffic_refuses_inconsistent_figures() -> None:
    with pytest.raises(ValueError, match="multicast"):
        PortTraffic(in_pps=10, in_multicast_pps=8, in_broadcast_pps=8)
    with pytest.raises(ValueError, match="negative"):
        PortTraffic(in_bps=-1)


def test_a_failing_listener_does_not_stop_the_others() -> None:
    driver, _ = make_driver("tofino1")
    seen: list[object] = []

    def broken(event: object) -> None:
        raise RuntimeError("listener bug")

    driver.add_event_listener(broken)
    driver.add_event_listener(seen.append)
    driver.apply(create(port("a")))
    assert [type(e) for e in seen] == [LinkEvent]


def test_degraded_after_a_partial_failure_until_the_undo() -> None:
    driver, hw = make_driver("tofino1")
    events: list[object] = []
    driver.add_event_listener(events.append)
    hw.fail_operation(1)
    ops = create(port("a"), port("b", 2))
    with pytest.raises(Exception, match="op 1"):
        driver.apply(ops)
    assert driver.read_device_state().oper_status is OperStatus.DEGRADED
    assert isinstance(events[-1], DeviceEvent) and events[-1].oper_status is OperStatus.DEGRADED
    driver.apply((ops[0].inverse(),))
    assert driver.read_device_state().oper_status is OperStatus.UP


def test_capabilities_report_the_running_sdk() -> None:
    driver, _ = make_driver("tofino1")
    caps = driver.capabilities()
    assert caps.sdk_version.startswith("Intel P4 Studio SDE")
    assert (caps.port_count, caps.mtu_max, caps.vf_limit) == (65, 9216, 0)
    assert caps.cage(1) is not None and "4x25G" in caps.cage(1).breakouts  # type: ignore[union-attr]
    assert len(caps.counters) == 12 and "in-fcs-errors" in caps.counters
    assert caps.min_sample_interval_ns > 0


def test_open_fails_cleanly_on_an_unreachable_device_and_can_be_retried() -> None:
    driver, hw = make_driver("stratix10-dx")
    driver.close()
    hw.set_available(False)
    with pytest.raises(DeviceUnavailable, match="no response"):
        driver.open()
    assert not driver.is_open
    hw.set_available(True)
    driver.open()
    assert driver.read_device_state().oper_status is OperStatus.UP
