"""HwSnapshot: a comparable dump of the mock's simulated hardware tables."""

from __future__ import annotations

from dataclasses import dataclass

from agent.drivers.state import OperStatus


@dataclass(frozen=True, slots=True)
class HwDevice:
    """The device row: configured or not, admin state, DPU mode, oper status."""

    name: str
    chipset: str
    configured: bool
    admin_enabled: bool
    dpu_mode: str | None
    oper_status: OperStatus


@dataclass(frozen=True, slots=True)
class HwCage:
    """A cage's programmed port layout (its breakout)."""

    index: int
    layout: str


@dataclass(frozen=True, slots=True)
class HwPort:
    """A programmed port (MAC/SerDes channel) with the FEC it actually runs."""

    name: str
    index: int
    channel: int
    admin_enabled: bool
    speed_bps: int
    fec: str
    fec_active: str
    mtu: int
    breakout: str
    loopback: str
    num_vfs: int
    lag_group: str | None
    oper_status: OperStatus


@dataclass(frozen=True, slots=True)
class HwSlicePolicy:
    """A slice's policy entry (kept even while the slice is disabled)."""

    name: str
    vlan_id: int
    enabled: bool
    priority: int


@dataclass(frozen=True, slots=True)
class HwVlanMember:
    """VLAN membership of a port, installed for an enabled slice."""

    vlan_id: int
    port: str
    slice: str


@dataclass(frozen=True, slots=True)
class HwRateLimiter:
    """A per-port rate limiter for an enabled slice: guaranteed (CIR) and peak (PIR)."""

    port: str
    slice: str
    cir_bps: int
    pir_bps: int | None
    priority: int


@dataclass(frozen=True, slots=True)
class HwSnapshot:
    """Every simulated table, sorted; two snapshots are equal iff the hardware is."""

    device: HwDevice
    cages: tuple[HwCage, ...]
    ports: tuple[HwPort, ...]
    slices: tuple[HwSlicePolicy, ...]
    vlans: tuple[HwVlanMember, ...]
    rate_limiters: tuple[HwRateLimiter, ...]
