"""Every (family, chipset, backend) the contract suite runs against, and a rig to drive one."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from agent.clock import FakeClock
from agent.drivers import Capabilities, DeviceConfig, DeviceIntent
from agent.drivers.interface import Driver, DriverFactory
from agent.drivers.mock import Simulator
from agent.drivers.registry import DriverRegistry


@dataclass(frozen=True)
class Target:
    """One chipset on one backend, built by ``factory``."""

    family: str
    chipset: str
    backend: str
    factory: DriverFactory
    caps: Capabilities

    @property
    def id(self) -> str:
        return f"{self.family}-{self.chipset}-{self.backend}"

    def device(self, **changes: Any) -> DeviceConfig:
        base = {"name": f"{self.chipset}-dut", "chipset": self.chipset, "backend": self.backend}
        base.update(changes)
        return DeviceConfig(**base)

    def rig(self, intent: DeviceIntent | None = None) -> Rig:
        """A fresh, open driver on a fake clock, reconciled to ``intent`` if given."""
        clock = FakeClock()
        driver = self.factory(self.device(), clock)
        driver.open()
        rig = Rig(self, driver, clock)
        if intent is not None:
            driver.reconcile(intent)
        return rig


@dataclass
class Rig:
    """A driver under test, its simulated hardware and its clock."""

    target: Target
    driver: Driver
    clock: FakeClock
    events: list[Any] = field(default_factory=list)

    @property
    def hw(self) -> Any:
        """The simulated hardware behind the driver (MockHardware or compatible)."""
        backend = getattr(self.driver, "backend", None)
        assert isinstance(backend, Simulator), "the contract suite needs a simulated backend"
        return backend

    def snapshot(self) -> Any:
        return self.hw.hw_snapshot()


def discover_targets() -> tuple[Target, ...]:
    """Every installed chipset with a mock backend."""
    registry = DriverRegistry.discover()
    assert not registry.load_errors, registry.load_errors
    return tuple(
        Target(
            t.family,
            t.chipset,
            t.backend,
            registry.factory(t.chipset, t.backend),
            registry.family_for(t.chipset).profiles[t.chipset],
        )
        for t in registry.targets()
        if t.backend == "mock"
    )


TARGETS: tuple[Target, ...] = discover_targets()
TARGET_IDS: tuple[str, ...] = tuple(target.chipset for target in TARGETS)
