"""DriverFamily: what a chip-family plugin exports (profiles and rules per chipset)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from agent.drivers.capabilities import Capabilities
from agent.drivers.checks import Check


@dataclass(frozen=True)
class DriverFamily:
    """A driver family: the chipsets it serves, each with its profile and its rules.

    Each family module exposes one as the constant ``FAMILY``, registered under the
    entry-point group ``edge_agent.drivers``. The backends a family runs on register
    themselves separately (``edge_agent.backends``), so a new backend needs no change
    here.
    """

    name: str
    description: str
    chipsets: tuple[str, ...]
    profiles: Mapping[str, Capabilities]
    checks: Mapping[str, tuple[Check, ...]]

    def __post_init__(self) -> None:
        for what, table in (("profile", self.profiles), ("rules", self.checks)):
            missing = [chipset for chipset in self.chipsets if chipset not in table]
            if missing:
                raise ValueError(f"family {self.name}: no {what} for {', '.join(missing)}")


def build_family(
    name: str,
    description: str,
    profiles: Mapping[str, Capabilities],
    checks: Mapping[str, tuple[Check, ...]],
) -> DriverFamily:
    """A family serving every chipset of ``profiles``, with ``checks`` per chipset."""
    frozen_profiles = MappingProxyType(dict(profiles))
    return DriverFamily(
        name=name,
        description=description,
        chipsets=tuple(frozen_profiles),
        profiles=frozen_profiles,
        checks=MappingProxyType(dict(checks)),
    )
