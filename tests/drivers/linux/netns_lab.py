"""Network namespaces and veth pairs for tests of the linux backend, removed afterwards.

Every name carries a per-run suffix, so concurrent runs never collide. Tests need root
(CAP_SYS_ADMIN and CAP_NET_ADMIN); without it they skip, except under CI, where they fail.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest

from agent.drivers.linux.netns import open_socket
from tools.linux_lab import Namespaces, ip

__all__ = ["NetnsLab", "htb_classes", "ip", "lab", "require_root", "tc", "udp_blast"]


def require_root() -> None:
    """Skips without root (creating namespaces needs it); under CI, fails instead."""
    if os.geteuid() == 0:
        return
    if os.environ.get("CI"):
        pytest.fail("the linux backend tests need root, and CI runs as root")
    pytest.skip("needs root: the test creates network namespaces and veth pairs")


def tc(*args: str) -> str:
    done = subprocess.run(["tc", *args], capture_output=True, text=True, timeout=30)
    if done.returncode != 0:
        raise AssertionError(f"tc {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


def tc_json(ns: str, *args: str) -> list[dict[str, Any]]:
    """``tc -j`` output in ``ns`` (tc prints nothing at all when there is nothing)."""
    found: list[dict[str, Any]] = json.loads(tc("-n", ns, "-j", *args) or "[]")
    return found


_RATE_UNITS = {"bit": 1, "Kbit": 1000, "Mbit": 1000**2, "Gbit": 1000**3}


def htb_classes(ns: str, dev: str) -> dict[str, dict[str, int]]:
    """HTB classes of ``dev`` by handle: rate and ceil in bit/s (from ``tc class show``,
    whose JSON output this tc lacks)."""
    out: dict[str, dict[str, int]] = {}
    for line in tc("-n", ns, "class", "show", "dev", dev).splitlines():
        words = line.split()
        if words[:2] != ["class", "htb"]:
            continue
        out[words[2]] = {key: _rate(words[words.index(key) + 1]) for key in ("rate", "ceil")}
    return out


def _rate(text: str) -> int:
    for unit, scale in sorted(_RATE_UNITS.items(), key=lambda item: -len(item[0])):
        if text.endswith(unit):
            return int(float(text[: -len(unit)]) * scale)
    raise ValueError(f"not a tc rate: {text}")


class NetnsLab(Namespaces):
    """Namespaces and veths made for one test (names tagged per run); ``close`` removes them."""

    def link(self, ns: str, name: str) -> dict[str, Any]:
        """``ip -j -s -d link show`` of one netdev."""
        found: list[dict[str, Any]] = json.loads(
            ip("-n", ns, "-j", "-s", "-d", "link", "show", name)
        )
        return found[0]

    def kernel_dump(self, ns: str) -> dict[str, Any]:
        """Everything a commit could change in ``ns``: links (``ip -d -j link``), every
        qdisc (``tc -j``) and every class (``tc class show``; this tc prints no JSON for
        classes)."""
        links = json.loads(ip("-n", ns, "-d", "-j", "link", "show"))
        classes = {
            link["ifname"]: tc("-n", ns, "class", "show", "dev", link["ifname"]).splitlines()
            for link in links
        }
        return {"links": links, "qdiscs": tc_json(ns, "qdisc", "show"), "classes": classes}


@pytest.fixture
def lab() -> Iterator[NetnsLab]:
    require_root()
    made = NetnsLab()
    try:
        yield made
    finally:
        made.close()


def udp_blast(
    ns: str,
    dest: str,
    *,
    seconds: float,
    rate_bps: int | None = None,
    port: int = 9,
    size: int = 1200,
) -> int:
    """Sends UDP datagrams from namespace ``ns`` to ``dest`` for ``seconds`` (paced to
    ``rate_bps`` when given, else as fast as the socket takes them); the bytes sent."""
    sock = open_socket(ns, socket.AF_INET, socket.SOCK_DGRAM)
    payload = b"\0" * size
    sent = 0
    start = time.monotonic()
    try:
        while (elapsed := time.monotonic() - start) < seconds:
            if rate_bps is not None and sent * 8 > rate_bps * elapsed:
                time.sleep(0.0005)
                continue
            try:
                sent += sock.sendto(payload, (dest, port))
            except BlockingIOError:
                continue
            except OSError:  # ENOBUFS: the qdisc is full; that is the point of shaping
                time.sleep(0.0002)
    finally:
        sock.close()
    return sent
