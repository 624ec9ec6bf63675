"""Names, defaults and value conversions of the edge-* YANG modules, on RFC 7951 dicts.

The canonical tree has module-qualified top-level members and unqualified ones below;
identities are ``module:identity``, uint64 values are JSON strings, and defaults are not
filled in. Everything here works on plain dicts; nothing imports YANG tooling.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

from agent.drivers.units import GBPS

PLATFORM = "edge-platform:platform"
PORTS = "edge-ports:ports"
SLICES = "edge-slices:slices"
TENANTS = "edge-tenants:tenants"
TYPES_MODULE = "edge-types"

Entry = Mapping[str, Any]
"""One list entry (or container) of an RFC 7951 tree."""

SPEED_BPS: Mapping[str, int] = MappingProxyType(
    {f"{gbps}G": gbps * GBPS for gbps in (1, 10, 25, 40, 50, 100, 200, 400)}
)
"""The model's ``port-speed`` enum values and their rates in bits per second."""

SPEED_NAMES: Mapping[int, str] = MappingProxyType({bps: name for name, bps in SPEED_BPS.items()})

BLUEFIELD_CHIPSETS: frozenset[str] = frozenset({"bluefield-2", "bluefield-3"})
"""Chipsets derived from the ``bluefield`` identity: the only ones with a ``dpu-mode``."""

# The state renderers' copy of the model's config defaults. Conversions for commits read
# them from the schema, through the ModelRegistry; tests/mapping/test_registry.py pins
# these tables to the same schema, so they cannot drift from it.
DEVICE_DEFAULTS: Mapping[str, Any] = MappingProxyType({"backend": "mock", "enabled": True})
PORT_DEFAULTS: Mapping[str, Any] = MappingProxyType(
    {
        "channel": 0,
        "enabled": True,
        "fec": "auto",
        "mtu": 1514,
        "breakout": "none",
        "loopback": "none",
        "num-vfs": 0,
    }
)
SLICE_DEFAULTS: Mapping[str, Any] = MappingProxyType(
    {"enabled": True, "min-rate-bps": "0", "priority": 0}
)
TENANT_DEFAULTS: Mapping[str, Any] = MappingProxyType(
    {"max-slices": 16, "max-subscriptions": 32, "max-set-rate": 10}
)
DEFAULT_DPU_MODE = "dpu"


class MappingError(ValueError):
    """A configuration tree the mapping cannot turn into driver values (for example a
    missing mandatory leaf or a dangling reference: data that failed to be validated)."""


def entries(tree: Entry, top: str, *path: str) -> Sequence[Entry]:
    """The list entries at ``top``/``path`` (e.g. ``PORTS, "port"``); empty when absent."""
    node: Any = tree.get(top)
    for name in path:
        if not isinstance(node, Mapping):
            return ()
        node = node.get(name)
    return node if isinstance(node, list | tuple) else ()


def identity_name(value: str) -> str:
    """``edge-types:tofino1`` -> ``tofino1`` (an unqualified value is returned as is)."""
    return value.rpartition(":")[2]


def identity_value(name: str) -> str:
    """``tofino1`` -> ``edge-types:tofino1``, the RFC 7951 form of a chipset identity."""
    return f"{TYPES_MODULE}:{name}"


def speed_bps(value: str) -> int:
    """The rate of a ``port-speed`` enum value; raises MappingError for an unknown one."""
    try:
        return SPEED_BPS[value]
    except KeyError:
        raise MappingError(f"unknown port speed {value!r}") from None


def speed_name(bps: int) -> str | None:
    """The ``port-speed`` enum value for a rate, or None when the model has none."""
    return SPEED_NAMES.get(bps)


def uint64(value: Any) -> str:
    """A uint64 leaf value in its RFC 7951 form (a decimal string)."""
    return str(int(value))


def counter64(value: int) -> str:
    """A counter64 value in RFC 7951 form, wrapped at 2^64 as the type says."""
    return str(int(value) % (1 << 64))
