"""Operational state as RFC 7951 subtrees: sample the drivers once, render the tree.

``StateReader.sample`` reads every driver in batched calls (one call per kind of record
per device, for all the ports and slices wanted); ``render_state`` turns a sample and the
running configuration into the configuration tree with a ``state`` container on every
entry. Telemetry can keep a sample and render it as often as it likes. The per-entity
renderers (``device_state``, ``port_state``, ``slice_state``, ``member_state``) are
re-exported here. Tenants need no driver reads: their state comes from the running
configuration and a ``TenantUsage`` provider (see ``mapping.tenants``).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Protocol

from agent.cancellation import checkpoint
from agent.drivers.capabilities import Capabilities
from agent.drivers.counters import PortCounters, SliceCounters
from agent.drivers.errors import DriverError
from agent.drivers.interface import CapabilityReporter, CounterReader
from agent.drivers.interface import StateReader as DriverStateReader
from agent.drivers.state import DeviceState, PortState, SliceState
from agent.mapping.model import PLATFORM, PORTS, SLICES, TENANTS, Entry, entries
from agent.mapping.oper_status import PortOperStatus, port_oper_status, unreported_port_status
from agent.mapping.platform import capabilities_state, device_state
from agent.mapping.ports import port_counters_state, port_state
from agent.mapping.slices import member_state, slice_counters_state, slice_state
from agent.mapping.tenants import NO_USAGE, TenantUsage, render_tenants

__all__ = [
    "ALL",
    "DeviceReading",
    "ReadableDriver",
    "Selection",
    "StateReader",
    "TenantUsage",
    "capabilities_state",
    "device_state",
    "member_state",
    "port_counters_state",
    "port_state",
    "render_state",
    "slice_counters_state",
    "slice_state",
]


class ReadableDriver(DriverStateReader, CounterReader, CapabilityReporter, Protocol):
    """The driver roles reading state needs."""


@dataclass(frozen=True, slots=True)
class Selection:
    """Which entities to read: a set of names per kind, None meaning all of them."""

    devices: frozenset[str] | None = None
    ports: frozenset[str] | None = None
    slices: frozenset[str] | None = None
    tenants: frozenset[str] | None = None

    @classmethod
    def only(
        cls,
        *,
        devices: Iterable[str] = (),
        ports: Iterable[str] = (),
        slices: Iterable[str] = (),
        tenants: Iterable[str] = (),
    ) -> Selection:
        """Exactly the named entities, nothing else."""
        return cls(frozenset(devices), frozenset(ports), frozenset(slices), frozenset(tenants))


ALL = Selection()
_EMPTY: Mapping[str, Any] = MappingProxyType({})


def _empty() -> Mapping[str, Any]:
    return _EMPTY


@dataclass(frozen=True, slots=True)
class DeviceReading:
    """What one device's driver reported in one sample.

    ``device`` is None when there is no driver; ``readable`` is False when the port and
    slice reads failed (``error`` says why) and the maps are then empty.
    """

    device: DeviceState | None
    capabilities: Capabilities | None = None
    ports: Mapping[str, PortState] = field(default_factory=_empty)
    counters: Mapping[str, PortCounters] = field(default_factory=_empty)
    slices: Mapping[str, SliceState] = field(default_factory=_empty)
    slice_counters: Mapping[str, SliceCounters] = field(default_factory=_empty)
    readable: bool = True
    error: str | None = None


_NO_DRIVER = DeviceReading(None, readable=False, error="no driver")


class StateReader:
    """Reads the state of the entities in a running tree from their devices' drivers.

    ``drivers`` (device name -> driver) is looked up on every read, so the owner may keep
    it current as devices come and go. A device without a driver reads as UNKNOWN; a
    driver whose reads fail (closed, unreachable) leaves its ports UNKNOWN. Not to be
    confused with the drivers' ``StateReader`` role, which this class consumes.
    ``usage`` supplies the tenants' runtime usage (default: zeros).
    """

    def __init__(
        self, drivers: Mapping[str, ReadableDriver], usage: TenantUsage | None = None
    ) -> None:
        self._drivers = drivers
        self._usage = usage or NO_USAGE

    def read(self, running: Entry, selection: Selection = ALL) -> dict[str, Any]:
        """The selected part of ``running`` with every entry's ``state`` filled in."""
        return self.render(running, self.sample(running, selection), selection)

    def render(
        self, running: Entry, readings: Mapping[str, DeviceReading], selection: Selection = ALL
    ) -> dict[str, Any]:
        """``render_state`` with this reader's tenant usage provider."""
        return render_state(running, readings, selection, self._usage)

    def sample(self, running: Entry, selection: Selection = ALL) -> Mapping[str, DeviceReading]:
        """Reads, per device, what rendering ``selection`` of ``running`` needs.

        A slice needs its member ports' states and its records on every device it spans.
        """
        port_entries = entries(running, PORTS, "port")
        device_of = {entry["name"]: _config(entry).get("device", "") for entry in port_entries}
        wanted_ports: dict[str, set[str]] = {}
        wanted_slices: dict[str, set[str]] = {}
        for entry in _chosen(port_entries, selection.ports):
            wanted_ports.setdefault(device_of[entry["name"]], set()).add(entry["name"])
        for entry in _chosen(entries(running, SLICES, "slice"), selection.slices):
            for member in entries(entry, "members", "member"):
                device = device_of.get(member["port"])
                if device is not None:
                    wanted_ports.setdefault(device, set()).add(member["port"])
                    wanted_slices.setdefault(device, set()).add(entry["name"])
        devices = {
            entry["name"]
            for entry in _chosen(entries(running, PLATFORM, "devices", "device"), selection.devices)
        }
        readings: dict[str, DeviceReading] = {}
        for name in sorted(devices | wanted_ports.keys() | wanted_slices.keys()):
            driver = self._drivers.get(name)
            readings[name] = (
                _NO_DRIVER
                if driver is None
                else _read_device(
                    driver,
                    sorted(wanted_ports.get(name, ())),
                    sorted(wanted_slices.get(name, ())),
                    with_capabilities=name in devices,
                )
            )
        return MappingProxyType(readings)


def render_state(
    running: Entry,
    readings: Mapping[str, DeviceReading],
    selection: Selection = ALL,
    usage: TenantUsage = NO_USAGE,
) -> dict[str, Any]:
    """The selected entries of ``running``, each with its ``state`` container rendered from
    ``readings`` (a device missing from it counts as having no driver); tenants' runtime
    figures come from ``usage``.

    Entries are shallow copies: the ``config`` containers are shared with ``running``.
    """
    tree: dict[str, Any] = {}
    devices = [
        {**entry, "state": _device(entry, readings.get(entry["name"], _NO_DRIVER))}
        for entry in _chosen(entries(running, PLATFORM, "devices", "device"), selection.devices)
    ]
    if devices:
        tree[PLATFORM] = {"devices": {"device": devices}}

    port_entries = entries(running, PORTS, "port")
    device_of = {entry["name"]: _config(entry).get("device", "") for entry in port_entries}
    ports = [
        {**entry, "state": _port(entry, readings.get(device_of[entry["name"]], _NO_DRIVER))}
        for entry in _chosen(port_entries, selection.ports)
    ]
    if ports:
        tree[PORTS] = {"port": ports}

    slices = [
        _slice(entry, readings, device_of)
        for entry in _chosen(entries(running, SLICES, "slice"), selection.slices)
    ]
    if slices:
        tree[SLICES] = {"slice": slices}

    tenants = render_tenants(running, selection.tenants, usage)
    if tenants:
        tree[TENANTS] = {"tenant": tenants}
    return tree


def _read_device(
    driver: ReadableDriver,
    ports: Collection[str],
    slices: Collection[str],
    *,
    with_capabilities: bool,
) -> DeviceReading:
    checkpoint()
    try:
        device: DeviceState | None = driver.read_device_state()
    except DriverError:
        device = None
    caps = None
    if with_capabilities:
        try:
            caps = driver.capabilities()
        except DriverError:
            caps = None
    try:
        return DeviceReading(
            device,
            caps,
            ports=driver.read_port_states(ports) if ports else _EMPTY,
            counters=driver.read_counters(ports) if ports else _EMPTY,
            slices=driver.read_slice_states(slices) if slices else _EMPTY,
            slice_counters=driver.read_slice_counters(slices) if slices else _EMPTY,
        )
    except DriverError as error:
        return DeviceReading(device, caps, readable=False, error=str(error))


def _chosen(items: Iterable[Entry], names: frozenset[str] | None) -> list[Entry]:
    if names is None:
        return list(items)
    return [entry for entry in items if entry["name"] in names]


def _config(entry: Entry) -> Entry:
    config: Entry = entry.get("config") or {}
    return config


def _device(entry: Entry, reading: DeviceReading) -> dict[str, Any]:
    return device_state(_config(entry), reading.device, reading.capabilities)


def _port_status(name: str, reading: DeviceReading) -> PortOperStatus:
    state = reading.ports.get(name)
    if state is None:
        return unreported_port_status(reading.device, readable=reading.readable)
    return port_oper_status(state)


def _port(entry: Entry, reading: DeviceReading) -> dict[str, Any]:
    name = entry["name"]
    state = reading.ports.get(name)
    return port_state(
        _config(entry),
        state,
        reading.counters.get(name),
        unreported=_port_status(name, reading),
    )


def _slice(
    entry: Entry, readings: Mapping[str, DeviceReading], device_of: Mapping[str, str]
) -> dict[str, Any]:
    name = entry["name"]
    members = entries(entry, "members", "member")
    spanned = [
        readings.get(device, _NO_DRIVER)
        for device in sorted({device_of.get(member["port"], "") for member in members})
    ]
    states = [r.slices[name] for r in spanned if name in r.slices]
    counters = [r.slice_counters[name] for r in spanned if name in r.slice_counters]
    complete = all(r.readable for r in spanned)
    out: dict[str, Any] = {
        **entry,
        "state": slice_state(_config(entry), states, counters if complete else None),
    }
    if members:
        out["members"] = {
            "member": [
                {
                    **member,
                    "state": member_state(
                        {"port": member["port"], **_config(member)},
                        _port_status(
                            member["port"],
                            readings.get(device_of.get(member["port"], ""), _NO_DRIVER),
                        ),
                    ),
                }
                for member in members
            ]
        }
    return out
