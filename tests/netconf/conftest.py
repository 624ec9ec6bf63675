"""Fixtures of the NETCONF tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.schema.engine import SchemaEngine
from tests.northbound.harness import AgentThread, agent_settings


@pytest.fixture
def agent(engine: SchemaEngine, tmp_path: Path) -> Iterator[AgentThread]:
    thread = AgentThread(agent_settings(tmp_path / "state"), schema=engine).start()
    try:
        yield thread
    finally:
        thread.stop()
