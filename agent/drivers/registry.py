"""The driver registry: discovers chip families through entry points and creates drivers.

It never imports a concrete family; families register under ``edge_agent.drivers`` with
an entry point naming their module-level ``FAMILY`` constant.
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib.metadata import EntryPoint, entry_points

from agent.clock import Clock
from agent.drivers.config import DeviceConfig
from agent.drivers.errors import DriverUnavailable, UnknownBackend, UnknownChipset
from agent.drivers.family import DriverFamily
from agent.drivers.interface import Driver, DriverFactory

ENTRY_POINT_GROUP = "edge_agent.drivers"


class DriverRegistry:
    """Installed driver families, indexed by the chipsets they serve."""

    def __init__(self, families: Iterable[DriverFamily], load_errors: Iterable[str] = ()) -> None:
        self._families = tuple(sorted(families, key=lambda family: family.name))
        self._load_errors = list(load_errors)
        self._by_chipset: dict[str, DriverFamily] = {}
        for family in self._families:
            for chipset in family.chipsets:
                other = self._by_chipset.get(chipset)
                if other is not None:
                    self._load_errors.append(
                        f"chipset {chipset} is claimed by families {other.name} and "
                        f"{family.name}; using {other.name}"
                    )
                    continue
                self._by_chipset[chipset] = family

    @classmethod
    def discover(cls, group: str = ENTRY_POINT_GROUP) -> DriverRegistry:
        """Loads every family registered under the entry-point ``group``.

        A plugin that fails to load is skipped and described in ``load_errors``.
        """
        families: list[DriverFamily] = []
        errors: list[str] = []
        seen: set[tuple[str, str]] = set()
        for entry in sorted(entry_points(group=group), key=lambda e: (e.name, e.value)):
            if (entry.name, entry.value) in seen:
                continue
            seen.add((entry.name, entry.value))
            family = _load(entry, errors)
            if family is not None:
                families.append(family)
        return cls(families, errors)

    @property
    def families(self) -> tuple[DriverFamily, ...]:
        return self._families

    @property
    def load_errors(self) -> tuple[str, ...]:
        """Why plugins were skipped (import errors, wrong type, chipset conflicts)."""
        return tuple(self._load_errors)

    @property
    def chipsets(self) -> tuple[str, ...]:
        return tuple(sorted(self._by_chipset))

    def family_for(self, chipset: str) -> DriverFamily:
        """The family serving ``chipset``; raises UnknownChipset."""
        family = self._by_chipset.get(chipset)
        if family is None:
            raise UnknownChipset(chipset, self.chipsets)
        return family

    def factory(self, chipset: str, backend: str) -> DriverFactory:
        """The factory for ``chipset`` on ``backend``; raises DriverUnavailable."""
        family = self.family_for(chipset)
        factory = family.backends.get(backend)
        if factory is None:
            raise UnknownBackend(chipset, family.name, backend, tuple(sorted(family.backends)))
        return factory

    def create(self, config: DeviceConfig, clock: Clock) -> Driver:
        """A new (not yet open) driver for the device ``config`` describes."""
        return self.factory(config.chipset, config.backend)(config, clock)


def _load(entry: EntryPoint, errors: list[str]) -> DriverFamily | None:
    try:
        loaded = entry.load()
    except Exception as error:  # a broken plugin must not take the others down
        errors.append(f"driver plugin {entry.name} ({entry.value}) failed to load: {error!r}")
        return None
    if not isinstance(loaded, DriverFamily):
        errors.append(
            f"driver plugin {entry.name} ({entry.value}) is a {type(loaded).__name__}, "
            "not a DriverFamily"
        )
        return None
    return loaded


__all__ = ["ENTRY_POINT_GROUP", "DriverRegistry", "DriverUnavailable"]
