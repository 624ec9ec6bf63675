"""The mapping of driver status onto the model's oper-status enums."""

from __future__ import annotations

import pytest

from agent.drivers import DeviceState, DownReason, OperStatus, PortState
from agent.mapping.oper_status import (
    DeviceOperStatus,
    PortOperStatus,
    device_oper_status,
    port_oper_status,
    unreported_port_status,
)
from agent.schema.engine import SchemaEngine
from agent.schema.path import DataPath


def port(status: OperStatus, reason: DownReason | None = None, loopback: str = "none") -> PortState:
    return PortState(
        name="p",
        index=1,
        channel=0,
        admin_enabled=True,
        oper_status=status,
        down_reason=reason,
        speed_bps=100_000_000_000,
        fec="rs528",
        mtu=1514,
        breakout="none",
        loopback=loopback,
        num_vfs=0,
        lag_group=None,
        last_change_ns=1,
    )


def device(status: OperStatus) -> DeviceState:
    return DeviceState("d", "tofino1", status, True, "sdk", None, 1)


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (port(OperStatus.UP), PortOperStatus.UP),
        (port(OperStatus.UP, loopback="mac"), PortOperStatus.TESTING),
        (port(OperStatus.UP, loopback="phy"), PortOperStatus.TESTING),
        (port(OperStatus.DOWN, DownReason.DEVICE_DOWN), PortOperStatus.LOWER_LAYER_DOWN),
        (port(OperStatus.DOWN, DownReason.DEVICE_DOWN, "mac"), PortOperStatus.LOWER_LAYER_DOWN),
        (port(OperStatus.DOWN, DownReason.ADMIN_DOWN), PortOperStatus.DOWN),
        (port(OperStatus.DOWN, DownReason.NO_PEER), PortOperStatus.DOWN),
        (port(OperStatus.DOWN, DownReason.LOCATION_CONFLICT), PortOperStatus.DOWN),
        (port(OperStatus.DOWN, DownReason.LAYOUT_PENDING), PortOperStatus.NOT_PRESENT),
        (port(OperStatus.DOWN, DownReason.REMOVED), PortOperStatus.NOT_PRESENT),
        (port(OperStatus.DOWN), PortOperStatus.DOWN),
        (port(OperStatus.DEGRADED), PortOperStatus.UNKNOWN),
    ],
)
def test_port_status(state: PortState, expected: PortOperStatus) -> None:
    assert port_oper_status(state) is expected


def test_every_down_reason_has_a_mapping() -> None:
    for reason in DownReason:
        assert port_oper_status(port(OperStatus.DOWN, reason)) is not PortOperStatus.UP


def test_unreported_port_status() -> None:
    up, down = device(OperStatus.UP), device(OperStatus.DOWN)
    assert unreported_port_status(up, readable=True) is PortOperStatus.NOT_PRESENT
    assert unreported_port_status(down, readable=True) is PortOperStatus.LOWER_LAYER_DOWN
    assert unreported_port_status(up, readable=False) is PortOperStatus.UNKNOWN
    assert unreported_port_status(None, readable=True) is PortOperStatus.UNKNOWN


@pytest.mark.parametrize("status", list(OperStatus))
def test_device_status_carries_over(status: OperStatus) -> None:
    assert device_oper_status(device(status)).value == status.value
    assert device_oper_status(None) is DeviceOperStatus.UNKNOWN


def test_enums_match_the_model(engine: SchemaEngine) -> None:
    port_leaf = engine.leaf_type(DataPath.parse("/edge-ports:ports/port/state/oper-status"))
    device_leaf = engine.leaf_type(
        DataPath.parse("/edge-platform:platform/devices/device/state/oper-status")
    )
    assert port_leaf is not None and device_leaf is not None
    assert set(port_leaf.enum_names) == {s.value for s in PortOperStatus}
    assert set(device_leaf.enum_names) == {s.value for s in DeviceOperStatus}
