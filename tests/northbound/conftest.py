"""Fixtures: an in-process agent (plaintext, ephemeral port) and clients per user."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from agent.schema.engine import SchemaEngine
from tests.northbound.harness import AgentThread, Client, agent_settings


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state"


@pytest.fixture
def agent(engine: SchemaEngine, state_dir: Path) -> Iterator[AgentThread]:
    """A fresh agent on the default simulated site."""
    running = AgentThread(agent_settings(state_dir), schema=engine).start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def client_for(agent: AgentThread) -> Iterator[Callable[..., Client]]:
    """Opens clients for ``agent`` (closed after the test)."""
    clients: list[Client] = []

    def open_client(user: str | None = "admin", password: str | None = None) -> Client:
        client = Client(agent.target, user, password)
        clients.append(client)
        return client

    yield open_client
    for client in clients:
        client.close()


@pytest.fixture
def admin(client_for: Callable[..., Client]) -> Client:
    return client_for("admin")
