"""How driver status maps onto the model's ``oper-status`` and ``device-oper-status`` enums.

Port (and slice member) status, first match wins:

=======================================  ==================
driver reports                           model
=======================================  ==================
link UP, loopback ``mac``/``phy``         TESTING
link UP                                  UP
DOWN, device down (DEVICE_DOWN)          LOWER_LAYER_DOWN
DOWN, port disabled (ADMIN_DOWN)         DOWN
DOWN, no peer (cable pulled)             DOWN
DOWN, another port owns the channel      DOWN
DOWN, cage layout not yet programmed     NOT_PRESENT
DOWN, port removed                       NOT_PRESENT
DOWN, no reason given                    DOWN
DEGRADED (not a port status)             UNKNOWN
not reported, device reachable and up    NOT_PRESENT (not programmed on the hardware)
not reported, device down                LOWER_LAYER_DOWN
not reported, device unreachable         UNKNOWN
=======================================  ==================

A cage whose programmed breakout differs from the port's has no such channel yet, hence
NOT_PRESENT. Devices: the driver's UP/DOWN/DEGRADED carry over; no driver -> UNKNOWN.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

from agent.drivers.state import DeviceState, DownReason, OperStatus, PortState


class PortOperStatus(StrEnum):
    """The model's ``oper-status`` enum (ports, slices, slice members)."""

    UP = "UP"
    DOWN = "DOWN"
    TESTING = "TESTING"
    UNKNOWN = "UNKNOWN"
    DORMANT = "DORMANT"
    NOT_PRESENT = "NOT_PRESENT"
    LOWER_LAYER_DOWN = "LOWER_LAYER_DOWN"


class DeviceOperStatus(StrEnum):
    """The model's ``device-oper-status`` enum."""

    UP = "UP"
    DOWN = "DOWN"
    DEGRADED = "DEGRADED"
    UNKNOWN = "UNKNOWN"


_DOWN_REASONS: Mapping[DownReason, PortOperStatus] = MappingProxyType(
    {
        DownReason.DEVICE_DOWN: PortOperStatus.LOWER_LAYER_DOWN,
        DownReason.ADMIN_DOWN: PortOperStatus.DOWN,
        DownReason.NO_PEER: PortOperStatus.DOWN,
        DownReason.LOCATION_CONFLICT: PortOperStatus.DOWN,
        DownReason.LAYOUT_PENDING: PortOperStatus.NOT_PRESENT,
        DownReason.REMOVED: PortOperStatus.NOT_PRESENT,
    }
)


def port_oper_status(state: PortState) -> PortOperStatus:
    """The model status of a port the driver reported."""
    if state.oper_status is OperStatus.UP:
        return PortOperStatus.UP if state.loopback == "none" else PortOperStatus.TESTING
    if state.oper_status is OperStatus.DOWN:
        if state.down_reason is None:
            return PortOperStatus.DOWN
        return _DOWN_REASONS.get(state.down_reason, PortOperStatus.DOWN)
    return PortOperStatus.UNKNOWN


def unreported_port_status(device: DeviceState | None, *, readable: bool) -> PortOperStatus:
    """The model status of a configured port its driver did not report.

    ``readable`` is False when the driver's port reads failed (device unreachable);
    ``device`` is None when there is no driver for the port's device.
    """
    if device is None or not readable:
        return PortOperStatus.UNKNOWN
    if device.oper_status is OperStatus.DOWN:
        return PortOperStatus.LOWER_LAYER_DOWN
    return PortOperStatus.NOT_PRESENT


def device_oper_status(state: DeviceState | None) -> DeviceOperStatus:
    """The model status of a device (UNKNOWN when there is no driver to ask)."""
    if state is None:
        return DeviceOperStatus.UNKNOWN
    try:
        return DeviceOperStatus(state.oper_status.value)
    except ValueError:
        return DeviceOperStatus.UNKNOWN
