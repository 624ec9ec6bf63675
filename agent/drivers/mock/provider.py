"""The mock backend as a backend plugin: every family registers it as ``<family>.mock``."""

from __future__ import annotations

from dataclasses import dataclass

from agent.clock import Clock
from agent.drivers.capabilities import Capabilities
from agent.drivers.checks import Check
from agent.drivers.config import DeviceConfig
from agent.drivers.interface import HardwareBackend
from agent.drivers.mock.hardware import MockHardware


@dataclass(frozen=True)
class MockBackendProvider:
    """Builds a MockHardware that enforces and reports the device's chip profile."""

    description: str = "simulated hardware holding the chip profile's limits"
    checks: tuple[Check, ...] = ()

    def create(self, config: DeviceConfig, profile: Capabilities, clock: Clock) -> HardwareBackend:
        return MockHardware(config, profile, clock)


BACKEND = MockBackendProvider()
"""The provider the ``<family>.mock`` entry points name."""
