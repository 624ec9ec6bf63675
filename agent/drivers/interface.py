"""The driver interface, as small role protocols, and the backend protocol drivers program.

Callers depend on the role they use: the commit pipeline on ``ConfigValidator``,
``ConfigApplier`` and ``Reconciler``; telemetry on ``StateReader``, ``CounterReader`` and
``EventSource``. ``Driver`` is all of them together. Drivers are synchronous.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Protocol

from agent.clock import Clock
from agent.drivers.capabilities import Capabilities
from agent.drivers.checks.context import Check
from agent.drivers.config import DeviceConfig
from agent.drivers.counters import PortCounters, SliceCounters
from agent.drivers.events import EventListener
from agent.drivers.intent import DeviceIntent
from agent.drivers.ops import Op
from agent.drivers.report import ValidationReport
from agent.drivers.state import DeviceState, PortState, SliceState


class Lifecycle(Protocol):
    """Opening and closing the connection to the device."""

    def open(self) -> None:
        """Connects to the device and loads what it is programmed with; idempotent."""
        ...

    def close(self) -> None:
        """Disconnects; the hardware keeps its programming. Idempotent."""
        ...

    @property
    def is_open(self) -> bool: ...


class CapabilityReporter(Protocol):
    """What the device can do."""

    def capabilities(self) -> Capabilities:
        """The backend's capabilities: declared (the chip profile) until the driver is
        open, then what the backend probed. Never touches the hardware."""
        ...


class ConfigValidator(Protocol):
    """Checking a batch of ops without touching anything."""

    def validate(self, ops: Sequence[Op]) -> ValidationReport:
        """Checks the state that applying all ``ops`` would leave; lists every problem,
        each naming the op it refuses (``Problem.op``).

        Has no side effects, never touches the hardware and works on a driver that is
        not open (with the declared capabilities) as well as on an open one.
        """
        ...


class ConfigApplier(Protocol):
    """Programming a batch of ops."""

    def apply(self, ops: Sequence[Op]) -> None:
        """Validates, then applies ``ops`` in order.

        Raises ValidationFailed (nothing applied) or ApplyFailed(index=k): ops before k
        stay applied, op k and later ones were not applied. Applying ``invert(ops[:k])``
        restores the previous state.
        """
        ...


class Reconciler(Protocol):
    """Bringing the hardware to a known intent, whatever it holds now."""

    def reconcile(self, intent: DeviceIntent) -> tuple[Op, ...]:
        """Reads back what the hardware holds and applies the difference to ``intent``.

        Returns the ops it applied (empty when already in line). When it fails, the
        device reports DEGRADED with the reason until a later reconcile succeeds.
        """
        ...

    def applied(self) -> DeviceIntent:
        """The configuration the driver believes the hardware holds."""
        ...

    def mark_degraded(self, reason: str | None) -> None:
        """Reports the device DEGRADED with ``reason`` (its hardware may differ from the
        configuration, as the caller knows) until called with None; the driver's own
        successes do not lift the mark."""
        ...


class StateReader(Protocol):
    """Batched reads of operational state."""

    def read_device_state(self) -> DeviceState:
        """The device's state; never raises for an unreachable device (it reports down)."""
        ...

    def read_port_states(self, names: Collection[str] | None = None) -> Mapping[str, PortState]:
        """States of the named ports (all when None); unknown names are left out."""
        ...

    def read_slice_states(self, names: Collection[str] | None = None) -> Mapping[str, SliceState]:
        """States of the named slices on this device (all when None)."""
        ...


class CounterReader(Protocol):
    """Batched reads of counters."""

    def read_counters(self, names: Collection[str] | None = None) -> Mapping[str, PortCounters]:
        """Counters of the named ports (all when None); unknown names are left out."""
        ...

    def read_slice_counters(
        self, names: Collection[str] | None = None
    ) -> Mapping[str, SliceCounters]:
        """Counters of the named slices on this device (all when None)."""
        ...


class EventSource(Protocol):
    """Link and device events."""

    def add_event_listener(self, listener: EventListener) -> Callable[[], None]:
        """Delivers every later event to ``listener``; call the result to unsubscribe."""
        ...


class Driver(
    Lifecycle,
    CapabilityReporter,
    ConfigValidator,
    ConfigApplier,
    Reconciler,
    StateReader,
    CounterReader,
    EventSource,
    Protocol,
):
    """A driver for one device: every role above."""

    @property
    def config(self) -> DeviceConfig:
        """The device configuration the driver was created for."""
        ...


class DriverFactory(Protocol):
    """Creates a driver for one device, reading time from ``clock``."""

    def __call__(self, config: DeviceConfig, clock: Clock) -> Driver: ...


class HardwareBackend(Protocol):
    """What a driver programs: real hardware, or the mock that simulates it.

    Creating one touches nothing; ``open`` connects (raising DeviceUnavailable when it
    cannot) and probes what the device can do. ``capabilities`` never touches the
    hardware: before ``open`` it returns the declared capabilities, after it the probed
    ones. ``program`` applies one op atomically (fully, or not at all when it raises
    HardwareFault or DeviceUnavailable) and is idempotent. Reads raise DeviceUnavailable
    when the device cannot be reached.
    """

    def open(self) -> None: ...

    def close(self) -> None: ...

    def capabilities(self) -> Capabilities: ...

    def program(self, op: Op) -> None: ...

    def read_config(self) -> DeviceIntent: ...

    def read_device_state(self) -> DeviceState: ...

    def read_port_states(self, names: Collection[str] | None) -> Mapping[str, PortState]: ...

    def read_slice_states(self, names: Collection[str] | None) -> Mapping[str, SliceState]: ...

    def read_counters(self, names: Collection[str] | None) -> Mapping[str, PortCounters]: ...

    def read_slice_counters(self, names: Collection[str] | None) -> Mapping[str, SliceCounters]: ...

    def add_event_listener(self, listener: EventListener) -> Callable[[], None]: ...


class BackendProvider(Protocol):
    """A backend plugin: builds the HardwareBackend of one device of a driver family.

    Registered under the entry-point group ``edge_agent.backends`` with the name
    ``<family>.<backend>`` (``nvidia.linux``, ``tofino.mock``); one provider object may
    serve several families. ``checks`` are the backend's own rules (its limits and
    quirks), run after the family's.
    """

    @property
    def description(self) -> str:
        """One line for ``edge-agent drivers``."""
        ...

    @property
    def checks(self) -> tuple[Check, ...]: ...

    def create(self, config: DeviceConfig, profile: Capabilities, clock: Clock) -> HardwareBackend:
        """A backend for device ``config`` whose chip is described by ``profile``; it
        must not touch the hardware before ``open``."""
        ...
