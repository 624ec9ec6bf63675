"""Stratix 10 DX profile: E-tile hard Ethernet, P-tile SR-IOV."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from agent.drivers.capabilities import CageGroup, Capabilities, FecRule, VfScope
from agent.drivers.fec import fec_rules
from agent.drivers.units import GBPS

_SPEEDS = tuple(s * GBPS for s in (10, 25, 100))

STRATIX10_DX = Capabilities(
    chipset="stratix10-dx",
    family="stratix",
    model="Intel Stratix 10 DX FPGA: 4 x 100GbE E-tile hard MACs with RS-FEC",
    port_count=4,
    speeds_bps=_SPEEDS,
    # 100G = 4 x 25G NRZ (RS528) or 2 x 53G PAM4 (RS544).
    cages=(CageGroup(1, 4, "QSFP28", 4, 25 * GBPS, ("none",)),),
    mtu_min=64,
    mtu_max=9600,
    vf_limit=2048,
    vf_scope=VfScope.DEVICE,
    fec=fec_rules(_SPEEDS, FecRule(100 * GBPS, ("none", "rs528", "rs544"), "rs528")),
    min_sample_interval_ns=100_000_000,
    sdk_version="Quartus Prime Pro 23.4, E-tile Hard IP for Ethernet (mock)",
)

PROFILES: Mapping[str, Capabilities] = MappingProxyType({"stratix10-dx": STRATIX10_DX})
