"""Which entities (devices, ports, slices, tenants) a change needs read or rendered."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from agent.datastore.selection import EMPTY, NOTHING
from agent.mapping.model import PLATFORM, PORTS, SLICES, TENANTS, entries
from agent.mapping.state_tree import ALL, Selection
from agent.mapping.tenants import slice_tenant
from agent.schema.path import DataPath, PathElem
from agent.telemetry.flatten import path_key


def union(a: Selection, b: Selection) -> Selection:
    """Everything either selection names (only counters when both ask for no more)."""
    if is_empty(a):
        return b
    if is_empty(b):
        return a

    def both(x: frozenset[str] | None, y: frozenset[str] | None) -> frozenset[str] | None:
        return None if x is None or y is None else x | y

    return Selection(
        both(a.devices, b.devices),
        both(a.ports, b.ports),
        both(a.slices, b.slices),
        both(a.tenants, b.tenants),
        counters_only=a.counters_only and b.counters_only,
    )


def counters_of(selection: Selection) -> Selection:
    """Only the counters of what ``selection`` names (no devices, no tenants)."""
    if is_empty(selection):
        return selection
    return Selection(NOTHING, selection.ports, selection.slices, NOTHING, counters_only=True)


def is_empty(selection: Selection) -> bool:
    return (
        selection.devices == NOTHING
        and selection.ports == NOTHING
        and selection.slices == NOTHING
        and selection.tenants == NOTHING
    )


class SiteIndex:
    """Who is where in one running tree: ports per device, slices per port, the tenant
    of each slice."""

    def __init__(self, tree: Mapping[str, Any]) -> None:
        self.device_of: dict[str, str] = {}
        self.ports_of: dict[str, set[str]] = {}
        self.slices_of: dict[str, set[str]] = {}
        self.members_of: dict[str, list[str]] = {}
        self.tenant_of: dict[str, str | None] = {}
        self.devices = [str(e["name"]) for e in entries(tree, PLATFORM, "devices", "device")]
        self.tenants = [str(e["name"]) for e in entries(tree, TENANTS, "tenant")]
        self._keys: tuple[dict[str, str], ...] | None = None
        for entry in entries(tree, PORTS, "port"):
            device = str((entry.get("config") or {}).get("device", ""))
            self.device_of[entry["name"]] = device
            self.ports_of.setdefault(device, set()).add(entry["name"])
        for entry in entries(tree, SLICES, "slice"):
            members = [str(m["port"]) for m in entries(entry, "members", "member")]
            self.members_of[entry["name"]] = members
            self.tenant_of[entry["name"]] = slice_tenant(entry)
            for port in members:
                self.slices_of.setdefault(port, set()).add(entry["name"])

    def for_ports(self, ports: Iterable[str]) -> Selection:
        """The ports and the slices they are members of."""
        names = frozenset(ports)
        slices = frozenset(s for p in names for s in self.slices_of.get(p, ()))
        return Selection(NOTHING, names, slices, NOTHING)

    def for_device(self, device: str) -> Selection:
        """A device, its ports and the slices that span them."""
        ports = self.ports_of.get(device, set())
        device_only = Selection(frozenset((device,)), NOTHING, NOTHING, NOTHING)
        return union(device_only, self.for_ports(ports))

    def devices_reached(self, selection: Selection) -> set[str] | None:
        """The devices whose drivers a selection reads (None: possibly all of them)."""
        found: set[str] = set()
        if selection.devices is None or selection.ports is None or selection.slices is None:
            return None
        found.update(selection.devices)
        for port in selection.ports:
            device = self.device_of.get(port)
            if device is None:
                return None  # not there yet: it may appear on any device
            found.add(device)
        for name in selection.slices:
            members = self.members_of.get(name)
            if members is None:
                return None
            found.update(self.device_of[p] for p in members if p in self.device_of)
        return found

    def entities(self, selection: Selection) -> list[str]:
        """The cache keys of the entities a selection names (existing ones only)."""
        if self._keys is None:
            self._keys = (
                {d: _entity("platform", "devices", "device", d) for d in self.devices},
                {p: _entity("ports", None, "port", p) for p in self.device_of},
                {s: _entity("slices", None, "slice", s) for s in self.members_of},
                {t: _entity("tenants", None, "tenant", t) for t in self.tenants},
            )
        out: list[str] = []
        chosen = (selection.devices, selection.ports, selection.slices, selection.tenants)
        for names, keys in zip(chosen, self._keys, strict=True):
            if names is None:
                out += keys.values()
            else:
                out += [keys[n] for n in names if n in keys]
        return out


def _entity(top: str, middle: str | None, list_name: str, name: str) -> str:
    elems = [PathElem(top)]
    if middle:
        elems.append(PathElem(middle))
    elems.append(PathElem(list_name, (("name", name),)))
    return path_key(DataPath(tuple(elems)))


def touched(paths: Iterable[DataPath], index: SiteIndex) -> Selection:
    """The entities whose state may change with changes at ``paths``: a changed slice
    changes its tenant's usage (every tenant's, when the slice went or changed tenant)."""
    ports: set[str] = set()
    slices: set[str] = set()
    tenants: set[str] | None = set()
    selection = EMPTY
    for path in paths:
        elems = path.elems
        if len(elems) < 2:
            if elems:
                return ALL  # a whole top-level subtree
            continue
        top, entry = elems[0].name, elems[1]
        name = dict(entry.keys).get("name")
        if top == "ports" and name is not None:
            ports.add(name)
        elif top == "slices" and name is not None:
            slices.add(name)
            owner = index.tenant_of.get(name)
            if name not in index.tenant_of or _names_tenant(elems):
                tenants = None
            elif owner is not None and tenants is not None:
                tenants.add(owner)
        elif top == "tenants" and name is not None:
            if tenants is not None:
                tenants.add(name)
        elif top == "platform" and len(elems) >= 3:
            device = dict(elems[2].keys).get("name")
            if device is not None:
                selection = union(selection, index.for_device(device))
        else:
            return ALL
    selection = union(selection, index.for_ports(ports))
    named = Selection(
        NOTHING, NOTHING, frozenset(slices), None if tenants is None else frozenset(tenants)
    )
    return union(selection, named)


def _names_tenant(elems: tuple[PathElem, ...]) -> bool:
    """True for a change of (or above) a slice's ``config/tenant`` leaf."""
    below = [e.name for e in elems[2:]]
    return below in ([], ["config"], ["config", "tenant"])
