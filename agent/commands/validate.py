"""`edge-agent validate FILE`: check a configuration file against the model."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from agent.schema.engine import SchemaEngine
from agent.site_file import SiteFileError, read_config_file, summarise


def register(subparsers: Any) -> None:
    """Adds the sub-command."""
    parser = subparsers.add_parser(
        "validate",
        help="check a configuration file (RFC 7951 JSON) against the YANG model",
        description="Checks a configuration file the way the agent checks a Set and prints "
        "every refusal with its path and rule. Exits 1 when there is one.",
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
    refusals = SchemaEngine().refusals(tree)
    for refusal in refusals:
        if args.json:
            record = {
                "path": str(refusal.path),
                "rule": str(refusal.rule),
                "message": refusal.message,
            }
            print(json.dumps(record))
        else:
            print(f"{args.file}: {refusal}")
    if refusals:
        print(f"{args.file}: refused ({len(refusals)} problem(s))", file=sys.stderr)
        return 1
    print(f"{args.file}: valid ({summarise(tree)})", file=sys.stderr)
    return 0
