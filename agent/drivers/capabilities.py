"""What a chip can do: the facts drivers enforce and report as device capabilities."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from agent.drivers.config import LOOPBACK_MODES
from agent.drivers.counters import PORT_COUNTER_LEAVES, SLICE_COUNTER_LEAVES


class VfScope(StrEnum):
    """Where an SR-IOV virtual-function limit applies."""

    NONE = "none"  # no SR-IOV (switch ASICs)
    PORT = "per-port"
    DEVICE = "per-device"


@dataclass(frozen=True, slots=True)
class CageGroup:
    """A run of identical cages ``first..last``: connector, lanes and legal breakouts."""

    first: int
    last: int
    connector: str
    lanes: int
    lane_bps: int
    breakouts: tuple[str, ...]

    def covers(self, index: int) -> bool:
        return self.first <= index <= self.last

    @property
    def capacity_bps(self) -> int:
        return self.lanes * self.lane_bps


@dataclass(frozen=True, slots=True)
class FecRule:
    """The FEC modes valid at one speed; ``default`` is what ``auto`` resolves to."""

    speed_bps: int
    modes: tuple[str, ...]
    default: str


@dataclass(frozen=True, slots=True)
class PortOption:
    """A card-wide port option (E810): ports 1..``ports`` usable, each up to ``max_speed_bps``."""

    name: str
    ports: int
    max_speed_bps: int


@dataclass(frozen=True, slots=True)
class InterfaceLimits:
    """What one host interface (netdev) allows, as a host backend probed it.

    The common checks hold a port that names the interface (``interface_name``) to these
    limits as well as to the chip's. None means the interface does not say; an empty
    ``speeds_bps`` means its speed cannot be set, which the backend's own checks decide
    how to treat.
    """

    name: str
    mtu_min: int
    mtu_max: int
    speeds_bps: tuple[int, ...] | None = None
    max_vfs: int | None = None


@dataclass(frozen=True, slots=True)
class Capabilities:
    """A device's capabilities, as its driver enforces and reports them.

    Backends report them: a mock its chip profile, a real backend the profile with what
    it probed on the device (``interfaces``, a narrower MTU range, the firmware version).
    """

    chipset: str
    family: str
    model: str
    port_count: int
    speeds_bps: tuple[int, ...]
    cages: tuple[CageGroup, ...]
    mtu_min: int
    mtu_max: int
    vf_limit: int
    vf_scope: VfScope
    fec: tuple[FecRule, ...]
    min_sample_interval_ns: int
    sdk_version: str
    counters: tuple[str, ...] = PORT_COUNTER_LEAVES
    slice_counters: tuple[str, ...] = SLICE_COUNTER_LEAVES
    dpu_modes: tuple[str, ...] = ()
    default_dpu_mode: str | None = None
    max_total_bps: int | None = None  # sum of enabled ports' speeds the device can carry
    port_options: tuple[PortOption, ...] = ()
    priority_levels: int = 8
    interfaces: tuple[InterfaceLimits, ...] = ()  # probed per host interface, by name
    loopback_modes: tuple[str, ...] = LOOPBACK_MODES  # the loopback settings ports accept
    lag: bool = True  # whether ports can be aggregated (lag-group)

    def interface(self, name: str | None) -> InterfaceLimits | None:
        """The probed limits of host interface ``name``, or None when it was not probed."""
        if name is None:
            return None
        for limits in self.interfaces:
            if limits.name == name:
                return limits
        return None

    def cage(self, index: int) -> CageGroup | None:
        """The cage group that holds cage ``index``, or None if there is no such cage."""
        for group in self.cages:
            if group.covers(index):
                return group
        return None

    def fec_rule(self, speed_bps: int) -> FecRule | None:
        """The FEC rule for ``speed_bps``, or None if the chip does not run that speed."""
        for rule in self.fec:
            if rule.speed_bps == speed_bps:
                return rule
        return None

    def resolve_fec(self, speed_bps: int, fec: str) -> str:
        """The FEC the chip runs for a configured value (``auto`` -> the speed's default)."""
        if fec != "auto":
            return fec
        rule = self.fec_rule(speed_bps)
        return rule.default if rule is not None else "none"

    def effective_dpu_mode(self, configured: str | None) -> str | None:
        """The DPU mode a device runs: the configured one, else the chip's default."""
        if not self.dpu_modes:
            return None
        return configured if configured is not None else self.default_dpu_mode
