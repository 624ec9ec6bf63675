"""Views: the site as one principal may see and change it.

Admins and operators see the whole site (:class:`FullView`). A tenant sees a virtual
datastore (:class:`TenantView`), the site filtered to:

- its own slices (``config/tenant`` is the tenant), whole: config, members, state;
- the ports delegated to it (``/tenants/tenant[name=T]/config/ports``), read-only;
- its own ``/tenants`` entry, read-only;

and nothing else: other tenants' slices, other ports, the platform do not exist there.
Reads project the running tree (and the state read for it) onto the view; telemetry asks
``visible(path)`` for each container it would send.

Writes are evaluated in the view: the tenant's edits are staged on its projected tree,
exactly as on the whole site, and the outcome is turned back into edits of whole slices
of the site (:meth:`TenantView.site_edits`). So a tenant's replace of ``/slices``
replaces exactly its own slices; a new slice belongs to the tenant that creates it; its
member ports must be delegated to the tenant; moving a slice to another tenant, taking a
name another tenant uses, and any change to what is read-only in the view are refused.
The commit's diff is then authorized again (:meth:`View.authorize`): nothing outside the
tenant's own slices may change, whatever the edits were.

Refusals never name what is outside the view.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final, Protocol

from agent.datastore.diff import Change
from agent.datastore.edits import Edit, EditKind, gnmi_order
from agent.datastore.errors import DatastoreError, ErrorKind
from agent.datastore.tree import Tree, TreeOps
from agent.mapping.model import PLATFORM, PORTS, SLICES, TENANTS
from agent.schema.path import DataPath, PathElem

SLICES_PATH: Final = DataPath((PathElem("slices", module="edge-slices"),))
_TOPS: Final = MappingProxyType(
    {PORTS: "ports", SLICES: "slices", TENANTS: "tenants", PLATFORM: "platform"}
)
_LISTS: Final = MappingProxyType({PORTS: "port", SLICES: "slice", TENANTS: "tenant"})


def tenant_of(user: object) -> str | None:
    """The tenant a user is bound to (None: admins and operators, who see the site)."""
    tenant = getattr(user, "tenant", None)
    return tenant if isinstance(tenant, str) and tenant else None


class View(Protocol):
    """What one principal sees of the site and may change in it."""

    @property
    def full(self) -> bool:
        """True when the view is the whole site."""
        ...

    def project(self, tree: Tree) -> Tree:
        """``tree`` (configuration, or configuration with state) as the view shows it."""
        ...

    def visible(self, path: DataPath) -> bool:
        """True when the node at the concrete ``path`` is in the view."""
        ...

    def site_edits(
        self, ops: TreeOps, tree: Tree, edits: Sequence[Edit]
    ) -> tuple[list[Edit], list[int]]:
        """The edits of the whole site (running ``tree``) that make ``edits`` (meant for
        the view), and for each of them the index of the request operation behind it."""
        ...

    def authorize(self, before: Tree, after: Tree, changes: Sequence[Change]) -> None:
        """Refuses (DatastoreError DENIED) a commit that changes anything outside what
        the view may write."""
        ...

    def redact(self, message: str) -> str:
        """``message`` without the names of anything outside the view."""
        ...


class FullView:
    """The whole site (admins, operators)."""

    full = True
    signature = "full"

    def project(self, tree: Tree) -> Tree:
        return tree

    def visible(self, path: DataPath) -> bool:
        return True

    def site_edits(
        self, ops: TreeOps, tree: Tree, edits: Sequence[Edit]
    ) -> tuple[list[Edit], list[int]]:
        return list(edits), list(range(len(edits)))

    def authorize(self, before: Tree, after: Tree, changes: Sequence[Change]) -> None:
        return None

    def redact(self, message: str) -> str:
        return message


FULL_VIEW: Final = FullView()


@dataclass(frozen=True, slots=True)
class Ownership:
    """Who owns what in one configuration tree."""

    owner_of: Mapping[str, str | None]  # slice name -> tenant (None: no tenant)
    delegated: Mapping[str, frozenset[str]]  # tenant -> its delegated ports

    @classmethod
    def of(cls, tree: Tree) -> Ownership:
        owner_of = {
            str(entry.get("name")): _config(entry).get("tenant") for entry in _entries(tree, SLICES)
        }
        delegated = {
            str(entry.get("name")): frozenset(map(str, _config(entry).get("ports") or ()))
            for entry in _entries(tree, TENANTS)
        }
        return cls(owner_of, delegated)

    def slices_of(self, tenant: str) -> frozenset[str]:
        return frozenset(name for name, owner in self.owner_of.items() if owner == tenant)


class TenantView:
    """The site as tenant ``tenant`` sees it, for one running version."""

    full = False

    def __init__(self, tenant: str, ownership: Ownership, all_ports: Iterable[str] = ()) -> None:
        self.tenant = tenant
        self._ownership = ownership
        self._all_ports = frozenset(all_ports)
        self.slices = ownership.slices_of(tenant)
        self.ports = ownership.delegated.get(tenant, frozenset())

    @classmethod
    def of(cls, tenant: str, tree: Tree) -> TenantView:
        """The view of ``tenant`` over the configuration ``tree``."""
        ports = (str(e.get("name")) for e in _entries(tree, PORTS))
        return cls(tenant, Ownership.of(tree), ports)

    @property
    def signature(self) -> tuple[str, frozenset[str], frozenset[str]]:
        """Views with equal signatures show the same entities."""
        return (self.tenant, self.slices, self.ports)

    # --- reading --------------------------------------------------------------------

    def project(self, tree: Tree) -> Tree:
        out: Tree = {}
        keep = {SLICES: self.slices, PORTS: self.ports, TENANTS: frozenset({self.tenant})}
        for top, names in keep.items():
            container = tree.get(top)
            if not isinstance(container, dict):
                continue
            entries = container.get(_LISTS[top])
            if not isinstance(entries, list):
                continue
            kept = [e for e in entries if isinstance(e, dict) and e.get("name") in names]
            if kept or top == SLICES:
                out[top] = {**container, _LISTS[top]: kept}
        return out

    def visible(self, path: DataPath) -> bool:
        if not path.elems:
            return True
        top = path.elems[0].name
        if len(path.elems) < 2:
            return top in ("slices", "ports", "tenants")
        key = path.elems[1].key_map.get("name")
        if top == "slices":
            return key is None or key in self.slices
        if top == "ports":
            return key is None or key in self.ports
        if top == "tenants":
            return key is None or key == self.tenant
        return False

    # --- writing --------------------------------------------------------------------

    def site_edits(
        self, ops: TreeOps, tree: Tree, edits: Sequence[Edit]
    ) -> tuple[list[Edit], list[int]]:
        before = self.project(tree)
        staged = before
        for index, edit in gnmi_order(list(edits)):
            try:
                staged = _apply(ops, staged, edit)
            except DatastoreError as err:
                raise err.at(index) from None
        for top in staged.keys() | before.keys():
            if top != SLICES and staged.get(top) != before.get(top):
                raise DatastoreError(
                    ErrorKind.DENIED,
                    f"/{_TOPS.get(top, top)} is read-only for tenant {self.tenant!r}",
                    op_index=_first_touching(edits, _TOPS.get(top, top)),
                )
        old = {str(e.get("name")): e for e in _entries(before, SLICES)}
        new = {str(e.get("name")): e for e in _entries(staged, SLICES)}
        out: list[Edit] = []
        sources: list[int] = []
        for name in sorted(old.keys() - new.keys()):
            out.append(Edit.delete(_slice_path(name)))
            sources.append(_source(edits, name))
        for name, entry in new.items():
            if old.get(name) is entry:
                continue
            index = _source(edits, name)
            out.append(Edit.replace(_slice_path(name), self._owned(name, entry, index)))
            sources.append(index)
        return out, sources

    def _owned(self, name: str, entry: Mapping[str, Any], index: int) -> dict[str, Any]:
        """``entry`` as a slice of this tenant (checked), the tenant filled in if absent."""
        if name not in self.slices and name in self._ownership.owner_of:
            raise DatastoreError(
                ErrorKind.DENIED,
                f"the slice name {name!r} is not available to tenant {self.tenant!r}",
                op_index=index,
            )
        config = dict(_config(entry))
        owner = config.get("tenant")
        if owner is None:
            config["tenant"] = self.tenant
        elif owner != self.tenant:
            raise DatastoreError(
                ErrorKind.DENIED,
                f"slice {name!r}: tenant {self.tenant!r} may not give a slice to another tenant",
                op_index=index,
            )
        for port in _member_ports(entry):
            if port not in self.ports:
                raise DatastoreError(
                    ErrorKind.DENIED,
                    f"slice {name!r}: port {port!r} is not delegated to tenant {self.tenant!r}",
                    op_index=index,
                )
        out = dict(entry)
        out["config"] = config
        return out

    def authorize(self, before: Tree, after: Tree, changes: Sequence[Change]) -> None:
        mine_after = Ownership.of(after).slices_of(self.tenant)
        only_mine_before = set(Ownership.of(before).owner_of) <= self.slices
        for change in changes:
            elems = change.path.elems
            if elems and elems[0].name == "slices":
                name = elems[1].key_map.get("name") if len(elems) >= 2 else None
                if name is None and only_mine_before:
                    continue  # the container went away with the last slice, all ours
                if name is not None and (
                    name in self.slices
                    or (name in mine_after and name not in self._ownership.owner_of)
                ):
                    continue
            raise DatastoreError(
                ErrorKind.DENIED,
                self.redact(f"tenant {self.tenant!r} may not change {_shown(change.path)}"),
            )

    def redact(self, message: str) -> str:
        hidden = [n for n in self._ownership.owner_of if n not in self.slices]
        hidden += [p for p in self._all_ports if p not in self.ports]
        hidden += [t for t in self._ownership.delegated if t != self.tenant]
        for name in sorted(set(hidden), key=len, reverse=True):
            message = message.replace(f"[name={name}]", "[name=...]")
            message = message.replace(f"'{name}'", "'...'").replace(f'"{name}"', '"..."')
        return message


def tenant_config(tree: Mapping[str, Any], tenant: str) -> Mapping[str, Any]:
    """The config container of tenant ``tenant`` in ``tree`` (empty when absent)."""
    for entry in _entries(tree, TENANTS):
        if entry.get("name") == tenant:
            return _config(entry)
    return {}


def _apply(ops: TreeOps, tree: Tree, edit: Edit) -> Tree:
    if edit.kind is EditKind.DELETE:
        return ops.delete(tree, edit.path)
    if edit.kind is EditKind.REPLACE:
        return ops.replace(tree, edit.path, edit.value)
    return ops.update(tree, edit.path, edit.value)


def _entries(tree: Mapping[str, Any], top: str) -> list[Mapping[str, Any]]:
    container = tree.get(top)
    if not isinstance(container, dict):
        return []
    found = container.get(_LISTS[top])
    return [e for e in found if isinstance(e, dict)] if isinstance(found, list) else []


def _config(entry: Mapping[str, Any]) -> Mapping[str, Any]:
    config = entry.get("config")
    return config if isinstance(config, dict) else {}


def _member_ports(entry: Mapping[str, Any]) -> Iterable[str]:
    members = entry.get("members")
    if not isinstance(members, dict):
        return ()
    found = members.get("member")
    if not isinstance(found, list):
        return ()
    return [str(m.get("port")) for m in found if isinstance(m, dict) and "port" in m]


def _slice_path(name: str) -> DataPath:
    return SLICES_PATH.child("slice", name=name)


def _source(edits: Sequence[Edit], slice_name: str) -> int:
    """The request operation that produced the change of slice ``slice_name``: the last
    (in gNMI order) whose path names that slice or lies above it."""
    found = 0
    for index, edit in gnmi_order(list(edits)):
        elems = edit.path.elems
        if not elems or elems[0].name != "slices":
            continue
        key = elems[1].key_map.get("name") if len(elems) >= 2 else None
        if key is None or key == slice_name or key == "*":
            found = index
    return found


def _first_touching(edits: Sequence[Edit], top: str) -> int | None:
    for index, edit in gnmi_order(list(edits)):
        elems = edit.path.elems
        if not elems or elems[0].name in (top, "*", "..."):
            return index
    return None


def _shown(path: DataPath) -> str:
    return str(path.without_modules())


class Running(Protocol):
    """A running-configuration snapshot."""

    @property
    def version(self) -> int: ...

    @property
    def tree(self) -> Tree: ...


class RunningSource(Protocol):
    """Where the running configuration comes from (the datastore)."""

    @property
    def running(self) -> Running: ...


class ViewSource:
    """The view of each principal over the current running configuration.

    A principal with a tenant works in that tenant's view; everyone else sees the whole
    site. Tenant views are built once per running version and kept for the most recent
    versions."""

    def __init__(self, datastore: RunningSource, *, keep: int = 256) -> None:
        self._datastore = datastore
        self._keep = keep
        self._recent: dict[tuple[str, int], TenantView] = {}

    def of(self, tenant: str | None) -> View:
        """The view of a principal bound to ``tenant`` (None: the whole site)."""
        if tenant is None:
            return FULL_VIEW
        running = self._datastore.running
        key = (tenant, running.version)
        found = self._recent.get(key)
        if found is None:
            if len(self._recent) >= self._keep:
                self._recent.clear()
            found = self._recent[key] = TenantView.of(tenant, running.tree)
        return found
