"""get and get-config over real SSH with netconf-client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree
from netconf_client.error import RpcError as ClientRpcError
from netconf_client.ncclient import Manager

from agent.app import LiveDrivers
from agent.mapping.state_tree import StateReader
from agent.northbound.netconf.codec import XmlCodec
from agent.northbound.netconf.contracts import NS_BASE, NetconfEnv
from agent.northbound.netconf.dispatch import Dispatcher
from agent.northbound.netconf.errors import renderer
from agent.northbound.netconf.reads import READ_CAPABILITIES, read_table
from agent.northbound.netconf.registry import SessionRegistry
from agent.northbound.netconf.server import NetconfOptions, NetconfServer
from agent.northbound.netconf.session_ops import session_operations
from agent.northbound.netconf.sshkeys import ensure_host_key
from agent.schema.engine import SchemaEngine
from tests.netconf.ssh_client import open_manager
from tests.northbound.harness import AgentThread, agent_settings

TIMEOUT = 20
NS_PORTS = "urn:edge-agent:yang:edge-ports"


class Served:
    """An agent with a NETCONF server answering the read operations."""

    def __init__(self, agent: AgentThread, state_dir: Path) -> None:
        self.agent = agent
        self.state_dir = state_dir
        self.server: NetconfServer | None = None
        self.managers: list[Manager] = []

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
        )
        codec = XmlCodec(built.schema)
        self.server = NetconfServer(
            Dispatcher([session_operations(registry), read_table(env, codec=codec)]),
            users=built.users,
            registry=registry,
            host_key=ensure_host_key(self.state_dir),
            state_dir=self.state_dir,
            options=NetconfOptions(host="127.0.0.1", port=0),
            capabilities=list(READ_CAPABILITIES),
            modules=env.modules,
            release_locks=built.core.writes.locks.release_all,
            render_error=renderer(codec.names),
        )
        await self.server.start()

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.stop()

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
        agent.run(made.stop())
        agent.stop()


def test_reads_over_ssh(served: Served, engine: SchemaEngine, site: dict) -> None:
    manager = served.manager()
    announced = set(manager.session.server_capabilities)
    assert set(READ_CAPABILITIES) <= announced
    codec = XmlCodec(engine)

    config = manager.get_config(source="running").data_ele
    assert codec.from_xml(list(config)) == site

    one = manager.get_config(
        source="running",
        filter=f'<filter><ports xmlns="{NS_PORTS}"><port><name>tor-tf1/1</name><config>'
        "<mtu/></config></port></ports></filter>",
    ).data_ele
    assert codec.from_xml(list(one)) == {
        "edge-ports:ports": {"port": [{"name": "tor-tf1/1", "config": {"mtu": 9000}}]}
    }

    state = manager.get(
        filter=f'<filter type="xpath" xmlns:p="{NS_PORTS}" '
        "select=\"/p:ports/p:port[p:name='tor-tf1/1']/p:state/p:oper-status\"/>"
    ).data_ele
    (port,) = codec.from_xml(list(state), config_only=False)["edge-ports:ports"]["port"]
    assert set(port["state"]) == {"oper-status"}

    tagged = manager.get_config(
        source="running",
        filter="<filter><tenants xmlns='urn:edge-agent:yang:edge-tenants'/></filter>",
        with_defaults="report-all-tagged",
    ).data_ele
    wd = "{urn:ietf:params:xml:ns:netconf:default:1.0}default"
    assert any(e.get(wd) == "true" for e in tagged.iter())


def test_a_tenant_over_ssh_sees_its_view(served: Served, engine: SchemaEngine) -> None:
    data = served.manager("tenant-a").get().data_ele
    tops = {etree.QName(e).localname for e in data}
    assert "platform" not in tops
    slices = XmlCodec(engine).from_xml(
        [e for e in data if etree.QName(e).localname == "slices"], config_only=False
    )
    assert [s["name"] for s in slices["edge-slices:slices"]["slice"]] == ["embb", "urllc"]


def test_an_error_reply_over_ssh(served: Served) -> None:
    manager = served.manager("reader")
    with pytest.raises(ClientRpcError) as caught:
        manager.get(filter='<filter type="regex"/>')
    error = caught.value.reply_ele.find(f".//{{{NS_BASE}}}rpc-error")
    assert error.findtext(f"{{{NS_BASE}}}error-tag") == "bad-attribute"
    assert error.findtext(f"{{{NS_BASE}}}error-info/{{{NS_BASE}}}bad-attribute") == "type"
