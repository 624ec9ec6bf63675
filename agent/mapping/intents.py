"""The configuration tree as per-device intents: what each driver must hold.

``intents_from_tree`` builds every device's intent from a whole tree. ``SiteIntents``
is that result plus the indexes (port -> device, slice -> devices and member ports, port
-> slices) that let ``derive`` build the intents of a changed tree from only the entries
a commit touched, so a commit's mapping costs what it changed, not the size of the site.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, TypeVar

from agent.drivers.config import DeviceConfig, PortConfig, SliceConfig, SliceMember
from agent.drivers.intent import DeviceIntent
from agent.mapping.model import Entry, MappingError
from agent.mapping.platform import device_config
from agent.mapping.ports import port_config
from agent.mapping.registry import ModelRegistry
from agent.mapping.slices import slice_config, slice_members

Lookup = Callable[[str, str], Entry | None]
"""(list kind, entry name) -> the entry of the new tree, or None when it has none."""

V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class Touched:
    """The entries of the top-level lists a change touched, by name (created, changed
    or deleted alike)."""

    devices: frozenset[str] = frozenset()
    ports: frozenset[str] = frozenset()
    slices: frozenset[str] = frozenset()


class SiteIntents(Mapping[str, DeviceIntent]):
    """Device name -> DeviceIntent of one configuration tree, with the indexes that
    ``derive`` needs. Immutable."""

    __slots__ = ("_intents", "_port_device", "_slices")

    def __init__(
        self,
        intents: Mapping[str, DeviceIntent],
        port_device: Mapping[str, str],
        slices: _SliceIndex,
    ) -> None:
        self._intents = intents
        self._port_device = port_device
        self._slices = slices

    def __getitem__(self, name: str) -> DeviceIntent:
        return self._intents[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._intents)

    def __len__(self) -> int:
        return len(self._intents)

    def __repr__(self) -> str:
        return f"SiteIntents({dict(self._intents)!r})"

    def device_of(self, port: str) -> str | None:
        """The device port ``port`` belongs to (None: no such port)."""
        return self._port_device.get(port)


def intents_from_tree(tree: Entry, model: ModelRegistry) -> SiteIntents:
    """Every device's whole intent (device name -> DeviceIntent), sorted by device name.

    ``tree`` is a validated RFC 7951 configuration tree; the model's defaults are applied.
    Each port goes to its device. Each slice goes to every device that holds one of its
    member ports, with only those members; a slice without members there is not given to
    that device. Disabled slices are passed on with ``enabled=False`` (drivers keep the
    policy and withdraw its VLAN and rate limiters). Raises MappingError for data a
    validated tree cannot hold (dangling references, missing mandatory leaves).
    """
    devices = sorted(
        (device_config(entry, model.device) for entry in model.device.entries(tree)),
        key=lambda device: device.name,
    )
    ports: dict[str, dict[str, PortConfig]] = {device.name: {} for device in devices}
    port_device: dict[str, str] = {}
    for entry in model.port.entries(tree):
        port = port_config(entry, model.port)
        table = ports.get(port.device)
        if table is None:
            raise MappingError(f"port {port.name} refers to unknown device {port.device!r}")
        table[port.name] = port
        port_device[port.name] = port.device

    slices: dict[str, dict[str, SliceConfig]] = {device.name: {} for device in devices}
    index = _SliceIndex({}, {}, {})
    for entry in model.slice.entries(tree):
        for device, slice_ in _place(entry, model, port_device, index).items():
            slices[device][slice_.name] = slice_

    intents = {
        device.name: DeviceIntent(
            device, MappingProxyType(ports[device.name]), MappingProxyType(slices[device.name])
        )
        for device in devices
    }
    return SiteIntents(MappingProxyType(intents), port_device, index)


def derive(
    previous: SiteIntents, touched: Touched, lookup: Lookup, model: ModelRegistry
) -> SiteIntents:
    """The intents of a tree that differs from ``previous``'s in the ``touched`` entries
    only (``lookup`` finds them in the new tree): equal to ``intents_from_tree`` of that
    tree, but computed from the touched entries alone. Devices whose intent does not
    change keep their DeviceIntent object, so planning skips them by identity."""
    devices: dict[str, DeviceConfig | None] = {}
    for name in touched.devices:
        entry = lookup(model.device.kind, name)
        devices[name] = None if entry is None else device_config(entry, model.device)

    port_device: Mapping[str, str] = previous._port_device
    port_edits: dict[str, dict[str, PortConfig | None]] = {}
    redo = set(touched.slices)
    for name in touched.ports:
        entry = lookup(model.port.kind, name)
        port = None if entry is None else port_config(entry, model.port)
        before = previous.device_of(name)
        after = None if port is None else port.device
        if port is not None:
            port_edits.setdefault(port.device, {})[name] = port
        if before == after:
            continue
        if before is not None:
            port_edits.setdefault(before, {})[name] = None
        if port_device is previous._port_device:
            port_device = dict(port_device)
        assert isinstance(port_device, dict)
        _put(port_device, name, after)
        redo.update(previous._slices.port_slices.get(name, ()))  # their parts move

    index = _SliceIndex(
        previous._slices.devices, previous._slices.ports, previous._slices.port_slices
    )
    slice_edits: dict[str, dict[str, SliceConfig | None]] = {}
    for name in redo:
        before_devices = previous._slices.devices.get(name, ())
        entry = lookup(model.slice.kind, name)
        if entry is None:
            placed: dict[str, SliceConfig] = {}
            index.record(name, (), ())
        else:
            placed = _place(entry, model, port_device, index)
        for holder in before_devices:
            slice_edits.setdefault(holder, {})[name] = None
        for holder, slice_ in placed.items():
            slice_edits.setdefault(holder, {})[name] = slice_

    intents = dict(previous._intents)
    for name in devices.keys() | port_edits.keys() | slice_edits.keys():
        old = previous._intents.get(name)
        device = devices.get(name, None if old is None else old.device)
        ports = _edited(old.ports if old is not None else _NO_PORTS, port_edits.get(name))
        slices = _edited(old.slices if old is not None else _NO_SLICES, slice_edits.get(name))
        if device is None:
            if ports:
                port_name = next(iter(ports))
                raise MappingError(f"port {port_name} refers to unknown device {name!r}")
            intents.pop(name, None)
        elif old is None or not _same(old, device, ports, slices):
            intents[name] = DeviceIntent(device, ports, slices)
    if intents.keys() != previous._intents.keys():
        intents = dict(sorted(intents.items()))
    return SiteIntents(MappingProxyType(intents), port_device, index)


def _same(
    old: DeviceIntent,
    device: DeviceConfig,
    ports: Mapping[str, PortConfig],
    slices: Mapping[str, SliceConfig],
) -> bool:
    return old.device == device and old.ports is ports and old.slices is slices


_NO_PORTS: Final[Mapping[str, PortConfig]] = MappingProxyType({})
_NO_SLICES: Final[Mapping[str, SliceConfig]] = MappingProxyType({})


def _edited(table: Mapping[str, V], edits: Mapping[str, V | None] | None) -> Mapping[str, V]:
    """``table`` with ``edits`` applied (None removes); ``table`` itself without edits."""
    if not edits or all(table.get(name) == value for name, value in edits.items()):
        return table
    out = dict(table)
    for name, value in edits.items():
        _put(out, name, value)
    return MappingProxyType(out)


class _SliceIndex:
    """slice -> devices holding a part of it, slice -> member ports, port -> slices
    listing it; the tables given are copied on the first change, never mutated."""

    def __init__(
        self,
        devices: Mapping[str, tuple[str, ...]],
        ports: Mapping[str, tuple[str, ...]],
        port_slices: Mapping[str, frozenset[str]],
    ) -> None:
        self.devices = devices
        self.ports = ports
        self.port_slices = port_slices
        self._own: (
            tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]], dict[str, frozenset[str]]]
            | None
        ) = None

    def record(self, name: str, devices: tuple[str, ...], ports: tuple[str, ...]) -> None:
        """Slice ``name`` now has parts on ``devices`` and these member ports."""
        if self._own is None:
            self._own = (dict(self.devices), dict(self.ports), dict(self.port_slices))
            self.devices, self.ports, self.port_slices = self._own
        own_devices, own_ports, own_port_slices = self._own
        before = own_ports.get(name, ())
        _put(own_devices, name, devices or None)
        _put(own_ports, name, ports or None)
        for port in set(before) - set(ports):
            _put(own_port_slices, port, own_port_slices.get(port, frozenset()) - {name} or None)
        for port in set(ports) - set(before):
            own_port_slices[port] = own_port_slices.get(port, frozenset()) | {name}


def _place(
    entry: Entry, model: ModelRegistry, port_device: Mapping[str, str], index: _SliceIndex
) -> dict[str, SliceConfig]:
    """The per-device parts of the slice ``entry`` (device -> SliceConfig), recorded
    in ``index``."""
    members = slice_members(entry)
    by_device: dict[str, list[SliceMember]] = {}
    for member in members:
        device = port_device.get(member.port)
        if device is None:
            raise MappingError(
                f"slice {entry.get('name')!r} has member {member.port!r}, which is not a port"
            )
        by_device.setdefault(device, []).append(member)
    placed = {
        device: slice_config(entry, model.slice, tuple(own)) for device, own in by_device.items()
    }
    index.record(str(entry["name"]), tuple(placed), tuple(m.port for m in members))
    return placed


def _put(table: dict[str, V], name: str, value: V | None) -> None:
    if value is None:
        table.pop(name, None)
    else:
        table[name] = value
