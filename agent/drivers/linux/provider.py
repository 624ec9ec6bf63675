"""The linux backend as a backend plugin: ``nvidia.linux`` and ``intel.linux``."""

from __future__ import annotations

from dataclasses import dataclass

from agent.clock import Clock
from agent.drivers.capabilities import Capabilities
from agent.drivers.checks import Check
from agent.drivers.config import DeviceConfig
from agent.drivers.interface import HardwareBackend
from agent.drivers.linux.backend import LinuxBackend
from agent.drivers.linux.rules import LINUX_CHECKS


@dataclass(frozen=True)
class LinuxBackendProvider:
    """Builds a LinuxBackend: the device's netdevs in its network namespace."""

    description: str = "Linux netdevs over netlink (address netns:NAME, ports name netdevs)"
    checks: tuple[Check, ...] = LINUX_CHECKS

    def create(self, config: DeviceConfig, profile: Capabilities, clock: Clock) -> HardwareBackend:
        return LinuxBackend(config, profile, clock)


BACKEND = LinuxBackendProvider()
"""The provider the ``<family>.linux`` entry points name."""
