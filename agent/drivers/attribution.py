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
    """The op of ``ops`` that sets a field the problem's rule is about: the first on the
    problem's own entity, else the first on an entity it involves; None when the batch
    sets none of them (the state was already like that)."""
    for entities in ({(problem.kind, problem.name)}, set(problem.involves)):
        for index, op in enumerate(ops):
            if (op.before is not None or op.after is not None) and (op.kind, op.name) in entities:
                hit = _hit(problem, op)
                if hit is not None:
                    return OpRef(index, op.kind, op.name, op.action, hit)
    return None


def _hit(problem: Problem, op: Op) -> tuple[str, ...] | None:
    """The fields of ``op`` that break the problem's rule (empty: the whole entity);
    None when the op sets none of them."""
    changed = changed_fields(op)
    if problem.fields:
        return _relevant(op.kind, changed, problem.fields) or None
    return changed if op.action == "update" else ()


def attribute(problems: Iterable[Problem], ops: Sequence[Op]) -> list[Problem]:
    """``problems`` with ``op`` filled in where a check left it empty."""
    out = []
    for problem in problems:
        if problem.op is None:
            problem = dataclasses.replace(problem, op=refused_op(problem, ops))
        out.append(problem)
    return out
