"""A lab for the linux backend: network namespaces, veth pairs, and a site that manages them.

``python -m tools.linux_lab`` (``make lab``) creates namespace ``ea-lab-host`` holding the
agent's netdevs ``lab0..labN-1`` and namespace ``ea-lab-peer`` holding their peers
``peer0..``, writes a site with one connectx-7 device on the linux backend, starts
``edge-agent serve`` on it, prints pygnmi commands that work as printed, and removes the
namespaces when the agent stops (Ctrl-C). Needs root (namespaces, CAP_NET_ADMIN).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

DEVICE = "nic-lab"


def ip(*args: str, check: bool = True) -> str:
    """Runs ``ip``; raises RuntimeError with its message when it fails and ``check``."""
    done = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30)
    if check and done.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


class Namespaces:
    """Namespaces and veth pairs made by one lab or test; ``close`` removes them all."""

    def __init__(self, tag: str | None = None) -> None:
        self.tag = tag if tag is not None else uuid.uuid4().hex[:6]
        self.made: list[str] = []

    def netns(self, role: str) -> str:
        name = f"ea-{role}-{self.tag}" if self.tag else f"ea-{role}"
        ip("netns", "add", name)
        self.made.append(name)
        ip("-n", name, "link", "set", "lo", "up")
        return name

    def veth(self, ns: str, name: str, peer_ns: str, peer: str, *, up: bool = True) -> None:
        """A veth pair: ``name`` in ``ns`` (left down, for the agent), ``peer`` in
        ``peer_ns`` (brought up when ``up``)."""
        ip("-n", ns, "link", "add", name, "type", "veth", "peer", "name", peer, "netns", peer_ns)
        if up:
            ip("-n", peer_ns, "link", "set", peer, "up")

    def veths(self, ns: str, peer_ns: str, pairs: dict[str, str]) -> None:
        """Many veth pairs at once (name in ``ns`` -> peer in ``peer_ns``, peers up), with
        one ``ip -batch`` per namespace."""
        links = "".join(
            f"link add {name} type veth peer name {peer} netns {peer_ns}\n"
            for name, peer in pairs.items()
        )
        _batch(ns, links)
        _batch(peer_ns, "".join(f"link set {peer} up\n" for peer in pairs.values()))

    def close(self) -> None:
        for name in reversed(self.made):
            ip("netns", "del", name, check=False)
        self.made.clear()


def _batch(ns: str, commands: str) -> None:
    done = subprocess.run(
        ["ip", "-n", ns, "-batch", "-"], input=commands, capture_output=True, text=True, timeout=60
    )
    if done.returncode != 0:
        raise RuntimeError(f"ip -n {ns} -batch: {done.stderr.strip()}")


def linux_site(
    netns: str, interfaces: list[str], *, device: str = DEVICE, mtu: int = 1500
) -> dict[str, Any]:
    """A site with one connectx-7 on the linux backend in ``netns``; port ``device/i``
    (index i) on each of ``interfaces``, at 10G (what a veth runs) and ``mtu``."""
    ports = [
        {
            "name": f"{device}/{i}",
            "config": {
                "name": f"{device}/{i}",
                "device": device,
                "index": i,
                "speed": "10G",
                "mtu": mtu,
                "interface-name": ifname,
                "description": f"netdev {ifname} in {netns}",
            },
        }
        for i, ifname in enumerate(interfaces, start=1)
    ]
    return {
        "edge-platform:platform": {
            "devices": {
                "device": [
                    {
                        "name": device,
                        "config": {
                            "name": device,
                            "chipset": "edge-types:connectx-7",
                            "backend": "linux",
                            "address": f"netns:{netns}",
                            "description": "ConnectX-7 netdevs, here veths in a namespace",
                        },
                    }
                ]
            }
        },
        "edge-ports:ports": {"port": ports},
    }


def pygnmi_commands(state_dir: Path, port: int, device: str = DEVICE) -> list[str]:
    """pygnmicli commands against the lab agent (admin password from the state dir)."""
    cli = shlex.quote(str(Path(sys.executable).with_name("pygnmicli")))
    password = f'"$(cat {shlex.quote(str(state_dir / "bootstrap-admin.password"))})"'
    base = (
        f"{cli} -t 127.0.0.1:{port} -u admin --pass={password} "
        f"-r {shlex.quote(str(state_dir / 'tls' / 'ca.crt'))}"
    )
    first = f"/ports/port[name={device}/1]"
    return [
        f"{base} -o get -x '{first}/state'",
        f"{base} -o get -x '/platform/devices/device[name={device}]/state/capabilities'",
        f"{base} -o subscribe-stream -x '{first}/state/oper-status'",
        f"{base} -o set-update -x '{first}/config/mtu' -f <(echo 9000)",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ports", type=int, default=4, help="veth pairs (default 4)")
    parser.add_argument("--state-dir", type=Path, default=Path("state-lab"))
    parser.add_argument("--listen", default="127.0.0.1:9339")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        print("make lab needs root: it creates network namespaces", file=sys.stderr)
        return 1
    state_dir = args.state_dir.resolve()
    lab = Namespaces(tag="")
    for role in ("lab-host", "lab-peer"):
        ip("netns", "del", f"ea-{role}", check=False)  # a lab left over from a crash
    try:
        host, peer = lab.netns("lab-host"), lab.netns("lab-peer")
        names = [f"lab{i}" for i in range(args.ports)]
        lab.veths(host, peer, {name: f"peer{i}" for i, name in enumerate(names)})
        state_dir.mkdir(parents=True, exist_ok=True)
        site = state_dir / "lab-site.json"
        site.write_text(json.dumps(linux_site(host, names), indent=1) + "\n")
        port = int(args.listen.rpartition(":")[2])
        print(f"namespaces {host} (netdevs {', '.join(names)}) and {peer} (their peers)")
        print("try, in another shell:")
        for line in pygnmi_commands(state_dir, port):
            print(f"  {line}")
        print(f"  ip netns exec {peer} ip link set peer0 down   # oper-status goes DOWN")
        print(f"  ip -n {host} -j link show lab0                 # what the kernel holds")
        sys.stdout.flush()
        command = [
            str(Path(sys.executable).with_name("edge-agent")),
            "serve",
            "--state-dir",
            str(state_dir),
            "--site",
            str(site),
            "--listen",
            args.listen,
            "--bootstrap-admin",
            "admin",
            "--netconf-listen",
            "127.0.0.1:0",
        ]
        agent = subprocess.Popen(command)
        # Ctrl-C reaches the agent too (same process group); SIGTERM is passed on to it.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, lambda _signum, _frame: agent.terminate())
        return agent.wait()
    finally:
        lab.close()


if __name__ == "__main__":
    raise SystemExit(main())
