"""ChipDriver: the driver every family builds from its capabilities, checks and a backend."""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import replace

from agent.clock import Clock
from agent.drivers.attribution import attribute
from agent.drivers.capabilities import Capabilities
from agent.drivers.checks import Check, CheckContext
from agent.drivers.checks.context import CheckScope
from agent.drivers.config import DeviceConfig
from agent.drivers.counters import PortCounters, SliceCounters
from agent.drivers.errors import ApplyFailed, DeviceUnavailable, DriverError, ValidationFailed
from agent.drivers.events import DeviceEvent, EventHub, EventListener
from agent.drivers.intent import DeviceIntent
from agent.drivers.interface import HardwareBackend
from agent.drivers.ops import Op
from agent.drivers.problems import Problem
from agent.drivers.report import ValidationReport
from agent.drivers.state import DeviceState, OperStatus, PortState, SliceState


class ChipDriver:
    """A driver for one device: validates against its rules, programs the backend.

    The rules run on the backend's capabilities (declared until open, probed after), so
    a validation never touches the hardware and works on a driver that is not open. The
    driver keeps the configuration it has applied (``applied()``); validation checks the
    state that ``ops`` would produce from it and names the op each problem refuses.
    ``apply`` validates first, then programs op by op. The device reports DEGRADED, with
    the reason in its state, after an apply that failed part-way (until a later apply or
    reconcile succeeds), after a failed reconcile (until a reconcile succeeds) and while
    marked by ``mark_degraded`` (until the mark is lifted; the driver's own successes do
    not lift it).

    Writers (open, close, apply, reconcile) are serialised by a lock; reads go straight
    to the backend. Event listeners run synchronously on the thread that caused the event
    and must not block.
    """

    def __init__(
        self,
        config: DeviceConfig,
        checks: Sequence[Check],
        backend: HardwareBackend,
        clock: Clock,
    ) -> None:
        self._config = config
        self._checks = tuple(checks)
        self._backend = backend
        self._clock = clock
        self._events = EventHub()
        self._lock = threading.RLock()
        self._applied = DeviceIntent.of(config)
        # the last validation that passed: (from, capabilities, ops, result)
        self._validated: tuple[DeviceIntent, Capabilities, tuple[Op, ...], DeviceIntent] | None = (
            None
        )
        # a configuration the rules passed, and the capabilities they saw: validations
        # that start from it check only what their ops can make invalid
        self._valid: tuple[DeviceIntent, Capabilities] | None = None
        self._open = False
        self._closed_reason = "the driver is not open"
        self._degraded: str | None = None  # why the hardware may differ from the intent
        self._needs_reconcile = False  # only a reconcile clears the degradation
        self._marked: str | None = None  # degraded as the caller says, until it says not
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
            try:
                self._backend.open()
            except DriverError as error:
                self._closed_reason = f"open failed: {error}"
                raise
            try:
                self._applied = self._backend.read_config()
            except DriverError as error:
                self._backend.close()
                self._closed_reason = f"reading the configuration back failed: {error}"
                raise
            self._open = True

    def close(self) -> None:
        with self._lock:
            if not self._open:
                return
            self._backend.close()
            self._open = False
            self._closed_reason = "the driver is not open"

    def capabilities(self) -> Capabilities:
        return self._backend.capabilities()

    # --------------------------------------------------------------- configuration

    def validate(self, ops: Sequence[Op]) -> ValidationReport:
        ops = tuple(ops)
        current = self._applied
        caps = self._backend.capabilities()
        result = current.with_ops(ops)
        valid = self._valid
        known_valid = valid is not None and valid[0] is current and valid[1] is caps
        ctx = CheckContext(
            caps=caps,
            identity=self._config,
            current=current,
            ops=ops,
            result=result,
            scope=CheckScope.of(ops, current, result) if known_valid else None,
        )
        findings: list[Problem] = []
        for check in self._checks:
            findings.extend(check(ctx))
        report = ValidationReport.from_findings(self._config.name, attribute(findings, ops))
        self._validated = (current, caps, ops, result) if report.ok else None
        return report

    def apply(self, ops: Sequence[Op]) -> None:
        ops = tuple(ops)
        with self._lock:
            self._require_open()
            if not self._just_validated(ops):
                self.validate(ops).raise_if_failed()
            last = self._validated
            assert last is not None  # the validation just passed
            for index, op in enumerate(ops):
                try:
                    self._backend.program(op)
                except DriverError as error:
                    self._applied = self._applied.with_ops(ops[:index])
                    failed = ApplyFailed(self._config.name, index, op, error)
                    if index > 0:
                        self._degrade(str(failed), sticky=False)
                    raise failed from error
            self._applied = last[3]
            self._valid = (last[3], last[1])
            if not self._needs_reconcile:
                self._recover("configuration applied")

    def _just_validated(self, ops: tuple[Op, ...]) -> bool:
        """Whether the last validation passed these very ops on the configuration and
        capabilities the driver has now (the commit's validate phase just ran them):
        then apply need not check them a second time."""
        last = self._validated
        return (
            last is not None
            and last[0] is self._applied
            and last[1] is self._backend.capabilities()
            and last[2] == ops
        )

    def reconcile(self, intent: DeviceIntent) -> tuple[Op, ...]:
        with self._lock:
            try:
                self._require_open()
                self._applied = self._backend.read_config()
                ops = self._applied.diff(intent)
                self.apply(ops)
            except DriverError as error:
                self._degrade(f"reconcile failed: {_one_line(error)}", sticky=True)
                raise
            self._needs_reconcile = False
            self._recover("reconciled")
            return ops

    def applied(self) -> DeviceIntent:
        return self._applied

    def mark_degraded(self, reason: str | None) -> None:
        with self._lock:
            before = self._reason()
            self._marked = reason
            self._announce_change(before, "mark lifted")

    # ----------------------------------------------------------------------- reads

    def read_device_state(self) -> DeviceState:
        state = self._backend.read_device_state()
        if not self._open:
            return replace(state, oper_status=OperStatus.DOWN, reason=self._closed_reason)
        reason = self._reason()
        if reason is not None and state.oper_status is OperStatus.UP:
            return replace(state, oper_status=OperStatus.DEGRADED, reason=reason)
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

    def _reason(self) -> str | None:
        """Why the device is degraded (the caller's mark first), None when it is not."""
        return self._marked if self._marked is not None else self._degraded

    def _degrade(self, reason: str, *, sticky: bool) -> None:
        self._needs_reconcile = self._needs_reconcile or sticky
        before = self._reason()
        self._degraded = reason
        self._announce_change(before, reason)

    def _recover(self, reason: str) -> None:
        before = self._reason()
        self._degraded = None
        self._announce_change(before, reason)

    def _announce_change(self, before: str | None, why: str) -> None:
        """Raises a DeviceEvent when the degradation or its reason changed."""
        now = self._reason()
        if now == before or self._backend.read_device_state().oper_status is not OperStatus.UP:
            return
        status = OperStatus.UP if now is None else OperStatus.DEGRADED
        event = DeviceEvent(self._config.name, status, self._clock.now_ns(), now or why)
        self._events.publish(event)


def _one_line(error: DriverError) -> str:
    """An error as one line (a refusal lists its problems separated by semicolons)."""
    if isinstance(error, ValidationFailed):
        return "refused: " + "; ".join(problem.summary for problem in error.problems)
    return str(error)
