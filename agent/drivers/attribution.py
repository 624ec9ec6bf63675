"""Which op of a batch a problem refuses: the first op that sets what breaks the rule."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence

from agent.drivers.ops import Op
from agent.drivers.problems import OpRef, Problem


def changed_fields(op: Op) -> tuple[str, ...]:
    """The configuration fields ``op`` sets: those that differ for an update, every
    field for a creation or a deletion."""
    before, after = op.before, op.after
    config = after if after is not None else before
    if config is None:
        return ()
    names = tuple(field.name for field in dataclasses.fields(config))
    if before is None or after is None:
        return names
    return tuple(name for name in names if getattr(before, name) != getattr(after, name))


def _relevant(kind: str, fields: Iterable[str], wanted: tuple[str, ...]) -> tuple[str, ...]:
    """``fields`` that a rule about ``wanted`` cares about; a wanted field may be
    qualified by entity kind (``slice.enabled``) to mean it on that kind only."""
    return tuple(f for f in fields if f in wanted or f"{kind}.{f}" in wanted)


def refused_op(problem: Problem, ops: Sequence[Op]) -> OpRef | None:
    """The first op of ``ops`` on an entity of ``problem`` that sets a field its rule is
    about; None when the batch sets none (the state was already like that)."""
    entities = set(problem.entities)
    for index, op in enumerate(ops):
        if op.before is None and op.after is None:
            continue
        if (op.kind, op.name) not in entities:
            continue
        changed = changed_fields(op)
        if problem.fields:
            hit = _relevant(op.kind, changed, problem.fields)
            if not hit:
                continue
        else:  # about the whole entity: an update names what it changed
            hit = changed if op.action == "update" else ()
        return OpRef(index, op.kind, op.name, op.action, hit)
    return None


def attribute(problems: Iterable[Problem], ops: Sequence[Op]) -> list[Problem]:
    """``problems`` with ``op`` filled in where a check left it empty."""
    out = []
    for problem in problems:
        if problem.op is None:
            problem = dataclasses.replace(problem, op=refused_op(problem, ops))
        out.append(problem)
    return out
