"""A commit's apply does not check again what its validate phase just passed, and
checks whatever it was not shown."""

from __future__ import annotations

import pytest

from agent.clock import FakeClock
from agent.drivers import ValidationFailed
from agent.drivers.checks import COMMON_CHECKS
from agent.drivers.checks.context import CheckContext
from agent.drivers.chip_driver import ChipDriver
from agent.drivers.config import DeviceConfig
from agent.drivers.mock import MockHardware
from agent.drivers.nvidia.profiles import CONNECTX6
from agent.drivers.problems import Problem

from .helpers import create, port


class Counted:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, ctx: CheckContext) -> list[Problem]:
        self.calls += 1
        return []


def driver_with(counted: Counted) -> tuple[ChipDriver, MockHardware]:
    config = DeviceConfig("dut", "connectx-6")
    hardware = MockHardware(config, CONNECTX6, FakeClock())
    driver = ChipDriver(config, (*COMMON_CHECKS, counted), hardware, FakeClock())
    driver.open()
    return driver, hardware


def test_apply_after_validate_checks_once() -> None:
    counted = Counted()
    driver, _ = driver_with(counted)
    ops = create(port("p0"))
    assert driver.validate(ops).ok and counted.calls == 1
    driver.apply(ops)
    assert counted.calls == 1


def test_apply_checks_ops_it_was_not_shown_and_refuses_bad_ones() -> None:
    counted = Counted()
    driver, hardware = driver_with(counted)
    driver.apply(create(port("p0")))  # no validate before: apply checks
    assert counted.calls == 1
    assert driver.validate(create(port("p1", 2))).ok
    driver.apply(create(port("p2", 2)))  # other ops than the validated ones
    assert counted.calls == 3
    before = hardware.hw_snapshot()
    bad = create(port("p3", 3, mtu=99_999))
    assert not driver.validate(bad).ok
    with pytest.raises(ValidationFailed):
        driver.apply(bad)
    assert hardware.hw_snapshot() == before
