"""Schema-aware operations on RFC 7951 configuration trees.

Trees are plain JSON-like dicts and lists that are never mutated once built: every edit
returns a new tree that shares all untouched subtrees with the old one (copy on write),
so a reader holding a tree sees it unchanged forever and diffs can skip shared subtrees
by identity.

Paths are internal DataPaths; wildcards (``*``, ``...``, key ``*`` or a missing key)
are expanded by ``select`` and ``delete``; ``replace`` and ``update`` need concrete paths.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any, Final

from agent.cancellation import checkpoint
from agent.datastore.errors import DatastoreError, ErrorKind
from agent.schema.characters import character_problem
from agent.schema.leaf_types import BaseType
from agent.schema.nav import NodeInfo, NodeKind, SchemaNavigator
from agent.schema.path import ANY_DEPTH, ANY_ONE, DataPath, PathElem
from agent.schema.pattern import PathPattern, States
from agent.schema.refusal import Refusal, Rule

Tree = dict[str, Any]


def key_text(value: Any) -> str:
    """A list key value as it appears in a path."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)


def entry_keys(entry: Any, keys: tuple[str, ...]) -> tuple[str, ...] | None:
    """The key values of a list entry as path text, or None when one is missing."""
    if not isinstance(entry, dict):
        return None
    values = []
    for key in keys:
        if key not in entry:
            return None
        values.append(key_text(entry[key]))
    return tuple(values)


class KeyIndex:
    """Where each entry of recently used lists sits, by key, so that a transaction of many
    edits to one long list, and lookups by key in a candidate, find entries without
    scanning the list each time. Holds the ``LIMIT`` most recent lists; lists are never
    mutated, so a list found by identity still has the positions remembered for it."""

    LIMIT = 16

    def __init__(self) -> None:
        self._known: dict[int, tuple[list[Any], dict[tuple[str, ...], int]]] = {}
        self._lock = threading.Lock()

    def positions(self, entries: list[Any], keys: tuple[str, ...]) -> dict[tuple[str, ...], int]:
        """Key values (as path text) -> position of the first entry with them."""
        found = self._known.get(id(entries))
        if found is not None and found[0] is entries:
            return found[1]
        positions: dict[tuple[str, ...], int] = {}
        for n, entry in enumerate(entries):
            key = entry_keys(entry, keys)
            if key is not None:
                positions.setdefault(key, n)
        self.remember(entries, positions)
        return positions

    def find(self, entries: list[Any], keys: tuple[str, ...], wanted: tuple[str, ...]) -> Any:
        """The entry of ``entries`` whose key values are ``wanted``, or None."""
        position = self.positions(entries, keys).get(wanted)
        return None if position is None else entries[position]

    def remember(self, entries: list[Any], positions: dict[tuple[str, ...], int]) -> None:
        """Records the positions of a list just built (they must be exact)."""
        with self._lock:
            self._known[id(entries)] = (entries, positions)
            while len(self._known) > self.LIMIT:
                del self._known[next(iter(self._known))]


_UNSURE: Final = object()
"""What TreeOps._lookup answers for a path it leaves to the walk."""


class TreeOps:
    """Reads and edits trees of one schema."""

    def __init__(self, nav: SchemaNavigator, index: KeyIndex | None = None) -> None:
        """``index``: a key index to share (e.g. the datastore's, which knows the lists
        of every running tree); a new one otherwise."""
        self.nav = nav
        self.index = index if index is not None else KeyIndex()

    # --- reading --------------------------------------------------------------------

    def resolve(self, path: DataPath) -> list[NodeInfo]:
        """Schema info for each element of a path (keys and wildcards not allowed);
        raises NOT_FOUND naming the first unknown element."""
        infos: list[NodeInfo] = []
        parent = self.nav.root
        for depth, elem in enumerate(path.elems):
            child = self.nav.child(parent, elem.name, elem.module)
            if child is None:
                where = str(DataPath(path.elems[:depth]).without_modules())
                raise DatastoreError(
                    ErrorKind.NOT_FOUND, f"no schema node {elem.name!r} under {where}"
                )
            infos.append(child)
            parent = child
        return infos

    def get(self, tree: Tree, path: DataPath) -> Any:
        """The value at a concrete path, or None when absent."""
        found = self._lookup(tree, path)
        if found is not _UNSURE:
            return found
        chosen = self.select(tree, path)
        return chosen[0][1] if chosen else None

    def _lookup(self, tree: Tree, path: DataPath) -> Any:
        """The value at ``path`` found by member names and the key index (a lookup per
        step instead of a walk of every entry), or _UNSURE when the path is not plainly
        concrete (wildcards, a list without all its keys, a name the schema lacks):
        then :meth:`select` decides, with its errors."""
        node: Any = tree
        info = self.nav.root
        for elem in path.elems:
            child = self.nav.child(info, elem.name, elem.module)
            if child is None or elem.name in ("*", "..."):
                return _UNSURE
            if not isinstance(node, dict):
                return None
            value = node.get(child.name)
            if value is None and child.module:
                value = node.get(f"{child.module}:{child.name}")
            if child.kind is NodeKind.LIST:
                keys = dict(elem.keys)
                if set(keys) != set(child.keys) or "*" in keys.values():
                    return _UNSURE
                if not isinstance(value, list):
                    return None
                value = self.index.find(value, child.keys, tuple(keys[k] for k in child.keys))
            elif elem.keys:
                return _UNSURE
            if value is None:
                return None
            node, info = value, child
        return node

    def select(self, tree: Tree, path: DataPath) -> list[tuple[DataPath, Any]]:
        """Every (concrete path, value) the path matches; wildcards expanded.

        A list path without keys matches each entry. Unknown schema nodes raise
        NOT_FOUND; data that is merely absent yields nothing. The walk visits each data
        node once and costs (nodes visited) x (path length), whatever wildcards the
        path holds; it stops at a cancellation checkpoint when its request is over.
        """
        self._check_schema(path)
        pattern = PathPattern(path)
        out: list[tuple[DataPath, Any]] = []
        self._walk(tree, self.nav.root, (), pattern, pattern.start, out)
        return out

    def _check_schema(self, path: DataPath) -> None:
        """Refuses names the schema does not know, even below wildcards (so a path longer
        than the schema is deep is NOT_FOUND before any data is walked). Each step keeps
        every schema node once, so this costs (path length) x (schema size)."""
        parents = [self.nav.root]
        for depth, elem in enumerate(path.elems):
            checkpoint()
            if elem.name == ANY_DEPTH:
                parents = self.descendants_or_self(parents)
                continue
            nxt: dict[int, NodeInfo] = {}
            for parent in parents:
                if elem.name == ANY_ONE:
                    nxt.update((id(c.node), c) for c in self.nav.children(parent))
                else:
                    child = self.nav.child(parent, elem.name, elem.module)
                    if child is not None:
                        nxt[id(child.node)] = child
            if not nxt:
                where = str(DataPath(path.elems[:depth]).without_modules())
                raise DatastoreError(
                    ErrorKind.NOT_FOUND, f"no schema node {elem.name!r} under {where}"
                )
            for child in nxt.values():
                unknown = [k for k, _ in elem.keys if child.kind is NodeKind.LIST]
                bad = [k for k in unknown if k not in child.keys]
                if bad:
                    raise DatastoreError(ErrorKind.INVALID, f"{child.name!r} has no key {bad[0]!r}")
                if elem.keys and child.kind is not NodeKind.LIST and elem.name != ANY_ONE:
                    raise DatastoreError(
                        ErrorKind.INVALID, f"{child.name!r} is not a list and takes no keys"
                    )
            parents = list(nxt.values())

    def descendants_or_self(self, infos: list[NodeInfo]) -> list[NodeInfo]:
        """``infos`` and every schema node below them (what ``...`` can match), each once."""
        out: dict[int, NodeInfo] = {}
        todo = list(infos)
        while todo:
            info = todo.pop()
            if id(info.node) in out:
                continue
            out[id(info.node)] = info
            todo.extend(self.nav.children(info))
        return list(out.values())

    def _walk(
        self,
        value: Any,
        info: NodeInfo,
        done: tuple[PathElem, ...],
        pattern: PathPattern,
        states: States,
        out: list[tuple[DataPath, Any]],
    ) -> None:
        """Collects the nodes at or below ``value`` (reached in ``states``) that match."""
        checkpoint()
        if pattern.end in states:
            out.append((DataPath(done), value))
            states = states - {pattern.end}
            if not states:
                return
        if not isinstance(value, dict):
            return
        for child, child_value, child_done in self._members(value, info, done):
            nxt = pattern.step(states, child_done[-1])
            if nxt:
                self._walk(child_value, child, child_done, pattern, nxt, out)

    def _members(
        self, value: Tree, info: NodeInfo, done: tuple[PathElem, ...]
    ) -> Iterator[tuple[NodeInfo, Any, tuple[PathElem, ...]]]:
        """(child info, value, path) for members of an object, list entries expanded."""
        for member, child_value in value.items():
            child = self.nav.child_by_member(info, member)
            if child is None:
                continue
            if child.kind is NodeKind.LIST:
                if not isinstance(child_value, list):
                    continue
                for entry in child_value:
                    keys = entry_keys(entry, child.keys)
                    if keys is None:
                        continue
                    elem = PathElem(child.name, tuple(sorted(zip(child.keys, keys, strict=True))))
                    yield child, entry, (*done, elem)
            else:
                yield child, child_value, (*done, PathElem(child.name))

    # --- editing --------------------------------------------------------------------

    def replace(self, tree: Tree, path: DataPath, value: Any) -> Tree:
        """The tree with the node at ``path`` replaced by ``value`` (created if absent).

        Like ``update`` and ``delete``, refuses (INVALID) a path key holding a character no
        YANG string may hold; like ``update``, a value with two entries of the same keys
        in any of its lists.
        """
        return self._edit(tree, path, value, merge=False)

    def update(self, tree: Tree, path: DataPath, value: Any) -> Tree:
        """The tree with ``value`` merged into the node at ``path``."""
        return self._edit(tree, path, value, merge=True)

    def delete(self, tree: Tree, path: DataPath) -> Tree:
        """The tree without every node ``path`` matches; absent data is not an error."""
        _check_path_keys(path)
        if not path.elems:
            return {}
        self._delete_targets(path)
        result = tree
        for concrete, _ in self.select(tree, path):
            result = self._remove(result, concrete)
        return result

    def _delete_targets(self, path: DataPath) -> None:
        if path.is_wildcard:
            return
        infos = self.resolve(path)
        for info, elem in zip(infos, path.elems, strict=True):
            if info.kind is NodeKind.LIST and elem.keys and set(dict(elem.keys)) != set(info.keys):
                raise DatastoreError(ErrorKind.INVALID, f"{info.name!r} needs the keys {info.keys}")
        if len(infos) >= 2:
            parent_elem, last = path.elems[-2], infos[-1]
            if infos[-2].kind is NodeKind.LIST and last.name in infos[-2].keys and parent_elem.keys:
                raise DatastoreError(
                    ErrorKind.INVALID,
                    f"cannot delete the list key {last.name!r}; delete the entry instead",
                )

    def _edit(self, tree: Tree, path: DataPath, value: Any, *, merge: bool) -> Tree:
        _check_path_keys(path)
        if path.is_wildcard:
            raise DatastoreError(
                ErrorKind.INVALID, f"{path.without_modules()}: wildcards only in delete"
            )
        if not path.elems:
            if not isinstance(value, dict):
                raise DatastoreError(ErrorKind.INVALID, "the root value must be a JSON object")
            self._check_entry_keys(self.nav.root, path, value)
            return self._merge(tree, value, self.nav.root) if merge else dict(value)
        infos = self.resolve(path)
        for info, elem in zip(infos, path.elems, strict=True):
            if info.kind is NodeKind.LIST:
                given = set(dict(elem.keys))
                if given and given != set(info.keys):
                    raise DatastoreError(
                        ErrorKind.INVALID,
                        f"{info.name!r} needs all its keys {list(info.keys)}, got {sorted(given)}",
                    )
                if not given and info is not infos[-1]:
                    raise DatastoreError(
                        ErrorKind.INVALID,
                        f"{info.name!r} is a list: give its key {list(info.keys)} in the path",
                    )
            elif elem.keys:
                raise DatastoreError(ErrorKind.INVALID, f"{info.name!r} is not a list")
        last, last_elem = infos[-1], path.elems[-1]
        if last.kind is NodeKind.LIST and last_elem.keys:
            value = self._entry_value(last, last_elem, value, merge)
        self._check_shape(last, last_elem, value)
        self._check_entry_keys(last, path, value)
        return self._set(tree, self.nav.root, path.elems, infos, 0, value, merge)

    def _entry_value(self, info: NodeInfo, elem: PathElem, value: Any, merge: bool) -> Any:
        if not isinstance(value, dict):
            raise DatastoreError(ErrorKind.INVALID, f"a {info.name!r} entry must be a JSON object")
        if not value and not merge:
            raise DatastoreError(
                ErrorKind.INVALID,
                f"replacing a {info.name!r} entry with an empty value; use delete to remove it",
            )
        entry = dict(value)
        for key, text in elem.keys:
            if key in entry and key_text(entry[key]) != text:
                raise DatastoreError(
                    ErrorKind.INVALID,
                    f"key {key}={key_text(entry[key])!r} in the value contradicts "
                    f"{key}={text!r} in the path",
                )
            entry[key] = self._typed_key(info, key, text)
        return entry

    def _typed_key(self, info: NodeInfo, key: str, text: str) -> Any:
        leaf = self.nav.child(info, key)
        lt = leaf.leaf_type if leaf is not None else None
        if lt is not None and lt.is_integer and lt.base not in (BaseType.INT64, BaseType.UINT64):
            try:
                return int(text)
            except ValueError:
                raise DatastoreError(
                    ErrorKind.INVALID, f"key {key}={text!r} is not a number"
                ) from None
        if lt is not None and lt.base is BaseType.BOOLEAN:
            return text == "true"
        return text

    def _check_shape(self, info: NodeInfo, elem: PathElem, value: Any) -> None:
        if info.kind is NodeKind.LIST and not elem.keys:
            if not isinstance(value, list) or not all(isinstance(e, dict) for e in value):
                raise DatastoreError(
                    ErrorKind.INVALID,
                    f"{info.name!r} is a list: the value must be an array of objects",
                )
        elif info.kind is NodeKind.CONTAINER and not isinstance(value, dict):
            raise DatastoreError(
                ErrorKind.INVALID, f"{info.name!r} is a container: the value must be an object"
            )
        elif info.kind is NodeKind.LEAF and isinstance(value, dict | list):
            raise DatastoreError(
                ErrorKind.INVALID, f"{info.name!r} is a leaf: the value must be a scalar"
            )

    def _check_entry_keys(self, info: NodeInfo, path: DataPath, value: Any) -> None:
        """Refuses a value holding, in any of its lists, two entries with the same keys
        (JSON would let the last one win in silence). Iterative: any depth is safe; only
        subtrees the schema lets hold lists are visited."""
        holds: dict[int, bool] = {}
        todo: list[tuple[NodeInfo, DataPath, Any]] = [(info, path.without_modules(), value)]
        while todo:
            info, path, value = todo.pop()
            if isinstance(value, dict):
                for member, member_value in value.items():
                    child = self.nav.child_by_member(info, member)
                    if child is not None and self._holds_lists(child, holds):
                        here = DataPath((*path.elems, PathElem(child.name)))
                        todo.append((child, here, member_value))
            elif info.kind is NodeKind.LIST and isinstance(value, list):
                below = self._holds_lists(info, holds, below_only=True)
                seen: set[tuple[str, ...]] = set()
                for entry in value:
                    keys = entry_keys(entry, info.keys)
                    if keys is None:
                        continue  # validation names the missing key
                    if keys in seen:
                        pairs = tuple(zip(info.keys, keys, strict=True))
                        shown = ", ".join(f"{k}={v!r}" for k, v in pairs)
                        refusal = Refusal(
                            _entry_path(path, info, pairs),
                            Rule.KEY,
                            f"list {info.name!r} has two entries with the key {shown}",
                        )
                        raise DatastoreError(ErrorKind.INVALID, str(refusal))
                    seen.add(keys)
                    if below:
                        pairs = tuple(zip(info.keys, keys, strict=True))
                        todo.append((info, _entry_path(path, info, pairs), entry))

    def _holds_lists(self, info: NodeInfo, memo: dict[int, bool], below_only: bool = False) -> bool:
        """True when ``info`` is a list or (``below_only``: strictly) has one below it."""
        if info.kind is NodeKind.LIST and not below_only:
            return True
        if info.is_leafy:
            return False
        key = id(info.node)
        if key not in memo:
            memo[key] = False  # the schema is a tree; this only guards against surprises
            memo[key] = any(self._holds_lists(c, memo) for c in self.nav.children(info))
        return memo[key]

    def _set(
        self,
        node: Any,
        info: NodeInfo,
        elems: tuple[PathElem, ...],
        infos: list[NodeInfo],
        i: int,
        value: Any,
        merge: bool,
    ) -> Tree:
        obj: Tree = dict(node) if isinstance(node, dict) else {}
        child, elem = infos[i], elems[i]
        last = i == len(elems) - 1
        if child.kind is NodeKind.LIST and elem.keys:
            original = obj.get(child.member) or []
            entries = list(original)
            wanted = tuple(dict(elem.keys)[k] for k in child.keys)
            positions = self.index.positions(original, child.keys)
            pos = positions.get(wanted)
            current = entries[pos] if pos is not None else None
            if last:
                new = self._merge(current, value, child) if merge and current else value
            else:
                base = (
                    current
                    if current is not None
                    else {k: self._typed_key(child, k, t) for k, t in elem.keys}
                )
                new = self._set(base, child, elems, infos, i + 1, value, merge)
            if pos is None:
                positions = {**positions, wanted: len(entries)}
                entries.append(new)
            else:
                entries[pos] = new
            self.index.remember(entries, positions)
            obj[child.member] = entries
        elif last:
            current = obj.get(child.member)
            if merge and current is not None and not child.is_leafy:
                obj[child.member] = self._merge(current, value, child)
            else:
                obj[child.member] = value
        else:
            obj[child.member] = self._set(
                obj.get(child.member), child, elems, infos, i + 1, value, merge
            )
        return obj

    def _merge(self, current: Any, value: Any, info: NodeInfo) -> Any:
        """RFC 7951 ``value`` merged into ``current`` (gNMI update semantics)."""
        if info.kind is NodeKind.LIST:
            entries = list(current or [])
            index = {entry_keys(e, info.keys): n for n, e in enumerate(entries)}
            for entry in value:
                keys = entry_keys(entry, info.keys)
                if keys is None:
                    raise DatastoreError(
                        ErrorKind.INVALID, f"a {info.name!r} entry lacks its keys {info.keys}"
                    )
                pos = index.get(keys)
                if pos is None:
                    index[keys] = len(entries)
                    entries.append(entry)
                else:
                    entries[pos] = self._merge_object(entries[pos], entry, info)
            return entries
        if info.is_leafy:
            return value
        return self._merge_object(current, value, info)

    def _merge_object(self, current: Any, value: Any, info: NodeInfo) -> Tree:
        if not isinstance(value, dict):
            raise DatastoreError(ErrorKind.INVALID, f"{info.name!r} needs an object value")
        obj: Tree = dict(current) if isinstance(current, dict) else {}
        for member, member_value in value.items():
            child = self.nav.child_by_member(info, member)
            if child is None or member not in obj:
                obj[member] = member_value
            else:
                obj[member] = self._merge(obj[member], member_value, child)
        return obj

    def _remove(self, tree: Tree, path: DataPath) -> Tree:
        infos = self.resolve(path)
        return self._remove_at(tree, path.elems, infos, 0)

    def _remove_at(
        self, node: Tree, elems: tuple[PathElem, ...], infos: list[NodeInfo], i: int
    ) -> Tree:
        child, elem = infos[i], elems[i]
        if child.member not in node:
            return node
        obj = dict(node)
        last = i == len(elems) - 1
        if child.kind is NodeKind.LIST and elem.keys:
            wanted = tuple(dict(elem.keys)[k] for k in child.keys)
            entries = list(obj[child.member])
            positions = self.index.positions(obj[child.member], child.keys)
            pos = positions.get(wanted)
            if pos is None:
                return node
            if last:
                del entries[pos]
                positions = {k: p - (p > pos) for k, p in positions.items() if p != pos}
            else:
                entries[pos] = self._remove_at(entries[pos], elems, infos, i + 1)
            self.index.remember(entries, positions)
            if entries:
                obj[child.member] = entries
            else:
                del obj[child.member]
        elif last:
            del obj[child.member]
        else:
            inner = obj[child.member]
            if not isinstance(inner, dict):
                return node
            new_inner = self._remove_at(inner, elems, infos, i + 1)
            if new_inner:
                obj[child.member] = new_inner
            else:
                del obj[child.member]  # an empty non-presence container is no data
        return obj


def _check_path_keys(path: DataPath) -> None:
    """Refuses a path whose key values hold characters no YANG string may hold."""
    for depth, elem in enumerate(path.elems):
        for key, text in elem.keys:
            problem = character_problem(text)
            if problem is not None:
                where = DataPath(path.elems[: depth + 1]).without_modules()
                refusal = Refusal(where, Rule.CHARACTER, f"path key {key}={text!r}: {problem}")
                raise DatastoreError(ErrorKind.INVALID, str(refusal))


def _entry_path(
    list_path: DataPath, info: NodeInfo, pairs: tuple[tuple[str, str], ...]
) -> DataPath:
    """``list_path`` (ending at the list) keyed to one entry."""
    return DataPath((*list_path.elems[:-1], PathElem(info.name, tuple(sorted(pairs)))))
