"""NetdevTable: the probed netdevs of one namespace, kept current from RTNLGRP_LINK.

It tells its listener when a netdev appears, goes, or changes operational state; the
backend turns that into link events of the ports that name the netdev.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from types import MappingProxyType

from agent.clock import Clock
from agent.drivers.linux import ethtool, sysfs
from agent.drivers.linux.capabilities import limits_key
from agent.drivers.linux.facts import NetdevFacts
from agent.drivers.linux.links import Link
from agent.drivers.linux.netlink import Netlink

log = logging.getLogger(__name__)

ChangeListener = Callable[[str, NetdevFacts | None], None]
"""Called with a netdev's name and its new facts (None: it is gone)."""


class NetdevTable:
    """Netdev facts by name; replaced as a whole on every change, so readers on other
    threads always see one consistent table. Changes come from the monitor (drained by
    the device's LinkWatcher thread) and from the backend's own requests (on the
    caller's thread), one at a time under the table's lock."""

    def __init__(self, label: str, clock: Clock, on_change: ChangeListener) -> None:
        self._label = label
        self._clock = clock
        self._on_change = on_change
        self._facts: Mapping[str, NetdevFacts] = MappingProxyType({})
        self._since: dict[str, int] = {}
        self._lock = threading.RLock()
        self._generation = 0

    @property
    def facts(self) -> Mapping[str, NetdevFacts]:
        return self._facts

    @property
    def generation(self) -> int:
        """Changes whenever a netdev comes, goes or changes its limits (see limits_key)."""
        return self._generation

    def since(self, name: str, default: int) -> int:
        """When netdev ``name`` last changed operational state (``default`` if never)."""
        return self._since.get(name, default)

    def load(self, netlink: Netlink) -> None:
        """Probes every netdev of the namespace (quietly: nothing has changed yet)."""
        links = netlink.requests.links()
        with self._lock:
            probed = {name: self.probe(netlink, link) for name, link in links.items()}
            self._facts = MappingProxyType(probed)
            self._generation += 1

    def drain(self, netlink: Netlink) -> None:
        """Takes in what the monitor has queued, in the kernel's order; after an overrun,
        reads every link again."""
        with self._lock:
            changes, overrun = netlink.monitor.drain()
            for change in changes:
                if isinstance(change, Link):
                    self.learn(self.probe(netlink, change))
                else:
                    self.forget(change)
            if overrun:
                log.warning("%s: link events were lost; reading every link again", self._label)
                self.refresh_all(netlink)

    @contextlib.contextmanager
    def current(self, netlink: Netlink) -> Iterator[None]:
        """Holds the table for a sequence of changes by the backend: the events queued
        before are taken in first, the echoes of the changes at the end, and no event is
        taken in between (an older event would undo what the backend has learned)."""
        with self._lock:
            self.drain(netlink)
            try:
                yield
            finally:
                self.drain(netlink)

    def learn(self, facts: NetdevFacts) -> None:
        name = facts.link.name
        with self._lock:
            previous = self._facts.get(name)
            if previous is not None and previous.link.index == facts.link.index:
                table = dict(self._facts)
            else:  # new, or renamed: drop the netdev's entry under its old name
                index = facts.link.index
                table = {n: f for n, f in self._facts.items() if f.link.index != index}
            table[name] = facts
            self._facts = MappingProxyType(table)
            if previous is None or _reshaped(previous, facts):
                self._generation += 1
            if previous is None or previous.link.oper_up != facts.link.oper_up:
                self._since[name] = self._clock.now_ns()
                self._on_change(name, facts)

    def forget(self, index: int) -> None:
        with self._lock:
            gone = [name for name, f in self._facts.items() if f.link.index == index]
            if not gone:
                return
            self._facts = MappingProxyType({n: f for n, f in self._facts.items() if n not in gone})
            self._generation += 1
            for name in gone:
                self._since[name] = self._clock.now_ns()
                self._on_change(name, None)

    def refresh(self, netlink: Netlink, index: int, *, full: bool = False) -> None:
        """Reads one netdev again (``full``: ethtool and sysfs too)."""
        link = netlink.requests.link(index)
        with self._lock:
            if link is None:
                self.forget(index)
            else:
                self.learn(self.probe(netlink, link, full=full))

    def refresh_all(self, netlink: Netlink) -> None:
        links = netlink.requests.links()
        with self._lock:
            current = {n: self.probe(netlink, link) for n, link in links.items()}
            for name in [n for n in self._facts if n not in current]:
                self.forget(self._facts[name].link.index)
            for facts in current.values():
                self.learn(facts)

    def probe(self, netlink: Netlink, link: Link, *, full: bool = False) -> NetdevFacts:
        """The netdev's facts; ethtool and sysfs are asked again only when ``full``, for a
        netdev not seen before, or when its link state changed (the speed may have)."""
        known = self._facts.get(link.name)
        if (
            not full
            and known is not None
            and known.link.index == link.index
            and known.link.oper_up == link.oper_up
        ):
            return NetdevFacts(link, known.modes, known.fec, known.sriov)
        sock = netlink.ethtool
        modes = fec = None
        if sock is not None:
            try:
                modes = ethtool.link_modes(sock, link.name)
                fec = ethtool.fec_modes(sock, link.name)
            except OSError as error:  # a netdev that went away while we asked
                log.debug("ethtool on %s: %s", link.name, error)
        sriov = sysfs.read_sriov(link.parent_bus, link.parent_dev)
        return NetdevFacts(link, modes, fec, sriov)


def _reshaped(before: NetdevFacts, after: NetdevFacts) -> bool:
    return before.link.index != after.link.index or limits_key(before) != limits_key(after)
