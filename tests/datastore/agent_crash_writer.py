"""Runs the real datastore and commits in a loop until killed (for the agent crash test).

Usage: python -m tests.datastore.agent_crash_writer STATE_DIR
Commit to version v sets tor-tf1/1's mtu to 1514 + v % 7000 (consecutive versions always
differ, and thousands of commits a second over several kills stay inside the port's MTU
range); prints "loaded V", then "commit V" before and "done V" after each commit.
"""

from __future__ import annotations

import sys
from pathlib import Path

from agent.clock import SystemClock
from agent.datastore.datastore import Datastore
from agent.datastore.edits import Edit
from agent.datastore.hardware import DevicePool
from agent.datastore.persistence import ConfigStore
from agent.drivers.registry import DriverRegistry
from agent.schema.engine import SchemaEngine
from tests.datastore.harness import default_site

LEAF = "/ports/port[name=tor-tf1/1]/config/mtu"


MTU_SPAN = 7000  # 1514..8513: inside every chip's range


def mtu_for(version: int) -> int:
    return 1514 + version % MTU_SPAN


def main(state_dir: str) -> int:
    clock = SystemClock()
    registry = DriverRegistry.discover()
    datastore = Datastore(
        SchemaEngine(),
        DevicePool(lambda config: registry.create(config, clock)),
        ConfigStore(Path(state_dir)),
        clock,
    )
    datastore.start(default_site())
    print(f"loaded {datastore.running.version}", flush=True)
    while True:
        version = datastore.running.version + 1
        print(f"commit {version}", flush=True)
        datastore.commit([Edit.update(LEAF, mtu_for(version))])
        print(f"done {version}", flush=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
