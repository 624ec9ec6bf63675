"""The state cache: the latest value of every leaf telemetry knows, by container.

Configuration comes from the datastore's change feed, state from the sampler; both are
applied on the event loop, one change at a time, and each application returns a Delta
saying which containers appeared, changed or went away. Subscribers read the cache only.

Each container (``Group``) keeps its leaves in a dict that is replaced, never mutated, on
change, so queued updates can hold it without copying. ``seqs`` records, per leaf, the
cache sequence number of its last change (for ``suppress_redundant``); ``watchers`` the
subscriptions that select some of its leaves; ``memo`` is for encoders (what they worked
out for the container once, such as its leaves' encoded paths), dropped with it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from agent.datastore.diff import Change, ChangeKind
from agent.schema.nav import NodeInfo, NodeKind, SchemaNavigator
from agent.schema.path import DataPath, PathElem
from agent.telemetry.flatten import Flat, StateSample, path_key
from agent.telemetry.patterns import PathPattern, States

_ABSENT: Any = object()


class Group:
    """One container's leaves."""

    __slots__ = (
        "config",
        "counters",
        "entity",
        "info",
        "key",
        "memo",
        "path",
        "seq",
        "seqs",
        "timestamp_ns",
        "values",
        "watchers",
    )

    def __init__(
        self,
        key: str,
        path: DataPath,
        info: NodeInfo,
        config: bool,
        timestamp_ns: int,
        entity: str | None = None,
    ) -> None:
        self.key = key
        self.path = path
        self.info = info
        self.config = config
        self.counters = not config and info.name == "counters"
        self.entity = entity
        self.values: Mapping[str, Any] = {}
        self.seqs: dict[str, int] = {}
        self.seq = 0  # the latest of seqs
        self.timestamp_ns = timestamp_ns
        self.watchers: dict[Any, frozenset[str]] = {}
        self.memo: dict[Any, Any] = {}

    def __repr__(self) -> str:
        return f"Group({self.path}, {dict(self.values)!r})"


@dataclass(slots=True)
class Delta:
    """What one application changed (values in the groups are already the new ones)."""

    timestamp_ns: int
    created: list[Group] = field(default_factory=list)
    changed: list[tuple[Group, tuple[str, ...]]] = field(default_factory=list)
    removed_leaves: list[tuple[Group, tuple[str, ...]]] = field(default_factory=list)
    removed: list[tuple[DataPath, list[Group]]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.created or self.changed or self.removed_leaves or self.removed)


class _Node:
    __slots__ = ("children", "group")

    def __init__(self) -> None:
        self.children: dict[PathElem, _Node] = {}
        self.group: Group | None = None


class StateCache:
    """Leaf values by container, with a trie of paths for subtree and pattern walks."""

    def __init__(self, nav: SchemaNavigator) -> None:
        self._nav = nav
        self._groups: dict[str, Group] = {}
        self._state_of: dict[str, dict[str, Group]] = {}  # entity key -> its state groups
        self._root = _Node()
        self._infos: dict[tuple[str, ...], NodeInfo | None] = {}
        self.seq = 0

    def __len__(self) -> int:
        return len(self._groups)

    def group(self, path: DataPath) -> Group | None:
        return self._groups.get(path_key(path))

    def groups(self) -> Iterable[Group]:
        return self._groups.values()

    def leaf_count(self) -> int:
        return sum(len(g.values) for g in self._groups.values())

    def matching(self, pattern: PathPattern) -> Iterator[tuple[Group, frozenset[str]]]:
        """Every group with leaves the pattern selects (in tree order), and which."""
        todo: list[tuple[_Node, States]] = [(self._root, pattern.start)]
        while todo:
            node, states = todo.pop()
            group = node.group
            if group is not None:
                leaves = pattern.leaves(states)
                if leaves:
                    yield group, leaves
            found = []
            for elem, child in node.children.items():
                nxt = pattern.step(states, elem)
                if nxt:
                    found.append((child, nxt))
            todo.extend(reversed(found))

    # --- configuration --------------------------------------------------------------------

    def load_config(self, flats: Iterable[Flat], timestamp_ns: int) -> Delta:
        """Puts a whole running configuration in (at start)."""
        delta = Delta(timestamp_ns)
        self.seq += 1
        for flat in flats:
            self._put(flat.key, flat.elems, flat.info, flat.values, True, timestamp_ns, delta)
        return delta

    def apply_changes(self, changes: Iterable[Change], timestamp_ns: int) -> Delta:
        """Applies one commit: leaf updates and subtree deletes, in order."""
        delta = Delta(timestamp_ns)
        self.seq += 1
        updates: dict[DataPath, dict[str, Any]] = {}
        for change in changes:
            path = change.path.without_modules()
            if change.kind is ChangeKind.DELETE:
                self._flush(updates, timestamp_ns, delta)
                self._delete(path, delta)
                continue
            if path.elems:
                updates.setdefault(path.parent, {})[path.elems[-1].name] = change.value
        self._flush(updates, timestamp_ns, delta)
        return delta

    def _flush(self, updates: dict[DataPath, dict[str, Any]], ts: int, delta: Delta) -> None:
        for parent, leaves in updates.items():
            key = path_key(parent)
            existing = self._groups.get(key)
            info = existing.info if existing is not None else self._info(parent)
            if info is None:
                continue
            merged = {**existing.values, **leaves} if existing is not None else leaves
            self._put(key, parent.elems, info, merged, True, ts, delta)
        updates.clear()

    # --- state ----------------------------------------------------------------------------

    def apply_state(self, sample: StateSample, timestamp_ns: int) -> Delta:
        """Applies one sample: it holds the whole state of its entities (their counters,
        for a ``counters_only`` sample), so their state containers (counter containers)
        missing from it are removed. State of list entries the configuration no longer
        has (a sample taken before a commit) is ignored."""
        delta = Delta(timestamp_ns)
        self.seq += 1
        groups = self._groups
        seen: set[str] = set()
        for flat in sample.flats:
            key = flat.key
            group = groups.get(key)
            if group is None:
                owner = flat.owner
                if owner is not None and owner not in groups:
                    continue
                self._put(key, flat.elems, flat.info, flat.values, False, timestamp_ns, delta)
                self._adopt(groups[key], flat.entity)
            else:
                group.timestamp_ns = timestamp_ns
                if group.values != flat.values:
                    self._change(group, flat.values, delta)
            seen.add(key)
        only_counters = sample.counters_only
        state_of = self._state_of
        for entity in sample.entities:
            had = state_of.get(entity)
            if not had:
                continue
            gone = [
                group
                for key, group in had.items()
                if key not in seen and (group.counters or not only_counters)
            ]
            for group in gone:
                if group.key in groups:
                    self._delete(group.path, delta)
        return delta

    # --- internals ------------------------------------------------------------------------

    def _adopt(self, group: Group, entity: str | None) -> None:
        if entity is not None:
            group.entity = entity
            self._state_of.setdefault(entity, {})[group.key] = group

    def _put(
        self,
        key: str,
        elems: tuple[PathElem, ...],
        info: NodeInfo,
        values: dict[str, Any],
        config: bool,
        ts: int,
        delta: Delta,
    ) -> None:
        group = self._groups.get(key)
        if group is not None:
            group.timestamp_ns = ts
            if group.values != values:
                self._change(group, values, delta)
            return
        group = Group(key, DataPath(elems), info, config, ts)
        group.values = values
        group.seqs = dict.fromkeys(values, self.seq)
        group.seq = self.seq
        self._groups[key] = group
        self._insert(group)
        delta.created.append(group)

    def _change(self, group: Group, values: dict[str, Any], delta: Delta) -> None:
        old = group.values
        get = old.get
        changed = tuple([k for k, v in values.items() if get(k, _ABSENT) != v])
        gone = () if old.keys() <= values.keys() else tuple(k for k in old if k not in values)
        group.values = values
        seq = self.seq
        seqs = group.seqs
        for k in changed:
            seqs[k] = seq
        for k in gone:
            seqs.pop(k, None)
        group.seq = seq
        if changed:
            delta.changed.append((group, changed))
        if gone:
            delta.removed_leaves.append((group, gone))

    def _delete(self, path: DataPath, delta: Delta) -> None:
        node = self._node(path)
        if node is not None:
            removed = list(_groups_below(node))
            if removed:
                for group in removed:
                    del self._groups[group.key]
                    if group.entity is not None:
                        mine = self._state_of.get(group.entity)
                        if mine is not None:
                            mine.pop(group.key, None)
                            if not mine:
                                del self._state_of[group.entity]
                self._prune(path)
                delta.removed.append((path, removed))
            return
        if path.elems:
            holder = self._groups.get(path_key(path.parent))
            leaf = path.elems[-1].name
            if holder is not None and leaf in holder.values:
                holder.values = {k: v for k, v in holder.values.items() if k != leaf}
                holder.seqs.pop(leaf, None)
                delta.removed_leaves.append((holder, (leaf,)))

    def _info(self, path: DataPath) -> NodeInfo | None:
        names = tuple(e.name for e in path.elems)
        if names in self._infos:
            return self._infos[names]
        info: NodeInfo | None = self._nav.root
        for elem in path.elems:
            assert info is not None
            info = self._nav.child(info, elem.name, elem.module)
            if info is None:
                break
        if info is not None and (info.is_leafy or info.kind is NodeKind.ROOT):
            info = None
        self._infos[names] = info
        return info

    def _node(self, path: DataPath) -> _Node | None:
        node: _Node | None = self._root
        for elem in path.elems:
            assert node is not None
            node = node.children.get(elem)
            if node is None:
                return None
        return node

    def _insert(self, group: Group) -> None:
        node = self._root
        for elem in group.path.elems:
            child = node.children.get(elem)
            if child is None:
                child = node.children[elem] = _Node()
            node = child
        node.group = group

    def _prune(self, path: DataPath) -> None:
        """Cuts the subtree at ``path`` and any ancestors left empty."""
        chain: list[tuple[_Node, PathElem]] = []
        node = self._root
        for elem in path.elems:
            child = node.children.get(elem)
            if child is None:
                return
            chain.append((node, elem))
            node = child
        if not chain:
            self._root = _Node()
            return
        parent, elem = chain.pop()
        del parent.children[elem]
        while chain:
            if parent.children or parent.group is not None:
                return
            parent, elem = chain.pop()
            del parent.children[elem]


def _groups_below(node: _Node) -> Iterator[Group]:
    todo = [node]
    while todo:
        current = todo.pop()
        if current.group is not None:
            yield current.group
        todo.extend(current.children.values())
