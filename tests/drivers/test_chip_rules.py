"""Chip facts each driver enforces: the right driver refuses, naming the port and the rule."""

from __future__ import annotations

import dataclasses

import pytest

from agent.clock import FakeClock
from agent.drivers import (
    DeviceConfig,
    DeviceOp,
    PortOp,
    Severity,
    SliceConfig,
    SliceMember,
    SliceOp,
    ValidationFailed,
)
from agent.drivers.capabilities import Capabilities, InterfaceLimits
from agent.drivers.checks import COMMON_CHECKS
from agent.drivers.chip_driver import ChipDriver
from agent.drivers.mock import MockHardware
from agent.drivers.nvidia.profiles import CONNECTX6

from .helpers import G, create, make_driver, messages, port, problems

# ------------------------------------------------------------- the five examples


def test_400g_is_refused_on_tofino1_and_accepted_on_tofino2() -> None:
    tofino1, _ = make_driver("tofino1")
    ops = create(port("eth1", speed_bps=400 * G))
    assert messages(tofino1, ops) == [
        "port eth1: speed 400G is not supported by tofino1 "
        "(supported: 1G, 10G, 25G, 40G, 50G, 100G) [rule port-speed] "
        "(refused op 0: port eth1 create, speed_bps)"
    ]
    tofino2, _ = make_driver("tofino2")
    assert tofino2.validate(ops).ok


def test_8x50g_breakout_is_refused_on_a_tofino1_qsfp28_cage() -> None:
    tofino1, _ = make_driver("tofino1")
    ops = create(port("eth5/0", 5, breakout="8x50G", speed_bps=50 * G))
    assert messages(tofino1, ops) == [
        "port eth5/0: breakout 8x50G needs 16 lanes of 25G; cage 5 (QSFP28, 4 lanes of 25G) "
        "has 4 (legal on tofino1: none, 1x100G, 1x40G, 2x50G, 4x25G, 4x10G) [rule breakout-mode] "
        "(refused op 0: port eth5/0 create, index, breakout)"
    ]
    tofino2, _ = make_driver("tofino2")
    assert tofino2.validate(ops).ok


def test_300_vfs_are_refused_on_e810() -> None:
    e810, _ = make_driver("e810")
    ops = create(port("pf0", num_vfs=300))
    assert messages(e810, ops) == [
        "port pf0: num-vfs 300 brings the device to 300 VFs (pf0 300); "
        "e810 allows 256 VFs per device [rule vf-limit] (refused op 0: port pf0 create, num_vfs)"
    ]
    assert e810.validate(create(port("pf0", num_vfs=256))).ok
    split = create(port("pf0", num_vfs=200), port("pf1", 2, num_vfs=100))
    assert {p.name for p in problems(e810, split)} == {"pf0", "pf1"}
    stratix, _ = make_driver("stratix10-dx")
    assert stratix.validate(ops).ok, "2048 VFs per endpoint on Stratix 10 DX"


def test_mtu_9500_is_refused_where_the_profile_says_9216() -> None:
    for chipset in ("tofino1", "tofino2", "ipu-e2000"):
        driver, _ = make_driver(chipset)
        ops = create(port("eth1", speed_bps=100 * G, mtu=9500))
        assert messages(driver, ops) == [
            f"port eth1: mtu 9500 is outside the range 64..9216 of {chipset} [rule port-mtu] "
            "(refused op 0: port eth1 create, mtu)"
        ]
        assert driver.validate(create(port("eth1", mtu=9216))).ok
    connectx, _ = make_driver("connectx-6")
    assert connectx.validate(create(port("eth1", mtu=9500))).ok


def test_guaranteed_rates_above_the_port_speed_are_refused() -> None:
    driver, _ = make_driver("tofino1")
    ops = (
        *create(port("eth1", breakout="2x50G", speed_bps=50 * G)),
        SliceOp(
            None, SliceConfig("embb", 100, min_rate_bps=30 * G, members=(SliceMember("eth1"),))
        ),
        SliceOp(None, SliceConfig("urllc", 200, members=(SliceMember("eth1", 25 * G),))),
    )
    assert messages(driver, ops) == [
        "port eth1: guaranteed rates add up to 55G (slice embb 30G, slice urllc 25G), above "
        "the port speed 50G [rule slice-guarantee] (refused op 0: port eth1 create, speed_bps)"
    ]
    fits = (
        *ops[:2],
        SliceOp(None, SliceConfig("urllc", 200, members=(SliceMember("eth1", 20 * G),))),
    )
    assert driver.validate(fits).ok


def test_disabled_slices_reserve_nothing() -> None:
    driver, _ = make_driver("tofino1")
    ops = (
        *create(port("eth1")),
        SliceOp(None, SliceConfig("a", 10, min_rate_bps=80 * G, members=(SliceMember("eth1"),))),
        SliceOp(
            None,
            SliceConfig(
                "b", 11, min_rate_bps=80 * G, enabled=False, members=(SliceMember("eth1"),)
            ),
        ),
    )
    assert driver.validate(ops).ok


# ------------------------------------------------------------------ chip quirks


def test_e810_refuses_lag_together_with_sr_iov_but_connectx_does_not() -> None:
    ops = create(port("pf0", lag_group="bond0"), port("pf1", 2, num_vfs=8))
    e810, _ = make_driver("e810")
    found = problems(e810, ops)
    assert {(p.name, p.rule) for p in found} == {
        ("pf0", "e810-lag-sriov"),
        ("pf1", "e810-lag-sriov"),
    }
    assert "pf0 (lag bond0)" in found[0].message and "pf1 (8 VFs)" in found[0].message
    connectx, _ = make_driver("connectx-6")
    assert connectx.validate(ops).ok


def test_e810_ports_must_fit_one_port_option() -> None:
    e810, _ = make_driver("e810")
    assert e810.validate(create(*(port(f"p{i}", i, speed_bps=25 * G) for i in (1, 2, 3, 4)))).ok
    assert e810.validate(create(*(port(f"p{i}", i, speed_bps=10 * G) for i in range(1, 9)))).ok
    mixed = create(port("p1", 1, speed_bps=100 * G), port("p3", 3, speed_bps=25 * G))
    assert {p.rule for p in problems(e810, mixed)} == {"port-option"}
    too_far = create(port("p5", 5, speed_bps=25 * G))
    assert messages(e810, too_far) == [
        "port p5: no port option of e810 (2x100G, 4x25G, 8x10G) allows port 5 at 25G "
        "[rule port-option] (refused op 0: port p5 create, index, speed_bps)"
    ]


@pytest.mark.parametrize("mode", ["dpu", "zero-trust", "nic"])
def test_bluefield_accepts_its_modes(mode: str) -> None:
    driver, _ = make_driver("bluefield-3")
    before = driver.config
    assert driver.validate((DeviceOp(before, dataclasses.replace(before, dpu_mode=mode)),)).ok


def test_dpu_mode_is_refused_off_bluefield_and_when_unknown() -> None:
    connectx, _ = make_driver("connectx-7")
    before = connectx.config
    assert messages(connectx, (DeviceOp(before, dataclasses.replace(before, dpu_mode="nic")),)) == [
        "device dut: dpu-mode nic is set but connectx-7 is not a DPU (only BlueField devices "
        "have a DPU mode) [rule dpu-mode] (refused op 0: device dut update, dpu_mode)"
    ]
    bluefield, _ = make_driver("bluefield-2")
    before = bluefield.config
    assert [
        p.rule
        for p in problems(
            bluefield, (DeviceOp(before, dataclasses.replace(before, dpu_mode="turbo")),)
        )
    ] == ["dpu-mode"]


def test_bluefield_mode_change_warns_of_a_restart() -> None:
    driver, _ = make_driver("bluefield-2")
    before = driver.config
    report = driver.validate((DeviceOp(before, dataclasses.replace(before, dpu_mode="nic")),))
    assert report.ok
    assert [(w.rule, w.severity) for w in report.warnings] == [
        ("bluefield-mode-change", Severity.WARNING)
    ]


def test_switches_have_no_vfs() -> None:
    driver, _ = make_driver("tofino2")
    assert messages(driver, create(port("eth1", num_vfs=4))) == [
        "port eth1: num-vfs 4 requested but tofino2 ports have no SR-IOV virtual functions "
        "[rule vf-unsupported] (refused op 0: port eth1 create, num_vfs)"
    ]


def test_connectx_limits_vfs_per_port() -> None:
    driver, _ = make_driver("connectx-6")
    assert driver.validate(create(port("p0", num_vfs=127), port("p1", 2, num_vfs=127))).ok
    assert [p.rule for p in problems(driver, create(port("p0", num_vfs=128)))] == ["vf-limit"]


def test_nics_cap_their_total_bandwidth() -> None:
    driver, _ = make_driver("connectx-7")
    assert driver.validate(
        create(port("p0", speed_bps=200 * G), port("p1", 2, speed_bps=200 * G))
    ).ok
    both = create(port("p0", speed_bps=400 * G), port("p1", 2, speed_bps=100 * G))
    assert {p.rule for p in problems(driver, both)} == {"device-bandwidth"}
    parked = (
        PortOp(None, port("p0", speed_bps=400 * G)),
        PortOp(None, port("p1", 2, speed_bps=100 * G, enabled=False)),
    )
    assert driver.validate(parked).ok


@pytest.mark.parametrize(
    ("chipset", "speed", "fec", "ok"),
    [
        ("tofino1", 100, "rs528", True),
        ("tofino1", 100, "rs544", False),
        ("tofino1", 40, "fc", True),
        ("tofino1", 25, "fc", False),
        ("tofino2", 100, "rs544", True),
        ("tofino2", 400, "none", False),
        ("connectx-6", 200, "rs528", False),
        ("stratix10-dx", 100, "fc", False),
    ],
)
def test_fec_must_suit_the_speed(chipset: str, speed: int, fec: str, ok: bool) -> None:
    driver, _ = make_driver(chipset)
    ops = create(port("eth1", speed_bps=speed * G, fec=fec))
    assert driver.validate(ops).ok is ok
    if not ok:
        assert [p.rule for p in problems(driver, ops)] == ["port-fec"]


def test_tofino_breakout_rules() -> None:
    driver, _ = make_driver("tofino1")
    wrong_channel = create(port("eth1/2", breakout="2x50G", channel=2, speed_bps=50 * G))
    assert [p.rule for p in problems(driver, wrong_channel)] == ["breakout-channel"]
    wrong_speed = create(port("eth1/0", breakout="4x25G", speed_bps=10 * G))
    assert [p.rule for p in problems(driver, wrong_speed)] == ["breakout-speed"]
    disagree = create(
        port("eth1/0", breakout="4x25G", speed_bps=25 * G),
        port("eth1/1", breakout="4x10G", channel=1, speed_bps=10 * G),
    )
    assert {(p.name, p.rule) for p in problems(driver, disagree)} == {
        ("eth1/0", "breakout-agreement"),
        ("eth1/1", "breakout-agreement"),
    }


def test_tofino_warns_that_a_breakout_change_rebuilds_the_cage() -> None:
    driver, _ = make_driver("tofino1")
    old = port("eth1", breakout="1x100G")
    driver.apply(create(old))
    new = dataclasses.replace(old, breakout="1x40G", speed_bps=40 * G)
    report = driver.validate((PortOp(old, new),))
    assert report.ok
    assert [w.rule for w in report.warnings] == ["tofino-layout-rebuild"]
    assert "1x100G -> 1x40G" in report.warnings[0].message


def test_every_problem_is_listed_and_apply_raises_them_all() -> None:
    driver, hw = make_driver("tofino1")
    start = hw.hw_snapshot()
    ops = create(
        port("a", speed_bps=400 * G),
        port("b", 2, mtu=9500),
        port("c", 66),
    )
    with pytest.raises(ValidationFailed) as refused:
        driver.apply(ops)
    assert [(p.name, p.rule) for p in refused.value.problems] == [
        ("c", "port-index"),
        ("a", "port-speed"),
        ("b", "port-mtu"),
    ]
    assert "3 problems" in str(refused.value)
    assert hw.hw_snapshot() == start


def test_the_device_keeps_its_identity() -> None:
    driver, _ = make_driver("tofino1")
    before = driver.config
    renamed = DeviceOp(before, DeviceConfig("other", "tofino1"))
    assert {p.rule for p in problems(driver, (renamed,))} == {"device-identity", "op-shape"}
    rechipped = DeviceOp(before, dataclasses.replace(before, chipset="tofino2"))
    assert "chipset cannot change from tofino1 to tofino2" in messages(driver, (rechipped,))[0]


# ------------------------------------------------------- probed host interfaces


class ProbedNic(MockHardware):
    """A ConnectX-6 whose backend probed two host interfaces."""

    def capabilities(self) -> Capabilities:
        return dataclasses.replace(
            super().capabilities(),
            interfaces=(
                InterfaceLimits("eth0", 68, 9000, speeds_bps=(25 * G,), max_vfs=4),
                InterfaceLimits("eth1", 68, 9500),
            ),
        )


def test_ports_are_held_to_their_host_interface_as_well_as_to_the_chip() -> None:
    config = DeviceConfig("dut", "connectx-6")
    hardware = ProbedNic(config, CONNECTX6, FakeClock())
    driver = ChipDriver(config, COMMON_CHECKS, hardware, FakeClock())
    eth0 = port("p0", speed_bps=25 * G, interface_name="eth0")
    assert driver.validate(create(eth0)).ok
    assert messages(driver, create(dataclasses.replace(eth0, mtu=9100))) == [
        "port p0: mtu 9100 is outside the range 68..9000 of interface eth0 [rule port-mtu] "
        "(refused op 0: port p0 create, mtu, interface_name)"
    ]
    assert messages(driver, create(dataclasses.replace(eth0, speed_bps=100 * G))) == [
        "port p0: speed 100G is not a link mode of interface eth0 (supported: 25G) "
        "[rule port-speed] (refused op 0: port p0 create, speed_bps, interface_name)"
    ]
    assert [p.rule for p in problems(driver, create(dataclasses.replace(eth0, num_vfs=5)))] == [
        "vf-limit"
    ]
    eth1 = port("p1", 2, speed_bps=100 * G, mtu=9000, num_vfs=100, interface_name="eth1")
    assert driver.validate(create(eth1)).ok, "eth1 names no speeds or VF limit: the chip's apply"
    unprobed = port("p2", 2, mtu=9978, interface_name="eth9")
    assert driver.validate(create(unprobed)).ok, "an interface nobody probed: the chip's limits"
