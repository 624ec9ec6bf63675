"""What the contract suite runs against: a Target (one chipset on one backend) and the
Rig a target factory builds for it (an open driver, its clock, its backend's controls).

A backend joins the suite by supplying a target factory (see contract.DriverContract and
docs/adding-a-driver.md): a callable that takes a Target and returns a fresh, open Rig.
The mock's factory is ``mock_rig``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest

from agent.clock import Clock, FakeClock
from agent.drivers import Capabilities, DeviceConfig, DeviceIntent
from agent.drivers.interface import Driver, DriverFactory, HardwareBackend
from agent.drivers.mock.controls import HwSnapshotSource
from agent.drivers.registry import DriverRegistry

C = TypeVar("C")

TargetFactory = Callable[["Target"], "Rig"]
"""Builds a fresh, open Rig for a Target (the hook a backend's test module supplies)."""


@dataclass(frozen=True)
class Target:
    """One chipset of a family on one backend, and the factory that builds rigs for it.

    ``profile`` is the chip profile the family declares; the checks hold the driver to
    the capabilities its backend reports once open (``Rig.caps``).
    """

    family: str
    chipset: str
    backend: str
    profile: Capabilities
    factory: TargetFactory

    @property
    def id(self) -> str:
        return f"{self.family}-{self.chipset}-{self.backend}"

    def device(self, **changes: Any) -> DeviceConfig:
        """The device entry rigs of this target are made for."""
        base: dict[str, Any] = {
            "name": f"{self.chipset}-dut",
            "chipset": self.chipset,
            "backend": self.backend,
        }
        base.update(changes)
        return DeviceConfig(**base)

    def rig(self, intent: DeviceIntent | None = None) -> Rig:
        """A fresh, open rig, reconciled to ``intent`` if given."""
        rig = self.factory(self)
        if intent is not None:
            rig.driver.reconcile(intent)
        return rig


@dataclass
class Rig:
    """A driver under test, its clock, and the controls its backend offers tests (the
    roles of ``agent.drivers.mock.controls``; MockHardware offers them all)."""

    target: Target
    driver: Driver
    clock: Clock
    controls: object

    @property
    def device(self) -> DeviceConfig:
        return self.driver.config

    @property
    def caps(self) -> Capabilities:
        """What the backend reports it can do (probed, for a real backend)."""
        return self.driver.capabilities()

    def control(self, role: type[C]) -> C:
        """The backend's control for ``role``; skips the check when it offers none."""
        if not isinstance(self.controls, role):
            pytest.skip(f"backend {self.target.backend} offers no {role.__name__} control")
        return self.controls

    def fake_clock(self) -> FakeClock:
        """The rig's clock when tests drive it; skips the check otherwise."""
        if not isinstance(self.clock, FakeClock):
            pytest.skip(f"backend {self.target.backend} runs on a real clock")
        return self.clock

    @property
    def hardware(self) -> HardwareBackend:
        """The backend the driver programs (to program ops as they are, unvalidated)."""
        backend = getattr(self.driver, "backend", None)
        if backend is None:
            pytest.skip(f"the {self.target.backend} driver does not expose its backend")
        return backend  # type: ignore[no-any-return]

    def snapshot(self) -> Any:
        return self.control(HwSnapshotSource).hw_snapshot()


def driver_rig(factory: DriverFactory) -> TargetFactory:
    """A target factory over a DriverFactory whose backend is its own controls (as the
    mock is): a fresh driver for the target's device on a fake clock, opened."""

    def make(target: Target) -> Rig:
        clock = FakeClock()
        driver = factory(target.device(), clock)
        driver.open()
        return Rig(target, driver, clock, getattr(driver, "backend", None))

    return make


def mock_rig(target: Target) -> Rig:
    """The target factory of the mock backend, built through the registry."""
    factory = DriverRegistry.discover().factory(target.chipset, target.backend)
    return driver_rig(factory)(target)


def registered_targets(backend: str, factory: TargetFactory) -> tuple[Target, ...]:
    """A Target per installed chipset that ``backend`` is registered for."""
    registry = DriverRegistry.discover()
    assert not registry.load_errors, registry.load_errors
    return tuple(
        Target(
            t.family,
            t.chipset,
            t.backend,
            registry.family_for(t.chipset).profiles[t.chipset],
            factory,
        )
        for t in registry.targets()
        if t.backend == backend
    )
