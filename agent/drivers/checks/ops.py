"""Checks on the ops themselves, before looking at the state they produce."""

from __future__ import annotations

from collections.abc import Iterator

from agent.drivers.checks.context import CheckContext
from agent.drivers.problems import OpRef, Problem

OP_SHAPE = "op-shape"


def check_op_shapes(ctx: CheckContext) -> Iterator[Problem]:
    """Each op has a value on at least one side and does not rename its entity."""
    for index, op in enumerate(ctx.ops):
        before, after = op.before, op.after
        if before is None and after is None:
            yield Problem(
                op.kind,
                f"#{index}",
                OP_SHAPE,
                f"op {index} has neither a before nor an after",
                op=OpRef(index, op.kind, f"#{index}", op.action),
            )
        elif before is not None and after is not None and before.name != after.name:
            yield Problem(
                op.kind,
                after.name,
                OP_SHAPE,
                f"op {index} renames {before.name} to {after.name}; "
                "delete the old entry and create the new one instead",
                op=OpRef(index, op.kind, after.name, op.action, ("name",)),
            )
