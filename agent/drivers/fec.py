"""FEC rules per speed, following IEEE 802.3 (FireCode = BASE-R FEC, RS528, RS544)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from agent.drivers.capabilities import FecRule
from agent.drivers.units import GBPS

IEEE_FEC: Mapping[int, FecRule] = MappingProxyType(
    {
        rule.speed_bps: rule
        for rule in (
            FecRule(1 * GBPS, ("none",), "none"),
            FecRule(10 * GBPS, ("none", "fc"), "none"),
            FecRule(25 * GBPS, ("none", "fc", "rs528"), "rs528"),
            FecRule(40 * GBPS, ("none", "fc"), "none"),
            FecRule(50 * GBPS, ("none", "fc", "rs528", "rs544"), "rs528"),
            FecRule(100 * GBPS, ("none", "rs528", "rs544"), "rs528"),
            FecRule(200 * GBPS, ("rs544",), "rs544"),
            FecRule(400 * GBPS, ("rs544",), "rs544"),
        )
    }
)
"""The standard FEC options at each Ethernet speed (PAM4 200G/400G require RS544)."""


def fec_rules(speeds_bps: tuple[int, ...], *overrides: FecRule) -> tuple[FecRule, ...]:
    """The IEEE rule for every speed in ``speeds_bps``, with chip-specific ``overrides``."""
    replaced = {rule.speed_bps: rule for rule in overrides}
    return tuple(replaced.get(speed, IEEE_FEC[speed]) for speed in speeds_bps)
