"""Writes configurations into a state directory until it is killed (crash-test helper).

Usage: ``python crash_writer.py STATE_DIR PORTS SALT``

Starts like the agent (``load()``), then loops over random operations on large trees,
announcing each on stdout before it starts and after it returns:

    loaded <version>|none
    ready
    save <version> <pending 0|1>       ...  done <version>
    restore <version> <from-version>   ...  done <version>
    confirm                            ...  done confirm

Saved trees come from ``tree_for(bases, version, salt)``, so the test can rebuild the tree
any version must hold. Exit code 3 means the state directory could not be loaded.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path
from typing import Any

from agent.datastore.persist_bench import sample_tree
from agent.datastore.persistence import ConfigStore, PendingConfirm, PersistenceError

KEEP = 3


def base_trees(ports: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The two large trees the writer alternates between (even and odd versions)."""
    return sample_tree(ports, generation=0), sample_tree(ports, generation=1)


def tree_for(
    bases: tuple[dict[str, Any], dict[str, Any]], version: int, salt: str
) -> dict[str, Any]:
    """The tree saved as ``version`` by the writer run ``salt``."""
    return {**bases[version % 2], "crash-test:stamp": {"version": version, "salt": salt}}


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def main(argv: list[str]) -> int:
    state_dir, ports, salt = Path(argv[0]), int(argv[1]), argv[2]
    store = ConfigStore(state_dir, keep=KEEP)
    try:
        snapshot = store.load()
    except PersistenceError as exc:
        sys.stderr.write(f"load failed: {exc}\n")
        return 3
    _say(f"loaded {snapshot.version if snapshot else 'none'}")
    bases = base_trees(ports)
    rng = random.Random(salt)
    _say("ready")
    while True:
        version = (store.latest_version() or 0) + 1
        roll = rng.random()
        older = [c.version for c in store.list_checkpoints()[:-1] if c.valid]
        if roll < 0.2 and older:
            source = rng.choice(older)
            _say(f"restore {version} {source}")
            store.restore_checkpoint(source)
        elif roll < 0.3 and store.read_pending() is not None:
            _say("confirm")
            store.clear_pending()
            _say("done confirm")
            continue
        else:
            pending = None
            if roll > 0.75 and version > 1 and store.read_pending() is None:
                pending = PendingConfirm(f"c{version}", version, version - 1, 1 << 62)
            _say(f"save {version} {int(pending is not None)}")
            store.save(version, tree_for(bases, version, salt), {"salt": salt}, pending=pending)
        _say(f"done {version}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
