"""Role interfaces of a simulated backend: what tests and demos may do to the hardware.

MockHardware implements all of them; another backend that can offer some (say, a
netlink backend on veth pairs pulling a cable by downing the peer) implements those.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from agent.drivers.mock.snapshot import HwSnapshot
from agent.drivers.ops import Op


@runtime_checkable
class HwSnapshotSource(Protocol):
    """Dumps the hardware tables for comparison."""

    def hw_snapshot(self) -> HwSnapshot: ...


@runtime_checkable
class FaultInjector(Protocol):
    """Makes operations or the whole device fail."""

    def fail_operation(self, n: int = 0) -> None: ...

    def fail_port(self, port: str) -> None: ...

    def clear_faults(self) -> None: ...

    def set_available(self, available: bool) -> None: ...


@runtime_checkable
class CablePlant(Protocol):
    """Removes and restores the peer at a port."""

    def pull_cable(self, port: str) -> None: ...

    def plug_cable(self, port: str) -> None: ...


@runtime_checkable
class TrafficSource(Protocol):
    """Offers traffic that makes counters move."""

    def set_traffic(self, port: str, *, bps: int, pps: int) -> None: ...

    def set_slice_traffic(self, slice_name: str, *, bps: int, pps: int) -> None: ...


@runtime_checkable
class PowerCycler(Protocol):
    """Reboots the device: it comes back with its configuration lost."""

    def power_cycle(self) -> None: ...


@runtime_checkable
class Simulator(HwSnapshotSource, FaultInjector, CablePlant, TrafficSource, PowerCycler, Protocol):
    """Every control, plus direct programming."""

    def program(self, op: Op) -> None: ...
