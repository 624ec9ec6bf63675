"""Blaming a refusal on the Set operation that caused it.

A Set's operations become datastore changes (leaf updates, subtree deletes), the changes
become device intents and driver ops, and a driver refuses an op naming the fields of it
that break its rule. Going back: the mapping gives the configuration leaves of those
fields, the changes at those leaves are the ones the refusal is about, and the operation
blamed is the last one applied (spec order delete, replace, update) that wrote them.
"""

from __future__ import annotations

from collections.abc import Sequence

from agent.datastore.diff import Change
from agent.datastore.edits import Edit, gnmi_order
from agent.datastore.errors import DatastoreError, ErrorKind
from agent.drivers.problems import Problem
from agent.mapping.provenance import LeafPath, config_leaves, entry_path
from agent.schema.path import DataPath, PathElem


def blame(edits: Sequence[Edit], where: DataPath) -> int | None:
    """The request index of the last applied edit that touches ``where`` (or its
    subtree); a lone edit is blamed for anything."""
    order = gnmi_order(list(edits))
    for index, edit in reversed(order):
        path = edit.path.without_modules()
        if where.startswith(path) or path.startswith(where):
            return index
    return order[-1][0] if len(order) == 1 else None


def hardware_refused(
    problems: Sequence[Problem], edits: Sequence[Edit], changes: Sequence[Change]
) -> DatastoreError:
    """The error for problems the drivers found, attributed to the Set operation that
    produced the op the first attributable problem refuses, and naming the path."""
    first = next((p for p in problems if p.op is not None), problems[0])
    index, where = _source(first, edits, changes)
    listed = [first, *(p for p in problems if p is not first)]
    message = "; ".join(str(p) for p in listed)
    if where is not None:
        message = f"{where}: {message}"
    return DatastoreError(ErrorKind.HARDWARE, message, op_index=index)


def problem_paths(problem: Problem) -> tuple[DataPath, ...]:
    """The configuration paths a problem is about: the leaves behind the fields of the op
    it refuses (that op's entry when it names no fields), else its entity's entry."""
    if problem.op is not None:
        return tuple(map(_data_path, config_leaves(problem.op)))
    entry = entry_path(problem.kind, problem.name)
    return () if entry is None else (_data_path(entry),)


def _source(
    problem: Problem, edits: Sequence[Edit], changes: Sequence[Change]
) -> tuple[int | None, DataPath | None]:
    """(edit index, configuration path) a problem comes from, as precisely as known."""
    paths = problem_paths(problem)
    for leaf in paths:
        for change in changes:
            path = change.path.without_modules()
            if path.startswith(leaf) or leaf.startswith(path):
                found = blame(edits, path)
                if found is not None:
                    return found, leaf
    owner = problem.op if problem.op is not None else problem
    entry = entry_path(owner.kind, owner.name)
    if entry is None:
        return None, None
    where = _data_path(entry)
    return blame(edits, where), where


def _data_path(leaf: LeafPath) -> DataPath:
    return DataPath(tuple(PathElem(name, keys) for name, keys in leaf))
