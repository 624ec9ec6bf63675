"""Builds state records and snapshot rows from a programmed port and its link."""

from __future__ import annotations

from agent.drivers.capabilities import Capabilities
from agent.drivers.config import PortConfig
from agent.drivers.mock.snapshot import HwPort
from agent.drivers.state import DownReason, OperStatus, PortState


def port_state(
    port: PortConfig,
    caps: Capabilities,
    status: OperStatus,
    reason: DownReason | None,
    since_ns: int,
) -> PortState:
    """The PortState of a programmed port, with the FEC the chip actually runs."""
    return PortState(
        name=port.name,
        index=port.index,
        channel=port.channel,
        admin_enabled=port.enabled,
        oper_status=status,
        down_reason=reason,
        speed_bps=port.speed_bps,
        fec=caps.resolve_fec(port.speed_bps, port.fec),
        mtu=port.mtu,
        breakout=port.breakout,
        loopback=port.loopback,
        num_vfs=port.num_vfs,
        lag_group=port.lag_group,
        last_change_ns=since_ns,
    )


def hw_port(port: PortConfig, caps: Capabilities, status: OperStatus) -> HwPort:
    """The snapshot row of a programmed port."""
    return HwPort(
        name=port.name,
        index=port.index,
        channel=port.channel,
        admin_enabled=port.enabled,
        speed_bps=port.speed_bps,
        fec=port.fec,
        fec_active=caps.resolve_fec(port.speed_bps, port.fec),
        mtu=port.mtu,
        breakout=port.breakout,
        loopback=port.loopback,
        num_vfs=port.num_vfs,
        lag_group=port.lag_group,
        oper_status=status,
    )
