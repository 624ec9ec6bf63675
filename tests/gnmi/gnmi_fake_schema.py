"""A small stand-in for the schema engine: the parts of the edge model the gNMI tests use.

It implements agent.gnmi.schema_info.SchemaInfo from a table of schema paths. Besides the
real model's leaves it has a few extra ones (a decimal64, leaf-lists, a union, an empty
and a binary leaf, an augmented leaf-list from another module) so that every encoding
rule can be exercised.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from agent.schema.leaf_types import BaseType, LeafType
from agent.schema.path import DataPath

STRING = LeafType(BaseType.STRING)
BOOL = LeafType(BaseType.BOOLEAN)
UINT8 = LeafType(BaseType.UINT8)
UINT16 = LeafType(BaseType.UINT16)
UINT32 = LeafType(BaseType.UINT32)
UINT64 = LeafType(BaseType.UINT64)
INT64 = LeafType(BaseType.INT64)
INT8 = LeafType(BaseType.INT8)
CHIPSETS = (
    "edge-types:tofino1",
    "edge-types:tofino2",
    "edge-types:stratix10-dx",
    "edge-types:connectx-7",
    "edge-types:e810",
)


@dataclass(frozen=True)
class Node:
    module: str
    leaf: LeafType | None = None
    keys: tuple[str, ...] = ()


def _leaf(
    module: str,
    base: BaseType,
    *,
    enum_names: tuple[str, ...] = (),
    fraction_digits: int | None = None,
    is_list: bool = False,
) -> Node:
    leaf = LeafType(
        base,
        module=module,
        enum_names=enum_names,
        fraction_digits=fraction_digits,
        is_list=is_list,
    )
    return Node(module, leaf)


_PORTS = "edge-ports"
_PLATFORM = "edge-platform"
_SLICES = "edge-slices"

NODES: Mapping[str, Node] = MappingProxyType(
    {
        "/ports": Node(_PORTS),
        "/ports/port": Node(_PORTS, keys=("name",)),
        "/ports/port/name": _leaf(_PORTS, BaseType.STRING),
        "/ports/port/config": Node(_PORTS),
        "/ports/port/config/name": _leaf(_PORTS, BaseType.STRING),
        "/ports/port/config/device": _leaf(_PORTS, BaseType.STRING),
        "/ports/port/config/index": _leaf(_PORTS, BaseType.UINT32),
        "/ports/port/config/enabled": _leaf(_PORTS, BaseType.BOOLEAN),
        "/ports/port/config/mtu": _leaf(_PORTS, BaseType.UINT16),
        "/ports/port/config/description": _leaf(_PORTS, BaseType.STRING),
        "/ports/port/config/speed": _leaf(
            _PORTS, BaseType.ENUMERATION, enum_names=("10G", "25G", "100G", "400G")
        ),
        "/ports/port/config/fec": _leaf(
            _PORTS, BaseType.ENUMERATION, enum_names=("none", "rs", "fc")
        ),
        "/ports/port/config/allowed-vlans": _leaf(_PORTS, BaseType.UINT16, is_list=True),
        "/ports/port/config/auto-negotiate": _leaf(_PORTS, BaseType.EMPTY),
        "/ports/port/config/loss-budget": _leaf(_PORTS, BaseType.DECIMAL64, fraction_digits=2),
        "/ports/port/config/native-vlan": Node(
            _PORTS, LeafType(BaseType.UNION, module=_PORTS, members=(UINT16, STRING))
        ),
        "/ports/port/config/offset": _leaf(_PORTS, BaseType.INT64),
        "/ports/port/config/trim": _leaf(_PORTS, BaseType.INT8),
        "/ports/port/config/flags": _leaf(_PORTS, BaseType.BITS),
        "/ports/port/state": Node(_PORTS),
        "/ports/port/state/oper-status": _leaf(
            _PORTS, BaseType.ENUMERATION, enum_names=("UP", "DOWN")
        ),
        "/ports/port/state/eeprom": _leaf(_PORTS, BaseType.BINARY),
        "/ports/port/state/counters": Node(_PORTS),
        "/ports/port/state/counters/in-octets": _leaf(_PORTS, BaseType.UINT64),
        "/ports/port/state/counters/in-errors": _leaf(_PORTS, BaseType.UINT64),
        "/ports/port/state/slices": _leaf(_SLICES, BaseType.STRING, is_list=True),
        "/platform": Node(_PLATFORM),
        "/platform/devices": Node(_PLATFORM),
        "/platform/devices/device": Node(_PLATFORM, keys=("name",)),
        "/platform/devices/device/name": _leaf(_PLATFORM, BaseType.STRING),
        "/platform/devices/device/config": Node(_PLATFORM),
        "/platform/devices/device/config/name": _leaf(_PLATFORM, BaseType.STRING),
        "/platform/devices/device/config/chipset": _leaf(
            _PLATFORM, BaseType.IDENTITYREF, enum_names=CHIPSETS
        ),
        "/platform/devices/device/config/address": _leaf(_PLATFORM, BaseType.STRING),
        "/platform/devices/device/config/enabled": _leaf(_PLATFORM, BaseType.BOOLEAN),
        "/slices": Node(_SLICES),
        "/slices/slice": Node(_SLICES, keys=("name",)),
        "/slices/slice/name": _leaf(_SLICES, BaseType.STRING),
        "/slices/slice/config": Node(_SLICES),
        "/slices/slice/config/name": _leaf(_SLICES, BaseType.STRING),
        "/slices/slice/config/sst": _leaf(_SLICES, BaseType.UINT8),
        "/slices/slice/config/vlan-id": _leaf(_SLICES, BaseType.UINT16),
        "/slices/slice/config/min-rate-bps": _leaf(_SLICES, BaseType.UINT64),
        "/slices/slice/config/latency-ms": _leaf(_SLICES, BaseType.DECIMAL64, fraction_digits=3),
        "/slices/slice/config/tags": _leaf(_SLICES, BaseType.STRING, is_list=True),
        "/slices/slice/members": Node(_SLICES),
        "/slices/slice/members/member": Node(_SLICES, keys=("port",)),
        "/slices/slice/members/member/port": _leaf(_SLICES, BaseType.STRING),
        "/slices/slice/members/member/config": Node(_SLICES),
        "/slices/slice/members/member/config/port": _leaf(_SLICES, BaseType.STRING),
    }
)


class FakeSchema:
    """SchemaInfo over NODES; a module qualifier that names the wrong module misses."""

    def __init__(self, nodes: Mapping[str, Node] | None = None) -> None:
        self._nodes = NODES if nodes is None else nodes

    def _node(self, path: DataPath) -> Node | None:
        node = self._nodes.get("/" + "/".join(e.name for e in path.elems))
        if node is None:
            return None
        # every element's qualifier must name the module of the node it stands for
        for depth, elem in enumerate(path.elems, start=1):
            if elem.module is not None:
                ancestor = self._nodes["/" + "/".join(e.name for e in path.elems[:depth])]
                if ancestor.module != elem.module:
                    return None
        return node

    def leaf_type(self, path: DataPath) -> LeafType | None:
        node = self._node(path)
        return node.leaf if node else None

    def module_of(self, path: DataPath) -> str | None:
        node = self._node(path)
        return node.module if node else None

    def list_keys(self, path: DataPath) -> tuple[str, ...]:
        node = self._node(path)
        return node.keys if node else ()
