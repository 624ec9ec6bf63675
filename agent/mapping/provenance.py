"""Where driver values come from: the configuration leaves behind an op's fields.

The mapping turns configuration entries into driver values (``platform``, ``ports``,
``slices``); this module runs that backwards for refusals. A driver names the op it
refuses and the fields of it that break its rule (``OpRef``); ``config_leaves`` gives the
configuration paths those fields were read from, so that the datastore can find the Set
operation that changed them. Paths are plain steps, (node, keys) pairs without module
names, for the datastore to turn into its own path type.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from agent.drivers.problems import OpRef

Step = tuple[str, tuple[tuple[str, str], ...]]
LeafPath = tuple[Step, ...]

DEVICE_LEAVES: Mapping[str, str] = MappingProxyType(
    {
        "name": "name",
        "chipset": "chipset",
        "backend": "backend",
        "address": "address",
        "enabled": "enabled",
        "dpu_mode": "dpu-mode",
    }
)
"""DeviceConfig field -> leaf of /platform/devices/device/config."""

PORT_LEAVES: Mapping[str, str] = MappingProxyType(
    {
        "name": "name",
        "device": "device",
        "index": "index",
        "channel": "channel",
        "enabled": "enabled",
        "speed_bps": "speed",
        "fec": "fec",
        "mtu": "mtu",
        "breakout": "breakout",
        "loopback": "loopback",
        "num_vfs": "num-vfs",
        "lag_group": "lag-group",
        "interface_name": "interface-name",
    }
)
"""PortConfig field -> leaf of /ports/port/config."""

SLICE_LEAVES: Mapping[str, str] = MappingProxyType(
    {
        "name": "name",
        "vlan_id": "vlan-id",
        "min_rate_bps": "min-rate-bps",
        "max_rate_bps": "max-rate-bps",
        "priority": "priority",
        "enabled": "enabled",
    }
)
"""SliceConfig field -> leaf of /slices/slice/config (``members`` is the members list)."""


def entry_path(kind: str, name: str) -> LeafPath | None:
    """The list entry of a device, port or slice (None for another kind, e.g. a LAG)."""
    key = (("name", name),)
    if kind == "device":
        return (("platform", ()), ("devices", ()), ("device", key))
    if kind == "port":
        return (("ports", ()), ("port", key))
    if kind == "slice":
        return (("slices", ()), ("slice", key))
    return None


def config_leaves(op: OpRef) -> tuple[LeafPath, ...]:
    """The configuration paths the refused fields of ``op`` come from, in field order;
    the entity's entry when the op names no fields."""
    entry = entry_path(op.kind, op.name)
    if entry is None:
        return ()
    if not op.fields:
        return (entry,)
    leaves = {"device": DEVICE_LEAVES, "port": PORT_LEAVES, "slice": SLICE_LEAVES}[op.kind]
    paths: list[LeafPath] = []
    for field in op.fields:
        if op.kind == "slice" and field == "members":
            paths.append((*entry, ("members", ())))
        elif field in leaves:
            paths.append((*entry, ("config", ()), (leaves[field], ())))
    return tuple(paths) or (entry,)
