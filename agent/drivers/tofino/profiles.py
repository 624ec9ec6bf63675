"""Tofino chip profiles (CHIPSETS facts: ports, speeds, breakouts, FEC)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from agent.drivers.capabilities import CageGroup, Capabilities, FecRule, VfScope
from agent.drivers.fec import fec_rules
from agent.drivers.units import GBPS

_SDE = "Intel P4 Studio SDE 9.13.0 (mock)"
_SWITCH_SAMPLE_NS = 1_000_000_000

_T1_SPEEDS = tuple(s * GBPS for s in (1, 10, 25, 40, 50, 100))
_T2_SPEEDS = tuple(s * GBPS for s in (10, 25, 40, 50, 100, 200, 400))

TOFINO1 = Capabilities(
    chipset="tofino1",
    family="tofino",
    model="Intel Tofino 1, 6.4 Tb/s: 65 x QSFP28 (4-pipe layout)",
    port_count=65,
    speeds_bps=_T1_SPEEDS,
    cages=(
        CageGroup(
            1, 65, "QSFP28", 4, 25 * GBPS, ("none", "1x100G", "1x40G", "2x50G", "4x25G", "4x10G")
        ),
    ),
    mtu_min=64,
    mtu_max=9216,
    vf_limit=0,
    vf_scope=VfScope.NONE,
    # FireCode at 10/40G, Reed-Solomon (RS528, NRZ only) at 25/50/100G.
    fec=fec_rules(
        _T1_SPEEDS,
        FecRule(25 * GBPS, ("none", "rs528"), "rs528"),
        FecRule(50 * GBPS, ("none", "rs528"), "rs528"),
        FecRule(100 * GBPS, ("none", "rs528"), "rs528"),
    ),
    min_sample_interval_ns=_SWITCH_SAMPLE_NS,
    sdk_version=_SDE,
)

TOFINO2 = Capabilities(
    chipset="tofino2",
    family="tofino",
    model="Intel Tofino 2, 12.8 Tb/s: 32 x QSFP-DD (8 lanes of 50G PAM4)",
    port_count=32,
    speeds_bps=_T2_SPEEDS,
    cages=(
        CageGroup(
            1,
            32,
            "QSFP-DD",
            8,
            50 * GBPS,
            (
                "none",
                "1x400G",
                "1x200G",
                "2x200G",
                "2x100G",
                "2x40G",
                "4x100G",
                "4x50G",
                "8x50G",
                "8x25G",
                "8x10G",
            ),
        ),
    ),
    mtu_min=64,
    mtu_max=9216,
    vf_limit=0,
    vf_scope=VfScope.NONE,
    fec=fec_rules(_T2_SPEEDS, FecRule(100 * GBPS, ("none", "rs528", "rs544"), "rs544")),
    min_sample_interval_ns=_SWITCH_SAMPLE_NS,
    sdk_version=_SDE,
)

PROFILES: Mapping[str, Capabilities] = MappingProxyType({"tofino1": TOFINO1, "tofino2": TOFINO2})
