"""``<edit-config>`` semantics (RFC 6241 7.2) on an RFC 7951 tree.

The codec cuts ``<config>`` into :class:`~agent.northbound.netconf.codec.EditNode`
regions in document order. :func:`stage` applies them in that order to the target's
tree (the caller's view of running or of the candidate):

- ``merge``: the region's value merged into the node (list entries by key, leaf-list
  values added), created with its ancestors when absent;
- ``replace``: the node becomes the value (created when absent);
- ``create``: as replace; ``data-exists`` when the node is there;
- ``delete``: the node removed; ``data-missing`` when it is not there;
- ``remove``: the node removed when it is there;
- a region without an operation takes the ``default-operation``; with ``none`` it
  changes nothing, and every list entry it names must exist (``data-missing``), so a
  nested delete never creates its parents.

create and delete test the tree as the regions before them left it. A region at a
leaf-list is one of its values (``[v]``).

The outcome becomes datastore edits that no longer depend on their order: per region,
a replace of its node by the node's final value, or a delete when the node is gone.
Applied in any order (the datastore applies deletes, then replaces, then updates) they
give the staged tree, and a refusal the datastore finds at a node is blamed on the last
region that touched it.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from agent.datastore.edits import Edit
from agent.datastore.errors import DatastoreError, ErrorKind
from agent.datastore.tree import Tree, TreeOps, entry_keys
from agent.northbound.netconf.codec import EditNode, Operation
from agent.schema.nav import NodeInfo, NodeKind, SchemaNavigator
from agent.schema.path import DataPath, PathElem

DATA_EXISTS: Final = "data-exists"
DATA_MISSING: Final = "data-missing"


class DefaultOperation(enum.StrEnum):
    """``<default-operation>`` (RFC 6241 7.2)."""

    MERGE = "merge"
    REPLACE = "replace"
    NONE = "none"


class EditRefused(DatastoreError):
    """A region whose operation the tree does not allow: ``data-exists`` (create of a
    node that is there) or ``data-missing`` (delete of one that is not, or a level
    missing under default-operation none)."""

    def __init__(self, tag: str, message: str, *, op_index: int | None, path: DataPath) -> None:
        kind = ErrorKind.CONFLICT if tag == DATA_EXISTS else ErrorKind.NOT_FOUND
        super().__init__(kind, message, op_index=op_index)
        self.tag = tag
        self.path = path

    def at(self, op_index: int) -> EditRefused:
        return EditRefused(self.tag, self.message, op_index=op_index, path=self.path)


@dataclass(frozen=True, slots=True)
class Staged:
    """The staged tree and the order-free edits that make it; ``sources[i]`` is the
    region behind ``edits[i]``."""

    tree: Tree
    edits: tuple[Edit, ...]
    sources: tuple[int, ...]


def operation_of(node: EditNode, default: DefaultOperation) -> Operation | None:
    """A region's effective operation (None: default-operation none)."""
    if node.operation is not None:
        return node.operation
    if default is DefaultOperation.NONE:
        return None
    return Operation.MERGE if default is DefaultOperation.MERGE else Operation.REPLACE


def request_edit(node: EditNode, default: DefaultOperation) -> Edit:
    """The region as one datastore edit, for what a request says (audit, counting)."""
    operation = operation_of(node, default)
    if operation in (Operation.DELETE, Operation.REMOVE):
        return Edit.delete(node.path)
    if operation is Operation.MERGE or operation is None:
        return Edit.update(node.path, node.value)
    return Edit.replace(node.path, node.value)


def stage(
    ops: TreeOps,
    tree: Tree,
    nodes: Sequence[EditNode],
    default: DefaultOperation,
    *,
    every_error: bool = False,
) -> Staged:
    """Applies the regions to ``tree`` in document order; raises DatastoreError (an
    EditRefused for data-exists/data-missing) naming the region. With ``every_error``
    a refused region is skipped and staging goes on; every refusal is then in the
    EditErrors raised at the end."""
    stager = _Stager(ops, default)
    refusals: list[DatastoreError] = []
    current = tree
    for index, node in enumerate(nodes):
        try:
            current = stager.apply(current, node)
        except DatastoreError as err:
            if not every_error:
                raise err.at(index) from None
            refusals.append(err.at(index))
    if refusals:
        raise EditErrors(tuple(refusals))
    edits: list[Edit] = []
    sources: list[int] = []
    for index, node in enumerate(nodes):
        if operation_of(node, default) is None:
            continue
        final = ops.get(current, node.path)
        empty = final is None or final == {} or final == []
        edits.append(Edit.delete(node.path) if empty else Edit.replace(node.path, final))
        sources.append(index)
    return Staged(current, tuple(edits), tuple(sources))


class EditErrors(DatastoreError):
    """Several refused regions (error-option continue-on-error); ``errors`` in order."""

    def __init__(self, errors: tuple[DatastoreError, ...]) -> None:
        first = errors[0]
        super().__init__(first.kind, first.message, op_index=first.op_index)
        self.errors = errors

    def at(self, op_index: int) -> EditErrors:
        return self


@dataclass(frozen=True, slots=True)
class _Stager:
    ops: TreeOps
    default: DefaultOperation

    @property
    def nav(self) -> SchemaNavigator:
        return self.ops.nav

    def apply(self, tree: Tree, node: EditNode) -> Tree:
        operation = operation_of(node, self.default)
        path = node.path
        info = self.ops.resolve(path)[-1]
        if operation is None:
            self._require_entries(tree, path, info, node.value)
            return tree
        if info.kind is NodeKind.LEAF_LIST:
            return self._leaf_list_value(tree, path, operation, list(node.value or ()))
        current = self.ops.get(tree, path)
        if operation is Operation.CREATE and current is not None:
            raise EditRefused(
                DATA_EXISTS,
                f"{_shown(path)} exists: create needs it absent",
                op_index=None,
                path=path,
            )
        if operation is Operation.DELETE and current is None:
            raise EditRefused(
                DATA_MISSING,
                f"{_shown(path)} does not exist: delete needs it present (remove does not)",
                op_index=None,
                path=path,
            )
        if operation in (Operation.DELETE, Operation.REMOVE):
            return self.ops.delete(tree, path) if current is not None else tree
        value = node.value
        if operation is Operation.MERGE and current is not None:
            merged = self._merge_in(tree, path, info, value)
            if merged is not None:
                return merged
            value = merge_value(self.nav, info, current, value)
        if info.kind is NodeKind.CONTAINER and value == {}:
            return self.ops.delete(tree, path) if current is not None else tree
        return self.ops.replace(tree, path, value)

    def _merge_in(self, tree: Tree, path: DataPath, info: NodeInfo, value: Any) -> Tree | None:
        """``value`` merged into ``tree`` at ``path`` one node at a time, as
        :func:`merge_value` merges but without copying the lists it passes through
        (a one-leaf merge under ``/ports`` costs one leaf, not every port). None when
        ``value`` is not plain data (an entry without its keys, a member the schema does
        not have): the caller then merges the whole value and reports."""
        kind = info.kind
        if kind is NodeKind.LEAF:
            return self.ops.replace(tree, path, value)
        if kind is NodeKind.LEAF_LIST:
            return self._leaf_list_value(tree, path, Operation.MERGE, list(value or ()))
        last = path.elems[-1] if path.elems else None
        if kind is NodeKind.LIST and last is not None and not last.keys:
            if not isinstance(value, list):
                return None
            for entry in value:
                keys = entry_keys(entry, info.keys) if isinstance(entry, dict) else None
                if keys is None:
                    return None
                pairs = tuple(sorted(zip(info.keys, keys, strict=True)))
                here = DataPath((*path.elems[:-1], PathElem(last.name, pairs, last.module)))
                merged = self._merge_in(tree, here, info, entry)
                if merged is None:
                    return None
                tree = merged
            return tree
        if not isinstance(value, dict):
            return None
        if not value and kind is NodeKind.CONTAINER:
            return tree  # merging an empty container changes nothing
        if self.ops.get(tree, path) is None:  # a new container or entry: all of it
            return self.ops.replace(tree, path, value)
        for member, child_value in value.items():
            child = self.nav.child_by_member(info, member)
            if child is None:
                return None
            if kind is NodeKind.LIST and member in info.keys:
                continue  # the entry's path holds it
            merged = self._merge_in(tree, _child(path, info, child), child, child_value)
            if merged is None:
                return None
            tree = merged
        return tree

    def _leaf_list_value(
        self, tree: Tree, path: DataPath, operation: Operation, wanted: list[Any]
    ) -> Tree:
        values = list(self.ops.get(tree, path) or ())
        present = all(v in values for v in wanted)
        shown = f"{_shown(path)} value {', '.join(map(str, wanted))}"
        if operation is Operation.CREATE and present:
            raise EditRefused(DATA_EXISTS, f"{shown} exists", op_index=None, path=path)
        if operation is Operation.DELETE and not present:
            raise EditRefused(DATA_MISSING, f"{shown} does not exist", op_index=None, path=path)
        if operation in (Operation.DELETE, Operation.REMOVE):
            rest = [v for v in values if v not in wanted]
            if rest:
                return self.ops.replace(tree, path, rest)
            return self.ops.delete(tree, path) if values else tree
        return self.ops.replace(tree, path, values + [v for v in wanted if v not in values])

    def _require_entries(self, tree: Tree, path: DataPath, info: NodeInfo, value: Any) -> None:
        """Every list entry at or below ``path`` that ``value`` names must be in ``tree``."""
        todo: list[tuple[DataPath, NodeInfo, Any]] = [(path, info, value)]
        while todo:
            here, info, value = todo.pop()
            keyed = info.kind is NodeKind.LIST and here.elems and here.elems[-1].keys
            if keyed and self.ops.get(tree, here) is None:
                raise EditRefused(
                    DATA_MISSING,
                    f"{_shown(here)} does not exist (default-operation none creates "
                    "nothing; give the entry an operation)",
                    op_index=None,
                    path=here,
                )
            if not isinstance(value, dict) or info.is_leafy:
                continue
            for member, child_value in value.items():
                child = self.nav.child_by_member(info, member)
                if child is None or child.is_leafy:
                    continue
                if child.kind is NodeKind.LIST:
                    for entry in child_value if isinstance(child_value, list) else ():
                        keys = entry_keys(entry, child.keys)
                        if keys is not None:
                            pairs = tuple(sorted(zip(child.keys, keys, strict=True)))
                            todo.append((_child(here, info, child, pairs), child, entry))
                else:
                    todo.append((_child(here, info, child), child, child_value))


def merge_value(nav: SchemaNavigator, info: NodeInfo, current: Any, value: Any) -> Any:
    """``value`` merged into ``current`` as NETCONF merges (RFC 6241 7.2): containers
    and list entries member by member, list entries by key, leaf-list values added,
    leaves replaced. Untouched subtrees are shared, not copied."""
    if info.kind is NodeKind.LEAF_LIST:
        have = list(current) if isinstance(current, list) else []
        return have + [v for v in value if v not in have]
    if info.kind is NodeKind.LEAF:
        return value
    if info.kind is NodeKind.LIST and isinstance(value, list):
        entries = list(current) if isinstance(current, list) else []
        where = {entry_keys(e, info.keys): n for n, e in enumerate(entries)}
        for entry in value:
            at = where.get(entry_keys(entry, info.keys))
            if at is None:
                where[entry_keys(entry, info.keys)] = len(entries)
                entries.append(entry)
            else:
                entries[at] = merge_value(nav, info, entries[at], entry)
        return entries
    if not isinstance(value, dict) or not isinstance(current, dict):
        return value
    out = dict(current)
    for member, child_value in value.items():
        child = nav.child_by_member(info, member)
        if child is None or member not in out:
            out[member] = child_value
        else:
            out[member] = merge_value(nav, child, out[member], child_value)
    return out


def _child(
    path: DataPath, parent: NodeInfo, child: NodeInfo, keys: tuple[tuple[str, str], ...] = ()
) -> DataPath:
    module = child.module if child.module != parent.module else None
    return DataPath((*path.elems, PathElem(child.name, keys, module)))


def _shown(path: DataPath) -> str:
    return str(path.without_modules())
