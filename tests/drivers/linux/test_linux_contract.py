"""The driver contract (tests/drivers/contract.py) on the linux backend: every rig is a
fresh driver over veth pairs in namespaces made for it, its "hardware snapshot" the
kernel's view of them (``ip -d -j link``, ``tc -j qdisc``, ``tc class``), its cable a
peer that goes down and up, its power cycle the netdevs reset as a driver reload leaves
them. Checks needing what the kernel cannot honestly offer (fault injection, a fake
clock) skip."""

from __future__ import annotations

import json
import weakref
from typing import Any

import pytest

from agent.clock import SystemClock
from agent.drivers.registry import DriverRegistry

from ..contract import DriverContract
from ..targets import Rig, Target, TargetFactory
from .netns_lab import NetnsLab, ip, require_root

VETHS = 4
_LINK_KEYS = ("ifname", "mtu", "min_mtu", "max_mtu", "txqlen", "link")
_CARRIER_FLAGS = {"NO-CARRIER", "LOWER_UP", "M-DOWN"}  # follow the peer, with a delay
_QDISC_STATS = {"direct_packets_stat"}  # a counter among HTB's options


class KernelControls:
    """What a test may do to the kernel under a rig: dump it, pull and plug cables."""

    def __init__(self, lab: NetnsLab, host: str, peer: str, peers: dict[str, str]) -> None:
        self._lab, self._host, self._peer, self._peers = lab, host, peer, peers
        self.driver: Any = None

    def hw_snapshot(self) -> Any:
        """The namespace's netdevs, qdiscs and classes, without what differs between two
        namespaces holding the same configuration (indexes, addresses, counters, the
        default qdisc a netdev keeps once it has been up) and without the carrier, which
        the kernel reports with a delay after a netdev comes up."""
        dump = self._lab.kernel_dump(self._host)
        links = sorted(
            (
                {
                    **{key: link.get(key) for key in _LINK_KEYS},
                    "flags": sorted(set(link.get("flags", [])) - _CARRIER_FLAGS),
                    "kind": (link.get("linkinfo") or {}).get("info_kind"),
                }
                for link in dump["links"]
            ),
            key=lambda link: str(link["ifname"]),
        )
        qdiscs = sorted(
            (
                {
                    **{key: q.get(key) for key in ("kind", "handle", "parent", "dev")},
                    "options": {
                        k: v for k, v in (q.get("options") or {}).items() if k not in _QDISC_STATS
                    },
                }
                for q in dump["qdiscs"]
                if q.get("handle") != "0:"  # the kernel's default, attached on first up
            ),
            key=lambda q: (str(q["dev"]), str(q["handle"])),
        )
        return json.dumps(
            {"links": links, "qdiscs": qdiscs, "classes": dump["classes"]}, sort_keys=True
        )

    def _ifname(self, port: str) -> str:
        config = self.driver.applied().ports[port]
        return str(config.interface_name)

    def power_cycle(self) -> None:
        """The NIC's driver reloads: its netdevs come back down at the default MTU, and the
        child netdevs made on them are gone."""
        for link in json.loads(ip("-n", self._host, "-d", "-j", "link", "show")):
            name = link["ifname"]
            if (link.get("linkinfo") or {}).get("info_kind") == "macvlan":
                ip("-n", self._host, "link", "del", name)
            elif name in self._peers:
                ip("-n", self._host, "link", "set", name, "down", "mtu", "1500")

    def pull_cable(self, port: str) -> None:
        ip("-n", self._peer, "link", "set", self._peers[self._ifname(port)], "down")

    def plug_cable(self, port: str) -> None:
        ip("-n", self._peer, "link", "set", self._peers[self._ifname(port)], "up")


def linux_rig(target: Target) -> Rig:
    """A fresh, open linux driver over VETHS veth pairs in namespaces of its own, removed
    (with the driver closed) when the rig is dropped."""
    require_root()
    lab = NetnsLab()
    try:
        host, peer = lab.netns("ct-host"), lab.netns("ct-peer")
        peers = {f"ct{i}": f"cp{i}" for i in range(VETHS)}
        lab.veths(host, peer, peers)
        device = target.device(address=f"netns:{host}")
        driver = DriverRegistry.discover().factory(target.chipset, "linux")(device, SystemClock())
        driver.open()
    except BaseException:
        lab.close()
        raise
    controls = KernelControls(lab, host, peer, peers)
    controls.driver = driver
    rig = Rig(target, driver, SystemClock(), controls)
    weakref.finalize(rig, _dispose, driver, lab)
    return rig


def _dispose(driver: Any, lab: NetnsLab) -> None:
    driver.close()
    lab.close()


@pytest.fixture(scope="module")
def target_factory() -> TargetFactory:
    return linux_rig


class TestLinuxContract(DriverContract):
    backend = "linux"
