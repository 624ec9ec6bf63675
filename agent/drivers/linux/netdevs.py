"""NetdevTable: the probed netdevs of one namespace, kept current from RTNLGRP_LINK.

It tells its listener when a netdev appears, goes, or changes operational state; the
backend turns that into link events of the ports that name the netdev.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from types import MappingProxyType

from agent.clock import Clock
from agent.drivers.linux import ethtool, sysfs
from agent.drivers.linux.facts import NetdevFacts
from agent.drivers.linux.links import Link
from agent.drivers.linux.netlink import Netlink

log = logging.getLogger(__name__)

ChangeListener = Callable[[str, NetdevFacts | None], None]
"""Called with a netdev's name and its new facts (None: it is gone)."""


class NetdevTable:
    """Netdev facts by name; replaced as a whole on every change, so readers on other
    threads always see one consistent table. Runs on the device's netlink loop."""

    def __init__(self, label: str, clock: Clock, on_change: ChangeListener) -> None:
        self._label = label
        self._clock = clock
        self._on_change = on_change
        self._facts: Mapping[str, NetdevFacts] = MappingProxyType({})
        self._since: dict[str, int] = {}

    @property
    def facts(self) -> Mapping[str, NetdevFacts]:
        return self._facts

    def since(self, name: str, default: int) -> int:
        """When netdev ``name`` last changed operational state (``default`` if never)."""
        return self._since.get(name, default)

    async def load(self, netlink: Netlink) -> None:
        """Probes every netdev of the namespace (quietly: nothing has changed yet)."""
        links = await netlink.links()
        probed = {name: self.probe(netlink, link) for name, link in links.items()}
        self._facts = MappingProxyType(probed)

    async def watch(self, netlink: Netlink) -> None:
        """Follows RTM_NEWLINK/RTM_DELLINK until cancelled."""
        try:
            async for item in netlink.events():
                if isinstance(item, Link):
                    self.learn(self.probe(netlink, item))
                else:
                    self.forget(item)
        except Exception:  # the monitor must not die silently
            log.exception("%s: link monitor stopped", self._label)

    def learn(self, facts: NetdevFacts) -> None:
        name = facts.link.name
        table = {n: f for n, f in self._facts.items() if f.link.index != facts.link.index}
        previous = self._facts.get(name)
        table[name] = facts
        self._facts = MappingProxyType(table)
        if previous is None or previous.link.oper_up != facts.link.oper_up:
            self._since[name] = self._clock.now_ns()
            self._on_change(name, facts)

    def forget(self, index: int) -> None:
        gone = [name for name, f in self._facts.items() if f.link.index == index]
        if not gone:
            return
        self._facts = MappingProxyType({n: f for n, f in self._facts.items() if n not in gone})
        for name in gone:
            self._since[name] = self._clock.now_ns()
            self._on_change(name, None)

    async def refresh(self, netlink: Netlink, index: int, *, full: bool = False) -> None:
        """Reads one netdev again (``full``: ethtool and sysfs too)."""
        link = await netlink.link(index)
        if link is None:
            self.forget(index)
        else:
            self.learn(self.probe(netlink, link, full=full))

    async def refresh_all(self, netlink: Netlink) -> None:
        links = await netlink.links()
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
