"""The slice tables: policies, VLAN membership and per-port rate limiters."""

from __future__ import annotations

from collections.abc import Mapping

from agent.drivers.config import SliceConfig
from agent.drivers.mock.snapshot import HwRateLimiter, HwSlicePolicy, HwVlanMember


class SliceTables:
    """A slice is programmed as a policy entry; while enabled, also as VLAN membership and
    a rate limiter (CIR/PIR/priority) on each member port. Entries are keyed by port name
    and stay inert until the port exists."""

    def __init__(self) -> None:
        self._policies: dict[str, SliceConfig] = {}
        self._by_port: dict[str, set[str]] = {}
        self._vlans: set[tuple[int, str, str]] = set()
        self._limiters: dict[tuple[str, str], HwRateLimiter] = {}

    @property
    def policies(self) -> Mapping[str, SliceConfig]:
        return self._policies

    def slices_of(self, port: str) -> tuple[str, ...]:
        """Slices that list ``port`` as a member."""
        return tuple(sorted(self._by_port.get(port, ())))

    def program(self, name: str, after: SliceConfig | None) -> None:
        """Replaces the slice's entries with those of ``after`` (None removes them)."""
        before = self._policies.pop(name, None)
        if before is not None:
            self._remove_entries(before)
        if after is not None:
            self._policies[name] = after
            self._add_entries(after)

    def rows(
        self,
    ) -> tuple[tuple[HwSlicePolicy, ...], tuple[HwVlanMember, ...], tuple[HwRateLimiter, ...]]:
        """Sorted snapshot rows: policies, VLAN members, rate limiters."""
        policies = tuple(
            HwSlicePolicy(s.name, s.vlan_id, s.enabled, s.priority)
            for s in (self._policies[name] for name in sorted(self._policies))
        )
        vlans = tuple(HwVlanMember(*entry) for entry in sorted(self._vlans))
        limiters = tuple(self._limiters[key] for key in sorted(self._limiters))
        return policies, vlans, limiters

    def _remove_entries(self, config: SliceConfig) -> None:
        for member in config.members:
            self._vlans.discard((config.vlan_id, member.port, config.name))
            self._limiters.pop((member.port, config.name), None)
            users = self._by_port.get(member.port)
            if users is not None:
                users.discard(config.name)
                if not users:
                    del self._by_port[member.port]

    def _add_entries(self, config: SliceConfig) -> None:
        for member in config.members:
            self._by_port.setdefault(member.port, set()).add(config.name)
            if config.enabled:
                self._vlans.add((config.vlan_id, member.port, config.name))
                self._limiters[(member.port, config.name)] = HwRateLimiter(
                    member.port,
                    config.name,
                    config.guaranteed_bps(member),
                    config.max_rate_bps,
                    config.priority,
                )
