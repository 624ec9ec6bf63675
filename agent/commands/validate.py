"""`edge-agent validate FILE`: check a configuration file as a Set of it would be checked.

First against the model (schema, references, quotas as the schema says them), then, when
the model accepts it, against the drivers' rules: every device's driver is created for
its chipset and backend but never opened, so the rules run offline on the capabilities
the backend declares (the chip profile) and no hardware is touched.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.clock import SystemClock
from agent.datastore.hardware import DevicePool
from agent.datastore.model_registry import model_registry
from agent.datastore.refusals import problem_paths
from agent.drivers.errors import DriverUnavailable
from agent.drivers.intent import DeviceIntent
from agent.drivers.registry import DriverRegistry
from agent.mapping.intents import intents_from_tree
from agent.mapping.model import MappingError
from agent.schema.engine import SchemaEngine
from agent.site_file import SiteFileError, read_config_file, summarise


@dataclass(frozen=True)
class Finding:
    """One reason the file would be refused: where, which rule, why, and the line shown."""

    path: str
    rule: str
    message: str
    text: str


def register(subparsers: Any) -> None:
    """Adds the sub-command."""
    parser = subparsers.add_parser(
        "validate",
        help="check a configuration file (RFC 7951 JSON) against the model and the drivers",
        description="Checks a configuration file the way the agent checks a Set: against "
        "the YANG model, then against the drivers' rules for each device's chipset and "
        "backend (offline: no device is contacted). Prints every refusal with its path "
        "and rule; exits 1 when there is one.",
    )
    parser.add_argument("file", type=Path, help="configuration file (RFC 7951 JSON)")
    parser.add_argument("--json", action="store_true", help="print refusals as JSON lines")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Validates the file; returns 0 when valid, 1 when refused, 2 when unreadable."""
    try:
        tree = read_config_file(args.file)
    except SiteFileError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    schema = SchemaEngine()
    findings = [Finding(str(r.path), str(r.rule), r.message, str(r)) for r in schema.refusals(tree)]
    if not findings:
        findings = driver_findings(schema, tree, DriverRegistry.discover())
    for finding in findings:
        if args.json:
            print(
                json.dumps({"path": finding.path, "rule": finding.rule, "message": finding.message})
            )
        else:
            print(f"{args.file}: {finding.text}")
    if findings:
        print(f"{args.file}: refused ({len(findings)} problem(s))", file=sys.stderr)
        return 1
    print(f"{args.file}: valid ({summarise(tree)})", file=sys.stderr)
    return 0


def driver_findings(
    schema: SchemaEngine, tree: dict[str, Any], registry: DriverRegistry
) -> list[Finding]:
    """What the drivers of a model-valid ``tree`` refuse, each device validated from
    nothing on a driver that is created and never opened."""
    try:
        intents = intents_from_tree(tree, model_registry(schema.nav))
    except MappingError as err:
        return [Finding("/", "mapping", str(err), f"/: {err} [mapping]")]
    findings: list[Finding] = []
    served: dict[str, DeviceIntent] = {}
    for name, intent in intents.items():
        if intent.device is None:
            continue
        try:
            registry.factory(intent.device.chipset, intent.device.backend)
        except DriverUnavailable as err:
            path = f"/platform/devices/device[name={name}]/config/backend"
            findings.append(Finding(path, "driver", str(err), f"{path}: {err} [driver]"))
            continue
        served[name] = intent
    pool = DevicePool(lambda config: registry.create(config, SystemClock()))
    for problem in pool.validate({}, served):
        paths = problem_paths(problem)
        where = str(paths[0]) if paths else "/"
        message = f"{problem.kind} {problem.name}: {problem.message}"
        findings.append(Finding(where, problem.rule, message, f"{where}: {problem.summary}"))
    return findings
