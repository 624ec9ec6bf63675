"""`edge-agent site`: show the (default) simulated site, validated, as a tree."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from agent.datastore.model_registry import model_registry
from agent.mapping.registry import ModelRegistry
from agent.schema.engine import SchemaEngine
from agent.site_file import SiteFileError, default_site_path, read_config_file, summarise


def register(subparsers: Any) -> None:
    """Adds the sub-command."""
    parser = subparsers.add_parser(
        "site",
        help="print a site configuration (default: the simulated site) as a tree",
    )
    parser.add_argument("--file", type=Path, default=None, help="configuration file")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Validates and prints the site; 1 when it is refused."""
    path: Path = args.file or default_site_path()
    try:
        tree = read_config_file(path)
    except SiteFileError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    engine = SchemaEngine()
    refusals = engine.refusals(tree)
    for refusal in refusals:
        print(f"{path}: {refusal}", file=sys.stderr)
    if refusals:
        return 1
    print(f"# {path.name}: valid ({summarise(tree)})")
    for line in render_tree(tree, model_registry(engine.nav)):
        print(line)
    return 0


def render_tree(tree: dict[str, Any], model: ModelRegistry) -> list[str]:
    """Devices with their ports, tenants with their quotas, then slices with their
    members, one line each; leaves left out show the model's defaults."""
    lines: list[str] = []
    devices = _entries(tree, "edge-platform:platform", "devices", "device")
    ports = _entries(tree, "edge-ports:ports", "port")
    for device in devices:
        cfg = model.device.configured(device.get("config", {}))
        chipset = str(cfg.get("chipset", "?")).rpartition(":")[2]
        lines.append(f"device {device['name']} ({chipset}, backend {cfg['backend']})")
        for port in ports:
            pc = model.port.configured(port.get("config", {}))
            if pc.get("device") != device["name"]:
                continue
            breakout = pc["breakout"]
            split = f" breakout {breakout} ch {pc['channel']}" if breakout != "none" else ""
            lines.append(
                f"  port {port['name']}: cage {pc.get('index')}{split}, {pc.get('speed')}, "
                f"fec {pc['fec']}, mtu {pc['mtu']}"
            )
    for tenant in _entries(tree, "edge-tenants:tenants", "tenant"):
        lines.append(_tenant_line(model.tenant.configured(tenant.get("config", {})), tenant))
    for sl in _entries(tree, "edge-slices:slices", "slice"):
        sc = sl.get("config", {})
        sd = f"/{sc['sd']}" if "sd" in sc else ""
        members = [m["port"] for m in sl.get("members", {}).get("member", [])]
        lines.append(
            f"slice {sl['name']} (S-NSSAI {sc.get('sst')}{sd}, vlan {sc.get('vlan-id')}, "
            f"tenant {sc.get('tenant', '-')}): {', '.join(members)}"
        )
    return lines


def _tenant_line(tc: dict[str, Any], tenant: dict[str, Any]) -> str:
    rate = tc.get("max-guaranteed-rate-bps")
    guaranteed = "no rate limit" if rate is None else f"{int(rate) / 1e9:g}G guaranteed"
    return (
        f"tenant {tenant['name']}: max {tc['max-slices']} slices, {guaranteed} per port, "
        f"{tc['max-subscriptions']} subscriptions, {tc['max-set-rate']} sets/s; "
        f"ports {', '.join(tc.get('ports', [])) or '-'}"
    )


def _entries(tree: dict[str, Any], top: str, *names: str) -> list[dict[str, Any]]:
    node: Any = tree.get(top) or tree.get(top.split(":", 1)[1]) or {}
    for name in names:
        node = node.get(name, {}) if isinstance(node, dict) else {}
    return node if isinstance(node, list) else []
