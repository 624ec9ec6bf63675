"""Per-slice child netdevs: one macvlan per (slice, member port), standing in for a VF
or a scalable function, with an HTB qdisc at the slice's rates."""

from __future__ import annotations

import zlib

from agent.drivers.config import SliceConfig, SliceMember

CHILD_PREFIX = "es"
CHILD_TX_QUEUE_LEN = 1000
MIN_HTB_RATE_BPS = 8_000  # HTB needs a non-zero rate; a slice without a guarantee gets this


def child_name(slice_name: str, port: str) -> str:
    """A stable netdev name (at most 15 characters) for a slice's child on ``port``."""
    digest = zlib.crc32(f"{slice_name}\0{port}".encode()) & 0xFFFFFFFF
    return f"{CHILD_PREFIX}{digest:08x}"


def rates(slice_: SliceConfig, member: SliceMember, port_speed_bps: int) -> tuple[int, int]:
    """(peak, guaranteed) in bit/s for the slice's child on ``member``'s port."""
    peak = slice_.max_rate_bps if slice_.max_rate_bps is not None else port_speed_bps
    guaranteed = min(max(slice_.guaranteed_bps(member), MIN_HTB_RATE_BPS), peak)
    return peak, guaranteed
