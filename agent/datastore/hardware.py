"""The hardware half of a commit: one driver per device, all-or-nothing across them.

``DevicePool`` owns the open drivers. ``apply`` takes the per-device intents before and
after a change, validates every affected device first (no side effects), then applies
device by device; when one fails, everything already applied is undone in reverse order.
A device whose undo fails is reconciled from the old intent and reported degraded.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from agent.drivers.config import DeviceConfig
from agent.drivers.errors import ApplyFailed, DriverError
from agent.drivers.intent import DeviceIntent
from agent.drivers.interface import Driver
from agent.drivers.ops import Op, invert
from agent.drivers.problems import Problem, Severity
from agent.mapping.plan import plan_changes

DriverMaker = Callable[[DeviceConfig], Driver]

log = logging.getLogger(__name__)


class HardwareRefused(Exception):
    """Drivers refused the change before anything was applied."""

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
    created: bool = False  # a driver made for this change (closed again on undo)
    retired: bool = False  # a driver to close once the change is kept
    applied: tuple[Op, ...] = field(default=())


@dataclass(frozen=True)
class AppliedChange:
    """What a successful ``apply`` did, so the commit can keep it or undo it."""

    steps: tuple[_Step, ...]


class DevicePool:
    """The drivers of the site's devices, created through ``make_driver``."""

    def __init__(self, make_driver: DriverMaker) -> None:
        self._make = make_driver
        # Replaced, never mutated: readers on other threads hold a stable snapshot.
        self._drivers: Mapping[str, Driver] = MappingProxyType({})
        self._degraded: set[str] = set()

    @property
    def drivers(self) -> Mapping[str, Driver]:
        """Open drivers by device name: a read-only snapshot, replaced by every change."""
        return self._drivers

    @property
    def degraded(self) -> frozenset[str]:
        """Devices whose hardware may differ from the running configuration."""
        return frozenset(self._degraded)

    def mark_degraded(self, names: Iterable[str]) -> None:
        """Reports devices degraded: they may not hold what the configuration says."""
        self._degraded.update(names)

    def start(self, intents: Mapping[str, DeviceIntent]) -> None:
        """Opens a driver per device and reconciles it to its intent."""
        opened = dict(self._drivers)
        for name, intent in sorted(intents.items()):
            if intent.device is None:
                continue
            driver = self._make(intent.device)
            driver.open()
            opened[name] = driver
            self._drivers = MappingProxyType(dict(opened))
            try:
                driver.reconcile(intent)
            except DriverError as err:
                self._degraded.add(name)
                log.error("device %s: reconcile at start failed: %s", name, err)

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
        try:
            problems = self._validate(steps)
            if problems:
                raise HardwareRefused(problems)
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
        ``new``, nothing applied: what ``apply`` checks before it programs anything."""
        steps = list(self._plan(old, new))
        try:
            return self._validate(steps)
        finally:
            for step in steps:
                if step.created:
                    step.driver.close()

    def keep(self, change: AppliedChange) -> None:
        """Makes a change permanent: registers new drivers, closes retired ones."""
        drivers = dict(self._drivers)
        for step in change.steps:
            if step.retired:
                step.driver.close()
                if drivers.get(step.device) is step.driver:
                    del drivers[step.device]
                self._degraded.discard(step.device)
        for step in change.steps:
            if step.created:
                drivers[step.device] = step.driver
            self._degraded.discard(step.device)
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
            if plan.closes_driver and current is not None:
                yield _Step(plan.name, current, plan.teardown, retired=True)
            if plan.opens_driver and plan.new_device is not None:
                yield _Step(plan.name, self._make(plan.new_device), plan.ops, created=True)
            elif not plan.closes_driver and current is not None:
                yield _Step(plan.name, current, plan.ops)

    def _validate(self, steps: list[_Step]) -> tuple[Problem, ...]:
        problems: list[Problem] = []
        for step in steps:
            if step.created:
                step.driver.open()
            report = step.driver.validate(step.ops)
            problems.extend(p for p in report.problems if p.severity is Severity.ERROR)
        return tuple(problems)

    def _apply_step(self, step: _Step, steps: list[_Step], old: Mapping[str, DeviceIntent]) -> None:
        try:
            step.driver.apply(step.ops)
            step.applied = step.ops
        except ApplyFailed as err:
            step.applied = step.ops[: err.index]
            degraded = self._undo(steps, old)
            raise HardwareFailed(
                f"device {step.device}: {err.op.describe()} failed: {err.cause}",
                unavailable=err.device_unavailable,
                degraded=degraded,
            ) from err
        except DriverError as err:
            degraded = self._undo(steps, old)
            raise HardwareFailed(
                f"device {step.device}: {err}", unavailable=False, degraded=degraded
            ) from err

    def _undo(self, steps: list[_Step], old: Mapping[str, DeviceIntent]) -> tuple[str, ...]:
        degraded: list[str] = []
        for step in reversed(steps):
            if not step.applied:
                if step.created:
                    step.driver.close()
                continue
            try:
                step.driver.apply(invert(step.applied))
            except DriverError as err:
                log.error("device %s: undo failed (%s); reconciling from running", step.device, err)
                if not self._reconcile(step.driver, old.get(step.device, DeviceIntent.of(None))):
                    degraded.append(step.device)
                    self._degraded.add(step.device)
            step.applied = ()
            if step.created:
                step.driver.close()
        return tuple(degraded)

    def _reconcile(self, driver: Driver, intent: DeviceIntent) -> bool:
        try:
            driver.reconcile(intent)
        except DriverError as err:
            log.error("device %s: reconcile failed: %s", driver.config.name, err)
            return False
        return True
