"""The delta a journal record carries: what turns one configuration tree into the next.

Trees are copy-on-write (``agent.datastore.tree``), so a commit's new tree shares every
untouched subtree with the old one; the delta walks both, skips what is shared by
identity and lists the differences as operations on the JSON structure itself:

- ``["=", path, value]`` sets the member or list position ``path`` to ``value``;
- ``["-", path]`` removes that member or list position;
- ``["s", path, start, stop, values]`` replaces the positions ``start:stop`` of the list
  at ``path`` with ``values`` (entries inserted or removed).

A path is a list of steps, each a member name (str) or a list position (int). Positions
refer to the list as the earlier operations of the same delta left it. The delta needs no
schema and reproduces the new tree exactly, list order included, so replaying it on the
old tree is the identity ``apply_delta(copy_of(old), tree_delta(old, new)) == new``.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import compress, count, islice
from operator import is_not
from typing import Any

Step = str | int
Op = list[Any]

SET = "="
REMOVE = "-"
SPLICE = "s"

_FEW = 8  # changed positions in a list of unchanged length compared pairwise at once


class DeltaError(ValueError):
    """A delta that does not fit the tree it is applied to; the message says where."""


def tree_delta(old: Any, new: Any) -> list[Op]:
    """The operations that turn ``old`` into ``new`` (empty when they are equal)."""
    ops: list[Op] = []
    _diff(old, new, [], ops)
    return ops


def apply_delta(tree: Any, ops: list[Any]) -> None:
    """Applies ``ops`` to ``tree`` in place; raises DeltaError when one does not fit.

    ``tree`` must be owned by the caller (e.g. freshly decoded JSON): values from
    ``ops`` are inserted without copying."""
    for number, op in enumerate(ops):
        try:
            _apply(tree, op)
        except DeltaError as err:
            raise DeltaError(f"operation {number}: {err}") from None


# --- computing ----------------------------------------------------------------------------


def _diff(old: Any, new: Any, path: list[Step], ops: list[Op]) -> None:
    if old is new:
        return
    if isinstance(old, dict) and isinstance(new, dict):
        for member in old.keys() - new.keys():
            ops.append([REMOVE, [*path, member]])
        for member, value in new.items():
            if member not in old:
                ops.append([SET, [*path, member], value])
            else:
                _diff(old[member], value, [*path, member], ops)
        return
    if isinstance(old, list) and isinstance(new, list):
        _diff_list(old, new, path, ops)
        return
    if type(old) is not type(new) or old != new:
        ops.append([SET, path, new])


def _diff_list(old: list[Any], new: list[Any], path: list[Step], ops: list[Op]) -> None:
    if len(old) == len(new):
        changed = list(islice(compress(count(), map(is_not, old, new)), _FEW + 1))
        if len(changed) <= _FEW:  # entries changed in place: the common case, fast
            for n in changed:
                _diff(old[n], new[n], [*path, n], ops)
            return
    shorter = min(len(old), len(new))
    head = next(compress(count(), map(is_not, old, new)), shorter)
    tail = next(compress(count(), map(is_not, reversed(old), reversed(new))), shorter)
    tail = min(tail, shorter - head)
    old_mid = old[head : len(old) - tail]
    new_mid = new[head : len(new) - tail]
    # Gaps between entries both lists share, right to left: a splice only moves what
    # lies to its right, which has been dealt with already.
    for old_gap, new_gap in reversed(list(_gaps(old_mid, new_mid))):
        start, stop = old_gap
        if stop - start == new_gap[1] - new_gap[0]:
            for offset in range(stop - start):
                n = head + start + offset
                _diff(old_mid[start + offset], new_mid[new_gap[0] + offset], [*path, n], ops)
        else:
            values = new_mid[new_gap[0] : new_gap[1]]
            ops.append([SPLICE, path, head + start, head + stop, values])


def _gaps(old: list[Any], new: list[Any]) -> Iterator[tuple[tuple[int, int], tuple[int, int]]]:
    """(old start, stop), (new start, stop) of each run between entries that appear, in
    the same order, in both lists (the same objects); empty runs are skipped."""
    where = {id(entry): n for n, entry in enumerate(old)}
    old_at = new_at = 0
    for n, entry in enumerate(new):
        found = where.get(id(entry))
        if found is None or found < old_at:
            continue
        if found > old_at or n > new_at:
            yield (old_at, found), (new_at, n)
        old_at, new_at = found + 1, n + 1
    if old_at < len(old) or new_at < len(new):
        yield (old_at, len(old)), (new_at, len(new))


# --- applying -----------------------------------------------------------------------------


def _apply(tree: Any, op: Any) -> None:
    if not isinstance(op, list) or len(op) < 2 or not isinstance(op[1], list):
        raise DeltaError(f"not an operation: {_short(op)}")
    kind, path = op[0], op[1]
    if kind == SPLICE and len(op) == 5:
        _splice(_walk(tree, path), op[2], op[3], op[4], path)
        return
    if kind not in (SET, REMOVE) or len(op) != (3 if kind == SET else 2):
        raise DeltaError(f"not an operation: {_short(op)}")
    if not path:
        raise DeltaError("an operation on the root itself")
    parent, last = _walk(tree, path[:-1]), path[-1]
    if kind == SET and isinstance(parent, dict) and isinstance(last, str):
        parent[last] = op[2]  # a new member or a new value
    elif not _has(parent, last):
        raise DeltaError(f"no node at {_text(path)}")
    elif kind == SET:
        parent[last] = op[2]
    else:
        del parent[last]


def _splice(target: Any, start: Any, stop: Any, values: Any, path: list[Any]) -> None:
    if not isinstance(target, list):
        raise DeltaError(f"no list at {_text(path)}")
    if not (_is_position(start) and _is_position(stop) and 0 <= start <= stop <= len(target)):
        raise DeltaError(f"positions {start!r}:{stop!r} outside the list at {_text(path)}")
    if not isinstance(values, list):
        raise DeltaError(f"splice values at {_text(path)} are not a list")
    target[start:stop] = values


def _walk(tree: Any, path: list[Any]) -> Any:
    node = tree
    for depth, step in enumerate(path):
        if not _has(node, step):
            raise DeltaError(f"no node at {_text(path[: depth + 1])}")
        node = node[step]
    return node


def _has(node: Any, step: Any) -> bool:
    if isinstance(node, dict):
        return isinstance(step, str) and step in node
    return isinstance(node, list) and _is_position(step) and 0 <= step < len(node)


def _is_position(step: Any) -> bool:
    return isinstance(step, int) and not isinstance(step, bool)


def _text(path: list[Any]) -> str:
    return "/" + "/".join(str(step) for step in path)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
