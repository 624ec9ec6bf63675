"""Configuration values a driver receives; the mapping layer builds them from the YANG data."""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass

FEC_MODES: tuple[str, ...] = ("none", "fc", "rs528", "rs544", "auto")
"""FEC settings: none, FireCode (BASE-R), RS(528,514), RS(544,514), or the chip's default."""

LOOPBACK_MODES: tuple[str, ...] = ("none", "mac", "phy")

DPU_MODES: tuple[str, ...] = ("dpu", "zero-trust", "nic")
"""BlueField operating modes; ``dpu`` is the default."""

BREAKOUT_MODES: tuple[str, ...] = (
    "none",
    "1x400G",
    "1x200G",
    "1x100G",
    "1x40G",
    "2x200G",
    "2x100G",
    "2x50G",
    "2x40G",
    "4x100G",
    "4x50G",
    "4x25G",
    "4x10G",
    "8x50G",
    "8x25G",
    "8x10G",
)
"""Every breakout value the model allows; which ones a cage accepts depends on the chip."""


@dataclass(frozen=True, slots=True)
class DeviceConfig:
    """One managed device (a switch, an FPGA card or a SmartNIC)."""

    name: str
    chipset: str
    backend: str = "mock"
    address: str | None = None
    enabled: bool = True
    dpu_mode: str | None = None  # BlueField only: "dpu" (default), "zero-trust", "nic"


@dataclass(frozen=True, slots=True)
class PortConfig:
    """One front-panel port, or one channel of a broken-out cage.

    ``index`` is the 1-based cage number; ``channel`` the 0-based channel within the
    cage after breakout. Every entry of one cage carries the cage's ``breakout``.
    """

    name: str
    device: str
    index: int
    _: KW_ONLY
    channel: int = 0
    enabled: bool = True
    speed_bps: int
    fec: str
    mtu: int = 1514
    breakout: str = "none"
    loopback: str = "none"
    num_vfs: int = 0
    lag_group: str | None = None
    interface_name: str | None = None  # the netdev carrying the port (linux backend)


@dataclass(frozen=True, slots=True)
class SliceMember:
    """A slice's member port; ``min_rate_bps`` overrides the slice's guaranteed rate there."""

    port: str
    min_rate_bps: int | None = None


@dataclass(frozen=True, slots=True)
class SliceConfig:
    """A network slice as one device sees it: only the members that are its own ports."""

    name: str
    vlan_id: int
    _: KW_ONLY
    min_rate_bps: int = 0  # guaranteed rate (CIR) on each member port
    max_rate_bps: int | None = None  # peak rate (PIR); traffic above it is dropped
    priority: int = 0
    enabled: bool = True
    members: tuple[SliceMember, ...] = ()

    def guaranteed_bps(self, member: SliceMember) -> int:
        """The guaranteed rate this slice reserves on ``member``'s port."""
        return self.min_rate_bps if member.min_rate_bps is None else member.min_rate_bps

    @property
    def member_ports(self) -> tuple[str, ...]:
        return tuple(member.port for member in self.members)
