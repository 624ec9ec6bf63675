"""Validation checks shared by every chip family; families add their own quirks."""

from __future__ import annotations

from agent.drivers.checks.breakout import (
    check_breakout_agreement,
    check_breakout_channel,
    check_breakout_mode,
    check_breakout_speed,
)
from agent.drivers.checks.context import Check, CheckContext
from agent.drivers.checks.device import check_device_identity, check_dpu_mode
from agent.drivers.checks.ops import check_op_shapes
from agent.drivers.checks.ports import (
    check_device_bandwidth,
    check_lag_speed,
    check_lag_supported,
    check_port_device,
    check_port_fec,
    check_port_index,
    check_port_location,
    check_port_loopback,
    check_port_mtu,
    check_port_option,
    check_port_speed,
)
from agent.drivers.checks.slices import (
    check_slice_guarantees,
    check_slice_members,
    check_slice_priority,
    check_slice_rates,
    check_slice_vlan,
)
from agent.drivers.checks.vfs import check_vf_limit

COMMON_CHECKS: tuple[Check, ...] = (
    check_op_shapes,
    check_device_identity,
    check_dpu_mode,
    check_port_device,
    check_port_index,
    check_port_location,
    check_port_speed,
    check_breakout_mode,
    check_breakout_agreement,
    check_breakout_channel,
    check_breakout_speed,
    check_port_fec,
    check_port_mtu,
    check_port_loopback,
    check_device_bandwidth,
    check_port_option,
    check_lag_supported,
    check_lag_speed,
    check_vf_limit,
    check_slice_vlan,
    check_slice_members,
    check_slice_rates,
    check_slice_priority,
    check_slice_guarantees,
)
"""The checks every driver runs, driven by the chip's Capabilities."""

__all__ = ["COMMON_CHECKS", "Check", "CheckContext"]
