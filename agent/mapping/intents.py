"""The configuration tree as per-device intents: what each driver must hold."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from agent.drivers.config import PortConfig, SliceConfig, SliceMember
from agent.drivers.intent import DeviceIntent
from agent.mapping.model import PLATFORM, PORTS, SLICES, Entry, MappingError, entries
from agent.mapping.platform import device_config
from agent.mapping.ports import port_config
from agent.mapping.slices import slice_config, slice_members


def intents_from_tree(tree: Entry) -> Mapping[str, DeviceIntent]:
    """Every device's whole intent (device name -> DeviceIntent), sorted by device name.

    ``tree`` is a validated RFC 7951 configuration tree; the model's defaults are applied.
    Each port goes to its device. Each slice goes to every device that holds one of its
    member ports, with only those members; a slice without members there is not given to
    that device. Disabled slices are passed on with ``enabled=False`` (drivers keep the
    policy and withdraw its VLAN and rate limiters). Raises MappingError for data a
    validated tree cannot hold (dangling references, missing mandatory leaves).
    """
    devices = sorted(
        (device_config(entry) for entry in entries(tree, PLATFORM, "devices", "device")),
        key=lambda device: device.name,
    )
    ports: dict[str, dict[str, PortConfig]] = {device.name: {} for device in devices}
    device_of: dict[str, str] = {}
    for entry in entries(tree, PORTS, "port"):
        port = port_config(entry)
        table = ports.get(port.device)
        if table is None:
            raise MappingError(f"port {port.name} refers to unknown device {port.device!r}")
        table[port.name] = port
        device_of[port.name] = port.device

    slices: dict[str, dict[str, SliceConfig]] = {device.name: {} for device in devices}
    for entry in entries(tree, SLICES, "slice"):
        members = slice_members(entry)
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
            slice_ = slice_config(entry, own)
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
