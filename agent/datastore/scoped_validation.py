"""Validation of only what a transaction touched, plus what references it.

A candidate differs from the (valid) running tree in a few entries of the top-level lists
(devices, ports, slices). Instead of validating the whole candidate, this builds a reduced
tree holding the touched entries, every entry they reference (transitively), every entry
that references a deleted one and every entry that shares a ``unique`` tuple with a
touched one, and validates that. Since the rest of the tree is unchanged and was valid,
the reduced tree has exactly the candidate's problems. Changes above the top-level lists
(a whole container replaced) fall back to validating everything.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from yangson.datatype import LeafrefType

from agent.datastore.diff import Change, ChangeKind
from agent.datastore.model_registry import top_lists
from agent.datastore.tree import KeyIndex, Tree, entry_keys, key_text
from agent.schema.engine import SchemaEngine
from agent.schema.free_leaves import FreeLeaves
from agent.schema.nav import NodeInfo, NodeKind
from agent.schema.refusal import Refusal

Keys = tuple[str, ...]
UniqueSpec = tuple[tuple[tuple[str, ...], Any], ...]
UniqueIndex = dict[tuple[Any, ...], frozenset[Keys]]


@dataclass(frozen=True)
class ListSite:
    """A top-level list: the JSON members leading to it and its schema info."""

    members: tuple[str, ...]
    names: tuple[str, ...]
    info: NodeInfo


@dataclass(frozen=True)
class Reference:
    """A leafref from entries of ``source`` to the key of ``target`` entries."""

    source: ListSite
    steps: tuple[tuple[str, bool], ...]  # member names inside an entry; True = a list
    target: ListSite


class ScopedValidator:
    """Validates candidates against a running tree by the entries they touch."""

    def __init__(self, engine: SchemaEngine, index: KeyIndex | None = None) -> None:
        """``index`` finds entries by key (share the one of the TreeOps that stages the
        candidates, which knows where their edited entries sit)."""
        self._engine = engine
        self._index = index or KeyIndex()
        self._free = FreeLeaves(engine.nav.root.node)
        self.sites = tuple(ListSite(m, n, info) for m, n, info in top_lists(engine.nav))
        by_path = {"/" + "/".join(site.names): site for site in self.sites}
        self.references = tuple(self._find_references(by_path))
        self._uniques = {site: self._unique_steps(site) for site in self.sites}
        # (site, unique statement) -> the newest (list object indexed, unique tuple -> keys)
        self._unique_cache: dict[tuple[ListSite, int], tuple[tuple[Any, UniqueIndex], ...]] = {}

    def refusals(
        self, base: Tree, candidate: Tree, changes: Iterable[Change]
    ) -> tuple[Refusal, ...]:
        """Every schema refusal of ``candidate``, given its changes against ``base``, a
        valid tree."""
        changes = tuple(changes)
        if self._only_free_values(base, changes):
            return ()
        touched: dict[ListSite, set[Keys]] = {}
        for change in changes:
            found = self._locate(change)
            if found is None:
                return self._engine.refusals(candidate)
            touched.setdefault(found[0], set()).add(found[1])
        chosen = self._closure(base, candidate, touched)
        return self._engine.refusals(self._reduced(candidate, chosen))

    # --- scope --------------------------------------------------------------------------

    def _only_free_values(self, base: Tree, changes: tuple[Change, ...]) -> bool:
        """Whether every change gives a free leaf (see FreeLeaves) that ``base`` holds
        inside an entry of a top-level list a new value of its type: then the candidate
        is as valid as ``base``."""
        if not changes:
            return False
        find = self._finder(base)
        nav = self._engine.nav
        for change in changes:
            if change.kind is not ChangeKind.UPDATE:
                return False
            located = self._locate(change)
            if located is None:
                return False
            site, keys = located
            node = find(site, keys)
            info: NodeInfo | None = site.info
            for elem in change.path.elems[len(site.names) :]:
                if elem.keys or info is None or not isinstance(node, dict):
                    return False
                info = nav.child(info, elem.name, elem.module)
                if info is None or info.member not in node:
                    return False
                node = node[info.member]
            if info is None or not self._free.is_free(info):
                return False
            if not self._free.value_ok(info, change.value):
                return False
        return True

    def _locate(self, change: Change) -> tuple[ListSite, Keys] | None:
        elems = change.path.elems
        for site in self.sites:
            depth = len(site.names)
            if len(elems) >= depth and tuple(e.name for e in elems[:depth]) == site.names:
                keys = dict(elems[depth - 1].keys)
                if set(keys) != set(site.info.keys):
                    return None
                return site, tuple(keys[k] for k in site.info.keys)
        return None

    def _closure(
        self, base: Tree, tree: Tree, touched: dict[ListSite, set[Keys]]
    ) -> dict[ListSite, dict[Keys, Any]]:
        find = self._finder(tree)
        chosen: dict[ListSite, dict[Keys, Any]] = {site: {} for site in self.sites}
        todo: list[tuple[ListSite, Keys]] = []
        for site, keys in touched.items():
            for key in keys:
                if find(site, key) is not None:
                    todo.append((site, key))
                else:  # deleted: whatever referenced it must be checked again
                    todo.extend(self._referrers(tree, site, key))
            todo.extend(self._unique_peers(base, tree, site, keys))
        while todo:
            site, key = todo.pop()
            if key in chosen[site]:
                continue
            entry = find(site, key)
            if entry is None:
                continue
            chosen[site][key] = entry
            for ref in self.references:
                if ref.source is site:
                    todo.extend(
                        (ref.target, (key_text(value),)) for value in _values(entry, ref.steps)
                    )
        return chosen

    def _finder(self, tree: Tree) -> Callable[[ListSite, Keys], Any]:
        """Finds the entries of ``tree``'s lists by key, through the shared index."""
        lists: dict[ListSite, list[Any]] = {}

        def find(site: ListSite, key: Keys) -> Any:
            entries = lists.get(site)
            if entries is None:
                entries = lists[site] = _entries(tree, site)
            return self._index.find(entries, site.info.keys, key)

        return find

    def _referrers(
        self, tree: Tree, target: ListSite, key: Keys
    ) -> Iterator[tuple[ListSite, Keys]]:
        for ref in self.references:
            if ref.target is not target:
                continue
            for entry in _entries(tree, ref.source):
                if key[0] in (key_text(v) for v in _values(entry, ref.steps)):
                    keys = entry_keys(entry, ref.source.info.keys)
                    if keys is not None:
                        yield ref.source, keys

    def _unique_peers(
        self, base: Tree, tree: Tree, site: ListSite, keys: set[Keys]
    ) -> Iterator[tuple[ListSite, Keys]]:
        find = self._finder(tree)
        for number, spec in enumerate(self._uniques[site]):
            wanted = {_unique_value(find(site, k), spec) for k in keys}
            wanted.discard(None)
            if not wanted:
                continue
            by_value = self._unique_index(base, tree, site, number, keys)
            for value in wanted:
                for entry_key in by_value.get(value, ()) if value is not None else ():
                    yield site, entry_key

    def _unique_index(
        self, base: Tree, tree: Tree, site: ListSite, number: int, touched: set[Keys]
    ) -> UniqueIndex:
        """Unique tuple -> keys of the entries holding it, for ``tree``'s list; derived
        from the previous commit's index when ``base`` is the tree it was made for."""
        spec = self._uniques[site][number]
        entries, base_entries = _entries(tree, site), _entries(base, site)
        recent = self._unique_cache.get((site, number), ())
        cached = next((c for c in recent if c[0] is entries), None)
        if cached is not None:
            return cached[1]
        cached = next((c for c in recent if c[0] is base_entries), None)
        if cached is not None:
            old, new = self._finder(base), self._finder(tree)
            derived = dict(cached[1])
            for key in touched:
                for source, sign in ((old(site, key), -1), (new(site, key), 1)):
                    value = _unique_value(source, spec)
                    if value is not None:
                        holders = derived.get(value, frozenset())
                        derived[value] = holders | {key} if sign > 0 else holders - {key}
            result = derived
        else:
            result = {}
            for entry in entries:
                holder = entry_keys(entry, site.info.keys)
                value = _unique_value(entry, spec) if holder is not None else None
                if holder is not None and value is not None:
                    result[value] = result.get(value, frozenset()) | {holder}
        # the newest two: a refused candidate's index does not push out the running's
        self._unique_cache[(site, number)] = ((entries, result), *recent[:1])
        return result

    def _reduced(self, tree: Tree, chosen: dict[ListSite, dict[Keys, Any]]) -> Tree:
        reduced: Tree = {}
        for site, entries in chosen.items():
            if not entries:
                continue
            node = reduced
            for member in site.members[:-1]:
                node = node.setdefault(member, {})
            node[site.members[-1]] = list(entries.values())
        return reduced

    # --- schema analysis ----------------------------------------------------------------

    def _find_references(self, by_path: dict[str, ListSite]) -> Iterator[Reference]:
        for site in self.sites:
            for steps, leaf in self._leaves(site.info, ()):
                typ = leaf.node.type
                if not isinstance(typ, LeafrefType) or not typ.require_instance:
                    continue
                text = str(typ.path)
                if not text.startswith("/"):
                    continue
                parts = [p.rpartition(":")[2] for p in text.strip("/").split("/")]
                target = by_path.get("/" + "/".join(parts[:-1]))
                if target is not None and parts[-1] in target.info.keys:
                    yield Reference(site, steps, target)

    def _leaves(
        self, info: NodeInfo, steps: tuple[tuple[str, bool], ...]
    ) -> Iterator[tuple[tuple[tuple[str, bool], ...], NodeInfo]]:
        for child in self._engine.nav.children(info):
            if not child.config:
                continue
            many = child.kind in (NodeKind.LIST, NodeKind.LEAF_LIST)
            here = (*steps, (child.member, many))
            if child.kind in (NodeKind.LEAF, NodeKind.LEAF_LIST):
                yield here, child
            elif child.kind in (NodeKind.CONTAINER, NodeKind.LIST):
                yield from self._leaves(child, here)

    def _unique_steps(self, site: ListSite) -> tuple[UniqueSpec, ...]:
        """Each ``unique`` statement as (member path, default) per leaf."""
        specs = []
        for spec in site.info.node.unique:
            leaves = []
            for step in spec:
                names = tuple(p.rpartition(":")[2] for p in str(step).split("/"))
                info: NodeInfo | None = site.info
                for name in names:
                    info = self._engine.nav.child(info, name) if info is not None else None
                leaves.append((names, info.default if info is not None else None))
            specs.append(tuple(leaves))
        return tuple(specs)


def _entries(tree: Tree, site: ListSite) -> list[Any]:
    node: Any = tree
    for member in site.members:
        if not isinstance(node, dict) or member not in node:
            return []
        node = node[member]
    return node if isinstance(node, list) else []


def _values(entry: Any, steps: tuple[tuple[str, bool], ...]) -> Iterator[Any]:
    nodes = [entry]
    for member, is_list in steps:
        nxt = []
        for node in nodes:
            if isinstance(node, dict) and member in node:
                value = node[member]
                nxt.extend(value if is_list and isinstance(value, list) else [value])
        nodes = nxt
    yield from nodes


def _unique_value(entry: Any, spec: UniqueSpec) -> tuple[Any, ...] | None:
    """The entry's values for a unique statement (defaults filled); None when one is
    absent or there is no entry."""
    if entry is None:
        return None
    values = []
    for path, default in spec:
        node = entry
        for name in path:
            if not isinstance(node, dict) or name not in node:
                node = default
                break
            node = node[name]
        if node is None:
            return None
        values.append(node)
    return tuple(values)
