"""RFC 7951 configuration trees -> containers of leaves, the unit the state cache keeps.

A container here is any object node with leaves of its own (a container or a list
entry). Its path carries the list keys and no module names, exactly like the paths of
the datastore's change feed, so that both sources land on the same cache entries. Each
container also gets a string key (``path_key``): hashing a string is much cheaper than
hashing a path, and the sampler looks up thousands of containers per sample.

``Flattener.config`` keeps the ``config true`` leaves of the running configuration;
state never becomes a tree (``agent.telemetry.ingest`` takes it typed, in the same
``Flat`` form).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Final

from agent.datastore.tree import key_text
from agent.schema.nav import NodeInfo, NodeKind, SchemaNavigator
from agent.schema.path import DataPath, PathElem
from agent.telemetry.patterns import SchemaReach

_SEP: Final = "\x1f"  # between elements
_KEY: Final = "\x1e"  # before each key of an element
_VALUE: Final = "\x1d"  # between a key's name and value

_SKIP, _LEAF, _CONTAINER, _LIST = 0, 1, 2, 3


def elem_key(elem: PathElem) -> str:
    """The key text of one path element (module ignored, keys sorted)."""
    return elem.name + "".join(f"{_KEY}{k}{_VALUE}{v}" for k, v in sorted(elem.keys))


def elems_key(elems: Iterable[PathElem]) -> str:
    """The key of a container path given as elements (keys of nested paths concatenate)."""
    return "".join(_SEP + elem_key(e) for e in elems)


def path_key(path: DataPath) -> str:
    """The key of a container path, as the flattener makes it."""
    return elems_key(path.elems)


class Flat:
    """One container of a flattened tree."""

    __slots__ = ("elems", "entity", "info", "key", "owner", "values")

    def __init__(
        self,
        key: str,
        elems: tuple[PathElem, ...],
        info: NodeInfo,
        values: dict[str, Any],
        owner: str | None,
        entity: str | None,
    ) -> None:
        self.key = key
        self.elems = elems
        self.info = info
        self.values = values
        self.owner = owner  # key of the deepest configured list entry at or above it
        self.entity = entity  # key of the outermost list entry above it

    @property
    def path(self) -> DataPath:
        return DataPath(self.elems)


@dataclass(slots=True)
class StateSample:
    """Containers and the entities they report on; ``counters_only``: only the counter
    containers of those entities were read."""

    flats: list[Flat] = field(default_factory=list)
    entities: dict[str, DataPath] = field(default_factory=dict)  # entity key -> path
    counters_only: bool = False


class Flattener:
    """Flattens trees of one schema (safe to use from one thread at a time)."""

    def __init__(self, nav: SchemaNavigator) -> None:
        self._nav = nav
        self._reach = SchemaReach(nav)
        self._tables: dict[tuple[int, bool], dict[str, tuple[int, NodeInfo]]] = {}
        self._layouts: dict[tuple[int, bool], dict[str, tuple[int, NodeInfo]] | None] = {}

    def config(self, tree: dict[str, Any]) -> list[Flat]:
        """Every container of configuration leaves in ``tree`` (a running tree)."""
        sample = StateSample()
        self._walk(tree, self._nav.root, "", (), True, sample, None, None)
        return sample.flats

    def _table(self, info: NodeInfo, config: bool) -> dict[str, tuple[int, NodeInfo]]:
        """What to do with each member of an object of ``info`` (filled as members show)."""
        key = (id(info.node), config)
        table = self._tables.get(key)
        if table is None:
            table = self._tables[key] = {}
        return table

    def _plan(self, info: NodeInfo, member: str, config: bool) -> tuple[int, NodeInfo]:
        child = self._nav.child_by_member(info, member)
        if child is None:
            found: tuple[int, NodeInfo] = (_SKIP, info)
        elif child.is_leafy:
            found = (_LEAF if child.config is config else _SKIP, child)
        elif (config and not child.config) or (not config and not self._reach.has_state(child)):
            found = (_SKIP, child)
        else:
            found = (_LIST if child.kind is NodeKind.LIST else _CONTAINER, child)
        self._table(info, config)[member] = found
        return found

    def _walk(
        self,
        obj: dict[str, Any],
        info: NodeInfo,
        key: str,
        elems: tuple[PathElem, ...],
        config: bool,
        sample: StateSample,
        owner: str | None,
        entity: str | None,
    ) -> None:
        layout = self._layout(info, config)
        if layout is not None:
            # every leaf child is of the kind wanted: keep all members but the nested ones
            nested = layout
            leaves = {k: v for k, v in obj.items() if k not in nested} if nested else obj
            for member, (action, child) in nested.items():
                value = obj.get(member)
                if value is not None:
                    self._nested(action, child, value, key, elems, config, sample, owner, entity)
        else:
            leaves = {}
            table = self._table(info, config)
            for member, value in obj.items():
                found = table.get(member)
                action, child = found if found is not None else self._plan(info, member, config)
                if action == _LEAF:
                    leaves[child.name] = value
                elif action != _SKIP:
                    self._nested(action, child, value, key, elems, config, sample, owner, entity)
        if leaves:
            sample.flats.append(Flat(key, elems, info, leaves, owner, entity))

    def _nested(
        self,
        action: int,
        child: NodeInfo,
        value: Any,
        key: str,
        elems: tuple[PathElem, ...],
        config: bool,
        sample: StateSample,
        owner: str | None,
        entity: str | None,
    ) -> None:
        if action == _CONTAINER:
            if isinstance(value, dict):
                name = child.name
                here = (*elems, PathElem(name))
                self._walk(value, child, key + _SEP + name, here, config, sample, owner, entity)
        elif action == _LIST and isinstance(value, list):
            self._entries(value, child, key, elems, config, sample, owner, entity)

    def _layout(self, info: NodeInfo, config: bool) -> dict[str, tuple[int, NodeInfo]] | None:
        """For a container whose leaf children are all of the kind being flattened (and
        named as their members): its nested members to descend into. None otherwise."""
        key = (id(info.node), config)
        if key in self._layouts:
            return self._layouts[key]
        layout: dict[str, tuple[int, NodeInfo]] | None = {}
        children = self._nav.children(info)
        if info.kind is not NodeKind.CONTAINER or not children:
            layout = None
        for child in children:
            if layout is None:
                break
            if child.is_leafy:
                if child.config is not config or child.member != child.name:
                    layout = None
                continue
            action, _ = self._plan(info, child.member, config)
            if action == _SKIP:
                layout = None  # a nested member to leave out: take the careful way
            else:
                layout[child.member] = (action, child)
        self._layouts[key] = layout
        return layout

    def _entries(
        self,
        entries: list[Any],
        info: NodeInfo,
        key: str,
        elems: tuple[PathElem, ...],
        config: bool,
        sample: StateSample,
        owner: str | None,
        entity: str | None,
    ) -> None:
        # entries of a config false list have no configuration of their own: they live
        # as long as the configured entry above them
        configured = info.config or owner is None
        names = info.keys
        single = names[0] if len(names) == 1 else None
        for entry in entries:
            if not isinstance(entry, dict):
                continue
            try:
                if single is not None:
                    text = key_text(entry[single])
                    pairs: tuple[tuple[str, str], ...] = ((single, text),)
                    here = f"{key}{_SEP}{info.name}{_KEY}{single}{_VALUE}{text}"
                else:
                    pairs = tuple(sorted((k, key_text(entry[k])) for k in names))
                    here = key + _SEP + elem_key(PathElem(info.name, pairs))
            except KeyError:
                continue
            path = (*elems, PathElem(info.name, pairs))
            outer = entity
            if outer is None:
                outer = here
                sample.entities[here] = DataPath(path)
            mine = here if configured else owner
            self._walk(entry, info, here, path, config, sample, mine, outer)
