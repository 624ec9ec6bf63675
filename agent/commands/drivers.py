"""`edge-agent drivers`: list the installed driver families, their chipsets and backends."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from agent.drivers.capabilities import Capabilities
from agent.drivers.registry import DriverRegistry
from agent.drivers.units import format_bps

EXIT_OK = 0
EXIT_PLUGIN_ERRORS = 1


def register(subparsers: Any) -> None:
    """Adds the ``drivers`` command."""
    parser = subparsers.add_parser(
        "drivers",
        help="list installed hardware drivers, the chipsets they serve and their backends",
        description="List the driver families registered under the edge_agent.drivers "
        "entry points, each chipset model they serve and the backends (edge_agent.backends "
        "entry points) it can run on. Capabilities shown are the chip profiles; a real "
        "backend narrows them to what it probes on the device.",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Prints the registry; exits 1 if a plugin failed to load."""
    registry = DriverRegistry.discover()
    if args.json:
        print(json.dumps(_as_json(registry), indent=2))
    else:
        print(_as_table(registry))
    for error in registry.load_errors:
        print(f"warning: {error}", file=sys.stderr)
    return EXIT_PLUGIN_ERRORS if registry.load_errors else EXIT_OK


def _summary(caps: Capabilities) -> str:
    speeds = f"{format_bps(min(caps.speeds_bps))}-{format_bps(max(caps.speeds_bps))}"
    vfs = "no VFs" if caps.vf_limit == 0 else f"{caps.vf_limit} VFs {caps.vf_scope.value}"
    return f"{caps.port_count} ports {speeds}, mtu <= {caps.mtu_max}, {vfs}"


def _as_table(registry: DriverRegistry) -> str:
    rows = [("FAMILY", "CHIPSET", "BACKENDS", "MODEL")]
    for family in registry.families:
        backends = ",".join(registry.backends(family.name)) or "-"
        for chipset in family.chipsets:
            caps = family.profiles[chipset]
            rows.append((family.name, chipset, backends, f"{caps.model} ({_summary(caps)})"))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [
        "  ".join((*(cell.ljust(width) for cell, width in zip(row, widths, strict=False)), row[3]))
        for row in rows
    ]
    families = len(registry.families)
    chipsets = len(registry.chipsets)
    lines.append(f"\n{families} driver families, {chipsets} chipset models")
    return "\n".join(lines)


def _as_json(registry: DriverRegistry) -> dict[str, Any]:
    return {
        "families": [
            {
                "name": family.name,
                "description": family.description,
                "backends": list(registry.backends(family.name)),
                "chipsets": [
                    {
                        "chipset": chipset,
                        "model": family.profiles[chipset].model,
                        "ports": family.profiles[chipset].port_count,
                        "speeds-bps": list(family.profiles[chipset].speeds_bps),
                        "mtu-max": family.profiles[chipset].mtu_max,
                        "vf-limit": family.profiles[chipset].vf_limit,
                        "vf-scope": family.profiles[chipset].vf_scope.value,
                    }
                    for chipset in family.chipsets
                ],
            }
            for family in registry.families
        ],
        "load-errors": list(registry.load_errors),
    }
