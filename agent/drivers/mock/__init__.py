"""The mock backend shared by every chip family, parameterised by the chip's Capabilities."""

from __future__ import annotations

from agent.drivers.mock.controls import (
    CablePlant,
    FaultInjector,
    HwSnapshotSource,
    PowerCycler,
    Simulator,
    TrafficSource,
)
from agent.drivers.mock.hardware import MockHardware
from agent.drivers.mock.provider import BACKEND, MockBackendProvider
from agent.drivers.mock.snapshot import HwSnapshot
from agent.drivers.mock.traffic import PortTraffic, SliceTraffic

__all__ = [
    "BACKEND",
    "CablePlant",
    "FaultInjector",
    "HwSnapshot",
    "HwSnapshotSource",
    "MockBackendProvider",
    "MockHardware",
    "PortTraffic",
    "PowerCycler",
    "Simulator",
    "SliceTraffic",
    "TrafficSource",
]
