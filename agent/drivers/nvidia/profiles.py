"""NVIDIA ConnectX and BlueField profiles."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from agent.drivers.capabilities import CageGroup, Capabilities, VfScope
from agent.drivers.config import DPU_MODES
from agent.drivers.fec import fec_rules
from agent.drivers.units import GBPS

_NIC_SAMPLE_NS = 100_000_000
_VFS_PER_PORT = 127
_MTU_MAX = 9978

_UP_TO_200G = tuple(s * GBPS for s in (10, 25, 40, 50, 100, 200))
_CX7_SPEEDS = tuple(s * GBPS for s in (1, 10, 25, 40, 50, 100, 200, 400))
_UP_TO_400G = tuple(s * GBPS for s in (10, 25, 40, 50, 100, 200, 400))

_QSFP56 = (CageGroup(1, 2, "QSFP56", 4, 50 * GBPS, ("none",)),)
_QSFP112 = (CageGroup(1, 2, "QSFP112", 4, 100 * GBPS, ("none",)),)


def _nvidia(
    chipset: str,
    model: str,
    speeds: tuple[int, ...],
    cages: tuple[CageGroup, ...],
    sdk_version: str,
    **extra: object,
) -> Capabilities:
    """A profile with what every NVIDIA NIC and DPU here shares: two ports, MTU up to
    9978, 127 VFs per port, FEC by speed and a 100 ms minimum sample interval."""
    return Capabilities(
        chipset=chipset,
        family="nvidia",
        model=model,
        port_count=2,
        speeds_bps=speeds,
        cages=cages,
        mtu_min=64,
        mtu_max=_MTU_MAX,
        vf_limit=_VFS_PER_PORT,
        vf_scope=VfScope.PORT,
        fec=fec_rules(speeds),
        min_sample_interval_ns=_NIC_SAMPLE_NS,
        sdk_version=sdk_version,
        **extra,  # type: ignore[arg-type]
    )


CONNECTX6 = _nvidia(
    "connectx-6",
    "NVIDIA ConnectX-6: 2 x 200G",
    _UP_TO_200G,
    _QSFP56,
    "firmware 20.39.1002 (mock)",
)

CONNECTX7 = _nvidia(
    "connectx-7",
    "NVIDIA ConnectX-7: 1 x 400G or 2 x 200G, 400G in total",
    _CX7_SPEEDS,
    _QSFP112,
    "firmware 28.39.1002 (mock)",
    max_total_bps=400 * GBPS,
)

BLUEFIELD2 = _nvidia(
    "bluefield-2",
    "NVIDIA BlueField-2 DPU: 1 x 200G or 2 x 100G, 8 Arm A72 cores",
    _UP_TO_200G,
    _QSFP56,
    "firmware 24.39.1002, BlueField OS 4.5 (mock)",
    dpu_modes=DPU_MODES,
    default_dpu_mode="dpu",
    max_total_bps=200 * GBPS,
)

BLUEFIELD3 = _nvidia(
    "bluefield-3",
    "NVIDIA BlueField-3 DPU: 1 x 400G or 2 x 200G, 16 Arm A78 cores",
    _UP_TO_400G,
    _QSFP112,
    "firmware 32.39.1002, BlueField OS 4.5 (mock)",
    dpu_modes=DPU_MODES,
    default_dpu_mode="dpu",
    max_total_bps=400 * GBPS,
)

PROFILES: Mapping[str, Capabilities] = MappingProxyType(
    {
        "connectx-6": CONNECTX6,
        "connectx-7": CONNECTX7,
        "bluefield-2": BLUEFIELD2,
        "bluefield-3": BLUEFIELD3,
    }
)
