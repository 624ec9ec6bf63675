"""Operational state: sample the drivers once, then typed containers or an RFC 7951 tree.

``StateReader.sample`` reads every driver in batched calls (one call per kind of record
per device, for all the ports and slices wanted). ``entity_states`` turns a sample and the
running configuration into typed containers, one ``EntityState`` per device, port, slice
and tenant: counters stay ints, nothing is rendered as text. Telemetry puts them straight
into its cache; ``render_state`` nests the same containers into the configuration tree
(a ``state`` container on every entry, counter64 as strings) for Get and NETCONF. The
per-entity renderers (``device_state``, ``port_state``, ``slice_state``, ``member_state``)
are re-exported here. Tenants need no driver reads: their state comes from the running
configuration and a ``TenantUsage`` provider (see ``mapping.tenants``).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from types import MappingProxyType
from typing import Any, Final, NamedTuple, Protocol

from agent.cancellation import checkpoint
from agent.drivers.capabilities import Capabilities
from agent.drivers.counters import (
    PORT_COUNTER_FIELDS,
    PORT_COUNTER_LEAVES,
    SLICE_COUNTER_FIELDS,
    SLICE_COUNTER_LEAVES,
    PortCounters,
    SliceCounters,
)
from agent.drivers.errors import DriverError
from agent.drivers.interface import CapabilityReporter, CounterReader
from agent.drivers.interface import StateReader as DriverStateReader
from agent.drivers.state import DeviceState, PortState, SliceState
from agent.mapping.model import PLATFORM, PORTS, SLICES, TENANTS, Entry, entries
from agent.mapping.oper_status import PortOperStatus, port_oper_status, unreported_port_status
from agent.mapping.platform import capabilities_state, device_state
from agent.mapping.ports import port_state
from agent.mapping.slices import member_state, slice_state
from agent.mapping.tenants import (
    NO_ALLOCATION,
    NO_USAGE,
    TenantUsage,
    allocations,
    tenant_state,
)

__all__ = [
    "ALL",
    "CAPABILITIES",
    "COUNTERS",
    "STATE",
    "Container",
    "DeviceReading",
    "EntityKind",
    "EntityState",
    "Location",
    "ReadableDriver",
    "Selection",
    "StateReader",
    "TenantUsage",
    "capabilities_state",
    "device_state",
    "entity_states",
    "member_state",
    "port_state",
    "render_state",
    "slice_state",
]


class ReadableDriver(DriverStateReader, CounterReader, CapabilityReporter, Protocol):
    """The driver roles reading state needs."""


@dataclass(frozen=True, slots=True)
class Selection:
    """Which entities to read: a set of names per kind, None meaning all of them.

    ``counters_only``: read and report only the counters of the selected ports and slices
    (what a subscription to counters needs), not their status or the devices.
    """

    devices: frozenset[str] | None = None
    ports: frozenset[str] | None = None
    slices: frozenset[str] | None = None
    tenants: frozenset[str] | None = None
    counters_only: bool = False

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

    ``device`` is None when there is no driver (or the selection did not ask for it);
    ``readable`` is False when the port and slice reads failed (``error`` says why) and
    the maps are then empty.
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

# --- typed state ----------------------------------------------------------------------------

Keys = tuple[tuple[str, str], ...]
Location = tuple[tuple[str, Keys], ...]
"""Where a container is below its list entry: (name, keys) per element."""
Container = tuple[Location, dict[str, Any]]
"""A container's location and its leaves (typed: integers as ints)."""

STATE: Final[Location] = (("state", ()),)
COUNTERS: Final[Location] = (("state", ()), ("counters", ()))
CAPABILITIES: Final[Location] = (("state", ()), ("capabilities", ()))


class EntityKind:
    """The list entries state is reported for (the list names of the model)."""

    DEVICE: Final = "device"
    PORT: Final = "port"
    SLICE: Final = "slice"
    TENANT: Final = "tenant"


class EntityState(NamedTuple):
    """The state of one list entry (``kind`` per EntityKind, ``name`` its key) as
    containers of leaves, in tree order. Counter containers hold ints; every other value
    is as the per-entity renderers give it."""

    kind: str
    name: str
    containers: tuple[Container, ...]


_PORT_COUNTERS = attrgetter(*PORT_COUNTER_FIELDS)
_SLICE_COUNTERS = attrgetter(*SLICE_COUNTER_FIELDS)
_U64 = (1 << 64) - 1


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
        self._plans: tuple[Entry, dict[Selection, _Plan]] | None = None

    def read(self, running: Entry, selection: Selection = ALL) -> dict[str, Any]:
        """The selected part of ``running`` with every entry's ``state`` filled in."""
        return self.render(running, self.sample(running, selection), selection)

    def render(
        self, running: Entry, readings: Mapping[str, DeviceReading], selection: Selection = ALL
    ) -> dict[str, Any]:
        """``render_state`` with this reader's tenant usage provider."""
        return render_state(running, readings, selection, self._usage)

    def states(
        self, running: Entry, readings: Mapping[str, DeviceReading], selection: Selection = ALL
    ) -> list[EntityState]:
        """``entity_states`` with this reader's tenant usage provider."""
        return entity_states(running, readings, selection, self._usage)

    def sample(self, running: Entry, selection: Selection = ALL) -> Mapping[str, DeviceReading]:
        """Reads, per device, what rendering ``selection`` of ``running`` needs.

        A slice needs its member ports' states and its records on every device it spans
        (only its counters with ``counters_only``). What to ask each device is worked out
        once per running tree and selection (the tree is immutable).
        """
        plan = self._plan(running, selection)
        readings: dict[str, DeviceReading] = {}
        for name, ports, slices, with_capabilities in plan:
            driver = self._drivers.get(name)
            if driver is None:
                readings[name] = _NO_DRIVER
            elif selection.counters_only:
                readings[name] = _read_counters(driver, ports, slices)
            else:
                readings[name] = _read_device(
                    driver, ports, slices, with_capabilities=with_capabilities
                )
        return MappingProxyType(readings)

    def _plan(self, running: Entry, selection: Selection) -> _Plan:
        plans = self._plans
        if plans is None or plans[0] is not running:
            plans = self._plans = (running, {})  # one tree at a time (threads: either)
        found = plans[1].get(selection)
        if found is None:
            if len(plans[1]) >= _PLAN_LIMIT:
                plans[1].clear()
            found = plans[1][selection] = _read_plan(running, selection)
        return found


_Plan = tuple[tuple[str, tuple[str, ...], tuple[str, ...], bool], ...]
"""Per device to read: (name, ports, slices, whether to read its capabilities)."""
_PLAN_LIMIT: Final = 256


def _read_plan(running: Entry, selection: Selection) -> _Plan:
    port_entries = entries(running, PORTS, "port")
    device_of = {entry["name"]: _config(entry).get("device", "") for entry in port_entries}
    counters_only = selection.counters_only
    wanted_ports: dict[str, set[str]] = {}
    wanted_slices: dict[str, set[str]] = {}
    for entry in _chosen(port_entries, selection.ports):
        wanted_ports.setdefault(device_of[entry["name"]], set()).add(entry["name"])
    for entry in _chosen(entries(running, SLICES, "slice"), selection.slices):
        for member in entries(entry, "members", "member"):
            device = device_of.get(member["port"])
            if device is not None:
                if not counters_only:
                    wanted_ports.setdefault(device, set()).add(member["port"])
                wanted_slices.setdefault(device, set()).add(entry["name"])
    devices: set[str] = set()
    if not counters_only:
        chosen = _chosen(entries(running, PLATFORM, "devices", "device"), selection.devices)
        devices = {entry["name"] for entry in chosen}
    return tuple(
        (
            name,
            tuple(sorted(wanted_ports.get(name, ()))),
            tuple(sorted(wanted_slices.get(name, ()))),
            name in devices,
        )
        for name in sorted(devices | wanted_ports.keys() | wanted_slices.keys())
    )


def entity_states(
    running: Entry,
    readings: Mapping[str, DeviceReading],
    selection: Selection = ALL,
    usage: TenantUsage = NO_USAGE,
) -> list[EntityState]:
    """The state of the selected entries of ``running`` from ``readings`` (a device
    missing from it counts as having no driver), devices, ports, slices, then tenants;
    tenants' runtime figures come from ``usage``.

    With ``counters_only`` only counter containers are given (and only for ports and
    slices); an entity whose counters are not known then has no container at all.
    """
    out: list[EntityState] = []
    counters_only = selection.counters_only
    if not counters_only:
        for entry in _chosen(entries(running, PLATFORM, "devices", "device"), selection.devices):
            out.append(_device(entry, readings.get(entry["name"], _NO_DRIVER)))
    port_entries = entries(running, PORTS, "port")
    device_of = {entry["name"]: _config(entry).get("device", "") for entry in port_entries}
    for entry in _chosen(port_entries, selection.ports):
        reading = readings.get(device_of[entry["name"]], _NO_DRIVER)
        out.append(_port(entry, reading, counters_only))
    for entry in _chosen(entries(running, SLICES, "slice"), selection.slices):
        out.append(_slice(entry, readings, device_of, counters_only))
    if not counters_only:
        out.extend(_tenants(running, selection.tenants, usage))
    return out


def render_state(
    running: Entry,
    readings: Mapping[str, DeviceReading],
    selection: Selection = ALL,
    usage: TenantUsage = NO_USAGE,
) -> dict[str, Any]:
    """The selected entries of ``running``, each with its ``state`` container, in RFC 7951
    form: ``entity_states`` nested into shallow copies of the entries (the ``config``
    containers are shared with ``running``), counter64 values as decimal strings."""
    by_kind: dict[str, dict[str, EntityState]] = {}
    for state in entity_states(running, readings, selection, usage):
        by_kind.setdefault(state.kind, {})[state.name] = state
    tree: dict[str, Any] = {}
    for top, path, kind in _TOPS:
        states = by_kind.get(kind)
        if not states:
            continue
        rendered = [
            _nest(entry, states[entry["name"]])
            for entry in entries(running, top, *path)
            if entry["name"] in states
        ]
        container: dict[str, Any] = {path[-1]: rendered}
        for name in reversed(path[:-1]):
            container = {name: container}
        tree[top] = container
    return tree


_TOPS: Final = (
    (PLATFORM, ("devices", "device"), EntityKind.DEVICE),
    (PORTS, ("port",), EntityKind.PORT),
    (SLICES, ("slice",), EntityKind.SLICE),
    (TENANTS, ("tenant",), EntityKind.TENANT),
)


def _nest(entry: Entry, state: EntityState) -> dict[str, Any]:
    """``entry`` with the state's containers placed where their locations say."""
    out: dict[str, Any] = dict(entry)
    ours: set[int] = {id(out)}  # containers and lists copied here, safe to fill in
    for location, values in state.containers:
        node = out
        for name, keys in location:
            node = _entry_of(node, name, keys, ours) if keys else _child(node, name, ours)
        node.update({k: str(v) for k, v in values.items()} if location == COUNTERS else values)
    return out


def _child(node: dict[str, Any], name: str, ours: set[int]) -> dict[str, Any]:
    child = node.get(name)
    if not isinstance(child, dict) or id(child) not in ours:
        child = dict(child) if isinstance(child, dict) else {}
        node[name] = child
        ours.add(id(child))
    return child


def _entry_of(node: dict[str, Any], name: str, keys: Keys, ours: set[int]) -> dict[str, Any]:
    """The entry of list ``name`` in ``node`` with ``keys`` (added when missing)."""
    items = node.get(name)
    if not isinstance(items, list) or id(items) not in ours:
        items = list(items) if isinstance(items, list) else []
        node[name] = items
        ours.add(id(items))
    for index, found in enumerate(items):
        if all(_key_text(found.get(k)) == v for k, v in keys):
            if id(found) not in ours:
                found = items[index] = dict(found)
                ours.add(id(found))
            entry: dict[str, Any] = found
            return entry
    entry = dict(keys)
    items.append(entry)
    ours.add(id(entry))
    return entry


def _key_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


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


def _read_counters(
    driver: ReadableDriver, ports: Collection[str], slices: Collection[str]
) -> DeviceReading:
    """Only the counters of ``ports`` and ``slices`` (no status, no device record)."""
    checkpoint()
    try:
        return DeviceReading(
            None,
            counters=driver.read_counters(ports) if ports else _EMPTY,
            slice_counters=driver.read_slice_counters(slices) if slices else _EMPTY,
        )
    except DriverError as error:
        return DeviceReading(None, readable=False, error=str(error))


def _chosen(items: Iterable[Entry], names: frozenset[str] | None) -> list[Entry]:
    if names is None:
        return list(items)
    return [entry for entry in items if entry["name"] in names]


def _config(entry: Entry) -> Entry:
    config: Entry = entry.get("config") or {}
    return config


def _device(entry: Entry, reading: DeviceReading) -> EntityState:
    state = device_state(_config(entry), reading.device, reading.capabilities)
    capabilities = state.pop("capabilities", None)
    containers: tuple[Container, ...] = ((STATE, state),)
    if capabilities is not None:
        containers += ((CAPABILITIES, capabilities),)
    return EntityState(EntityKind.DEVICE, entry["name"], containers)


def _port_status(name: str, reading: DeviceReading) -> PortOperStatus:
    state = reading.ports.get(name)
    if state is None:
        return unreported_port_status(reading.device, readable=reading.readable)
    return port_oper_status(state)


def _port(entry: Entry, reading: DeviceReading, counters_only: bool) -> EntityState:
    name = entry["name"]
    containers: tuple[Container, ...] = ()
    if not counters_only:
        state = port_state(
            _config(entry), reading.ports.get(name), None, unreported=_port_status(name, reading)
        )
        containers = ((STATE, state),)
    counters = reading.counters.get(name)
    if counters is not None:
        containers += ((COUNTERS, port_counters(counters)),)
    return EntityState(EntityKind.PORT, name, containers)


def port_counters(counters: PortCounters) -> dict[str, int]:
    """The ``counters`` container of a port, typed: the counters the hardware keeps
    (a counter it does not keep, None, is left out), wrapped at 2^64 as counter64 is."""
    values: tuple[int | None, ...] = _PORT_COUNTERS(counters)
    try:
        wide = max(values) > _U64  # type: ignore[type-var,operator]
    except TypeError:  # a None among them
        return {
            leaf: value & _U64
            for leaf, value in zip(PORT_COUNTER_LEAVES, values, strict=True)
            if value is not None
        }
    out: dict[str, int] = dict(zip(PORT_COUNTER_LEAVES, values, strict=True))  # type: ignore[arg-type]
    if wide:
        return {leaf: value & _U64 for leaf, value in out.items()}
    return out


def slice_counters(records: Sequence[SliceCounters]) -> dict[str, int]:
    """The ``counters`` container of a slice, typed: each counter summed over the devices
    the slice spans (zeros when none reports the slice; a counter that the reporting
    devices do not keep, None, is left out), wrapped at 2^64."""
    totals = [0] * len(SLICE_COUNTER_FIELDS)
    kept = [not records] * len(SLICE_COUNTER_FIELDS)
    for record in records:
        for index, value in enumerate(_SLICE_COUNTERS(record)):
            if value is not None:
                totals[index] += value
                kept[index] = True
    return {
        leaf: total & _U64
        for leaf, total, keep in zip(SLICE_COUNTER_LEAVES, totals, kept, strict=True)
        if keep
    }


def _slice(
    entry: Entry,
    readings: Mapping[str, DeviceReading],
    device_of: Mapping[str, str],
    counters_only: bool,
) -> EntityState:
    name = entry["name"]
    members = entries(entry, "members", "member")
    spanned = [
        readings.get(device, _NO_DRIVER)
        for device in sorted({device_of.get(member["port"], "") for member in members})
    ]
    complete = all(r.readable for r in spanned)
    containers: list[Container] = []
    if not counters_only:
        states = [r.slices[name] for r in spanned if name in r.slices]
        containers.append((STATE, slice_state(_config(entry), states, None)))
    if complete:
        records = [r.slice_counters[name] for r in spanned if name in r.slice_counters]
        containers.append((COUNTERS, slice_counters(records)))
    if not counters_only:
        containers.extend(_member_states(members, readings, device_of))
    return EntityState(EntityKind.SLICE, name, tuple(containers))


def _member_states(
    members: Iterable[Entry], readings: Mapping[str, DeviceReading], device_of: Mapping[str, str]
) -> Iterator[Container]:
    for member in members:
        port = member["port"]
        status = _port_status(port, readings.get(device_of.get(port, ""), _NO_DRIVER))
        location: Location = (("members", ()), ("member", (("port", str(port)),)), ("state", ()))
        yield location, member_state({"port": port, **_config(member)}, status)


def _tenants(
    running: Entry, names: frozenset[str] | None, usage: TenantUsage
) -> Iterator[EntityState]:
    chosen = [e for e in entries(running, TENANTS, "tenant") if names is None or e["name"] in names]
    if not chosen:
        return
    taken = allocations(running, None if names is None else {str(e["name"]) for e in chosen})
    for entry in chosen:
        name = str(entry["name"])
        state = tenant_state(_config(entry), taken.get(name, NO_ALLOCATION), usage.usage(name))
        reserved = state.pop("reserved", ())
        containers: list[Container] = [(STATE, state)]
        for item in reserved:
            containers.append(((("state", ()), ("reserved", (("port", str(item["port"])),))), item))
        yield EntityState(EntityKind.TENANT, entry["name"], tuple(containers))
