"""The driver registry: discovers chip families and backends through entry points.

Families register under ``edge_agent.drivers`` (an entry point naming a module-level
``FAMILY``), backends under ``edge_agent.backends`` with the name ``<family>.<backend>``
(``nvidia.linux = "pkg.linux:BACKEND"``). A backend package therefore plugs into a
family without editing it, and the registry never imports a concrete family or backend.
A device's driver is a ChipDriver running its family's rules for its chipset, then the
backend's own rules, over the HardwareBackend the backend provider builds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from types import MappingProxyType
from typing import Any

from agent.clock import Clock
from agent.drivers.chip_driver import ChipDriver
from agent.drivers.config import DeviceConfig
from agent.drivers.errors import DriverUnavailable, UnknownBackend, UnknownChipset
from agent.drivers.family import DriverFamily
from agent.drivers.interface import BackendProvider, Driver, DriverFactory

FAMILY_GROUP = "edge_agent.drivers"
BACKEND_GROUP = "edge_agent.backends"
ENTRY_POINT_GROUP = FAMILY_GROUP


@dataclass(frozen=True)
class BackendEntry:
    """A backend registered for a family: ``<family>.<name>``."""

    family: str
    name: str
    provider: BackendProvider


@dataclass(frozen=True)
class Target:
    """One chipset of a family on one of its backends."""

    family: str
    chipset: str
    backend: str


@dataclass(frozen=True)
class BoundFactory:
    """Builds drivers for the chipsets of ``family`` on one backend."""

    family: DriverFamily
    backend: BackendEntry

    def __call__(self, config: DeviceConfig, clock: Clock) -> Driver:
        profile = self.family.profiles.get(config.chipset)
        if profile is None:
            raise UnknownChipset(config.chipset, self.family.chipsets)
        hardware = self.backend.provider.create(config, profile, clock)
        checks = self.family.checks[config.chipset] + self.backend.provider.checks
        return ChipDriver(config, checks, hardware, clock)


class DriverRegistry:
    """Installed driver families and their backends, indexed by the chipsets they serve."""

    def __init__(
        self,
        families: Iterable[DriverFamily],
        backends: Iterable[BackendEntry] = (),
        load_errors: Iterable[str] = (),
    ) -> None:
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
        known = {family.name for family in self._families}
        table: dict[str, dict[str, BackendEntry]] = {name: {} for name in known}
        for entry in backends:
            if entry.family not in known:
                self._load_errors.append(
                    f"backend {entry.family}.{entry.name} names no installed driver family "
                    f"(installed: {', '.join(sorted(known)) or 'none'})"
                )
            elif entry.name in table[entry.family]:
                self._load_errors.append(
                    f"backend {entry.family}.{entry.name} is registered twice; using the first"
                )
            else:
                table[entry.family][entry.name] = entry
        self._backends = MappingProxyType(
            {name: MappingProxyType(dict(sorted(found.items()))) for name, found in table.items()}
        )

    @classmethod
    def discover(
        cls, group: str = FAMILY_GROUP, backend_group: str = BACKEND_GROUP
    ) -> DriverRegistry:
        """Loads every family registered under ``group`` and every backend under
        ``backend_group``. A plugin that fails to load is skipped and described in
        ``load_errors``."""
        errors: list[str] = []
        families = [
            loaded
            for entry in _entries(group)
            if (loaded := _load(entry, errors, DriverFamily.__name__, _is_family)) is not None
        ]
        backends = []
        for entry in _entries(backend_group):
            family, _, name = entry.name.partition(".")
            if not family or not name or "." in name:
                errors.append(
                    f"backend plugin {entry.name} ({entry.value}) is not named <family>.<backend>"
                )
                continue
            provider = _load(entry, errors, "backend provider", _is_provider)
            if provider is not None:
                backends.append(BackendEntry(family, name, provider))
        return cls(families, backends, errors)

    @property
    def families(self) -> tuple[DriverFamily, ...]:
        return self._families

    @property
    def load_errors(self) -> tuple[str, ...]:
        """Why plugins were skipped (import errors, wrong type, names, conflicts)."""
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

    def backends(self, family: str) -> Mapping[str, BackendProvider]:
        """The backends registered for ``family``, by name (empty for an unknown family)."""
        found: Mapping[str, BackendEntry] = self._backends.get(family, {})
        return MappingProxyType({name: entry.provider for name, entry in found.items()})

    def targets(self) -> Iterator[Target]:
        """Every (family, chipset, backend) this registry can build a driver for."""
        for family in self._families:
            for chipset in family.chipsets:
                if self._by_chipset.get(chipset) is family:
                    for backend in self._backends[family.name]:
                        yield Target(family.name, chipset, backend)

    def factory(self, chipset: str, backend: str) -> DriverFactory:
        """The factory for ``chipset`` on ``backend``; raises DriverUnavailable."""
        family = self.family_for(chipset)
        entry = self._backends[family.name].get(backend)
        if entry is None:
            known = tuple(self._backends[family.name])
            raise UnknownBackend(chipset, family.name, backend, known)
        return BoundFactory(family, entry)

    def create(self, config: DeviceConfig, clock: Clock) -> Driver:
        """A new, not yet open driver for the device ``config`` describes. Creating it
        touches no hardware, and it validates before it is opened."""
        return self.factory(config.chipset, config.backend)(config, clock)


def _entries(group: str) -> list[EntryPoint]:
    unique = {(entry.name, entry.value): entry for entry in entry_points(group=group)}
    return [unique[key] for key in sorted(unique)]


def _is_family(loaded: Any) -> bool:
    return isinstance(loaded, DriverFamily)


def _is_provider(loaded: Any) -> bool:
    return callable(getattr(loaded, "create", None)) and isinstance(
        getattr(loaded, "checks", None), tuple
    )


def _load(entry: EntryPoint, errors: list[str], kind: str, accept: Callable[[Any], bool]) -> Any:
    try:
        loaded = entry.load()
    except Exception as error:  # a broken plugin must not take the others down
        errors.append(f"driver plugin {entry.name} ({entry.value}) failed to load: {error!r}")
        return None
    if not accept(loaded):
        errors.append(
            f"driver plugin {entry.name} ({entry.value}) is a {type(loaded).__name__}, not a {kind}"
        )
        return None
    return loaded


__all__ = [
    "BACKEND_GROUP",
    "ENTRY_POINT_GROUP",
    "FAMILY_GROUP",
    "BackendEntry",
    "BoundFactory",
    "DriverRegistry",
    "DriverUnavailable",
    "Target",
]
