"""RFC 6470 ``<netconf-config-change>`` content derived from one commit.

The datastore's diff lists leaf updates and removed nodes. They become ``<edit>`` entries:

- a removed node is ``delete`` at that node;
- an updated leaf whose node, or an ancestor of it, was absent before the commit is one
  ``create`` at the highest node that did not exist (a new port is one edit naming the
  port entry, not one per leaf);
- an updated leaf that existed is ``merge``; a leaf-list whose values changed is
  ``replace`` (the diff carries the whole new set of values).

Deletes come first, then the rest, each in path order. Targets are instance-identifiers
with the modules' own prefixes
(``/eport:ports/eport:port[eport:name='tor-tf1/1']/eport:config/eport:mtu``).
"""

from __future__ import annotations

import enum
import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from lxml import etree

from agent.datastore.diff import Change, ChangeKind
from agent.datastore.tree import entry_keys
from agent.northbound.netconf.contracts import NS_NOTIFICATIONS_6470, Element, qname
from agent.northbound.netconf.xpath import ModuleNames, instance_xpath
from agent.schema.nav import NodeInfo, NodeKind, SchemaNavigator
from agent.schema.path import DataPath, PathElem

_SESSION: Final = re.compile(r"^(?:netconf:)?(\d+)$")


class EditOperation(enum.Enum):
    """The RFC 6241 edit-operation that best describes one edit of a commit."""

    CREATE = "create"
    DELETE = "delete"
    MERGE = "merge"
    REPLACE = "replace"


@dataclass(frozen=True, slots=True)
class ConfigEdit:
    """One ``<edit>``: the node changed and how."""

    path: DataPath
    operation: EditOperation


@dataclass(frozen=True, slots=True)
class ChangedBy:
    """Who made a commit: a user (``session_id`` 0 when not a NETCONF session) or, with
    ``username`` None, the server itself (a commit-confirmed rollback)."""

    username: str | None
    session_id: int = 0
    source_host: str | None = None

    @classmethod
    def of(cls, meta: Mapping[str, Any]) -> ChangedBy:
        """From the meta saved with a commit (``user``, ``session``, ``peer``)."""
        user = meta.get("user")
        if not isinstance(user, str) or not user:
            return cls(None)
        found = _SESSION.match(str(meta.get("session") or ""))
        return cls(user, int(found.group(1)) if found else 0, source_host(meta.get("peer")))


def source_host(peer: Any) -> str | None:
    """The IP address in a peer description (``ipv4:10.0.0.1:5000``, ``[::1]:830``,
    ``10.0.0.1``), or None when it holds none."""
    if not isinstance(peer, str) or not peer:
        return None
    text = peer.replace("%5B", "[").replace("%5D", "]")
    for scheme in ("ipv4:", "ipv6:"):
        text = text.removeprefix(scheme)
    candidates = [text, text.rsplit(":", 1)[0]]
    if text.startswith("["):
        candidates.insert(0, text[1:].split("]", 1)[0])
    for candidate in candidates:
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            continue
    return None


def config_edits(
    before: Mapping[str, Any], changes: Iterable[Change], nav: SchemaNavigator
) -> tuple[ConfigEdit, ...]:
    """The edits of a commit that changed ``before`` by ``changes``."""
    presence = _Presence(before, nav)
    deletes: dict[DataPath, ConfigEdit] = {}
    others: dict[DataPath, ConfigEdit] = {}
    for change in changes:
        path = change.path.without_modules()
        if change.kind is ChangeKind.DELETE:
            deletes[path] = ConfigEdit(path, EditOperation.DELETE)
            continue
        infos = presence.infos(path)
        missing = presence.first_absent(path)
        if missing is not None:
            created = DataPath(path.elems[: missing + 1])
            others[created] = ConfigEdit(created, EditOperation.CREATE)
        elif infos and infos[-1].kind is NodeKind.LEAF_LIST:
            others[path] = ConfigEdit(path, EditOperation.REPLACE)
        else:
            others[path] = ConfigEdit(path, EditOperation.MERGE)
    ordered = sorted(deletes.values(), key=_order) + sorted(others.values(), key=_order)
    return tuple(ordered)


def _order(edit: ConfigEdit) -> str:
    return str(edit.path)


class _Presence:
    """Which nodes of one tree exist, looked up by path with the lists indexed once."""

    def __init__(self, tree: Mapping[str, Any], nav: SchemaNavigator) -> None:
        self._tree = tree
        self._nav = nav
        self._nodes: dict[tuple[PathElem, ...], Any] = {(): tree}
        self._infos: dict[tuple[PathElem, ...], NodeInfo | None] = {(): nav.root}
        self._entries: dict[int, dict[tuple[str, ...] | None, Any]] = {}

    def infos(self, path: DataPath) -> list[NodeInfo]:
        """Schema info of each element of ``path`` (as far as the schema knows it)."""
        found: list[NodeInfo] = []
        for depth in range(1, len(path.elems) + 1):
            info = self._info(path.elems[:depth])
            if info is None:
                break
            found.append(info)
        return found

    def first_absent(self, path: DataPath) -> int | None:
        """The index of the first element of ``path`` with no node in the tree."""
        for depth in range(1, len(path.elems) + 1):
            if self._node(path.elems[:depth]) is None:
                return depth - 1
        return None

    def _info(self, elems: tuple[PathElem, ...]) -> NodeInfo | None:
        if elems not in self._infos:
            parent = self._info(elems[:-1])
            last = elems[-1]
            self._infos[elems] = (
                None if parent is None else self._nav.child(parent, last.name, last.module)
            )
        return self._infos[elems]

    def _node(self, elems: tuple[PathElem, ...]) -> Any:
        if elems in self._nodes:
            return self._nodes[elems]
        parent = self._node(elems[:-1])
        info = self._info(elems)
        node: Any = None
        if isinstance(parent, Mapping) and info is not None:
            value = parent.get(info.member)
            if info.kind is NodeKind.LIST:
                node = self._entry(value, info, elems[-1]) if isinstance(value, list) else None
            else:
                node = value
        self._nodes[elems] = node
        return node

    def _entry(self, entries: list[Any], info: NodeInfo, elem: PathElem) -> Any:
        index = self._entries.get(id(entries))
        if index is None:
            index = {entry_keys(e, info.keys): e for e in entries}
            self._entries[id(entries)] = index
        wanted = elem.key_map
        if any(k not in wanted for k in info.keys):
            return entries or None  # the list itself (no keys): present when not empty
        return index.get(tuple(wanted[k] for k in info.keys))


def config_change_element(
    changed_by: ChangedBy, edits: Sequence[ConfigEdit], names: ModuleNames, nav: SchemaNavigator
) -> Element:
    """The ``<netconf-config-change>`` element for edits of the running datastore (the
    prefixes of every module are declared on it, for the targets)."""
    ns = NS_NOTIFICATIONS_6470
    nsmap: dict[str | None, str] = {None: ns}
    nsmap.update(names.nsmap)
    root = etree.Element(qname(ns, "netconf-config-change"), nsmap=nsmap)
    who = etree.SubElement(root, qname(ns, "changed-by"))
    if changed_by.username is None:
        etree.SubElement(who, qname(ns, "server"))
    else:
        etree.SubElement(who, qname(ns, "username")).text = changed_by.username
        etree.SubElement(who, qname(ns, "session-id")).text = str(changed_by.session_id)
        if changed_by.source_host is not None:
            etree.SubElement(who, qname(ns, "source-host")).text = changed_by.source_host
    etree.SubElement(root, qname(ns, "datastore")).text = "running"
    for edit in edits:
        entry = etree.SubElement(root, qname(ns, "edit"))
        etree.SubElement(entry, qname(ns, "target")).text = instance_xpath(edit.path, names, nav)
        etree.SubElement(entry, qname(ns, "operation")).text = edit.operation.value
    return root
