"""Synthetic sites of any size (RFC 7951 config trees) for tests and benchmarks.

Every generated site is valid for the model and for the chips: Tofino 2 switches whose 32
cages are broken out 8x25G (256 ports a switch), and slices with distinct VLANs whose
members are spread over the ports so no port is oversubscribed. Slices may be spread over
tenants, each delegated exactly the member ports of its slices, within its quotas.
"""

from __future__ import annotations

from typing import Any

PORTS_PER_SWITCH = 256
CAGES = 32
CHANNELS = 8
GBPS = 1_000_000_000
PORT_GBPS = 25


def scaled_site(
    ports: int, slices: int = 0, members_per_slice: int = 3, tenants: int = 0
) -> dict[str, Any]:
    """A site with ``ports`` ports on Tofino 2 switches and ``slices`` slices; with
    ``tenants``, slice ``s`` belongs to tenant ``s % tenants`` (none without)."""
    if slices > 4094:
        raise ValueError("at most 4094 slices fit in the VLAN space")
    if tenants < 0 or (tenants and slices < tenants):
        raise ValueError("every tenant needs a slice: 0 <= tenants <= slices")
    switches = max(1, -(-ports // PORTS_PER_SWITCH))
    devices = [_device(f"sw{d:03d}") for d in range(switches)]
    port_names = [_port_name(i) for i in range(ports)]
    port_entries = [_port(i) for i in range(ports)]
    members = [
        [(s * members_per_slice + m) % ports for m in range(members_per_slice)]
        for s in range(slices)
    ]
    slice_entries = [
        _slice(
            s, [port_names[i] for i in members[s]], _tenant_name(s % tenants) if tenants else None
        )
        for s in range(slices)
    ]
    site: dict[str, Any] = {
        "edge-platform:platform": {"devices": {"device": devices}},
        "edge-ports:ports": {"port": port_entries},
    }
    if tenants:
        site["edge-tenants:tenants"] = {"tenant": _tenants(tenants, members, port_names)}
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
        "speed": f"{PORT_GBPS}G",
        "fec": "rs528",
        "breakout": "8x25G",
        "mtu": 9000,
    }
    return {"name": name, "config": config}


def _tenant_name(t: int) -> str:
    return f"tenant-{t:02d}"


def _tenants(count: int, members: list[list[int]], port_names: list[str]) -> list[Any]:
    """Tenants delegated their slices' member ports, with room for twice their slices
    and up to a port's speed of guaranteed rate on each port."""
    out = []
    for t in range(count):
        owned = range(t, len(members), count)
        ports = sorted({i for s in owned for i in members[s]})
        name = _tenant_name(t)
        config = {
            "name": name,
            "ports": [port_names[i] for i in ports],
            "max-slices": min(max(16, 2 * len(owned)), 65535),
            "max-guaranteed-rate-bps": str(PORT_GBPS * GBPS),
        }
        out.append({"name": name, "config": config})
    return out


def _slice(s: int, members: list[str], tenant: str | None) -> dict[str, Any]:
    name = f"slice-{s:04d}"
    config: dict[str, Any] = {
        "name": name,
        "sst": 128 + s % 128,
        "sd": f"{s:06X}",
        "vlan-id": s + 1,
        "min-rate-bps": str(GBPS),
        "max-rate-bps": str(5 * GBPS),
    }
    if tenant is not None:
        config["tenant"] = tenant
    return {
        "name": name,
        "config": config,
        "members": {"member": [{"port": p, "config": {"port": p}} for p in members]},
    }
