"""An agent's service core, datastore and drivers built as ``edge-agent serve`` builds
them (no server started), with the read operations behind a Dispatcher."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from lxml import etree

from agent.app import LiveDrivers, build_agent
from agent.mapping.state_tree import StateReader
from agent.northbound.netconf.contracts import NS_BASE, EncodedData, NetconfEnv, RpcContext
from agent.northbound.netconf.dispatch import Dispatcher
from agent.northbound.netconf.reads import StateData, read_table
from agent.schema.engine import SchemaEngine
from agent.security.users import Role, User
from tests.northbound.harness import FAST_SCRYPT, agent_settings

USERS = {
    "admin": User("admin", Role.ADMIN),
    "reader": User("reader", Role.READ_ONLY),
    "tenant-a": User("tenant-a", Role.TENANT, "operator-a"),
    "tenant-b": User("tenant-b", Role.TENANT, "operator-b"),
}


class ReadsHarness:
    """The read operations over a running datastore of ``site``."""

    def __init__(
        self,
        state_dir: Path,
        site: dict[str, Any],
        engine: SchemaEngine,
        *,
        extras: dict[str, Any] | None = None,
        state_data: StateData | None = None,
    ) -> None:
        self.agent = build_agent(agent_settings(state_dir), scrypt=FAST_SCRYPT, schema=engine)
        self.agent.datastore.start(site)
        self.env = NetconfEnv(
            core=self.agent.core,
            engine=engine,
            state=StateReader(LiveDrivers(self.agent.datastore.devices)),
            sessions=None,
            modules=engine.modules,
            clock=self.agent.clock,
            extras=extras or {},
        )
        self.dispatch = Dispatcher([read_table(self.env, state_data=state_data)])

    def close(self) -> None:
        self.agent.core.admission.close()
        self.agent.datastore.stop()
        self.agent.audit.close()

    def call(self, operation: str, user: str = "admin") -> Any:
        """The reply's element for ``<rpc>`` holding ``operation`` (XML text)."""
        rpc = etree.fromstring(
            f'<rpc xmlns="{NS_BASE}" xmlns:nc="{NS_BASE}" message-id="1">{operation}</rpc>'
        )
        context = RpcContext(1, USERS[user], "127.0.0.1:1", frozenset())
        answer = asyncio.run(self.dispatch(context, rpc))
        return answer.element() if isinstance(answer, EncodedData) else answer
