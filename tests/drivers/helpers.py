"""Small builders shared by the example-based driver tests."""

from __future__ import annotations

from typing import Any

from agent.clock import FakeClock
from agent.drivers import DeviceConfig, Op, PortConfig, PortOp, Problem
from agent.drivers.chip_driver import ChipDriver
from agent.drivers.mock import MockHardware
from agent.drivers.registry import DriverRegistry
from agent.drivers.units import GBPS

G = GBPS


def make_driver(
    chipset: str, name: str = "dut", clock: FakeClock | None = None, **device: Any
) -> tuple[ChipDriver, MockHardware]:
    """An open mock driver for ``chipset`` built through the registry."""
    config = DeviceConfig(name, chipset, **device)
    driver = DriverRegistry.discover().create(config, clock or FakeClock())
    assert isinstance(driver, ChipDriver)
    assert isinstance(driver.backend, MockHardware)
    driver.open()
    return driver, driver.backend


def port(name: str, index: int = 1, *, device: str = "dut", **values: Any) -> PortConfig:
    values.setdefault("speed_bps", 100 * G)
    values.setdefault("fec", "auto")
    return PortConfig(name, device, index, **values)


def create(*ports: PortConfig) -> tuple[Op, ...]:
    return tuple(PortOp(None, p) for p in ports)


def problems(driver: ChipDriver, ops: tuple[Op, ...]) -> list[Problem]:
    return list(driver.validate(ops).problems)


def messages(driver: ChipDriver, ops: tuple[Op, ...]) -> list[str]:
    return [str(problem) for problem in problems(driver, ops)]
