"""Driver family for NVIDIA SmartNICs and DPUs: connectx-6/7, bluefield-2/3."""

from __future__ import annotations

from agent.drivers.checks import COMMON_CHECKS
from agent.drivers.family import DriverFamily, build_family
from agent.drivers.nvidia.profiles import PROFILES
from agent.drivers.nvidia.rules import BLUEFIELD_CHECKS

FAMILY: DriverFamily = build_family(
    name="nvidia",
    description="NVIDIA ConnectX SmartNICs and BlueField DPUs",
    profiles=PROFILES,
    checks={
        chipset: COMMON_CHECKS + (BLUEFIELD_CHECKS if caps.dpu_modes else ())
        for chipset, caps in PROFILES.items()
    },
)
