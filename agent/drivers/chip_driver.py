"""ChipDriver: the driver every family builds from its capabilities, checks and a backend."""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import replace

from agent.clock import Clock
from agent.drivers.capabilities import Capabilities
from agent.drivers.checks import Check, CheckContext
from agent.drivers.config import DeviceConfig
from agent.drivers.counters import PortCounters, SliceCounters
from agent.drivers.errors import ApplyFailed, DeviceUnavailable, DriverError
from agent.drivers.events import DeviceEvent, EventHub, EventListener
from agent.drivers.intent import DeviceIntent
from agent.drivers.interface import HardwareBackend
from agent.drivers.ops import Op
from agent.drivers.problems import Problem
from agent.drivers.report import ValidationReport
from agent.drivers.state import DeviceState, OperStatus, PortState, SliceState


class ChipDriver:
    """A driver for one device: validates against the chip's rules, programs the backend.

    The driver keeps the configuration it has applied (``applied()``); validation checks
    the state that ``ops`` would produce from it. ``apply`` validates first, then programs
    op by op; after a failure part-way the device reports DEGRADED until a later apply or
    reconcile succeeds.

    Writers (open, close, apply, reconcile) are serialised by a lock; reads go straight
    to the backend. Event listeners run synchronously on the thread that caused the event
    and must not block.
    """

    def __init__(
        self,
        config: DeviceConfig,
        caps: Capabilities,
        checks: Sequence[Check],
        backend: HardwareBackend,
        clock: Clock,
    ) -> None:
        self._config = config
        self._caps = caps
        self._checks = tuple(checks)
        self._backend = backend
        self._clock = clock
        self._events = EventHub()
        self._lock = threading.RLock()
        self._applied = DeviceIntent.of(config)
        self._open = False
        self._degraded = False
        backend.add_event_listener(self._events.publish)

    @property
    def config(self) -> DeviceConfig:
        return self._config

    @property
    def backend(self) -> HardwareBackend:
        """The hardware (or simulation) this driver programs."""
        return self._backend

    # -------------------------------------------------------------------- lifecycle

    @property
    def is_open(self) -> bool:
        return self._open

    def open(self) -> None:
        with self._lock:
            if self._open:
                return
            self._backend.open()
            try:
                self._applied = self._backend.read_config()
            except DriverError:
                self._backend.close()
                raise
            self._open = True

    def close(self) -> None:
        with self._lock:
            if not self._open:
                return
            self._backend.close()
            self._open = False

    def capabilities(self) -> Capabilities:
        return replace(self._caps, sdk_version=self._backend.sdk_version())

    # --------------------------------------------------------------- configuration

    def validate(self, ops: Sequence[Op]) -> ValidationReport:
        ops = tuple(ops)
        current = self._applied
        ctx = CheckContext(
            caps=self._caps,
            identity=self._config,
            current=current,
            ops=ops,
            result=current.with_ops(ops),
        )
        findings: list[Problem] = []
        for check in self._checks:
            findings.extend(check(ctx))
        return ValidationReport.from_findings(self._config.name, findings)

    def apply(self, ops: Sequence[Op]) -> None:
        ops = tuple(ops)
        with self._lock:
            self._require_open()
            self.validate(ops).raise_if_failed()
            for index, op in enumerate(ops):
                try:
                    self._backend.program(op)
                except DriverError as error:
                    self._applied = self._applied.with_ops(ops[:index])
                    if index > 0:
                        self._set_degraded(True, f"apply failed at op {index}")
                    raise ApplyFailed(self._config.name, index, op, error) from error
            self._applied = self._applied.with_ops(ops)
            self._set_degraded(False, "configuration applied")

    def reconcile(self, intent: DeviceIntent) -> tuple[Op, ...]:
        with self._lock:
            self._require_open()
            self._applied = self._backend.read_config()
            ops = self._applied.diff(intent)
            self.apply(ops)
            return ops

    def applied(self) -> DeviceIntent:
        return self._applied

    # ----------------------------------------------------------------------- reads

    def read_device_state(self) -> DeviceState:
        state = self._backend.read_device_state()
        if not self._open:
            return replace(state, oper_status=OperStatus.DOWN)
        if self._degraded and state.oper_status is OperStatus.UP:
            return replace(state, oper_status=OperStatus.DEGRADED)
        return state

    def read_port_states(self, names: Collection[str] | None = None) -> Mapping[str, PortState]:
        self._require_open()
        return self._backend.read_port_states(names)

    def read_slice_states(self, names: Collection[str] | None = None) -> Mapping[str, SliceState]:
        self._require_open()
        return self._backend.read_slice_states(names)

    def read_counters(self, names: Collection[str] | None = None) -> Mapping[str, PortCounters]:
        self._require_open()
        return self._backend.read_counters(names)

    def read_slice_counters(
        self, names: Collection[str] | None = None
    ) -> Mapping[str, SliceCounters]:
        self._require_open()
        return self._backend.read_slice_counters(names)

    def add_event_listener(self, listener: EventListener) -> Callable[[], None]:
        return self._events.add_listener(listener)

    # --------------------------------------------------------------------- helpers

    def _require_open(self) -> None:
        if not self._open:
            raise DeviceUnavailable(self._config.name, "the driver is not open")

    def _set_degraded(self, degraded: bool, reason: str) -> None:
        if degraded == self._degraded:
            return
        self._degraded = degraded
        state = self._backend.read_device_state()
        if state.oper_status is not OperStatus.UP:
            return
        status = OperStatus.DEGRADED if degraded else OperStatus.UP
        self._events.publish(DeviceEvent(self._config.name, status, self._clock.now_ns(), reason))
