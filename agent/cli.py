"""`edge-agent` command line: one sub-command per module in agent.commands."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from agent import __version__

# Each name is a module agent.commands.<name> exposing register(subparsers).
COMMANDS: tuple[str, ...] = (
    "validate",
    "site",
    "user",
    "policy",
    "drivers",
    "serve",
    "health",
    "checkpoints",
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command registered."""
    parser = argparse.ArgumentParser(
        prog="edge-agent",
        description="gNMI/YANG management agent for programmable network hardware",
    )
    parser.add_argument("--version", action="version", version=f"edge-agent {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"agent.commands.{name}")
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    code: int = args.handler(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
