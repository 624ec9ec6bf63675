"""Differences between two configuration trees, as leaf updates and subtree deletes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from itertools import compress
from operator import is_not
from typing import Any

from agent.datastore.tree import entry_keys
from agent.schema.nav import NodeInfo, NodeKind, SchemaNavigator
from agent.schema.path import DataPath, PathElem


class ChangeKind(Enum):
    """A leaf (or leaf-list) that got a new value, or a node that disappeared."""

    UPDATE = "update"
    DELETE = "delete"


@dataclass(frozen=True, slots=True)
class Change:
    """One difference: for UPDATE the new leaf value, for DELETE the highest removed node."""

    kind: ChangeKind
    path: DataPath
    value: Any = None


def diff_trees(old: Any, new: Any, nav: SchemaNavigator) -> tuple[Change, ...]:
    """Every change from ``old`` to ``new``; subtrees shared by identity are skipped."""
    return tuple(_diff_object(old or {}, new or {}, nav.root, (), nav))


def trees_differ(old: Any, new: Any, nav: SchemaNavigator) -> bool:
    """Whether ``new`` changes anything of ``old`` (stops at the first change found)."""
    return next(_diff_object(old or {}, new or {}, nav.root, (), nav), None) is not None


def _diff_object(
    old: dict[str, Any],
    new: dict[str, Any],
    info: NodeInfo,
    path: tuple[PathElem, ...],
    nav: SchemaNavigator,
) -> Iterator[Change]:
    if old is new:
        return
    for member in old.keys() | new.keys():
        before, after = old.get(member), new.get(member)
        if before is after:
            continue
        child = nav.child_by_member(info, member)
        if child is None:
            continue
        if child.kind is NodeKind.LIST:
            yield from _diff_list(before or [], after or [], child, path, nav)
            continue
        here = (*path, PathElem(child.name))
        if after is None:
            yield Change(ChangeKind.DELETE, DataPath(here))
        elif child.is_leafy:
            if before != after:
                yield Change(ChangeKind.UPDATE, DataPath(here), after)
        else:
            yield from _diff_object(before or {}, after, child, here, nav)


def _diff_list(
    old: list[Any],
    new: list[Any],
    info: NodeInfo,
    path: tuple[PathElem, ...],
    nav: SchemaNavigator,
) -> Iterator[Change]:
    if len(old) == len(new):
        # Copy on write keeps untouched entries in place: compare by position first.
        moved = list(compress(range(len(new)), map(is_not, old, new)))
        pairs = [(entry_keys(old[n], info.keys), entry_keys(new[n], info.keys)) for n in moved]
        if all(a == b and a is not None for a, b in pairs):
            for n, (key, _) in zip(moved, pairs, strict=True):
                if key is not None:
                    yield from _diff_object(old[n], new[n], info, (*path, _elem(info, key)), nav)
            return
    old_entries = {entry_keys(e, info.keys): e for e in old}
    new_entries = {entry_keys(e, info.keys): e for e in new}
    for keys in old_entries:
        if keys is not None and keys not in new_entries:
            yield Change(ChangeKind.DELETE, DataPath((*path, _elem(info, keys))))
    for keys, after in new_entries.items():
        if keys is None:
            continue
        before = old_entries.get(keys)
        if before is not after:
            yield from _diff_object(before or {}, after, info, (*path, _elem(info, keys)), nav)


def _elem(info: NodeInfo, keys: tuple[str, ...]) -> PathElem:
    return PathElem(info.name, tuple(sorted(zip(info.keys, keys, strict=True))))
