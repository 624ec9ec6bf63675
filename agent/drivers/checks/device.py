"""Device-level checks: identity and DPU mode."""

from __future__ import annotations

from collections.abc import Iterator

from agent.drivers.checks.context import CheckContext
from agent.drivers.problems import Problem

DEVICE_IDENTITY = "device-identity"
DEVICE_REMOVAL = "device-removal"
DPU_MODE = "dpu-mode"


def check_device_identity(ctx: CheckContext) -> Iterator[Problem]:
    """The device keeps its name, chipset and backend; removing it needs it emptied first."""
    device = ctx.result.device
    name = ctx.device
    if device is None:
        if ctx.result.ports or ctx.result.slices:
            left = sorted(ctx.result.ports) + sorted(ctx.result.slices)
            yield Problem(
                "device",
                name,
                DEVICE_REMOVAL,
                f"cannot remove the device while it still has ports or slices ({', '.join(left)})",
            )
        return
    if device.name != name:
        yield Problem(
            "device",
            device.name,
            DEVICE_IDENTITY,
            f"this driver manages device {name}, not {device.name}",
            fields=("name",),
        )
    if device.chipset != ctx.identity.chipset:
        yield Problem(
            "device",
            name,
            DEVICE_IDENTITY,
            f"chipset cannot change from {ctx.identity.chipset} to {device.chipset}; "
            "remove the device and add it again",
            fields=("chipset",),
        )
    if device.backend != ctx.identity.backend:
        yield Problem(
            "device",
            name,
            DEVICE_IDENTITY,
            f"backend cannot change from {ctx.identity.backend} to {device.backend} "
            "while the driver runs; remove the device and add it again",
            fields=("backend",),
        )


def check_dpu_mode(ctx: CheckContext) -> Iterator[Problem]:
    """``dpu_mode`` only on DPUs, and only one of the chip's modes."""
    device = ctx.result.device
    if device is None or device.dpu_mode is None:
        return
    modes = ctx.caps.dpu_modes
    if not modes:
        yield Problem(
            "device",
            device.name,
            DPU_MODE,
            f"dpu-mode {device.dpu_mode} is set but {ctx.caps.chipset} is not a DPU "
            "(only BlueField devices have a DPU mode)",
            fields=("dpu_mode",),
        )
    elif device.dpu_mode not in modes:
        yield Problem(
            "device",
            device.name,
            DPU_MODE,
            f"dpu-mode {device.dpu_mode!r} is not a mode of {ctx.caps.chipset} "
            f"(valid: {', '.join(modes)})",
            fields=("dpu_mode",),
        )
