"""Intel E810 and IPU E2000 profiles."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from agent.drivers.capabilities import CageGroup, Capabilities, PortOption, VfScope
from agent.drivers.fec import fec_rules
from agent.drivers.units import GBPS

_NIC_SAMPLE_NS = 100_000_000

_E810_SPEEDS = tuple(s * GBPS for s in (1, 10, 25, 50, 100))
_IPU_SPEEDS = tuple(s * GBPS for s in (10, 25, 50, 100, 200))

# IPU E2000: Intel publishes no VF limit. We enforce 256 per device, the figure Intel
# publishes for the E810, until a documented figure replaces it.
IPU_VF_LIMIT = 256

E810 = Capabilities(
    chipset="e810",
    family="intel",
    model="Intel Ethernet E810: port options 2 x 100G, 4 x 25G or 8 x 10G",
    port_count=8,
    speeds_bps=_E810_SPEEDS,
    cages=(CageGroup(1, 8, "QSFP28/SFP28 (per port option)", 4, 25 * GBPS, ("none",)),),
    mtu_min=64,
    mtu_max=9728,
    vf_limit=256,
    vf_scope=VfScope.DEVICE,
    fec=fec_rules(_E810_SPEEDS),
    min_sample_interval_ns=_NIC_SAMPLE_NS,
    sdk_version="ice NVM 4.40, DDP package 1.3.36 (mock)",
    port_options=(
        PortOption("2x100G", 2, 100 * GBPS),
        PortOption("4x25G", 4, 25 * GBPS),
        PortOption("8x10G", 8, 10 * GBPS),
    ),
)

IPU_E2000 = Capabilities(
    chipset="ipu-e2000",
    family="intel",
    model="Intel IPU E2000: 200G, 16 Arm N1 cores, P4 pipeline",
    port_count=2,
    speeds_bps=_IPU_SPEEDS,
    cages=(CageGroup(1, 2, "QSFP56", 4, 50 * GBPS, ("none",)),),
    mtu_min=64,
    mtu_max=9216,
    vf_limit=IPU_VF_LIMIT,
    vf_scope=VfScope.DEVICE,
    fec=fec_rules(_IPU_SPEEDS),
    min_sample_interval_ns=_NIC_SAMPLE_NS,
    sdk_version="IPU SDK 1.8.0 (mock)",
    max_total_bps=200 * GBPS,
)

PROFILES: Mapping[str, Capabilities] = MappingProxyType({"e810": E810, "ipu-e2000": IPU_E2000})
