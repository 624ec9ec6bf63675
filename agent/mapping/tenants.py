"""The ``/tenants/tenant`` subtree: quotas, what a tenant's slices take, its state.

A tenant's allocation comes from a configuration tree: its slices and, per port, the
guaranteed rate they reserve there (each member's ``min-rate-bps``, else its slice's).
Runtime usage (Subscribe streams held, Sets in the last second) is not configuration: a
``TenantUsage`` provider supplies it when the state is rendered.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final, Protocol

from agent.mapping.model import (
    SLICE_DEFAULTS,
    SLICES,
    TENANT_DEFAULTS,
    TENANTS,
    Entry,
    entries,
    uint64,
)

SUBSCRIPTIONS: Final = "subscriptions"
"""Runtime usage key: Subscribe streams the tenant holds open now."""
SET_RATE: Final = "set-rate"
"""Runtime usage key: Sets the tenant made in the last second."""


class TenantUsage(Protocol):
    """Supplies a tenant's runtime usage: ``SUBSCRIPTIONS`` and ``SET_RATE`` (a missing
    key reads as 0). Called when state is read, possibly from several threads."""

    def usage(self, tenant: str) -> Mapping[str, int | float]: ...


_ZERO: Final[Mapping[str, int | float]] = MappingProxyType({SUBSCRIPTIONS: 0, SET_RATE: 0})


class NoUsage:
    """The provider when nothing counts sessions: zeros for every tenant."""

    def usage(self, tenant: str) -> Mapping[str, int | float]:
        return _ZERO


NO_USAGE: Final = NoUsage()


@dataclass(frozen=True, slots=True)
class Quotas:
    """A tenant's delegated ports and quotas, defaults filled in."""

    name: str
    ports: tuple[str, ...]
    max_slices: int
    max_guaranteed_rate_bps: int | None  # None: no limit
    max_subscriptions: int
    max_set_rate: int

    @classmethod
    def of(cls, entry: Entry) -> Quotas:
        """The quotas of one ``tenant`` list entry."""
        config = {**TENANT_DEFAULTS, **_config(entry)}
        rate = config.get("max-guaranteed-rate-bps")
        return cls(
            name=str(entry["name"]),
            ports=tuple(config.get("ports") or ()),
            max_slices=int(config["max-slices"]),
            max_guaranteed_rate_bps=None if rate is None else int(rate),
            max_subscriptions=int(config["max-subscriptions"]),
            max_set_rate=int(config["max-set-rate"]),
        )


def _empty_map() -> Mapping[str, Any]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Allocation:
    """What a tenant's slices take: the slices (in tree order), the guaranteed rate they
    reserve per member port, and which of them are members of each port."""

    slices: tuple[str, ...] = ()
    reserved: Mapping[str, int] = field(default_factory=_empty_map)
    members: Mapping[str, tuple[str, ...]] = field(default_factory=_empty_map)


NO_ALLOCATION: Final = Allocation()


def slice_tenant(entry: Entry) -> str | None:
    """The tenant of a ``slice`` list entry (None: it belongs to no tenant)."""
    tenant = _config(entry).get("tenant")
    return None if tenant is None else str(tenant)


def member_rates(entry: Entry) -> Iterator[tuple[str, int]]:
    """(port, guaranteed rate) of every member of a ``slice`` entry: the member's
    ``min-rate-bps`` if set, else the slice's."""
    default = int(_config(entry).get("min-rate-bps", SLICE_DEFAULTS["min-rate-bps"]))
    for member in entries(entry, "members", "member"):
        config = _config(member)
        rate = config.get("min-rate-bps")
        yield str(config.get("port", member.get("port"))), default if rate is None else int(rate)


def tenant_entries(tree: Entry) -> Mapping[str, Entry]:
    """The ``tenant`` list entries of ``tree`` by name."""
    return {str(entry["name"]): entry for entry in entries(tree, TENANTS, "tenant")}


def allocations(tree: Entry, tenants: Collection[str] | None = None) -> dict[str, Allocation]:
    """The allocation of every tenant named by slices of ``tree`` (only of ``tenants``
    when given); a tenant without slices is missing (see NO_ALLOCATION). One pass."""
    wanted = None if tenants is None else frozenset(tenants)
    slices: dict[str, list[str]] = {}
    reserved: dict[str, dict[str, int]] = {}
    members: dict[str, dict[str, list[str]]] = {}
    for entry in entries(tree, SLICES, "slice"):
        tenant = slice_tenant(entry)
        if tenant is None or (wanted is not None and tenant not in wanted):
            continue
        name = str(entry["name"])
        slices.setdefault(tenant, []).append(name)
        rates = reserved.setdefault(tenant, {})
        users = members.setdefault(tenant, {})
        for port, rate in member_rates(entry):
            rates[port] = rates.get(port, 0) + rate
            users.setdefault(port, []).append(name)
    return {
        tenant: Allocation(
            tuple(names),
            MappingProxyType(reserved[tenant]),
            MappingProxyType({p: tuple(s) for p, s in members[tenant].items()}),
        )
        for tenant, names in slices.items()
    }


def tenant_state(
    config: Entry, allocation: Allocation, runtime: Mapping[str, int | float]
) -> dict[str, Any]:
    """The ``state`` container of a tenant: its configuration with defaults, and usage.

    ``reserved`` lists every delegated port (0 where nothing is reserved), then any other
    port the tenant's slices reserve on (sorted).
    """
    out: dict[str, Any] = {**TENANT_DEFAULTS, **config}
    delegated = [str(p) for p in config.get("ports") or ()]
    if delegated:
        out["ports"] = delegated
    if "max-guaranteed-rate-bps" in out:
        out["max-guaranteed-rate-bps"] = uint64(out["max-guaranteed-rate-bps"])
    ports = delegated + sorted(set(allocation.reserved) - set(delegated))
    out["slices"] = len(allocation.slices)
    out[SUBSCRIPTIONS] = _count(runtime.get(SUBSCRIPTIONS, 0))
    out[SET_RATE] = _count(runtime.get(SET_RATE, 0))
    if ports:
        out["reserved"] = [
            {"port": port, "rate-bps": uint64(allocation.reserved.get(port, 0))} for port in ports
        ]
    return out


def render_tenants(
    running: Entry, names: frozenset[str] | None, usage: TenantUsage = NO_USAGE
) -> list[dict[str, Any]]:
    """The ``tenant`` entries of ``running`` named in ``names`` (None: all), each with
    its ``state`` container; the ``config`` containers are shared with ``running``."""
    chosen = [
        entry
        for entry in entries(running, TENANTS, "tenant")
        if names is None or entry["name"] in names
    ]
    if not chosen:
        return []
    taken = allocations(running, None if names is None else {str(e["name"]) for e in chosen})
    return [
        {
            **entry,
            "state": tenant_state(
                _config(entry),
                taken.get(str(entry["name"]), NO_ALLOCATION),
                usage.usage(str(entry["name"])),
            ),
        }
        for entry in chosen
    ]


def _count(value: int | float) -> int:
    """A runtime figure as the uint32 the model reports (rounded, clamped)."""
    return min(max(round(value), 0), 0xFFFFFFFF)


def _config(entry: Entry) -> Entry:
    config: Entry = entry.get("config") or {}
    return config
