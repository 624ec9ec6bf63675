"""What a validation check sees: the chip, the current and the resulting configuration."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property

from agent.drivers.capabilities import Capabilities
from agent.drivers.config import DeviceConfig, PortConfig, SliceConfig
from agent.drivers.intent import DeviceIntent
from agent.drivers.ops import Op
from agent.drivers.problems import Problem


@dataclass(frozen=True)
class CheckContext:
    """Input of every check.

    ``identity`` is the device the driver was created for; ``result`` is ``current`` with
    ``ops`` applied.
    """

    caps: Capabilities
    identity: DeviceConfig
    current: DeviceIntent
    ops: tuple[Op, ...]
    result: DeviceIntent

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
