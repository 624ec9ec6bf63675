"""A change plan: per device, the driver operations that take old intents to new ones.

Execution order (``ChangePlan`` iterates in it), devices sorted by name within a group:

1. REMOVE: apply ``teardown`` (deletions: slices, ports, then the device) to the old
   driver, then close it. First, so that a device freed here (its address, its
   hardware) is available to whatever the later steps create.
2. RECREATE (chipset or backend changed, which a running driver cannot do): apply
   ``teardown`` to the old driver and close it, create and open a driver for the new
   device, apply ``ops`` to it.
3. UPDATE: apply ``ops`` to the existing driver.
4. CREATE: create and open a driver, apply ``ops`` (everything, from nothing) to it.

Within a device, ``ops`` and ``teardown`` are in canonical order (DeviceIntent.diff).
Devices are independent (a slice is split into per-device parts), so no op of one device
waits for another's. A device whose intent is unchanged has no entry; a change that no
driver value carries (descriptions, slice tenant or S-NSSAI) yields an empty plan.

Undo runs the plan backwards: ``invert(ops)`` on the driver that got them, then for a
closed driver a new one for ``old_device`` with ``invert(teardown)``. A new driver whose
hardware may already hold programming can be given ``after`` through ``reconcile``
instead of ``ops``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum

from agent.drivers.config import DeviceConfig
from agent.drivers.intent import DeviceIntent
from agent.drivers.ops import Op


class DeviceAction(StrEnum):
    """What happens to a device's driver, in execution order."""

    REMOVE = "remove"
    RECREATE = "recreate"
    UPDATE = "update"
    CREATE = "create"

    @property
    def rank(self) -> int:
        """Position of the action's group in the plan (REMOVE first)."""
        return _RANKS.index(self)


@dataclass(frozen=True, slots=True)
class DevicePlan:
    """The changes to one device.

    ``teardown`` goes to the device's current driver, which is closed after it (REMOVE,
    RECREATE); ``ops`` go to the driver that runs afterwards (the existing one for UPDATE,
    a new one for CREATE and RECREATE). ``before``/``after`` are the whole intents (None
    when the device is absent), e.g. for a driver's ``reconcile``.
    """

    name: str
    action: DeviceAction
    before: DeviceIntent | None
    after: DeviceIntent | None
    teardown: tuple[Op, ...] = ()
    ops: tuple[Op, ...] = ()

    @property
    def closes_driver(self) -> bool:
        """The current driver is closed (after ``teardown``)."""
        return self.action in (DeviceAction.REMOVE, DeviceAction.RECREATE)

    @property
    def opens_driver(self) -> bool:
        """A new driver is created for ``new_device`` (before ``ops``)."""
        return self.action in (DeviceAction.CREATE, DeviceAction.RECREATE)

    @property
    def old_device(self) -> DeviceConfig | None:
        return None if self.before is None else self.before.device

    @property
    def new_device(self) -> DeviceConfig | None:
        return None if self.after is None else self.after.device


@dataclass(frozen=True, slots=True)
class ChangePlan:
    """Per-device plans in execution order (see the module documentation)."""

    devices: tuple[DevicePlan, ...] = ()

    def __iter__(self) -> Iterator[DevicePlan]:
        return iter(self.devices)

    def __len__(self) -> int:
        return len(self.devices)

    def __bool__(self) -> bool:
        return bool(self.devices)

    def get(self, name: str) -> DevicePlan | None:
        """The plan of device ``name``, or None when it does not change."""
        return next((plan for plan in self.devices if plan.name == name), None)

    def names(self, action: DeviceAction) -> tuple[str, ...]:
        """The devices with ``action``, in execution order."""
        return tuple(plan.name for plan in self.devices if plan.action is action)

    @property
    def op_count(self) -> int:
        """How many operations the plan applies, teardowns included."""
        return sum(len(plan.teardown) + len(plan.ops) for plan in self.devices)


_RANKS: tuple[DeviceAction, ...] = tuple(DeviceAction)
_ABSENT = DeviceIntent.of(None)


def plan_changes(old: Mapping[str, DeviceIntent], new: Mapping[str, DeviceIntent]) -> ChangePlan:
    """The plan that takes the devices of ``old`` to those of ``new``."""
    plans: list[DevicePlan] = []
    for name in sorted(old.keys() | new.keys()):
        plan = _plan_device(name, old.get(name), new.get(name))
        if plan is not None:
            plans.append(plan)
    plans.sort(key=lambda plan: plan.action.rank)
    return ChangePlan(tuple(plans))


def _plan_device(
    name: str, before: DeviceIntent | None, after: DeviceIntent | None
) -> DevicePlan | None:
    if before is None:
        if after is None:
            return None
        return DevicePlan(name, DeviceAction.CREATE, None, after, ops=_ABSENT.diff(after))
    if after is None:
        return DevicePlan(name, DeviceAction.REMOVE, before, None, teardown=before.diff(_ABSENT))
    if _identity(before.device) != _identity(after.device):
        return DevicePlan(
            name,
            DeviceAction.RECREATE,
            before,
            after,
            teardown=before.diff(_ABSENT),
            ops=_ABSENT.diff(after),
        )
    if before is after:
        return None
    ops = before.diff(after)
    return DevicePlan(name, DeviceAction.UPDATE, before, after, ops=ops) if ops else None


def _identity(device: DeviceConfig | None) -> tuple[str, str] | None:
    """What a running driver cannot change: its chipset and backend."""
    return None if device is None else (device.chipset, device.backend)
