"""Fixtures of the NETCONF tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent.schema.engine import SchemaEngine
from tests.netconf.test_writes_harness import WritesHarness
from tests.northbound.harness import AgentThread, agent_settings


@pytest.fixture
def agent(engine: SchemaEngine, tmp_path: Path) -> Iterator[AgentThread]:
    thread = AgentThread(agent_settings(tmp_path / "state"), schema=engine).start()
    try:
        yield thread
    finally:
        thread.stop()


@pytest.fixture
def harness(tmp_path: Path, site: dict[str, Any], engine: SchemaEngine) -> Iterator[WritesHarness]:
    """The NETCONF operations over a started datastore of the default site."""
    built = WritesHarness(tmp_path / "state", site, engine)
    yield built
    built.close()
