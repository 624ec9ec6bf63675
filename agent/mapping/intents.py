"""The configuration tree as per-device intents: what each driver must hold."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Generic, TypeVar

from agent.drivers.config import DeviceConfig, PortConfig, SliceConfig, SliceMember
from agent.drivers.intent import DeviceIntent
from agent.mapping.model import PLATFORM, PORTS, SLICES, Entry, MappingError, entries
from agent.mapping.platform import device_config
from agent.mapping.ports import port_config
from agent.mapping.slices import slice_config, slice_members


@dataclass(frozen=True)
class Converters:
    """How entries become driver values (plain or memoised)."""

    device: Callable[[Entry], DeviceConfig] = device_config
    port: Callable[[Entry], PortConfig] = port_config
    members: Callable[[Entry], Sequence[SliceMember]] = slice_members
    slice: Callable[[Entry, Sequence[SliceMember]], SliceConfig] = slice_config


PLAIN = Converters()


def intents_from_tree(tree: Entry, convert: Converters = PLAIN) -> Mapping[str, DeviceIntent]:
    """Every device's whole intent (device name -> DeviceIntent), sorted by device name.

    ``tree`` is a validated RFC 7951 configuration tree; the model's defaults are applied.
    Each port goes to its device. Each slice goes to every device that holds one of its
    member ports, with only those members; a slice without members there is not given to
    that device. Disabled slices are passed on with ``enabled=False`` (drivers keep the
    policy and withdraw its VLAN and rate limiters). Raises MappingError for data a
    validated tree cannot hold (dangling references, missing mandatory leaves).
    """
    devices = sorted(
        (convert.device(entry) for entry in entries(tree, PLATFORM, "devices", "device")),
        key=lambda device: device.name,
    )
    ports: dict[str, dict[str, PortConfig]] = {device.name: {} for device in devices}
    device_of: dict[str, str] = {}
    for entry in entries(tree, PORTS, "port"):
        port = convert.port(entry)
        table = ports.get(port.device)
        if table is None:
            raise MappingError(f"port {port.name} refers to unknown device {port.device!r}")
        table[port.name] = port
        device_of[port.name] = port.device

    slices: dict[str, dict[str, SliceConfig]] = {device.name: {} for device in devices}
    for entry in entries(tree, SLICES, "slice"):
        members = convert.members(entry)
        if not members:
            continue
        split: dict[str, list[SliceMember]] = {}
        for member in members:
            device = device_of.get(member.port)
            if device is None:
                raise MappingError(
                    f"slice {entry.get('name')!r} has member {member.port!r}, which is not a port"
                )
            split.setdefault(device, []).append(member)
        for device, own in split.items():
            slice_ = convert.slice(entry, tuple(own))
            slices[device][slice_.name] = slice_

    return MappingProxyType(
        {
            device.name: DeviceIntent(
                device,
                MappingProxyType(ports[device.name]),
                MappingProxyType(slices[device.name]),
            )
            for device in devices
        }
    )


K = TypeVar("K")
V = TypeVar("V")


class _Memo(Generic[V]):
    """Results keyed by the identity of the entry they were made from; keeps only what
    the latest build used, so memory follows the tree."""

    def __init__(self) -> None:
        self._old: dict[Any, tuple[Any, V]] = {}
        self._new: dict[Any, tuple[Any, V]] = {}

    def get(self, entry: Any, extra: Any, make: Callable[[], V]) -> V:
        key = (id(entry), extra)
        found = self._new.get(key) or self._old.get(key)
        if found is None or found[0] is not entry:
            found = (entry, make())
        self._new[key] = found
        return found[1]

    def rotate(self) -> None:
        self._old, self._new = self._new, {}


class IntentBuilder:
    """``intents_from_tree`` for a sequence of copy-on-write trees: entries unchanged
    (by identity) since the previous call are not converted again, and a device whose
    parts are all unchanged keeps its previous DeviceIntent object."""

    def __init__(self) -> None:
        self._devices: _Memo[DeviceConfig] = _Memo()
        self._ports: _Memo[PortConfig] = _Memo()
        self._members: _Memo[Sequence[SliceMember]] = _Memo()
        self._slices: _Memo[SliceConfig] = _Memo()
        self._previous: Mapping[str, DeviceIntent] = {}
        self._convert = Converters(
            device=lambda e: self._devices.get(e, None, lambda: device_config(e)),
            port=lambda e: self._ports.get(e, None, lambda: port_config(e)),
            members=lambda e: self._members.get(e, None, lambda: slice_members(e)),
            slice=lambda e, m: self._slices.get(e, tuple(m), lambda: slice_config(e, m)),
        )

    def __call__(self, tree: Entry) -> Mapping[str, DeviceIntent]:
        """The intents of ``tree`` (same result as ``intents_from_tree``)."""
        try:
            built = intents_from_tree(tree, self._convert)
        finally:
            for memo in (self._devices, self._ports, self._members, self._slices):
                memo.rotate()
        reused = {
            name: _same_or(self._previous.get(name), intent) for name, intent in built.items()
        }
        self._previous = MappingProxyType(reused)
        return self._previous


def _same_or(old: DeviceIntent | None, new: DeviceIntent) -> DeviceIntent:
    """``old`` when it is made of the very same parts as ``new``."""
    if old is None or old.device is not new.device:
        return new
    for mine, theirs in ((old.ports, new.ports), (old.slices, new.slices)):
        if mine.keys() != theirs.keys() or any(mine[k] is not theirs[k] for k in theirs):
            return new
    return old
