"""Notifications and monitoring over real SSH: netconf-client subscribes, a gNMI Set
commits, the notification arrives while the session keeps answering RPCs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from netconf_client.ncclient import Manager

from agent.app import LiveDrivers
from agent.mapping.state_tree import StateReader
from agent.northbound.netconf.contracts import NS_MONITORING, NetconfEnv
from agent.northbound.netconf.dispatch import Dispatcher
from agent.northbound.netconf.monitoring import (
    monitoring_capabilities,
    monitoring_table,
    state_elements,
)
from agent.northbound.netconf.notifications import NotificationService
from agent.northbound.netconf.reads import READ_CAPABILITIES, read_table
from agent.northbound.netconf.registry import SessionRegistry
from agent.northbound.netconf.server import NetconfOptions, NetconfServer
from agent.northbound.netconf.session_ops import session_operations
from agent.northbound.netconf.sshkeys import ensure_host_key
from agent.schema.engine import SchemaEngine
from tests.netconf.ssh_client import open_manager
from tests.northbound.harness import AgentThread, Client, agent_settings

NC = "urn:ietf:params:xml:ns:yang:ietf-netconf-notifications"
TIMEOUT = 20


class Served:
    """An agent with NETCONF serving notifications, monitoring and reads."""

    def __init__(self, agent: AgentThread, state_dir: Path) -> None:
        self.agent = agent
        self.state_dir = state_dir
        self.server: NetconfServer | None = None
        self.notifications: NotificationService | None = None
        self.managers: list[Manager] = []
        self.gnmi = Client(agent.target)

    async def start(self) -> None:
        built = self.agent.agent
        registry = SessionRegistry(built.clock)
        env = NetconfEnv(
            core=built.core,
            engine=built.schema,
            state=StateReader(LiveDrivers(built.datastore.devices)),
            sessions=registry,
            modules=built.schema.modules,
            clock=built.clock,
            extras={"capabilities": lambda: self.server.capabilities if self.server else ()},
        )
        self.notifications = NotificationService(env)
        tables = [
            session_operations(registry),
            self.notifications.table,
            monitoring_table(env),
            read_table(env, state_data=state_elements),
        ]
        capabilities = [
            *self.notifications.capabilities,
            *monitoring_capabilities(env.modules),
            *READ_CAPABILITIES,
        ]
        self.server = NetconfServer(
            Dispatcher(tables),
            users=built.users,
            registry=registry,
            host_key=ensure_host_key(self.state_dir),
            state_dir=self.state_dir,
            options=NetconfOptions(host="127.0.0.1", port=0),
            capabilities=capabilities,
            modules=env.modules,
            release_locks=built.core.writes.locks.release_all,
        )
        await self.server.start()

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.stop()
        if self.notifications is not None:
            self.notifications.stop()

    def manager(self, user: str = "admin") -> Manager:
        assert self.server is not None
        made = open_manager(self.server.port, user, timeout=TIMEOUT)
        self.managers.append(made)
        return made


@pytest.fixture
def served(engine: SchemaEngine, tmp_path: Path) -> Iterator[Served]:
    state_dir = tmp_path / "state"
    agent = AgentThread(agent_settings(state_dir), schema=engine).start()
    made = Served(agent, state_dir)
    try:
        agent.run(made.start())
        yield made
    finally:
        for manager in made.managers:
            manager.session.close()
        made.gnmi.close()
        agent.run(made.stop())
        agent.stop()


def edits(notification: Any) -> list[tuple[str, str]]:
    element = notification.notification_ele
    return [
        (e.findtext(f"{{{NC}}}target"), e.findtext(f"{{{NC}}}operation"))
        for e in element.iter(f"{{{NC}}}edit")
    ]


def test_a_gnmi_set_reaches_a_netconf_subscriber(served: Served) -> None:
    manager = served.manager()
    announced = manager.session.server_capabilities
    assert "urn:ietf:params:netconf:capability:notification:1.0" in announced
    assert "urn:ietf:params:netconf:capability:interleave:1.0" in announced
    assert any(
        c.startswith("urn:ietf:params:netconf:capability:yang-library:1.1?") for c in announced
    )
    manager.create_subscription()
    served.gnmi.set(update=[("/ports/port[name=tor-tf1/1]/config/mtu", b"1500")])
    notification = manager.take_notification(timeout=TIMEOUT)
    assert notification is not None
    assert edits(notification) == [
        ("/eport:ports/eport:port[eport:name='tor-tf1/1']/eport:config/eport:mtu", "merge")
    ]
    who = notification.notification_ele.find(f".//{{{NC}}}changed-by")
    assert who.findtext(f"{{{NC}}}username") == "admin"
    assert who.findtext(f"{{{NC}}}session-id") == "0"
    # interleave: the session still answers RPCs, and monitoring counted what it sent
    sessions = f'<netconf-state xmlns="{NS_MONITORING}"><sessions/></netconf-state>'
    reply = manager.get(filter=f"<filter>{sessions}</filter>")
    data = reply.data_ele
    [mine] = [
        s
        for s in data.iter(f"{{{NS_MONITORING}}}session")
        if s.findtext(f"{{{NS_MONITORING}}}session-id") == str(manager.session_id)
    ]
    assert mine.findtext(f"{{{NS_MONITORING}}}username") == "admin"
    assert mine.findtext(f"{{{NS_MONITORING}}}out-notifications") == "1"
    assert int(mine.findtext(f"{{{NS_MONITORING}}}in-rpcs") or 0) >= 2


def test_a_tenant_hears_only_of_its_slices(served: Served) -> None:
    tenant_b = served.manager("tenant-b")
    tenant_b.create_subscription()
    served.gnmi.set(update=[("/slices/slice[name=embb]/config/description", b'"a"')])
    served.gnmi.set(update=[("/slices/slice[name=miot]/config/description", b'"b"')])
    notification = tenant_b.take_notification(timeout=TIMEOUT)
    assert [t for t, _ in edits(notification)] == [
        "/eslice:slices/eslice:slice[eslice:name='miot']/eslice:config/eslice:description"
    ]


def test_get_schema_over_ssh(served: Served) -> None:
    manager = served.manager("reader")
    reply = manager.dispatch(
        f'<get-schema xmlns="{NS_MONITORING}"><identifier>edge-slices</identifier></get-schema>'
    )
    data = etree.fromstring(reply.xml).find(f"{{{NS_MONITORING}}}data")
    assert data is not None
    assert data.text.lstrip().startswith("module edge-slices")
