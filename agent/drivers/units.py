"""Speeds and breakout modes: parsing and human-readable formatting."""

from __future__ import annotations

import re
from dataclasses import dataclass
from types import MappingProxyType

from agent.drivers.config import BREAKOUT_MODES

GBPS = 1_000_000_000
MBPS = 1_000_000

_BREAKOUT = re.compile(r"^([1-8])x([1-9][0-9]*)G$")


@dataclass(frozen=True, slots=True)
class Breakout:
    """A parsed breakout mode: how many channels, and each channel's speed (None = unsplit)."""

    mode: str
    channels: int
    channel_bps: int | None

    @property
    def is_split(self) -> bool:
        return self.channel_bps is not None


def parse_breakout(mode: str) -> Breakout | None:
    """Parses ``none`` or ``NxSPEEDG``; returns None for anything else."""
    known = _KNOWN.get(mode)
    return known if known is not None else _parse(mode)


def _parse(mode: str) -> Breakout | None:
    if mode == "none":
        return Breakout(mode, 1, None)
    match = _BREAKOUT.match(mode)
    if match is None:
        return None
    return Breakout(mode, int(match.group(1)), int(match.group(2)) * GBPS)


def format_bps(bps: int) -> str:
    """``100000000000`` -> ``100G``; ``2500000000`` -> ``2.5G``; ``500000`` -> ``500k``."""
    for unit, scale in (("T", 1000 * GBPS), ("G", GBPS), ("M", MBPS), ("k", 1000)):
        if abs(bps) >= scale:
            value = bps / scale
            text = f"{value:.3f}".rstrip("0").rstrip(".")
            return f"{text}{unit}"
    return str(bps)


def format_speeds(speeds: tuple[int, ...]) -> str:
    """A comma-separated list of speeds, e.g. ``10G, 25G, 100G``."""
    return ", ".join(format_bps(speed) for speed in speeds)


_KNOWN = MappingProxyType({mode: _parse(mode) for mode in BREAKOUT_MODES})
