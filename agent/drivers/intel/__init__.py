"""Driver family for Intel SmartNICs and IPUs: e810, ipu-e2000."""

from __future__ import annotations

from agent.drivers.checks import COMMON_CHECKS
from agent.drivers.family import DriverFamily, build_family
from agent.drivers.intel.profiles import PROFILES
from agent.drivers.intel.rules import E810_CHECKS

FAMILY: DriverFamily = build_family(
    name="intel",
    description="Intel E810 Ethernet controllers and IPU E2000 infrastructure processors",
    profiles=PROFILES,
    checks={"e810": COMMON_CHECKS + E810_CHECKS, "ipu-e2000": COMMON_CHECKS},
)
