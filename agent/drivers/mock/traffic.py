"""Offered traffic that drives the mock's counters: per port and per slice."""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True, slots=True)
class PortTraffic:
    """Constant traffic on one port: received (in) and sent (out), bits and packets per second.

    Multicast and broadcast are part of ``in_pps``; errors and discards are counted
    separately (FCS errors are part of ``in_error_pps``).
    """

    in_bps: int = 0
    in_pps: int = 0
    out_bps: int = 0
    out_pps: int = 0
    in_multicast_pps: int = 0
    in_broadcast_pps: int = 0
    in_error_pps: int = 0
    in_fcs_error_pps: int = 0
    in_discard_pps: int = 0
    out_error_pps: int = 0
    out_discard_pps: int = 0

    def __post_init__(self) -> None:
        for field in fields(self):
            if getattr(self, field.name) < 0:
                raise ValueError(f"{field.name} must not be negative")
        if self.in_multicast_pps + self.in_broadcast_pps > self.in_pps:
            raise ValueError("multicast plus broadcast packets exceed in_pps")
        if self.in_fcs_error_pps > self.in_error_pps:
            raise ValueError("FCS errors are part of in_error_pps and cannot exceed it")

    def at_line_rate(self, speed_bps: int) -> PortTraffic:
        """This traffic capped at ``speed_bps`` in each direction (packets scale along)."""
        return PortTraffic(
            in_bps=min(self.in_bps, speed_bps),
            in_pps=_scale(self.in_pps, self.in_bps, speed_bps),
            out_bps=min(self.out_bps, speed_bps),
            out_pps=_scale(self.out_pps, self.out_bps, speed_bps),
            in_multicast_pps=_scale(self.in_multicast_pps, self.in_bps, speed_bps),
            in_broadcast_pps=_scale(self.in_broadcast_pps, self.in_bps, speed_bps),
            in_error_pps=self.in_error_pps,
            in_fcs_error_pps=self.in_fcs_error_pps,
            in_discard_pps=self.in_discard_pps,
            out_error_pps=self.out_error_pps,
            out_discard_pps=self.out_discard_pps,
        )


@dataclass(frozen=True, slots=True)
class SliceTraffic:
    """Constant traffic offered to a slice on one device, before its peak-rate policer."""

    bps: int = 0
    pps: int = 0

    def __post_init__(self) -> None:
        if self.bps < 0 or self.pps < 0:
            raise ValueError("slice traffic must not be negative")


def _scale(pps: int, bps: int, speed_bps: int) -> int:
    """Packets per second left when ``bps`` is cut down to ``speed_bps``."""
    if bps <= speed_bps:
        return pps
    return pps * speed_bps // bps
