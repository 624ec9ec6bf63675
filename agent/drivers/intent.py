"""DeviceIntent: the whole configuration of one device, as a value."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TypeVar

from agent.drivers.config import DeviceConfig, PortConfig, SliceConfig
from agent.drivers.ops import DeviceOp, Op, PortOp, SliceOp, canonical_order

T = TypeVar("T")


@dataclass(frozen=True)
class DeviceIntent:
    """A device's configuration: the device entry, its ports and its slices, keyed by name."""

    device: DeviceConfig | None
    ports: Mapping[str, PortConfig]
    slices: Mapping[str, SliceConfig]

    @classmethod
    def of(
        cls,
        device: DeviceConfig | None,
        ports: Iterable[PortConfig] = (),
        slices: Iterable[SliceConfig] = (),
    ) -> DeviceIntent:
        """Builds an intent from plain iterables (later entries win on duplicate names)."""
        return cls(
            device,
            MappingProxyType({port.name: port for port in ports}),
            MappingProxyType({slice_.name: slice_ for slice_ in slices}),
        )

    def with_ops(self, ops: Iterable[Op]) -> DeviceIntent:
        """The intent that results from applying ``ops`` in order (set semantics)."""
        device = self.device
        ports = dict(self.ports)
        slices = dict(self.slices)
        for op in ops:
            if op.before is None and op.after is None:
                continue
            if isinstance(op, DeviceOp):
                device = op.after
            elif isinstance(op, PortOp):
                _set(ports, op.name, op.after)
            else:
                _set(slices, op.name, op.after)
        return DeviceIntent(device, MappingProxyType(ports), MappingProxyType(slices))

    def diff(self, target: DeviceIntent) -> tuple[Op, ...]:
        """The ops that turn this intent into ``target``, in canonical order."""
        ops: list[Op] = []
        if self.device != target.device:
            ops.append(DeviceOp(self.device, target.device))
        ops.extend(
            PortOp(self.ports.get(name), target.ports.get(name))
            for name in _changed(self.ports, target.ports)
        )
        ops.extend(
            SliceOp(self.slices.get(name), target.slices.get(name))
            for name in _changed(self.slices, target.slices)
        )
        return canonical_order(ops)


def _set(table: dict[str, T], name: str, value: T | None) -> None:
    if value is None:
        table.pop(name, None)
    else:
        table[name] = value


def _changed(old: Mapping[str, T], new: Mapping[str, T]) -> list[str]:
    names = sorted(old.keys() | new.keys())
    return [name for name in names if old.get(name) != new.get(name)]
