"""Tenant quotas, checked on a commit's candidate configuration before any hardware.

Per tenant: at most ``max-slices`` slices; on each delegated port, at most
``max-guaranteed-rate-bps`` of guaranteed rate reserved by its slices together (each
member's ``min-rate-bps``, else its slice's); and every member port of its slices one of
its delegated ``ports``. A commit checks only the tenants its changes touch (a changed
tenant entry, or the tenant of a changed slice): the running configuration passed
already. At start everything is checked.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass

from agent.datastore.diff import Change
from agent.datastore.errors import DatastoreError, ErrorKind
from agent.mapping.model import SLICES, Entry, entries
from agent.mapping.tenants import (
    NO_ALLOCATION,
    Allocation,
    Quotas,
    allocations,
    slice_tenant,
    tenant_entries,
)
from agent.schema.path import DataPath, PathElem


@dataclass(frozen=True, slots=True)
class QuotaViolation:
    """One quota a configuration breaks, and the node to blame for it."""

    message: str
    path: DataPath


def quota_violations(
    tree: Entry, changes: Iterable[Change] | None = None
) -> tuple[QuotaViolation, ...]:
    """What ``tree`` breaks, for the tenants ``changes`` touch (None: every tenant)."""
    scope = None if changes is None else _touched(changes)
    if scope is not None and not scope[0] and not scope[1]:
        return ()
    slice_names = scope[1] if scope is not None else frozenset()
    tenants = None if scope is None else set(scope[0])
    if tenants is not None:
        for entry in entries(tree, SLICES, "slice"):
            if entry["name"] in slice_names:
                owner = slice_tenant(entry)
                if owner is not None:
                    tenants.add(owner)
    configured = tenant_entries(tree)
    names = sorted(configured if tenants is None else tenants & configured.keys())
    taken = allocations(tree, names)
    found: list[QuotaViolation] = []
    for name in names:
        found += _check(Quotas.of(configured[name]), taken.get(name, NO_ALLOCATION), slice_names)
    return tuple(found)


def over_quota(
    violations: Sequence[QuotaViolation], blame: Callable[[DataPath], int | None]
) -> DatastoreError:
    """The refusal for ``violations`` (non-empty), attributed by ``blame`` to the
    operation that touches the first one's node."""
    first = violations[0]
    more = f" (and {len(violations) - 1} more)" if len(violations) > 1 else ""
    return DatastoreError(ErrorKind.INVALID, f"{first.message}{more}", op_index=blame(first.path))


def _touched(changes: Iterable[Change]) -> tuple[frozenset[str], frozenset[str]] | None:
    """(tenants, slices) named by ``changes``; None when a whole list changed."""
    tenants: set[str] = set()
    slices: set[str] = set()
    for change in changes:
        elems = change.path.elems
        if not elems or elems[0].name not in ("tenants", "slices"):
            continue
        name = dict(elems[1].keys).get("name") if len(elems) > 1 else None
        if name is None:
            return None
        (tenants if elems[0].name == "tenants" else slices).add(name)
    return frozenset(tenants), frozenset(slices)


def _check(quotas: Quotas, taken: Allocation, touched: Collection[str]) -> list[QuotaViolation]:
    tenant = quotas.name

    def culprit(slices: Iterable[str], fallback: DataPath) -> DataPath:
        mine = [name for name in slices if name in touched]
        return _slice_path(mine[-1]) if mine else fallback

    found: list[QuotaViolation] = []
    count = len(taken.slices)
    if count > quotas.max_slices:
        found.append(
            QuotaViolation(
                f"tenant {tenant!r} would have {count} slices: over its max-slices quota "
                f"of {quotas.max_slices}",
                culprit(taken.slices, _tenant_path(tenant, "max-slices")),
            )
        )
    delegated = set(quotas.ports)
    limit = quotas.max_guaranteed_rate_bps
    for port, rate in taken.reserved.items():
        users = taken.members.get(port, ())
        if port not in delegated:
            name = ([s for s in users if s in touched] or list(users))[-1]
            where = (
                _slice_path(name).child("members").child("member", port=port)
                if name in touched
                else _tenant_path(tenant, "ports")
            )
            found.append(
                QuotaViolation(
                    f"slice {name!r} of tenant {tenant!r} has a member on port {port!r}, "
                    "which is not one of the tenant's delegated ports",
                    where,
                )
            )
        elif limit is not None and rate > limit:
            found.append(
                QuotaViolation(
                    f"tenant {tenant!r} would reserve {rate} bps of guaranteed rate on port "
                    f"{port!r} (slices {', '.join(users)}): over its max-guaranteed-rate-bps "
                    f"quota of {limit}",
                    culprit(users, _tenant_path(tenant, "max-guaranteed-rate-bps")),
                )
            )
    return found


def _slice_path(name: str) -> DataPath:
    return DataPath((PathElem("slices"), PathElem("slice", (("name", name),))))


def _tenant_path(name: str, leaf: str) -> DataPath:
    return DataPath(
        (
            PathElem("tenants"),
            PathElem("tenant", (("name", name),)),
            PathElem("config"),
            PathElem(leaf),
        )
    )
