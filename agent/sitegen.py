"""Synthetic sites of any size (RFC 7951 config trees) for tests and benchmarks.

Every generated site is valid for the model and for the chips: Tofino 2 switches whose 32
cages are broken out 8x25G (256 ports a switch), and slices with distinct VLANs whose
members are spread over the ports so no port is oversubscribed.
"""

from __future__ import annotations

from typing import Any

PORTS_PER_SWITCH = 256
CAGES = 32
CHANNELS = 8
GBPS = 1_000_000_000


def scaled_site(ports: int, slices: int = 0, members_per_slice: int = 3) -> dict[str, Any]:
    """A site with ``ports`` ports on Tofino 2 switches and ``slices`` slices."""
    if slices > 4094:
        raise ValueError("at most 4094 slices fit in the VLAN space")
    switches = max(1, -(-ports // PORTS_PER_SWITCH))
    devices = [_device(f"sw{d:03d}") for d in range(switches)]
    port_names = [_port_name(i) for i in range(ports)]
    port_entries = [_port(i) for i in range(ports)]
    slice_entries = [
        _slice(
            s, [port_names[(s * members_per_slice + m) % ports] for m in range(members_per_slice)]
        )
        for s in range(slices)
    ]
    site: dict[str, Any] = {
        "edge-platform:platform": {"devices": {"device": devices}},
        "edge-ports:ports": {"port": port_entries},
    }
    if slices:
        site["edge-slices:slices"] = {"slice": slice_entries}
    return site


def _device(name: str) -> dict[str, Any]:
    return {"name": name, "config": {"name": name, "chipset": "edge-types:tofino2"}}


def _port_name(i: int) -> str:
    switch, rest = divmod(i, PORTS_PER_SWITCH)
    cage, channel = divmod(rest, CHANNELS)
    return f"sw{switch:03d}/{cage + 1}/{channel}"


def _port(i: int) -> dict[str, Any]:
    switch, rest = divmod(i, PORTS_PER_SWITCH)
    cage, channel = divmod(rest, CHANNELS)
    name = _port_name(i)
    config: dict[str, Any] = {
        "name": name,
        "device": f"sw{switch:03d}",
        "index": cage + 1,
        "channel": channel,
        "speed": "25G",
        "fec": "rs528",
        "breakout": "8x25G",
        "mtu": 9000,
    }
    return {"name": name, "config": config}


def _slice(s: int, members: list[str]) -> dict[str, Any]:
    name = f"slice-{s:04d}"
    return {
        "name": name,
        "config": {
            "name": name,
            "tenant": f"tenant-{s % 50:02d}",
            "sst": 128 + s % 128,
            "sd": f"{s:06X}",
            "vlan-id": s + 1,
            "min-rate-bps": str(GBPS),
            "max-rate-bps": str(5 * GBPS),
        },
        "members": {"member": [{"port": p, "config": {"port": p}} for p in members]},
    }
