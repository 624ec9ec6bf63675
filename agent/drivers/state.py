"""Operational state a driver reports for its device, ports and slices."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class OperStatus(StrEnum):
    """Operational status (values as the model's enums); DEGRADED only for a device whose
    hardware may differ from its configuration."""

    UP = "UP"
    DOWN = "DOWN"
    DEGRADED = "DEGRADED"


class DownReason(StrEnum):
    """Why a port is down."""

    DEVICE_DOWN = "device-down"
    ADMIN_DOWN = "admin-down"
    LAYOUT_PENDING = "layout-pending"  # the cage's programmed breakout differs from the port's
    LOCATION_CONFLICT = "location-conflict"  # another port claims the same cage channel
    NO_PEER = "no-peer"  # nothing at the other end of the cable
    REMOVED = "removed"  # the port was deleted


@dataclass(frozen=True, slots=True)
class DeviceState:
    """A device's operational state."""

    name: str
    chipset: str
    oper_status: OperStatus
    admin_enabled: bool
    sdk_version: str
    dpu_mode: str | None
    last_change_ns: int
    reason: str = ""  # why the device is DOWN or DEGRADED, when known


@dataclass(frozen=True, slots=True)
class PortState:
    """A port's operational state, with the values the hardware actually runs."""

    name: str
    index: int
    channel: int
    admin_enabled: bool
    oper_status: OperStatus
    down_reason: DownReason | None
    speed_bps: int
    fec: str  # the FEC in use: "auto" resolved to the chip's default for the speed
    mtu: int
    breakout: str
    loopback: str
    num_vfs: int
    lag_group: str | None
    last_change_ns: int


@dataclass(frozen=True, slots=True)
class SliceState:
    """A slice's state on one device: up while enabled and at least one member link is up."""

    name: str
    oper_status: OperStatus
    vlan_id: int
    members: tuple[str, ...]
    members_up: tuple[str, ...]
