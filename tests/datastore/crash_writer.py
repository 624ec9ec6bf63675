"""Writes configurations into a state directory until it is killed (crash-test helper).

Usage: ``python crash_writer.py STATE_DIR PORTS SALT``

Starts like the agent (``load()``), then loops over random operations on large trees,
announcing each on stdout before it starts and after it returns (a commit once its
journal record is durable):

    loaded <version>|none
    ready
    commit <version> <pending 0|1>     ...  done <version>
    save <version> <pending 0|1>       ...  done <version>
    restore <version> <from-version>   ...  done <version>
    confirm                            ...  done confirm

Commits go to the journal, with a checkpoint in the background every few records, so
kills land in record writes, segment rotations, checkpoints and pruning alike. Trees come
from ``tree_for(bases, version, salt)``, so the test can rebuild the tree any version
must hold. Exit code 3 means the state directory could not be loaded.
"""

from __future__ import annotations

import os
import random
import sys
from pathlib import Path
from typing import Any

from agent.datastore.persist_bench import sample_tree
from agent.datastore.persistence import (
    CheckpointPolicy,
    ConfigStore,
    PendingConfirm,
    PersistenceError,
)

KEEP = 3
POLICY = CheckpointPolicy(every_records=4, every_bytes=4 << 20)


def crash_rng() -> tuple[int, random.Random]:
    """The seed of a crash test run (EDGE_AGENT_CRASH_SEED replays one) and its random."""
    seed = int(os.environ.get("EDGE_AGENT_CRASH_SEED", random.randrange(1 << 32)))
    return seed, random.Random(seed)


def base_trees(ports: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The two large trees the writer alternates between (even and odd versions)."""
    return sample_tree(ports, generation=0), sample_tree(ports, generation=1)


def tree_for(
    bases: tuple[dict[str, Any], dict[str, Any]], version: int, salt: str
) -> dict[str, Any]:
    """The tree saved as ``version`` by the writer run ``salt``: every third version
    changes every port (a record as large as the tree), the others one leaf."""
    return {**bases[version // 3 % 2], "crash-test:stamp": {"version": version, "salt": salt}}


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def main(argv: list[str]) -> int:
    state_dir, ports, salt = Path(argv[0]), int(argv[1]), argv[2]
    store = ConfigStore(state_dir, keep=KEEP, policy=POLICY)
    try:
        snapshot = store.load()
    except PersistenceError as exc:
        sys.stderr.write(f"load failed: {exc}\n")
        return 3
    _say(f"loaded {snapshot.version if snapshot else 'none'}")
    bases = base_trees(ports)
    rng = random.Random(salt)
    _say("ready")
    started = snapshot is not None
    while True:
        version = (store.latest_version() or 0) + 1
        roll = rng.random()
        if roll < 0.1:  # no background checkpoint prunes the source meanwhile
            store.sync()
            store.wait_for_checkpoints()
        older = [c.version for c in store.list_checkpoints()[:-1] if c.valid]
        if not started:  # the first configuration is saved whole
            _say(f"save {version} 0")
            store.save(version, tree_for(bases, version, salt))
            started = True
        elif roll < 0.1 and older:
            source = rng.choice(older)
            _say(f"restore {version} {source}")
            store.restore_checkpoint(source)
        elif roll < 0.2 and store.read_pending() is not None:
            _say("confirm")
            store.clear_pending()
            _say("done confirm")
            continue
        else:
            pending = None
            if roll > 0.75 and version > 1 and store.read_pending() is None:
                pending = PendingConfirm(f"c{version}", version, version - 1, 1 << 62)
            whole = roll < 0.3
            _say(f"{'save' if whole else 'commit'} {version} {int(pending is not None)}")
            tree = tree_for(bases, version, salt)
            if whole:
                store.save(version, tree, {"salt": salt}, pending=pending)
            else:
                store.commit(version, tree, {"salt": salt}, pending=pending).result()
        _say(f"done {version}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
