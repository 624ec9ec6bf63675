"""The hardware half of a commit: one driver per device, all-or-nothing across them.

``DevicePool`` owns the drivers. ``validate`` and the validate phase of ``apply`` have no
side effects: drivers made for new devices are created but not opened, and validate with
their declared capabilities. ``apply`` then programs device by device in plan order; a
new device's driver is opened first, and a device that is degraded (or was unreachable)
is reconciled to its new intent instead of being handed the ops. When a step fails,
everything already applied is undone in reverse order. A device whose undo fails is
reconciled from the old intent; if that fails too it stays DEGRADED with the reason in
its state, and the failure names it. Every driver call's outcome (the ops applied, the
refusals, the failures) is reported to a DeviceMetrics sink.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from agent.drivers.config import DeviceConfig
from agent.drivers.errors import ApplyFailed, DeviceUnavailable, DriverError, ValidationFailed
from agent.drivers.intent import DeviceIntent
from agent.drivers.interface import Driver
from agent.drivers.ops import Op, invert
from agent.drivers.problems import Problem, Severity
from agent.drivers.state import OperStatus
from agent.mapping.plan import plan_changes
from agent.metrics.sink import DeviceMetrics, DriverStage, NoMetrics

DriverMaker = Callable[[DeviceConfig], Driver]

log = logging.getLogger(__name__)

_ABSENT = DeviceIntent.of(None)
DEFAULT_DEGRADED_REASON = "the hardware may differ from the running configuration"


class HardwareRefused(Exception):
    """Drivers refused the change; nothing of it is applied."""

    def __init__(self, problems: tuple[Problem, ...]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


class HardwareFailed(Exception):
    """Applying failed part-way; everything applied was undone (see ``degraded``)."""

    def __init__(self, message: str, *, unavailable: bool, degraded: tuple[str, ...]) -> None:
        super().__init__(message)
        self.unavailable = unavailable
        self.degraded = degraded


@dataclass
class _Step:
    """One device's part of a change."""

    device: str
    driver: Driver
    ops: tuple[Op, ...]
    target: DeviceIntent  # what the device holds once the step is done
    created: bool = False  # a driver made for this change (closed again on undo)
    retired: bool = False  # a driver to close once the change is kept
    applied: tuple[Op, ...] = field(default=())  # what undo must invert
    reconciled: bool = False  # reached through reconcile: undo reconciles as well


@dataclass(frozen=True)
class AppliedChange:
    """What a successful ``apply`` did, so the commit can keep it or undo it."""

    steps: tuple[_Step, ...]


class DevicePool:
    """The drivers of the site's devices, created through ``make_driver``."""

    def __init__(self, make_driver: DriverMaker, *, metrics: DeviceMetrics | None = None) -> None:
        self._make = make_driver
        self._metrics: DeviceMetrics = metrics or NoMetrics()
        # Replaced, never mutated: readers on other threads hold a stable snapshot.
        self._drivers: Mapping[str, Driver] = MappingProxyType({})

    @property
    def drivers(self) -> Mapping[str, Driver]:
        """Drivers by device name (open, or not when the device could not be opened):
        a read-only snapshot, replaced by every change."""
        return self._drivers

    @property
    def degraded(self) -> frozenset[str]:
        """Devices whose hardware may differ from the running configuration."""
        return frozenset(name for name, driver in self._drivers.items() if _degraded(driver))

    def mark_degraded(self, names: Iterable[str], reason: str = DEFAULT_DEGRADED_REASON) -> None:
        """Reports devices DEGRADED with ``reason`` until a change to them is kept (a
        failed change leaves the mark, as it leaves everything else)."""
        for name in names:
            driver = self._drivers.get(name)
            if driver is not None:
                driver.mark_degraded(reason)

    def start(self, intents: Mapping[str, DeviceIntent]) -> None:
        """Creates a driver per device, opens it and reconciles it to its intent.

        A device that cannot be opened stays registered, reports DOWN with the reason and
        is opened again by the next commit that changes it; one whose reconcile fails
        reports DEGRADED with the reason.
        """
        drivers = dict(self._drivers)
        for name, intent in sorted(intents.items()):
            if intent.device is None:
                continue
            driver = self._make(intent.device)
            drivers[name] = driver
            self._drivers = MappingProxyType(dict(drivers))
            try:
                driver.open()
                self._metrics.driver_applied(name, _labels(driver.reconcile(intent)))
            except DriverError as err:
                self._metrics.driver_failed(name, DriverStage.RECONCILE)
                log.error("device %s: not in line with the configuration at start: %s", name, err)

    def stop(self) -> None:
        """Closes every driver (the hardware keeps its programming)."""
        drivers, self._drivers = self._drivers, MappingProxyType({})
        for driver in drivers.values():
            driver.close()

    def apply(
        self, old: Mapping[str, DeviceIntent], new: Mapping[str, DeviceIntent]
    ) -> AppliedChange:
        """Programs the difference between ``old`` and ``new``; all or nothing.

        Raises HardwareRefused (nothing applied) or HardwareFailed (everything undone).
        """
        steps = list(self._plan(old, new))
        problems = self._validate(steps)
        if problems:
            raise HardwareRefused(problems)
        try:
            for step in steps:
                self._apply_step(step, steps, old)
        except BaseException:
            for step in steps:
                if step.created and not step.applied:
                    step.driver.close()
            raise
        return AppliedChange(tuple(steps))

    def validate(
        self, old: Mapping[str, DeviceIntent], new: Mapping[str, DeviceIntent]
    ) -> tuple[Problem, ...]:
        """The problems (errors only) the drivers find in the change from ``old`` to
        ``new``: what ``apply`` checks before it programs anything. Touches no hardware."""
        return self._validate(list(self._plan(old, new)))

    def keep(self, change: AppliedChange) -> None:
        """Makes a change permanent: registers new drivers, closes retired ones, and lifts
        the degraded mark of the devices it brought in line."""
        drivers = dict(self._drivers)
        for step in change.steps:
            if step.retired:
                step.driver.close()
                if drivers.get(step.device) is step.driver:
                    del drivers[step.device]
        for step in change.steps:
            if step.created:
                drivers[step.device] = step.driver
            elif not step.retired:
                step.driver.mark_degraded(None)
        self._drivers = MappingProxyType(drivers)

    def undo(self, change: AppliedChange, old: Mapping[str, DeviceIntent]) -> tuple[str, ...]:
        """Reverts an applied change that is not to be kept; returns degraded devices."""
        return self._undo(list(change.steps), old)

    # --- internals --------------------------------------------------------------------

    def _plan(
        self, old: Mapping[str, DeviceIntent], new: Mapping[str, DeviceIntent]
    ) -> Iterator[_Step]:
        for plan in plan_changes(old, new):
            current = self._drivers.get(plan.name)
            after = plan.after or _ABSENT
            if plan.closes_driver and current is not None:
                yield _Step(plan.name, current, plan.teardown, _ABSENT, retired=True)
            if plan.opens_driver and plan.new_device is not None:
                driver = self._make(plan.new_device)  # created, not opened
                yield _Step(plan.name, driver, plan.ops, after, created=True)
            elif not plan.closes_driver and current is not None:
                yield _Step(plan.name, current, plan.ops, after)

    def _validate(self, steps: list[_Step]) -> tuple[Problem, ...]:
        problems: list[Problem] = []
        for step in steps:
            report = step.driver.validate(step.ops)
            errors = [p for p in report.problems if p.severity is Severity.ERROR]
            if errors:
                self._metrics.driver_refused(step.device, len(errors))
            problems.extend(errors)
        return tuple(problems)

    def _apply_step(self, step: _Step, steps: list[_Step], old: Mapping[str, DeviceIntent]) -> None:
        driver = step.driver
        try:
            repair = not step.created and (not driver.is_open or _degraded(driver))
            if not driver.is_open:
                driver.open()
            if repair:
                step.reconciled = True
                step.applied = driver.reconcile(step.target)
            else:
                driver.apply(step.ops)
                step.applied = step.ops
            self._metrics.driver_applied(step.device, _labels(step.applied))
        except ValidationFailed as err:  # the opened device is narrower than declared
            self._undo(steps, old)
            raise HardwareRefused(err.problems) from err
        except ApplyFailed as err:
            if not step.reconciled:
                step.applied = step.ops[: err.index]
            self._failed(step)
            degraded = self._undo(steps, old)
            raise HardwareFailed(
                f"device {step.device}: {err.op.describe()} failed: {err.cause}",
                unavailable=err.device_unavailable,
                degraded=degraded,
            ) from err
        except DriverError as err:
            self._failed(step)
            degraded = self._undo(steps, old)
            raise HardwareFailed(
                f"device {step.device}: {err}",
                unavailable=isinstance(err, DeviceUnavailable),
                degraded=degraded,
            ) from err

    def _failed(self, step: _Step) -> None:
        """Reports a step that failed part-way (what it applied first counts)."""
        self._metrics.driver_applied(step.device, _labels(step.applied))
        stage = DriverStage.RECONCILE if step.reconciled else DriverStage.APPLY
        self._metrics.driver_failed(step.device, stage)

    def _undo(self, steps: list[_Step], old: Mapping[str, DeviceIntent]) -> tuple[str, ...]:
        """Undoes every applied step in reverse order; returns the devices left degraded."""
        degraded: list[str] = []
        for step in reversed(steps):
            if step.applied or step.reconciled:
                before = old.get(step.device, _ABSENT)
                if not self._revert(step, before):
                    degraded.append(step.device)
            step.applied, step.reconciled = (), False
            if step.created:
                step.driver.close()
        return tuple(degraded)

    def _revert(self, step: _Step, before: DeviceIntent) -> bool:
        """Takes one device back to ``before``: the inverse of what it applied, else a
        reconcile. False when the device stays degraded (its driver says why)."""
        driver = step.driver
        if not step.reconciled:
            undo = invert(step.applied)
            try:
                driver.apply(undo)
                self._metrics.driver_applied(step.device, _labels(undo))
                return True
            except DriverError as err:
                self._metrics.driver_failed(step.device, DriverStage.UNDO)
                log.error("device %s: undo failed (%s); reconciling", step.device, err)
        try:
            self._metrics.driver_applied(step.device, _labels(driver.reconcile(before)))
        except DriverError as err:
            self._metrics.driver_failed(step.device, DriverStage.RECONCILE)
            log.error("device %s: left degraded: %s", step.device, err)
            return False
        return True


def _labels(ops: Sequence[Op]) -> Iterator[str]:
    """The operations' metric labels, e.g. ``port-update``."""
    return (f"{op.kind}-{op.action}" for op in ops)


def _degraded(driver: Driver) -> bool:
    return driver.read_device_state().oper_status is OperStatus.DEGRADED
