"""Southbound hardware drivers: the interface, the values it speaks, and the registry.

Drivers receive frozen configuration values (DeviceConfig, PortConfig, SliceConfig)
wrapped in idempotent, invertible ops (DeviceOp, PortOp, SliceOp), and report frozen
state, counters and events. Concrete families live in sub-packages and are found through
the ``edge_agent.drivers`` entry points by DriverRegistry; nothing here imports them.
"""

from __future__ import annotations

from agent.drivers.capabilities import CageGroup, Capabilities, FecRule, PortOption, VfScope
from agent.drivers.config import DeviceConfig, PortConfig, SliceConfig, SliceMember
from agent.drivers.counters import PortCounters, SliceCounters
from agent.drivers.errors import (
    ApplyFailed,
    DeviceUnavailable,
    DriverError,
    DriverUnavailable,
    HardwareFault,
    UnknownBackend,
    UnknownChipset,
    ValidationFailed,
)
from agent.drivers.events import DeviceEvent, Event, LinkEvent
from agent.drivers.intent import DeviceIntent
from agent.drivers.interface import (
    CapabilityReporter,
    ConfigApplier,
    ConfigValidator,
    CounterReader,
    Driver,
    DriverFactory,
    EventSource,
    Lifecycle,
    Reconciler,
    StateReader,
)
from agent.drivers.ops import DeviceOp, Op, PortOp, SliceOp, canonical_order, invert
from agent.drivers.problems import Problem, Severity
from agent.drivers.report import ValidationReport
from agent.drivers.state import DeviceState, DownReason, OperStatus, PortState, SliceState

__all__ = [
    "ApplyFailed",
    "CageGroup",
    "Capabilities",
    "CapabilityReporter",
    "ConfigApplier",
    "ConfigValidator",
    "CounterReader",
    "DeviceConfig",
    "DeviceEvent",
    "DeviceIntent",
    "DeviceOp",
    "DeviceState",
    "DeviceUnavailable",
    "DownReason",
    "Driver",
    "DriverError",
    "DriverFactory",
    "DriverUnavailable",
    "Event",
    "EventSource",
    "FecRule",
    "HardwareFault",
    "Lifecycle",
    "LinkEvent",
    "Op",
    "OperStatus",
    "PortConfig",
    "PortCounters",
    "PortOp",
    "PortOption",
    "PortState",
    "Problem",
    "Reconciler",
    "Severity",
    "SliceConfig",
    "SliceCounters",
    "SliceMember",
    "SliceOp",
    "SliceState",
    "StateReader",
    "UnknownBackend",
    "UnknownChipset",
    "ValidationFailed",
    "ValidationReport",
    "VfScope",
    "canonical_order",
    "invert",
]
