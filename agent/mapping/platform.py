"""The ``/platform/devices/device`` subtree: config entry -> DeviceConfig, and the device's
state container from what its driver reports."""

from __future__ import annotations

from typing import Any

from agent.drivers.capabilities import Capabilities
from agent.drivers.config import BREAKOUT_MODES, DeviceConfig
from agent.drivers.state import DeviceState, OperStatus
from agent.mapping.model import (
    BLUEFIELD_CHIPSETS,
    DEFAULT_DPU_MODE,
    DEVICE_DEFAULTS,
    SPEED_NAMES,
    Entry,
    MappingError,
    identity_name,
    identity_value,
    uint64,
)
from agent.mapping.oper_status import device_oper_status
from agent.mapping.registry import ListModel


def device_config(entry: Entry, model: ListModel) -> DeviceConfig:
    """The DeviceConfig of one ``device`` list entry, with the model's defaults applied
    (``dpu-mode`` only on the BlueField chipsets, where its ``when`` holds)."""
    config: Entry = {**model.defaults, **(entry.get("config") or {})}
    try:
        name = config.get("name", entry["name"])
        chipset = identity_name(config["chipset"])
    except KeyError as missing:
        raise MappingError(f"device {entry.get('name')!r} has no {missing.args[0]}") from None
    dpu_mode = config.get("dpu-mode")
    if dpu_mode is None and chipset in BLUEFIELD_CHIPSETS:
        dpu_mode = model.default("dpu-mode")
    return DeviceConfig(
        name=name,
        chipset=chipset,
        backend=config["backend"],
        address=config.get("address"),
        enabled=config["enabled"],
        dpu_mode=dpu_mode,
    )


def device_state(
    config: Entry, state: DeviceState | None, caps: Capabilities | None
) -> dict[str, Any]:
    """The ``state`` container of a device.

    ``config`` is the device's ``config`` container; ``state`` and ``caps`` are what its
    driver reports (None when there is no driver to ask: oper-status UNKNOWN, no
    capabilities). ``enabled`` and ``dpu-mode`` are the values the hardware runs;
    ``oper-status-reason`` says why a device is DOWN or DEGRADED when its driver knows.
    """
    out: dict[str, Any] = {**DEVICE_DEFAULTS, **config}
    out.pop("dpu-mode", None)
    if state is not None:
        out["enabled"] = state.admin_enabled
        if state.dpu_mode is not None:
            out["dpu-mode"] = state.dpu_mode
        out["last-change"] = uint64(state.last_change_ns)
        out["sdk-version"] = state.sdk_version
    elif identity_name(config.get("chipset", "")) in BLUEFIELD_CHIPSETS:
        out["dpu-mode"] = config.get("dpu-mode", DEFAULT_DPU_MODE)
    out["chipset"] = identity_value(identity_name(out["chipset"]))
    out["oper-status"] = device_oper_status(state).value
    if state is not None and state.reason and state.oper_status is not OperStatus.UP:
        out["oper-status-reason"] = state.reason
    if caps is not None:
        out["sdk-version"] = caps.sdk_version
        out["driver"] = caps.family
        out["capabilities"] = capabilities_state(caps)
    return out


def capabilities_state(caps: Capabilities) -> dict[str, Any]:
    """The ``capabilities`` container: the chip's limits in the model's leaves.

    ``lanes-per-cage`` is the widest cage's lane count; speeds and breakout modes the model
    has no enum value for are left out; both lists follow the model's enum order.
    """
    breakouts = {mode for cage in caps.cages for mode in cage.breakouts}
    speeds = set(caps.speeds_bps)
    return {
        "port-count": caps.port_count,
        "lanes-per-cage": max((cage.lanes for cage in caps.cages), default=0),
        "supported-speeds": [name for bps, name in SPEED_NAMES.items() if bps in speeds],
        "breakout-modes": [mode for mode in BREAKOUT_MODES if mode in breakouts],
        "mtu-min": caps.mtu_min,
        "mtu-max": caps.mtu_max,
        "max-vfs": caps.vf_limit,
        "vf-scope": caps.vf_scope.value,
        "min-sample-interval": uint64(caps.min_sample_interval_ns),
    }
