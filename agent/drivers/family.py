"""DriverFamily: what a chip-family plugin exports, and the factory for its mock backend."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from agent.clock import Clock
from agent.drivers.capabilities import Capabilities
from agent.drivers.checks import Check
from agent.drivers.chip_driver import ChipDriver
from agent.drivers.config import DeviceConfig
from agent.drivers.errors import UnknownChipset
from agent.drivers.interface import Driver, DriverFactory
from agent.drivers.mock import MockHardware


@dataclass(frozen=True)
class DriverFamily:
    """A driver family: the chipsets it serves and a factory per backend name.

    Each family module exposes one as the constant ``FAMILY``, registered under the
    entry-point group ``edge_agent.drivers``.
    """

    name: str
    description: str
    chipsets: tuple[str, ...]
    backends: Mapping[str, DriverFactory]
    profiles: Mapping[str, Capabilities]

    def __post_init__(self) -> None:
        missing = [chipset for chipset in self.chipsets if chipset not in self.profiles]
        if missing:
            raise ValueError(f"family {self.name}: no profile for {', '.join(missing)}")


@dataclass(frozen=True)
class MockDriverFactory:
    """Builds a ChipDriver over MockHardware for any chipset in ``profiles``."""

    profiles: Mapping[str, Capabilities]
    checks: Mapping[str, tuple[Check, ...]]

    def __call__(self, config: DeviceConfig, clock: Clock) -> Driver:
        caps = self.profiles.get(config.chipset)
        if caps is None:
            raise UnknownChipset(config.chipset, tuple(self.profiles))
        backend = MockHardware(config, caps, clock)
        return ChipDriver(config, caps, self.checks[config.chipset], backend, clock)


def build_family(
    name: str,
    description: str,
    profiles: Mapping[str, Capabilities],
    checks: Mapping[str, tuple[Check, ...]],
) -> DriverFamily:
    """A family whose chipsets all run on the shared mock backend."""
    frozen_profiles = MappingProxyType(dict(profiles))
    mock = MockDriverFactory(frozen_profiles, MappingProxyType(dict(checks)))
    return DriverFamily(
        name=name,
        description=description,
        chipsets=tuple(frozen_profiles),
        backends=MappingProxyType({"mock": mock}),
        profiles=frozen_profiles,
    )
