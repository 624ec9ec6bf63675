"""MockHardware: a behavioural simulation of one device, parameterised by its Capabilities.

It holds simulated hardware tables (device, cage layouts, ports, slice policies, VLAN
membership, rate limiters), derives link state from them and from the cabling, advances
counters from offered traffic on an injected clock, raises link and device events, and
fails operations on request. Every public method holds one re-entrant lock.
"""

from __future__ import annotations

import dataclasses
import functools
import threading
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Concatenate, ParamSpec, TypeVar

from agent.clock import Clock
from agent.drivers.capabilities import Capabilities
from agent.drivers.config import DeviceConfig, PortConfig, SliceConfig
from agent.drivers.counters import PortCounters, SliceCounters
from agent.drivers.errors import DeviceUnavailable, HardwareFault
from agent.drivers.events import DeviceEvent, EventHub, EventListener, LinkEvent
from agent.drivers.intent import DeviceIntent
from agent.drivers.mock.counter_bank import CounterBank
from agent.drivers.mock.faults import FaultPlan
from agent.drivers.mock.port_tables import PortTables
from agent.drivers.mock.rows import hw_port, port_state
from agent.drivers.mock.slice_tables import SliceTables
from agent.drivers.mock.snapshot import HwDevice, HwPort, HwSnapshot
from agent.drivers.mock.traffic import PortTraffic, SliceTraffic
from agent.drivers.ops import DeviceOp, Op, PortOp
from agent.drivers.state import DeviceState, DownReason, OperStatus, PortState, SliceState

P = ParamSpec("P")
R = TypeVar("R")


def _locked(
    method: Callable[Concatenate[MockHardware, P], R],
) -> Callable[Concatenate[MockHardware, P], R]:
    @functools.wraps(method)
    def wrapper(self: MockHardware, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with self._lock:
            return method(self, *args, **kwargs)

    return wrapper


@dataclass(slots=True)
class _Link:
    status: OperStatus
    reason: DownReason | None
    since_ns: int


class MockHardware:
    """A simulated device. Implements HardwareBackend plus the controls in ``controls``."""

    def __init__(self, config: DeviceConfig, caps: Capabilities, clock: Clock) -> None:
        self._lock = threading.RLock()
        self._identity = config
        self._caps = caps
        self._clock = clock
        self._events = EventHub()
        self._faults = FaultPlan()
        self._counters = CounterBank()
        self._port_tables = PortTables()
        self._slice_tables = SliceTables()
        self._links: dict[str, _Link] = {}
        self._unplugged: set[tuple[int, int]] = set()
        self._open = False
        self._available = True
        self._restarting = False
        self._device: DeviceConfig | None = config
        self._device_status = OperStatus.UP if config.enabled else OperStatus.DOWN
        self._device_since_ns = clock.now_ns()
        self._layout_rebuilds = 0
        self._restarts = 0

    # ----------------------------------------------------------------- backend protocol

    @_locked
    def open(self) -> None:
        self._open = True

    @_locked
    def close(self) -> None:
        self._open = False

    def capabilities(self) -> Capabilities:
        """The chip profile: a mock has nothing to probe."""
        return self._caps

    @_locked
    def add_event_listener(self, listener: EventListener) -> Callable[[], None]:
        return self._events.add_listener(listener)

    @_locked
    def program(self, op: Op) -> None:
        """Applies one op atomically: a fault is detected before any table changes."""
        self._require_reachable()
        failure = self._faults.next_failure(_touched_ports(op))
        if failure is not None:
            raise HardwareFault(self._identity.name, f"{op.describe()}: {failure}")
        if op.before is None and op.after is None:
            return
        if isinstance(op, DeviceOp):
            self._program_device(op.after)
        elif isinstance(op, PortOp):
            self._program_port(op.name, op.after)
        else:
            self._program_slice(op.name, op.after)

    @_locked
    def read_config(self) -> DeviceIntent:
        self._require_reachable()
        return DeviceIntent.of(
            self._device, self._port_tables.ports.values(), self._slice_tables.policies.values()
        )

    @_locked
    def read_device_state(self) -> DeviceState:
        device = self._device
        return DeviceState(
            name=self._identity.name,
            chipset=self._caps.chipset,
            oper_status=self._device_status,
            admin_enabled=device is not None and device.enabled,
            sdk_version=self._caps.sdk_version,
            dpu_mode=self._dpu_mode(),
            last_change_ns=self._device_since_ns,
        )

    @_locked
    def read_port_states(self, names: Collection[str] | None) -> Mapping[str, PortState]:
        self._require_reachable()
        return {name: self._port_state(name) for name in _select(names, self._port_tables.ports)}

    @_locked
    def read_slice_states(self, names: Collection[str] | None) -> Mapping[str, SliceState]:
        self._require_reachable()
        policies = self._slice_tables.policies
        return {name: self._slice_state(name) for name in _select(names, policies)}

    @_locked
    def read_counters(self, names: Collection[str] | None) -> Mapping[str, PortCounters]:
        self._require_reachable()
        mono, wall = self._clock.monotonic_ns(), self._clock.now_ns()
        return {
            name: self._counters.port(name, mono, wall)
            for name in _select(names, self._port_tables.ports)
        }

    @_locked
    def read_slice_counters(self, names: Collection[str] | None) -> Mapping[str, SliceCounters]:
        self._require_reachable()
        mono, wall = self._clock.monotonic_ns(), self._clock.now_ns()
        return {
            name: self._counters.slice(name, mono, wall)
            for name in _select(names, self._slice_tables.policies)
        }

    # ------------------------------------------------------------------ test controls

    @_locked
    def hw_snapshot(self) -> HwSnapshot:
        """A comparable dump of every simulated table (no counters, no timestamps)."""
        device = self._device
        policies, vlans, limiters = self._slice_tables.rows()
        return HwSnapshot(
            device=HwDevice(
                name=self._identity.name,
                chipset=self._caps.chipset,
                configured=device is not None,
                admin_enabled=device is not None and device.enabled,
                dpu_mode=self._dpu_mode(),
                oper_status=self._device_status,
            ),
            cages=self._port_tables.cage_rows(),
            ports=tuple(self._hw_port(name) for name in sorted(self._port_tables.ports)),
            slices=policies,
            vlans=vlans,
            rate_limiters=limiters,
        )

    @property
    def layout_rebuilds(self) -> int:
        """How many times a cage's port layout was rebuilt for a breakout change."""
        return self._layout_rebuilds

    @property
    def restarts(self) -> int:
        """How many times the device restarted (DPU mode change, power cycle)."""
        return self._restarts

    @property
    def operations(self) -> int:
        """How many hardware operations the mock has received."""
        return self._faults.operations

    @_locked
    def fail_operation(self, n: int = 0) -> None:
        """The n-th hardware operation from now (0 = the next one) fails, once."""
        self._faults.fail_operation(n)

    @_locked
    def fail_port(self, port: str) -> None:
        """Every operation touching ``port`` fails until ``clear_faults``."""
        self._faults.fail_port(port)

    @_locked
    def clear_faults(self) -> None:
        self._faults.clear()

    @_locked
    def set_available(self, available: bool) -> None:
        """Makes the device unreachable (it goes down, ops and reads fail) or brings it back."""
        self._available = available
        self._refresh_device("device reachable" if available else "device unreachable")

    @_locked
    def power_cycle(self) -> None:
        """The device reboots and comes back with empty tables (it keeps its DPU mode)."""
        self._restarts += 1
        self._restarting = True
        self._refresh_device("power cycle")
        for name in sorted(self._slice_tables.policies):
            self._program_slice(name, None)
        for name in sorted(self._port_tables.ports):
            self._program_port(name, None)
        previous = self._device
        self._device = dataclasses.replace(
            self._identity, enabled=True, dpu_mode=previous.dpu_mode if previous else None
        )
        self._restarting = False
        self._refresh_device("power cycle complete")

    @_locked
    def pull_cable(self, port: str) -> None:
        """Removes the peer at ``port``'s cage channel: its link goes down."""
        self._set_cable(port, present=False)

    @_locked
    def plug_cable(self, port: str) -> None:
        """Puts the peer back: the link comes up if the port is enabled."""
        self._set_cable(port, present=True)

    def set_traffic(
        self,
        port: str,
        *,
        bps: int,
        pps: int,
        out_bps: int | None = None,
        out_pps: int | None = None,
        multicast_pps: int = 0,
        broadcast_pps: int = 0,
        error_pps: int = 0,
        fcs_error_pps: int = 0,
        discard_pps: int = 0,
        out_error_pps: int = 0,
        out_discard_pps: int = 0,
    ) -> None:
        """Offers constant traffic on ``port``: ``bps``/``pps`` received and the same sent
        unless ``out_bps``/``out_pps`` say otherwise. Counters move while the link is up,
        capped at the port's speed."""
        traffic = PortTraffic(
            in_bps=bps,
            in_pps=pps,
            out_bps=bps if out_bps is None else out_bps,
            out_pps=pps if out_pps is None else out_pps,
            in_multicast_pps=multicast_pps,
            in_broadcast_pps=broadcast_pps,
            in_error_pps=error_pps,
            in_fcs_error_pps=fcs_error_pps,
            in_discard_pps=discard_pps,
            out_error_pps=out_error_pps,
            out_discard_pps=out_discard_pps,
        )
        self.set_port_traffic(port, traffic)

    @_locked
    def set_port_traffic(self, port: str, traffic: PortTraffic) -> None:
        """Offers ``traffic`` on ``port`` (kept if the port is deleted and re-created)."""
        self._counters.offer_port(port, traffic)
        if port in self._port_tables.ports:
            self._update_port_meter(port)

    @_locked
    def set_slice_traffic(self, slice_name: str, *, bps: int, pps: int) -> None:
        """Offers traffic to a slice; what exceeds its max-rate is dropped."""
        self._counters.offer_slice(slice_name, SliceTraffic(bps, pps))
        if slice_name in self._slice_tables.policies:
            self._update_slice_meter(slice_name)

    @_locked
    def clear_traffic(self) -> None:
        self._counters.clear_traffic()
        self._update_meters(self._port_tables.ports, self._slice_tables.policies)

    # -------------------------------------------------------------------- programming

    def _program_device(self, after: DeviceConfig | None) -> None:
        before = self._device
        if before == after:
            return
        mode_change = (
            before is not None
            and after is not None
            and self._caps.effective_dpu_mode(before.dpu_mode)
            != self._caps.effective_dpu_mode(after.dpu_mode)
        )
        restart = mode_change and self._device_runs()
        self._device = after
        if restart:
            self._restarts += 1
            self._restarting = True
            self._refresh_device(f"restarting into dpu-mode {self._dpu_mode()}")
            self._restarting = False
        self._refresh_device("device configuration changed")

    def _program_port(self, name: str, after: PortConfig | None) -> None:
        before = self._port_tables.ports.get(name)
        if before == after:
            return
        touched = self._port_tables.set(name, after)
        if after is None:
            self._counters.remove_port(name)
            link = self._links.pop(name)
            if link.status is OperStatus.UP:
                self._emit_link(name, OperStatus.DOWN, DownReason.REMOVED)
                self._update_slices_of(name)
        elif name not in self._links:
            self._links[name] = _Link(OperStatus.DOWN, None, self._clock.now_ns())
            self._counters.add_port(name, self._clock.monotonic_ns())
        channels = frozenset(p.channel for p in (before, after) if p is not None)
        for index in touched:
            self._sync_cage(index, name, channels)

    def _sync_cage(self, index: int, changed: str, channels: frozenset[int]) -> None:
        """Rebuilds the cage's layout once all its entries agree on a new breakout, then
        refreshes the links the change can affect (all of them after a rebuild)."""
        tables = self._port_tables
        names = tables.cage(index)
        agreed = tables.agreed_layout(index)
        current = tables.layout(index)
        rebuilt = agreed is not None and agreed != current
        if rebuilt:
            if current is not None:
                self._layout_rebuilds += 1
                for name in names:
                    self._set_link(name, OperStatus.DOWN, DownReason.LAYOUT_PENDING)
            tables.set_layout(index, agreed)
        elif not names:
            tables.set_layout(index, None)
        for name in names:
            if rebuilt or name == changed or tables.ports[name].channel in channels:
                self._refresh_link(name)

    def _program_slice(self, name: str, after: SliceConfig | None) -> None:
        if self._slice_tables.policies.get(name) == after:
            return
        self._slice_tables.program(name, after)
        if after is None:
            self._counters.remove_slice(name)
            return
        self._counters.add_slice(name, self._clock.monotonic_ns())
        self._update_slice_meter(name)

    # ------------------------------------------------------------------ link and state

    def _device_runs(self) -> bool:
        device = self._device
        return self._available and not self._restarting and device is not None and device.enabled

    def _dpu_mode(self) -> str | None:
        return self._caps.effective_dpu_mode(self._device.dpu_mode if self._device else None)

    def _refresh_device(self, reason: str) -> None:
        status = OperStatus.UP if self._device_runs() else OperStatus.DOWN
        if status is not self._device_status:
            now = self._clock.now_ns()
            self._device_status = status
            self._device_since_ns = now
            self._events.publish(DeviceEvent(self._identity.name, status, now, reason))
        for name in sorted(self._port_tables.ports):
            self._refresh_link(name)
        self._update_meters((), self._slice_tables.policies)

    def _down_reason(self, port: PortConfig) -> DownReason | None:
        if not self._device_runs():
            return DownReason.DEVICE_DOWN
        if not port.enabled:
            return DownReason.ADMIN_DOWN
        if self._port_tables.layout(port.index) != port.breakout:
            return DownReason.LAYOUT_PENDING
        if self._port_tables.conflicts(port):
            return DownReason.LOCATION_CONFLICT
        if port.loopback == "none" and (port.index, port.channel) in self._unplugged:
            return DownReason.NO_PEER
        return None

    def _refresh_link(self, name: str) -> None:
        reason = self._down_reason(self._port_tables.ports[name])
        self._set_link(name, OperStatus.UP if reason is None else OperStatus.DOWN, reason)
        self._update_port_meter(name)

    def _set_link(self, name: str, status: OperStatus, reason: DownReason | None) -> None:
        link = self._links[name]
        link.reason = reason
        if link.status is status:
            return
        link.status = status
        link.since_ns = self._clock.now_ns()
        self._update_port_meter(name)
        self._emit_link(name, status, reason)
        self._update_slices_of(name)

    def _emit_link(self, name: str, status: OperStatus, reason: DownReason | None) -> None:
        event = LinkEvent(self._identity.name, name, status, self._clock.now_ns(), reason)
        self._events.publish(event)

    def _set_cable(self, port: str, *, present: bool) -> None:
        config = self._port_tables.ports.get(port)
        if config is None:
            raise KeyError(f"device {self._identity.name} has no port {port!r}")
        location = (config.index, config.channel)
        if present:
            self._unplugged.discard(location)
        else:
            self._unplugged.add(location)
        for name in self._port_tables.cage(config.index):
            self._refresh_link(name)

    def _is_up(self, port: str) -> bool:
        link = self._links.get(port)
        return link is not None and link.status is OperStatus.UP

    def _members_up(self, config: SliceConfig) -> tuple[str, ...]:
        if not (config.enabled and self._device_runs()):
            return ()
        return tuple(port for port in config.member_ports if self._is_up(port))

    # ----------------------------------------------------------------------- counters

    def _update_port_meter(self, name: str) -> None:
        speed = self._port_tables.ports[name].speed_bps
        now = self._clock.monotonic_ns()
        self._counters.update_port(name, up=self._is_up(name), speed_bps=speed, now_ns=now)

    def _update_slice_meter(self, name: str) -> None:
        config = self._slice_tables.policies[name]
        active = bool(self._members_up(config))
        self._counters.update_slice(config, active=active, now_ns=self._clock.monotonic_ns())

    def _update_slices_of(self, port: str) -> None:
        self._update_meters((), self._slice_tables.slices_of(port))

    def _update_meters(self, ports: Iterable[str], slices: Iterable[str]) -> None:
        for name in ports:
            self._update_port_meter(name)
        for name in slices:
            if name in self._slice_tables.policies:
                self._update_slice_meter(name)

    # ------------------------------------------------------------------------ helpers

    def _require_reachable(self) -> None:
        if not self._open:
            raise DeviceUnavailable(self._identity.name, "the driver is not open")
        if not self._available:
            raise DeviceUnavailable(self._identity.name, "no response from the device")

    def _port_state(self, name: str) -> PortState:
        link = self._links[name]
        port = self._port_tables.ports[name]
        return port_state(port, self._caps, link.status, link.reason, link.since_ns)

    def _slice_state(self, name: str) -> SliceState:
        config = self._slice_tables.policies[name]
        up = self._members_up(config)
        return SliceState(
            name=name,
            oper_status=OperStatus.UP if up else OperStatus.DOWN,
            vlan_id=config.vlan_id,
            members=config.member_ports,
            members_up=up,
        )

    def _hw_port(self, name: str) -> HwPort:
        return hw_port(self._port_tables.ports[name], self._caps, self._links[name].status)


def _select(names: Collection[str] | None, table: Mapping[str, object]) -> list[str]:
    if names is None:
        return sorted(table)
    return [name for name in names if name in table]


def _touched_ports(op: Op) -> frozenset[str]:
    if isinstance(op, PortOp):
        return frozenset((op.name,))
    if isinstance(op, DeviceOp):
        return frozenset()
    configs = (config for config in (op.before, op.after) if config is not None)
    return frozenset(port for config in configs for port in config.member_ports)
