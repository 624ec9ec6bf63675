"""Fixtures of the NETCONF tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from netconf_client.ncclient import Manager

from agent.schema.engine import SchemaEngine
from tests.netconf.ssh_client import open_manager
from tests.netconf.test_writes_harness import WritesHarness
from tests.northbound.harness import AgentThread, Client, agent_settings


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


class ServedNetconf:
    """An agent with its own NETCONF server (as `edge-agent serve` wires it), with
    netconf-client sessions and gNMI clients to it."""

    def __init__(self, agent: AgentThread) -> None:
        self.thread = agent
        self.managers: list[Manager] = []
        self.clients: list[Client] = []

    def manager(self, user: str = "admin") -> Manager:
        netconf = self.thread.agent.netconf
        assert netconf is not None
        made = open_manager(netconf.port, user, timeout=20)
        self.managers.append(made)
        return made

    def gnmi(self, user: str = "admin") -> Client:
        made = Client(self.thread.target, user)
        self.clients.append(made)
        return made


@pytest.fixture
def served(agent: AgentThread) -> Iterator[ServedNetconf]:
    made = ServedNetconf(agent)
    try:
        yield made
    finally:
        for manager in made.managers:
            manager.session.close()
        for client in made.clients:
            client.close()
