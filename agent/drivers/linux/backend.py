"""LinuxBackend: a device's netdevs in one network namespace, programmed over netlink.

Ports are netdevs named by their ``interface_name``: admin state and MTU go through
RTM_SETLINK, speed and FEC through ethtool, VFs through sysfs. Taking a netdev over
records what it ran before; deleting the port gives that back, so an undone creation
leaves the kernel as it was. A slice member becomes a child macvlan on the member's
netdev with an HTB qdisc at the slice's rates. Link state comes from an RTNLGRP_LINK
monitor that keeps the probed facts current and raises link events.

Ops run on the calling thread: link requests through our own codec (``link_sockets``),
only traffic control hops to the device's NetlinkLoop (pyroute2).

Each op is atomic: the steps of one op that were done are reverted when a later step
fails, before the failure is raised.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import platform
from collections.abc import Callable, Collection, Coroutine, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from pyroute2.netlink.exceptions import NetlinkError

from agent.clock import Clock
from agent.drivers.capabilities import Capabilities
from agent.drivers.config import DeviceConfig, PortConfig, SliceConfig
from agent.drivers.counters import PortCounters, SliceCounters
from agent.drivers.errors import DeviceUnavailable, HardwareFault
from agent.drivers.events import EventHub, EventListener, LinkEvent
from agent.drivers.intent import DeviceIntent
from agent.drivers.linux import ethtool, sysfs
from agent.drivers.linux.address import AddressError, netns_of
from agent.drivers.linux.capabilities import probed_capabilities
from agent.drivers.linux.children import CHILD_TX_QUEUE_LEN, child_name, rates
from agent.drivers.linux.facts import NetdevFacts
from agent.drivers.linux.links import Link
from agent.drivers.linux.loop import LoopStopped, NetlinkLoop
from agent.drivers.linux.netdevs import NetdevTable
from agent.drivers.linux.netlink import Netlink
from agent.drivers.linux.netns import netns_path
from agent.drivers.linux.rtnl import KernelRefused, MalformedMessage
from agent.drivers.linux.stats import port_counters, slice_counters
from agent.drivers.linux.watcher import LinkWatcher
from agent.drivers.ops import DeviceOp, Op, PortOp
from agent.drivers.state import DeviceState, DownReason, OperStatus, PortState, SliceState

log = logging.getLogger(__name__)

T = TypeVar("T")
Undo = Callable[[], object]

DEFAULT_TIMEOUT_S = 10.0
_FEW_LINKS = 16
_KERNEL_ERRORS = (NetlinkError, OSError, MalformedMessage)


@dataclass(frozen=True, slots=True)
class _Found:
    """What a netdev ran before a port took it over (given back when the port goes)."""

    mtu: int
    admin_up: bool
    num_vfs: int | None

    @classmethod
    def of(cls, facts: NetdevFacts) -> _Found:
        vfs = facts.sriov.num_vfs if facts.sriov is not None else None
        return cls(facts.link.mtu, facts.link.admin_up, vfs)


class LinuxBackend:
    """The HardwareBackend of a linux-backed device (see the module docstring)."""

    def __init__(
        self,
        config: DeviceConfig,
        profile: Capabilities,
        clock: Clock,
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        self._identity = config
        self._profile = profile
        self._clock = clock
        self._timeout_s = timeout_s
        try:
            self._netns: str | None = netns_of(config.address)
            self._address_error: str | None = None
        except AddressError as error:
            self._netns, self._address_error = None, str(error)
        self._events = EventHub()
        self._loop: NetlinkLoop | None = None
        self._netlink: Netlink | None = None
        self._netdevs = NetdevTable(f"device {config.name}", clock, self._emit)
        self._ports: dict[str, PortConfig] = {}
        self._found: dict[str, _Found] = {}  # by netdev: what it ran before we took it
        self._owner: dict[str, str] = {}  # netdev -> the port that holds it now
        self._slices: dict[str, SliceConfig] = {}
        self._device: DeviceConfig | None = config
        self._opened_ns = clock.now_ns()
        self._kernel = platform.release()
        self._watcher: LinkWatcher | None = None
        self._capabilities: tuple[tuple[int, tuple[str, ...]], Capabilities] | None = None

    # ------------------------------------------------------------------ identity

    @property
    def netns(self) -> str | None:
        return self._netns

    @property
    def place(self) -> str:
        """Where the netdevs live, as messages say it."""
        return f"network namespace {self._netns}" if self._netns else "the agent's namespace"

    @property
    def address_error(self) -> str | None:
        """Why the device's address is unusable, or None."""
        return self._address_error

    @property
    def facts(self) -> Mapping[str, NetdevFacts]:
        """The probed netdevs of the namespace, by name (kept current by the monitor)."""
        return self._netdevs.facts

    @property
    def is_open(self) -> bool:
        return self._netlink is not None

    def sdk_version(self) -> str:
        return f"Linux {self._kernel} netlink ({self.place})"

    def capabilities(self) -> Capabilities:
        """The chip profile until open; then narrowed by what the kernel reports."""
        if self._netlink is None:
            return replace(self._profile, sdk_version=self.sdk_version())
        used = tuple(p.interface_name for p in self._ports.values() if p.interface_name)
        key = (self._netdevs.generation, used)
        known = self._capabilities
        if known is not None and known[0] == key:
            return known[1]  # the same object while nothing it depends on changed
        caps = probed_capabilities(self._profile, self._netdevs.facts, used, self.sdk_version())
        self._capabilities = (key, caps)
        return caps

    def add_event_listener(self, listener: EventListener) -> Callable[[], None]:
        return self._events.add_listener(listener)

    # ------------------------------------------------------------------ lifecycle

    def open(self) -> None:
        if self._netlink is not None:
            return
        if self._address_error is not None:
            raise DeviceUnavailable(self._identity.name, self._address_error)
        loop = NetlinkLoop(f"netlink-{self._identity.name}")
        netlink = Netlink(self._netns, self._timeout_s)
        try:
            netlink.open()
            loop.run(netlink.open_tc(), self._timeout_s)
            self._netdevs.load(netlink)
        except (*_KERNEL_ERRORS, TimeoutError) as error:
            loop.stop()
            netlink.close()
            reason = f"cannot open {self.place}: {error}"
            raise DeviceUnavailable(self._identity.name, reason) from None
        self._watcher = LinkWatcher(
            f"links-{self._identity.name}",
            netlink.monitor.fileno(),
            lambda: self._netdevs.drain(netlink),
        )
        self._loop, self._netlink = loop, netlink
        self._opened_ns = self._clock.now_ns()

    def close(self) -> None:
        loop, netlink, watcher = self._loop, self._netlink, self._watcher
        self._loop = self._netlink = self._watcher = None
        if watcher is not None:
            watcher.stop()
        if loop is not None:
            loop.stop()
        if netlink is not None:
            netlink.close()

    # --------------------------------------------------------------- programming

    def program(self, op: Op) -> None:
        """Applies one op atomically (see the module docstring)."""
        if op.before is None and op.after is None:
            return
        try:
            with self._netdevs.current(self._open_netlink()):
                self._program(op)
        except _KERNEL_ERRORS as error:
            raise HardwareFault(self._identity.name, f"{op.describe()}: {_reason(error)}") from None

    def _program(self, op: Op) -> None:
        if isinstance(op, DeviceOp):
            self._program_device(op.after)
        elif isinstance(op, PortOp):
            self._program_port(op.name, op.after)
        else:
            self._program_slice(op.name, op.after)

    def _program_device(self, after: DeviceConfig | None) -> None:
        before = self._device
        self._device = after
        try:
            for name, port in sorted(self._ports.items()):
                facts = self._require(name, port)
                self._set_admin(facts.link, self._admin(port))
            for slice_ in self._slices.values():
                self._set_children_state(slice_)
        except BaseException:
            self._device = before
            with contextlib.suppress(*_KERNEL_ERRORS, HardwareFault):
                for name, port in sorted(self._ports.items()):
                    self._set_admin(self._require(name, port).link, self._admin(port))
            raise

    def _program_port(self, name: str, after: PortConfig | None) -> None:
        current = self._ports.get(name)
        if after is None:
            self._release(name)
            return
        moved = current is not None and current.interface_name != after.interface_name
        if moved:
            self._release(name)
        try:
            self._take(name, after)
        except BaseException:
            if moved and current is not None:
                with contextlib.suppress(*_KERNEL_ERRORS, HardwareFault):
                    self._take(name, current)
            raise

    def _take(self, name: str, port: PortConfig) -> None:
        """Programs ``port`` onto its netdev (recording, the first time one of our ports
        takes the netdev, what it ran before)."""
        facts = self._require(name, port)
        ifname = facts.link.name
        owner = self._owner.get(ifname)
        taken = owner != name
        if ifname not in self._found:
            self._found[ifname] = _Found.of(facts)
        self._owner[ifname] = name
        undo: list[Undo] = []
        try:
            self._configure(facts, port, undo)
        except BaseException:
            _revert(undo)
            if owner is None:
                del self._owner[ifname]
                del self._found[ifname]
            else:
                self._owner[ifname] = owner
            self._netdevs.refresh(self._open_netlink(), facts.link.index, full=True)
            raise
        self._ports[name] = port
        link = facts.link
        if link.admin_up == self._admin(port) and facts.speed_bps in (None, port.speed_bps):
            # only the MTU (if anything) changed: no need to ask; the monitor confirms it
            self._netdevs.learn(
                dataclasses.replace(facts, link=dataclasses.replace(link, mtu=port.mtu))
            )
        else:
            self._netdevs.refresh(self._open_netlink(), link.index, full=True)
        if taken:
            self._attach_children(name)
        else:
            self._follow_mtu(name, port.mtu)

    def _follow_mtu(self, port: str, mtu: int) -> None:
        """Children run their port's MTU (the kernel lowers them with it, never raises)."""
        netlink = self._open_netlink()
        for slice_ in self._slices.values():
            facts = self._netdevs.facts.get(child_name(slice_.name, port))
            if facts is not None and facts.link.mtu != mtu:
                netlink.requests.set_link(facts.link.index, mtu=mtu)
                self._netdevs.learn(
                    dataclasses.replace(facts, link=dataclasses.replace(facts.link, mtu=mtu))
                )

    def _attach_children(self, port: str) -> None:
        """Builds the children that slices already hold for ``port`` (inert until now)."""
        built = False
        for slice_ in list(self._slices.values()):
            for member in slice_.members:
                child = child_name(slice_.name, port)
                if member.port == port and child not in self._netdevs.facts:
                    self._build_child(slice_.name, slice_, child, member)
                    built = True
        if built:
            self._netdevs.refresh_all(self._open_netlink())

    def _detach_children(self, port: str) -> None:
        """Deletes the children of ``port`` (their slices keep the member, inert)."""
        netlink = self._open_netlink()
        for slice_ in self._slices.values():
            facts = self._netdevs.facts.get(child_name(slice_.name, port))
            if facts is not None and port in slice_.member_ports:
                with contextlib.suppress(*_KERNEL_ERRORS):
                    netlink.requests.delete_link(facts.link.index)
                self._netdevs.forget(facts.link.index)

    def _configure(self, facts: NetdevFacts, port: PortConfig, undo: list[Undo]) -> None:
        netlink, link = self._open_netlink(), facts.link
        sock = netlink.ethtool
        assert sock is not None
        if port.speed_bps != facts.speed_bps and port.speed_bps in facts.settable_speeds:
            old = facts.speed_bps
            ethtool.set_speed(sock, link.name, port.speed_bps)
            if old is not None:
                undo.append(_later(ethtool.set_speed, sock, link.name, old))
        if port.fec != "auto" and facts.fec is not None and facts.fec.active_name != port.fec:
            old_fec = facts.fec.active_name
            ethtool.set_fec(sock, link.name, port.fec)
            undo.append(_later(ethtool.set_fec, sock, link.name, old_fec))
        if facts.sriov is not None and facts.sriov.num_vfs != port.num_vfs:
            sriov = facts.sriov
            sysfs.write_numvfs(sriov, port.num_vfs)
            after = dataclasses.replace(sriov, num_vfs=port.num_vfs)
            undo.append(_later(sysfs.write_numvfs, after, sriov.num_vfs))
        if link.mtu != port.mtu:
            netlink.requests.set_link(link.index, mtu=port.mtu)
            undo.append(lambda: netlink.requests.set_link(link.index, mtu=link.mtu))
        self._set_admin(link, self._admin(port), undo)

    def _set_admin(self, link: Link, up: bool, undo: list[Undo] | None = None) -> None:
        if link.admin_up == up:
            return
        netlink = self._open_netlink()
        netlink.requests.set_link(link.index, up=up)
        if undo is not None:
            undo.append(lambda: netlink.requests.set_link(link.index, up=link.admin_up))

    def _release(self, name: str) -> None:
        """Stops managing a port: its slices' children on it go, and its netdev gets back
        what it ran before (unless another port has taken it over meanwhile)."""
        if name in self._ports:
            self._detach_children(name)
        port = self._ports.pop(name, None)
        ifname = port.interface_name if port is not None else None
        if ifname is None or self._owner.get(ifname) != name:
            return
        del self._owner[ifname]
        found = self._found.pop(ifname)
        facts = self._netdevs.facts.get(ifname)
        if facts is None:
            return
        netlink, link = self._open_netlink(), facts.link
        sriov = facts.sriov
        if sriov is not None and found.num_vfs is not None and sriov.num_vfs != found.num_vfs:
            sysfs.write_numvfs(sriov, found.num_vfs)
        if link.mtu != found.mtu:
            netlink.requests.set_link(link.index, mtu=found.mtu)
        self._set_admin(link, found.admin_up)
        self._netdevs.refresh(self._open_netlink(), link.index, full=True)

    def _program_slice(self, name: str, after: SliceConfig | None) -> None:
        before = self._slices.get(name)
        wanted = {child_name(name, m.port): m for m in after.members} if after else {}
        stale = [
            child_name(name, m.port)
            for m in (before.members if before else ())
            if child_name(name, m.port) not in wanted
        ]
        created: list[int] = []
        try:
            for child, member in sorted(wanted.items()):
                created.extend(self._build_child(name, after, child, member))
        except BaseException:
            netlink = self._open_netlink()
            for index in created:
                with contextlib.suppress(*_KERNEL_ERRORS):
                    netlink.requests.delete_link(index)
            if before is not None:
                with contextlib.suppress(*_KERNEL_ERRORS, HardwareFault):
                    self._program_slice(name, before)
            self._netdevs.refresh_all(self._open_netlink())
            raise
        for child in stale:
            facts = self._netdevs.facts.get(child)
            if facts is not None:
                with contextlib.suppress(*_KERNEL_ERRORS):
                    self._open_netlink().requests.delete_link(facts.link.index)
        if after is None:
            self._slices.pop(name, None)
        else:
            self._slices[name] = after
        self._netdevs.refresh_all(self._open_netlink())

    def _build_child(self, slice_name: str, slice_: Any, child: str, member: Any) -> list[int]:
        """Creates (or reshapes) one child netdev; the indexes it created. A member whose
        port is not programmed (yet: an undo may restore the slice before the port) stays
        inert until the port is."""
        assert isinstance(slice_, SliceConfig)
        port = self._ports.get(member.port)
        if port is None or port.interface_name not in self._netdevs.facts:
            return []
        lower = self._require(member.port, port).link
        netlink = self._open_netlink()
        existing = self._netdevs.facts.get(child)
        created: list[int] = []
        if existing is not None and existing.link.lower != lower.index:
            netlink.requests.delete_link(existing.link.index)
            existing = None
        if existing is None:
            index = netlink.requests.add_macvlan(child, lower.index, CHILD_TX_QUEUE_LEN)
            created.append(index)
        else:
            index = existing.link.index
        peak, guaranteed = rates(slice_, member, port.speed_bps)
        self._run(netlink.shape(index, peak, guaranteed))
        up = slice_.enabled and self._device_enabled
        netlink.requests.set_link(index, mtu=port.mtu, up=up)
        return created

    def _set_children_state(self, slice_: SliceConfig) -> None:
        up = slice_.enabled and self._device_enabled
        for member in slice_.members:
            facts = self._netdevs.facts.get(child_name(slice_.name, member.port))
            if facts is not None and facts.link.admin_up != up:
                self._open_netlink().requests.set_link(facts.link.index, up=up)

    # ---------------------------------------------------------------------- reads

    def read_config(self) -> DeviceIntent:
        self._require_open()
        ports = []
        for name, port in self._ports.items():
            facts = self._netdevs.facts.get(port.interface_name or "")
            if facts is None:
                continue  # the netdev vanished: reconcile finds the port missing
            enabled = facts.link.admin_up if self._device_enabled else port.enabled
            speed = facts.speed_bps or port.speed_bps
            ports.append(dataclasses.replace(
                port, name=name, mtu=facts.link.mtu, enabled=enabled, speed_bps=speed
            ))  # fmt: skip
        slices = [
            s
            for s in self._slices.values()
            if all(
                child_name(s.name, m.port) in self._netdevs.facts
                for m in s.members
                if m.port in self._ports
            )
        ]
        return DeviceIntent.of(self._device, ports, slices)

    def read_device_state(self) -> DeviceState:
        reachable = self.is_open and (self._netns is None or netns_path(self._netns).exists())
        device = self._device
        enabled = device is not None and device.enabled
        return DeviceState(
            name=self._identity.name,
            chipset=self._identity.chipset,
            oper_status=OperStatus.UP if reachable and enabled else OperStatus.DOWN,
            admin_enabled=enabled,
            sdk_version=self.sdk_version(),
            dpu_mode=device.dpu_mode if device is not None else None,
            last_change_ns=self._opened_ns,
        )

    def read_port_states(self, names: Collection[str] | None) -> Mapping[str, PortState]:
        self._require_open()
        out: dict[str, PortState] = {}
        for name, port in self._select(names):
            facts = self._netdevs.facts.get(port.interface_name or "")
            if facts is not None:
                out[name] = self._port_state(port, facts)
        return out

    def read_slice_states(self, names: Collection[str] | None) -> Mapping[str, SliceState]:
        self._require_open()
        out: dict[str, SliceState] = {}
        slices = dict(self._slices)
        for name in _pick(names, slices):
            slice_ = slices[name]
            up = tuple(
                m.port
                for m in slice_.members
                if (c := self._netdevs.facts.get(child_name(name, m.port))) is not None
                and c.link.oper_up
            )
            out[name] = SliceState(
                name=name,
                oper_status=OperStatus.UP if up and slice_.enabled else OperStatus.DOWN,
                vlan_id=slice_.vlan_id,
                members=slice_.member_ports,
                members_up=up,
            )
        return out

    def read_counters(self, names: Collection[str] | None) -> Mapping[str, PortCounters]:
        self._require_open()
        selected = list(self._select(names))
        if not selected:
            return {}
        wanted = [port.interface_name or "" for _, port in selected]
        links = self._fresh_links(wanted)
        now = self._clock.now_ns()
        return {
            name: port_counters(link.stats, now)
            for name, port in selected
            if (link := links.get(port.interface_name or "")) is not None and link.stats
        }

    def _fresh_links(self, names: list[str]) -> Mapping[str, Link]:
        """The current links of ``names``: asked one by one when they are few, else one dump
        (parsing a dump of a namespace with many netdevs costs more than a few requests)."""
        netlink = self._open_netlink()
        if len(names) > _FEW_LINKS:
            return netlink.requests.links()
        out: dict[str, Link] = {}
        for name in names:
            known = self._netdevs.facts.get(name)
            link = netlink.requests.link(known.link.index) if known is not None else None
            if link is not None and link.name == name:
                out[name] = link
        return out

    def read_slice_counters(self, names: Collection[str] | None) -> Mapping[str, SliceCounters]:
        self._require_open()
        slices = dict(self._slices)
        chosen = [slices[n] for n in _pick(names, slices)]
        if not chosen:
            return {}
        links = self._fresh_links([child_name(s.name, m.port) for s in chosen for m in s.members])
        drops = self._run(self._open_netlink().qdisc_drops([link.index for link in links.values()]))
        now = self._clock.now_ns()
        out: dict[str, SliceCounters] = {}
        for slice_ in chosen:
            children = [
                (link, drops.get(link.index))
                for member in slice_.members
                if (link := links.get(child_name(slice_.name, member.port))) is not None
            ]
            out[slice_.name] = slice_counters(children, now)
        return out

    # --------------------------------------------------------------------- events

    def _emit(self, ifname: str, facts: NetdevFacts | None) -> None:
        """A link event for each port on netdev ``ifname`` (which changed state or went)."""
        for name, port in list(self._ports.items()):
            if port.interface_name != ifname:
                continue
            reason: DownReason | None
            if facts is None:
                status, reason = OperStatus.DOWN, DownReason.REMOVED
            else:
                status, reason = _oper(facts.link, self._device_enabled)
            event = LinkEvent(self._identity.name, name, status, self._clock.now_ns(), reason)
            self._events.publish(event)

    # -------------------------------------------------------------------- helpers

    @property
    def _device_enabled(self) -> bool:
        return self._device is not None and self._device.enabled

    def _admin(self, port: PortConfig) -> bool:
        return port.enabled and self._device_enabled

    def _port_state(self, port: PortConfig, facts: NetdevFacts) -> PortState:
        link = facts.link
        status, reason = _oper(link, self._device_enabled)
        vfs = facts.sriov.num_vfs if facts.sriov is not None else (link.num_vfs or 0)
        return PortState(
            name=port.name,
            index=port.index,
            channel=port.channel,
            admin_enabled=link.admin_up,
            oper_status=status,
            down_reason=reason,
            speed_bps=facts.speed_bps or port.speed_bps,
            fec=facts.fec.active_name if facts.fec is not None else "none",
            mtu=link.mtu,
            breakout="none",
            loopback="none",
            num_vfs=vfs,
            lag_group=None,
            last_change_ns=self._netdevs.since(link.name, self._opened_ns),
        )

    def _select(self, names: Collection[str] | None) -> Iterator[tuple[str, PortConfig]]:
        ports = dict(self._ports)  # a copy: the netlink thread may program meanwhile
        for name in _pick(names, ports):
            yield name, ports[name]

    def _require(self, name: str, port: PortConfig) -> NetdevFacts:
        ifname = port.interface_name
        if ifname is None:
            raise HardwareFault(self._identity.name, f"port {name} has no interface-name")
        facts = self._netdevs.facts.get(ifname)
        if facts is None:
            raise HardwareFault(
                self._identity.name, f"port {name}: netdev {ifname} does not exist in {self.place}"
            )
        return facts

    def _require_open(self) -> None:
        if self._netlink is None:
            raise DeviceUnavailable(self._identity.name, "the driver is not open")

    def _open_netlink(self) -> Netlink:
        netlink = self._netlink
        if netlink is None:
            raise DeviceUnavailable(self._identity.name, "the driver is not open")
        return netlink

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        loop = self._loop
        if loop is None:
            coroutine.close()
            raise DeviceUnavailable(self._identity.name, "the driver is not open")
        try:
            return loop.run(coroutine, self._timeout_s)
        except (TimeoutError, LoopStopped) as error:
            raise DeviceUnavailable(self._identity.name, f"netlink: {error}") from None


def _oper(link: Link, device_enabled: bool) -> tuple[OperStatus, DownReason | None]:
    if link.oper_up:
        return OperStatus.UP, None
    if not device_enabled:
        return OperStatus.DOWN, DownReason.DEVICE_DOWN
    if not link.admin_up:
        return OperStatus.DOWN, DownReason.ADMIN_DOWN
    return OperStatus.DOWN, DownReason.NO_PEER


def _pick(names: Collection[str] | None, table: Mapping[str, object]) -> list[str]:
    if names is None:
        return sorted(table)
    return [name for name in names if name in table]


def _later(function: Callable[..., None], *args: Any) -> Undo:
    return lambda: function(*args)


def _revert(undo: list[Undo]) -> None:
    for step in reversed(undo):
        try:
            step()
        except _KERNEL_ERRORS as error:
            log.warning("reverting a step failed: %s", error)


def _reason(error: BaseException) -> str:
    if isinstance(error, KernelRefused):
        return f"the kernel refused: {error.strerror}"
    if isinstance(error, NetlinkError):
        return f"the kernel refused: {error.args[1] if len(error.args) > 1 else error}"
    return str(error)
