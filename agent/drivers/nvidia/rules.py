"""BlueField quirk: changing the DPU mode restarts the device."""

from __future__ import annotations

from collections.abc import Iterator

from agent.drivers.checks import Check, CheckContext
from agent.drivers.problems import Problem, Severity

MODE_CHANGE = "bluefield-mode-change"


def check_mode_change(ctx: CheckContext) -> Iterator[Problem]:
    """Warns that a DPU mode change restarts the DPU (all links go down meanwhile)."""
    before, after = ctx.current.device, ctx.result.device
    if before is None or after is None:
        return
    old = ctx.caps.effective_dpu_mode(before.dpu_mode)
    new = ctx.caps.effective_dpu_mode(after.dpu_mode)
    if old == new or new not in ctx.caps.dpu_modes:
        return
    yield Problem(
        "device",
        after.name,
        MODE_CHANGE,
        f"dpu-mode {old} -> {new} restarts the {ctx.caps.chipset}: the device and all its "
        "links go down until it is back",
        Severity.WARNING,
        fields=("dpu_mode",),
    )


BLUEFIELD_CHECKS: tuple[Check, ...] = (check_mode_change,)
