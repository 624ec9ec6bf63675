"""The port tables: programmed ports, which cage holds them, and each cage's layout."""

from __future__ import annotations

from collections.abc import Mapping

from agent.drivers.config import PortConfig
from agent.drivers.mock.snapshot import HwCage


class PortTables:
    """Ports by name, cage membership, and the layout (breakout) each cage is built with.

    A cage's layout follows its entries once they all agree on a breakout; changing it is
    a rebuild. While entries disagree the layout stays as it was, and the entries that
    differ from it cannot come up. A cage without entries returns to having no layout.
    """

    def __init__(self) -> None:
        self._ports: dict[str, PortConfig] = {}
        self._cages: dict[int, set[str]] = {}
        self._layouts: dict[int, str] = {}

    @property
    def ports(self) -> Mapping[str, PortConfig]:
        return self._ports

    def cage(self, index: int) -> tuple[str, ...]:
        """Names of the ports on cage ``index``, sorted."""
        return tuple(sorted(self._cages.get(index, ())))

    def layout(self, index: int) -> str | None:
        return self._layouts.get(index)

    def set(self, name: str, after: PortConfig | None) -> tuple[int, ...]:
        """Stores ``after`` (None removes the port); returns the cages it touched."""
        before = self._ports.pop(name, None)
        if before is not None:
            members = self._cages[before.index]
            members.discard(name)
            if not members:
                del self._cages[before.index]
        if after is not None:
            self._ports[name] = after
            self._cages.setdefault(after.index, set()).add(name)
        return tuple(sorted({p.index for p in (before, after) if p is not None}))

    def agreed_layout(self, index: int) -> str | None:
        """The breakout all of the cage's entries agree on, or None."""
        modes = {self._ports[name].breakout for name in self._cages.get(index, ())}
        return modes.pop() if len(modes) == 1 else None

    def set_layout(self, index: int, layout: str | None) -> None:
        if layout is None:
            self._layouts.pop(index, None)
        else:
            self._layouts[index] = layout

    def conflicts(self, port: PortConfig) -> bool:
        """Whether another port claims the same cage channel."""
        return any(
            other != port.name and self._ports[other].channel == port.channel
            for other in self._cages.get(port.index, ())
        )

    def cage_rows(self) -> tuple[HwCage, ...]:
        return tuple(HwCage(index, mode) for index, mode in sorted(self._layouts.items()))
