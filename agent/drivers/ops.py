"""Operations: idempotent "set this entity to this value" changes that carry their inverse."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import ClassVar, Generic, Protocol, Self, TypeVar

from agent.drivers.config import DeviceConfig, PortConfig, SliceConfig


class _Named(Protocol):
    @property
    def name(self) -> str: ...


C = TypeVar("C", bound=_Named)


@dataclass(frozen=True, slots=True)
class _Change(Generic[C]):
    """Sets one entity from ``before`` to ``after``; None means absent (create / delete)."""

    kind: ClassVar[str] = "entity"

    before: C | None
    after: C | None

    def inverse(self) -> Self:
        """The operation that undoes this one."""
        return type(self)(self.after, self.before)

    @property
    def name(self) -> str:
        """The name of the entity this operation changes."""
        config = self.after if self.after is not None else self.before
        if config is None:
            raise ValueError(f"a {self.kind} operation needs a before or an after value")
        return config.name

    @property
    def action(self) -> str:
        """``create``, ``delete``, ``update`` or ``none`` (both sides absent)."""
        if self.before is None:
            return "none" if self.after is None else "create"
        return "delete" if self.after is None else "update"

    def describe(self) -> str:
        """A short label such as ``port eth1 update``."""
        try:
            name = self.name
        except ValueError:
            name = "?"
        return f"{self.kind} {name} {self.action}"


@dataclass(frozen=True, slots=True)
class DeviceOp(_Change[DeviceConfig]):
    """Sets the device-level configuration."""

    kind: ClassVar[str] = "device"


@dataclass(frozen=True, slots=True)
class PortOp(_Change[PortConfig]):
    """Creates, changes or deletes one port."""

    kind: ClassVar[str] = "port"


@dataclass(frozen=True, slots=True)
class SliceOp(_Change[SliceConfig]):
    """Creates, changes or deletes one slice's programming on this device."""

    kind: ClassVar[str] = "slice"


Op = DeviceOp | PortOp | SliceOp


def invert(ops: Sequence[Op]) -> tuple[Op, ...]:
    """The operations that undo ``ops``: each one inverted, in reverse order."""
    return tuple(op.inverse() for op in reversed(ops))


def _phase(op: Op) -> int:
    if isinstance(op, DeviceOp):
        return 7 if op.after is None else 0
    if isinstance(op, SliceOp):
        if op.after is None:
            return 1
        return 5 if op.before is not None else 6
    if op.after is None:
        return 2
    return 3 if op.before is not None else 4


def canonical_order(ops: Iterable[Op]) -> tuple[Op, ...]:
    """Orders ops so that each one finds what it refers to already in place.

    Device first (last when it is removed), then slice deletions, port deletions, port
    updates, port creations, slice updates and slice creations. Relative order within a
    phase is kept.
    """
    return tuple(sorted(ops, key=_phase))
