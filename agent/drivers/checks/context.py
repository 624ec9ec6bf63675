"""What a validation check sees: the chip, the current and the resulting configuration."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property

from agent.drivers.capabilities import Capabilities
from agent.drivers.config import DeviceConfig, PortConfig, SliceConfig
from agent.drivers.intent import DeviceIntent
from agent.drivers.ops import DeviceOp, Op, PortOp
from agent.drivers.problems import Problem


@dataclass(frozen=True)
class CheckScope:
    """The cages that ``ops`` can make invalid when the configuration they start from is
    known valid on the same capabilities: the cages of the ports they change (before and
    after) and of the member ports of the slices they change. A problem that depends only
    on one port, on one cage, or on one port's slices can appear nowhere else."""

    cages: frozenset[int]

    @classmethod
    def of(
        cls, ops: Iterable[Op], current: DeviceIntent, result: DeviceIntent
    ) -> CheckScope | None:
        """The scope of ``ops``, or None (everything) when one changes the device itself."""
        cages: set[int] = set()
        for op in ops:
            if isinstance(op, DeviceOp):
                return None
            for side in (op.before, op.after):
                if side is None:
                    continue
                if isinstance(op, PortOp):
                    assert isinstance(side, PortConfig)
                    cages.add(side.index)
                    continue
                assert isinstance(side, SliceConfig)
                for member in side.members:
                    for intent in (current, result):
                        port = intent.ports.get(member.port)
                        if port is not None:
                            cages.add(port.index)
        return cls(frozenset(cages))


@dataclass(frozen=True)
class CheckContext:
    """Input of every check.

    ``identity`` is the device the driver was created for; ``result`` is ``current`` with
    ``ops`` applied. ``scope`` narrows the rules that look at one port or one cage at a
    time to ``checked_ports`` and ``checked_cages`` (None: every port and cage); rules
    over the whole device (totals, options, uniqueness) always see all of it.
    """

    caps: Capabilities
    identity: DeviceConfig
    current: DeviceIntent
    ops: tuple[Op, ...]
    result: DeviceIntent
    scope: CheckScope | None = None

    @property
    def device(self) -> str:
        return self.identity.name

    @cached_property
    def own_ports(self) -> tuple[PortConfig, ...]:
        """Resulting ports that belong to this device, by name."""
        ports = self.result.ports
        return tuple(ports[n] for n in sorted(ports) if ports[n].device == self.device)

    @cached_property
    def cages(self) -> Mapping[int, tuple[PortConfig, ...]]:
        """Resulting ports grouped by cage index."""
        return group_by_cage(self.own_ports)

    @cached_property
    def checked_ports(self) -> tuple[PortConfig, ...]:
        """The device's resulting ports that the scope's per-port rules look at."""
        if self.scope is None:
            return self.own_ports
        cages = self.scope.cages
        return tuple(port for port in self.own_ports if port.index in cages)

    @cached_property
    def checked_cages(self) -> Mapping[int, tuple[PortConfig, ...]]:
        """The resulting cages that the scope's per-cage rules look at."""
        if self.scope is None:
            return self.cages
        return group_by_cage(self.checked_ports)

    @cached_property
    def enabled_slices(self) -> tuple[SliceConfig, ...]:
        slices = self.result.slices
        return tuple(slices[n] for n in sorted(slices) if slices[n].enabled)

    @cached_property
    def guarantees(self) -> Mapping[str, tuple[tuple[str, int], ...]]:
        """Per port: (slice, guaranteed bps) for every enabled slice that has it as member."""
        table: dict[str, list[tuple[str, int]]] = defaultdict(list)
        for slice_ in self.enabled_slices:
            for member in slice_.members:
                table[member.port].append((slice_.name, slice_.guaranteed_bps(member)))
        return {port: tuple(entries) for port, entries in table.items()}


def group_by_cage(ports: Iterable[PortConfig]) -> Mapping[int, tuple[PortConfig, ...]]:
    """Ports grouped by cage index, each group sorted by channel then name."""
    table: dict[int, list[PortConfig]] = defaultdict(list)
    for port in ports:
        table[port.index].append(port)
    return {
        index: tuple(sorted(group, key=lambda p: (p.channel, p.name)))
        for index, group in table.items()
    }


Check = Callable[[CheckContext], Iterable[Problem]]
"""A validation rule: yields a Problem for every violation it finds."""
