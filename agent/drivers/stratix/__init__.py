"""Driver family for Intel Stratix 10 DX FPGAs: stratix10-dx."""

from __future__ import annotations

from agent.drivers.checks import COMMON_CHECKS
from agent.drivers.family import DriverFamily, build_family
from agent.drivers.stratix.profiles import PROFILES

FAMILY: DriverFamily = build_family(
    name="stratix",
    description="Intel Stratix 10 DX FPGAs (E-tile Ethernet, P-tile SR-IOV)",
    profiles=PROFILES,
    checks={chipset: COMMON_CHECKS for chipset in PROFILES},
)
