"""Driver family for Intel Tofino switch ASICs: tofino1, tofino2."""

from __future__ import annotations

from agent.drivers.checks import COMMON_CHECKS
from agent.drivers.family import DriverFamily, build_family
from agent.drivers.tofino.profiles import PROFILES
from agent.drivers.tofino.rules import TOFINO_CHECKS

FAMILY: DriverFamily = build_family(
    name="tofino",
    description="Intel Tofino programmable switch ASICs",
    profiles=PROFILES,
    checks={chipset: COMMON_CHECKS + TOFINO_CHECKS for chipset in PROFILES},
)
