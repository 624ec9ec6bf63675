"""The data tree as gNMI Get sees it: what a path reaches, lookups, and the filters.

- ``DataView.shape(path)`` checks a path against the schema once per path shape (names,
  modules and key names; key values do not matter) and says whether it is concrete and
  whether it can reach configuration and/or state.
- ``DataView.lookup(tree, path)`` finds the data a path names: a concrete path walks the
  tree directly, with a per-list key index for big lists; a wildcard path is expanded by
  the datastore's TreeOps.
- ``DataView.prune(info, value, data_type)`` applies the Get ``type`` filter; ``limit_depth``
  the depth extension.

Data types (gNMI spec 3.3.1): CONFIG is ``config true`` data; STATE is ``config false``
data; OPERATIONAL is the part of STATE that does not merely repeat configuration (in the
OpenConfig layout, a ``state`` leaf whose sibling ``config`` container has a leaf of the
same name is applied configuration, not operational). List keys are kept in every
filtered list entry so that entries stay identifiable.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

from agent.datastore.errors import DatastoreError
from agent.datastore.tree import TreeOps, entry_keys
from agent.gnmi.errors import GnmiError, path_text
from agent.northbound.lru import Lru
from agent.northbound.status import gnmi_error
from agent.schema.nav import NodeInfo, NodeKind, SchemaNavigator
from agent.schema.path import ANY_DEPTH, ANY_ONE, DataPath, PathElem

BIG_LIST: Final = 16
"""Lists longer than this get a key index for concrete lookups."""


class DataType(enum.IntEnum):
    """gnmi.GetRequest.DataType."""

    ALL = 0
    CONFIG = 1
    STATE = 2
    OPERATIONAL = 3


class _Empty:
    """Marks a value the filter removed completely."""


EMPTY: Final = _Empty()


@dataclass(frozen=True, slots=True)
class Shape:
    """What the schema says about one path shape."""

    concrete: bool  # no wildcards and every list on the way fully keyed
    config: bool  # can reach configuration
    state: bool  # can reach state
    infos: tuple[NodeInfo, ...]  # the schema node of each element (concrete paths only)
    module: str | None  # the module of the first element (None: root or wildcard)

    def reaches(self, data_type: DataType) -> bool:
        """True when data of ``data_type`` can be under the path."""
        if data_type is DataType.ALL:
            return self.config or self.state
        if data_type is DataType.CONFIG:
            return self.config
        return self.state


ShapeKey = tuple[tuple[str, str | None, tuple[str, ...], bool], ...]


class DataView:
    """Schema-aware reading of data trees for Get."""

    def __init__(
        self,
        ops: TreeOps,
        *,
        max_shapes: int = 4096,
        max_shape_chars: int = 1 << 20,
    ) -> None:
        self._ops = ops
        self._nav: SchemaNavigator = ops.nav
        self._shapes: Lru[ShapeKey, Shape] = Lru(max_shapes, budget=max_shape_chars)
        self._below: dict[int, tuple[bool, bool]] = {}  # per schema node: fixed size
        self._applied: dict[int, frozenset[str]] = {}

    @property
    def nav(self) -> SchemaNavigator:
        return self._nav

    # --- schema ---------------------------------------------------------------------

    def shape(self, path: DataPath) -> Shape:
        """The Shape of ``path``; raises NOT_FOUND for unknown nodes, INVALID_ARGUMENT
        for keys that the schema does not have."""
        key: ShapeKey = tuple(
            (e.name, e.module, tuple(k for k, _ in e.keys), any(v == ANY_ONE for _, v in e.keys))
            for e in path.elems
        )
        found = self._shapes.get(key)
        if found is None:
            found = self._shape(path)
            weight = sum(len(n) + len(m or "") + sum(map(len, ks)) for n, m, ks, _ in key)
            self._shapes.put(key, found, weight=weight)
        return found

    def _shape(self, path: DataPath) -> Shape:
        parents: list[NodeInfo] = [self._nav.root]
        infos: list[NodeInfo] = []
        concrete = True
        for depth, elem in enumerate(path.elems):
            if elem.name == ANY_DEPTH:
                parents = self._ops.descendants_or_self(parents)
                concrete = False
                continue
            if elem.name == ANY_ONE:
                found = _unique(c for p in parents for c in self._nav.children(p))
                concrete = False
            else:
                found = _unique(
                    c
                    for p in parents
                    if (c := self._nav.child(p, elem.name, elem.module)) is not None
                )
            if not found:
                where = path_text(DataPath(path.elems[:depth]))
                raise GnmiError.not_found(f"no schema node {elem.name!r} under {where}")
            for info in found:
                self._check_keys(info, elem)
                if info.kind is NodeKind.LIST and (
                    set(dict(elem.keys)) != set(info.keys) or elem.is_wildcard
                ):
                    concrete = False
            if len(found) == 1:
                infos.append(found[0])
            parents = found
        config = any(self._below_of(p)[0] for p in parents)
        state = any(self._below_of(p)[1] for p in parents)
        module = None
        if path.elems and path.elems[0].name not in (ANY_ONE, ANY_DEPTH) and infos:
            module = infos[0].module
        return Shape(concrete, config, state, tuple(infos) if concrete else (), module)

    @staticmethod
    def _check_keys(info: NodeInfo, elem: PathElem) -> None:
        if not elem.keys or elem.name == ANY_ONE:
            return
        if info.kind is not NodeKind.LIST:
            raise GnmiError.invalid_argument(f"{info.name!r} is not a list and takes no keys")
        unknown = [k for k, _ in elem.keys if k not in info.keys]
        if unknown:
            raise GnmiError.invalid_argument(
                f"{info.name!r} has no key {unknown[0]!r} (its keys: {', '.join(info.keys)})"
            )

    def _below_of(self, info: NodeInfo) -> tuple[bool, bool]:
        """(has config, has state) at or below ``info``."""
        key = id(info.node)
        found = self._below.get(key)
        if found is None:
            if info.is_leafy:
                found = (info.config, not info.config)
            else:
                config = info.config and info.kind is not NodeKind.ROOT
                state = not info.config
                for child in self._nav.children(info):
                    below = self._below_of(child)
                    config, state = config or below[0], state or below[1]
                    if config and state:
                        break
                found = (config, state)
            self._below[key] = found
        return found

    def holds_config_only(self, path: DataPath) -> bool:
        """True when no state can be at or below the node of ``path`` (keys ignored)."""
        info = self.info_of(path)
        return info.config and self._below_of(info) == (True, False)

    def info_of(self, path: DataPath) -> NodeInfo:
        """The schema node of a path without wildcards."""
        shape = self.shape(path)
        if shape.infos or not path.elems:
            return shape.infos[-1] if shape.infos else self._nav.root
        try:
            return self._ops.resolve(path)[-1]
        except DatastoreError as err:
            raise gnmi_error(err) from None

    # --- lookup ---------------------------------------------------------------------

    def lookup(
        self, tree: dict[str, Any], path: DataPath, shape: Shape | None = None
    ) -> list[tuple[DataPath, Any]]:
        """Every (concrete path, value) that ``path`` names in ``tree`` (``shape``: the
        path's, when the caller has it already)."""
        if shape is None:
            shape = self.shape(path)
        if not shape.concrete:
            try:
                return self._ops.select(tree, path)
            except DatastoreError as err:
                raise gnmi_error(err) from None
        value: Any = tree
        for info, elem in zip(shape.infos, path.elems, strict=True):
            if not isinstance(value, dict):
                return []
            child = value.get(info.member)
            if child is None:
                return []
            if info.kind is NodeKind.LIST and elem.keys:
                child = self._entry(child, info, elem)
                if child is None:
                    return []
            value = child
        return [(path, value)]

    def _entry(self, entries: Any, info: NodeInfo, elem: PathElem) -> Any:
        if not isinstance(entries, list):
            return None
        wanted_map = dict(elem.keys)
        wanted = tuple(wanted_map[k] for k in info.keys)
        if len(entries) <= BIG_LIST:
            for entry in entries:
                if entry_keys(entry, info.keys) == wanted:
                    return entry
            return None
        return self._ops.index.find(entries, info.keys, wanted)  # the datastore's index

    # --- filters --------------------------------------------------------------------

    def prune(self, path: DataPath, value: Any, data_type: DataType) -> Any:
        """``value`` (the data at the concrete ``path``) with only the data of
        ``data_type``; EMPTY when nothing is left."""
        if data_type is DataType.ALL:
            return value
        info = self.info_of(path)
        config, state = self._below_of(info)
        if data_type is DataType.CONFIG:
            if not state:
                return value
            if not config:
                return EMPTY
        elif not state:
            return EMPTY
        elif not config and data_type is DataType.STATE:
            return value
        applied: frozenset[str] = frozenset()
        if data_type is DataType.OPERATIONAL:
            holder = path if not info.is_leafy else path.parent
            holder_info = info if not info.is_leafy else self.info_of(holder)
            if _is_state_container(holder_info) and len(holder) >= 1:
                applied = self._applied_names(self.info_of(holder.parent))
        return self._prune(info, value, data_type, applied)

    def _prune(
        self, info: NodeInfo, value: Any, data_type: DataType, applied: frozenset[str]
    ) -> Any:
        """``applied``: leaf names to drop directly below ``info`` (OPERATIONAL)."""
        if info.is_leafy:
            if data_type is DataType.CONFIG:
                return value if info.config else EMPTY
            if info.config or info.name in applied:
                return EMPTY
            return value
        if info.kind is NodeKind.LIST and isinstance(value, list):
            entries = [self._prune_object(info, e, data_type, applied) for e in value]
            kept = [e for e in entries if e is not EMPTY]
            return kept if kept else EMPTY
        if isinstance(value, dict):
            return self._prune_object(info, value, data_type, applied)
        return value

    def _prune_object(
        self, info: NodeInfo, value: Any, data_type: DataType, applied: frozenset[str]
    ) -> Any:
        if not isinstance(value, dict):
            return value
        out: dict[str, Any] = {}
        kept_data = False
        for member, child_value in value.items():
            child = self._nav.child_by_member(info, member)
            if child is None:
                continue
            if info.kind is NodeKind.LIST and child.name in info.keys:
                out[member] = child_value  # keys identify the entry
                continue
            config, state = self._below_of(child)
            if data_type is DataType.CONFIG and not state:
                pruned = child_value
            elif not (config if data_type is DataType.CONFIG else state):
                continue
            elif data_type is DataType.STATE and not config:
                pruned = child_value
            elif child.is_leafy:
                pruned = self._prune(child, child_value, data_type, applied)
            else:
                inner: frozenset[str] = frozenset()
                if data_type is DataType.OPERATIONAL and _is_state_container(child):
                    inner = self._applied_names(info)
                pruned = self._prune(child, child_value, data_type, inner)
            if pruned is EMPTY:
                continue
            out[member] = pruned
            kept_data = True
        return out if kept_data else EMPTY

    def _applied_names(self, info: NodeInfo) -> frozenset[str]:
        """Leaves of ``info``'s ``state`` child that repeat its ``config`` child."""
        key = id(info.node)
        found = self._applied.get(key)
        if found is None:
            config = self._nav.child(info, "config")
            found = frozenset(
                c.name for c in (self._nav.children(config) if config else ()) if c.is_leafy
            )
            self._applied[key] = found
        return found


def _unique(infos: Iterable[NodeInfo]) -> list[NodeInfo]:
    """``infos`` with each schema node once, in order."""
    return list({id(info.node): info for info in infos}.values())


def _is_state_container(info: NodeInfo) -> bool:
    return info.kind is NodeKind.CONTAINER and not info.config


def limit_depth(value: Any, level: int) -> Any:
    """The depth extension: ``level`` levels below the node, the last one with leaves
    and leaf-lists only (0: no limit). List entries are on their list's level."""
    if level <= 0:
        return value
    if isinstance(value, list) and not _is_leaf_list(value):
        return [limit_depth(entry, level) for entry in value]
    if not isinstance(value, dict):
        return value
    if level == 1:
        return {k: v for k, v in value.items() if _is_leafy_value(v)}
    return {k: (v if _is_leafy_value(v) else limit_depth(v, level - 1)) for k, v in value.items()}


def _is_leaf_list(value: list[Any]) -> bool:
    return not any(isinstance(element, dict) for element in value)


def _is_leafy_value(value: Any) -> bool:
    if isinstance(value, dict):
        return False
    if isinstance(value, list):
        return _is_leaf_list(value)
    return True
