"""`edge-agent checkpoints` and `edge-agent restore-checkpoint`: the saved configurations
of a state directory, and making one of them current again.

Run them while the agent is stopped: one process at a time uses a state directory.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agent.datastore.persistence import ConfigStore, PersistenceError


def register(subparsers: Any) -> None:
    """Adds the sub-commands."""
    listing = subparsers.add_parser(
        "checkpoints", help="list the checkpoints and the journal of a state directory"
    )
    _add_state_dir(listing)
    listing.set_defaults(handler=run_list)
    restore = subparsers.add_parser(
        "restore-checkpoint",
        help="make a saved version the running configuration again (as a new version)",
    )
    restore.add_argument(
        "version", type=int, help="a checkpoint, or a version the journal after one holds"
    )
    _add_state_dir(restore)
    restore.set_defaults(handler=run_restore)


def _add_state_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--state-dir", type=Path, required=True, metavar="DIR", help="the agent's state directory"
    )


def run_list(args: argparse.Namespace) -> int:
    """Prints every checkpoint and journal segment; 1 when one of them is damaged."""
    store = ConfigStore(args.state_dir)
    damaged = False
    for info in store.list_checkpoints():
        if info.header is None:
            damaged = True
            print(f"checkpoint {info.version}: unusable: {info.problem} ({info.path})")
            continue
        saved = datetime.fromtimestamp(info.header.saved_at_ns / 1e9, UTC).isoformat()
        meta = ", ".join(f"{k}={v}" for k, v in sorted(info.header.meta.items()))
        print(f"checkpoint {info.version}: saved {saved}{f' ({meta})' if meta else ''}")
    for segment in store.list_journal():
        span = f"versions {segment.base_version + 1}..{segment.last_version}"
        if segment.records == 0:
            span = f"no records after version {segment.base_version}"
        problem = f"; {segment.problem}" if segment.problem else ""
        damaged = damaged or (segment.problem is not None and "torn" not in segment.problem)
        print(f"journal {segment.path.name}: {span}{problem}")
    return 1 if damaged else 0


def run_restore(args: argparse.Namespace) -> int:
    """Saves the tree of the version asked for as the newest version."""
    store = ConfigStore(args.state_dir)
    try:
        header = store.restore_checkpoint(args.version)
    except PersistenceError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"version {args.version} restored as version {header.version} in {args.state_dir}")
    return 0
