"""NETCONF notifications in-process: create-subscription on fake sessions whose ``send``
collects notifications, fed by commits made over gNMI against a real agent."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from agent.northbound.netconf.contracts import (
    NS_BASE,
    NS_NOTIFICATION,
    NetconfEnv,
    RpcContext,
    RpcError,
)
from agent.northbound.netconf.notifications import NotificationService
from agent.northbound.netconf.registry import SessionRegistry, TerminationReason
from agent.schema.engine import SchemaEngine
from agent.security.users import Role, User
from tests.northbound.harness import AgentThread, Client, agent_settings, commit_ext

NC = "urn:ietf:params:xml:ns:yang:ietf-netconf-notifications"
PORTS_NS = "urn:edge-agent:yang:edge-ports"
WAIT_S = 10


class FakeSession:
    """A NETCONF session as the operations see it; notifications land in ``received``."""

    def __init__(self, user: Any, session_id: int) -> None:
        self.received: list[Any] = []
        self._arrived = asyncio.Event()
        self.context = RpcContext(session_id, user, "127.0.0.1:50000", frozenset(), send=self._send)

    async def _send(self, notification: Any) -> None:
        self.received.append(etree.fromstring(etree.tostring(notification)))
        self._arrived.set()

    async def wait_for(self, count: int) -> list[Any]:
        async def arrived() -> None:
            while len(self.received) < count:
                self._arrived.clear()
                await self._arrived.wait()

        await asyncio.wait_for(arrived(), WAIT_S)
        return self.received


class Stack:
    """An agent, its NotificationService and fake sessions on the agent's loop."""

    def __init__(self, agent: AgentThread, **options: Any) -> None:
        self.agent = agent
        core = agent.agent.core
        self.registry = SessionRegistry(agent.agent.clock)
        env = NetconfEnv(
            core=core,
            engine=agent.agent.schema,
            state=None,
            sessions=self.registry,
            modules=agent.agent.schema.modules,
            clock=agent.agent.clock,
        )
        self.service = NotificationService(env, **options)
        self._next_id = 1
        self.clients: list[Client] = []

    def session(self, user: str) -> FakeSession:
        found = self.agent.agent.users.get(user)
        assert found is not None
        self._next_id += 1

        async def make() -> FakeSession:
            return FakeSession(found, self._next_id)

        return self.agent.run(make())

    def subscribe(self, session: FakeSession, body: str = "") -> None:
        self.agent.run(self.service.create_subscription(session.context, rpc(body)))

    def received(self, session: FakeSession, count: int) -> list[Any]:
        return self.agent.run(session.wait_for(count))

    def client(self, user: str = "admin") -> Client:
        made = Client(self.agent.target, user)
        self.clients.append(made)
        return made


def rpc(body: str = "") -> Any:
    return etree.fromstring(
        f'<rpc xmlns="{NS_BASE}" message-id="1">'
        f'<create-subscription xmlns="{NS_NOTIFICATION}">{body}</create-subscription></rpc>'
    )


@pytest.fixture
def stack(engine: SchemaEngine, tmp_path: Path) -> Iterator[Stack]:
    agent = AgentThread(agent_settings(tmp_path / "state"), schema=engine).start()
    made = Stack(agent)
    try:
        yield made
    finally:
        agent.run(_stop(made.service))
        for client in made.clients:
            client.close()
        agent.stop()


async def _stop(service: NotificationService) -> None:
    service.stop()


def edits(notification: Any) -> list[tuple[str, str]]:
    change = notification.find(f"{{{NC}}}netconf-config-change")
    return [
        (e.findtext(f"{{{NC}}}target"), e.findtext(f"{{{NC}}}operation"))
        for e in change.findall(f"{{{NC}}}edit")
    ]


def changed_by(notification: Any) -> dict[str, str]:
    who = notification.find(f"{{{NC}}}netconf-config-change/{{{NC}}}changed-by")
    return {etree.QName(c).localname: c.text or "" for c in who}


def test_a_gnmi_set_produces_a_config_change(stack: Stack) -> None:
    session = stack.session("admin")
    stack.subscribe(session)
    stack.client().set(update=[("/ports/port[name=tor-tf1/1]/config/mtu", b"1500")])
    [notification] = stack.received(session, 1)
    assert notification.tag == f"{{{NS_NOTIFICATION}}}notification"
    event_time = notification.findtext(f"{{{NS_NOTIFICATION}}}eventTime")
    assert event_time is not None and event_time.endswith("Z") and "T" in event_time
    assert changed_by(notification) == {
        "username": "admin",
        "session-id": "0",
        "source-host": "127.0.0.1",
    }
    change = notification.find(f"{{{NC}}}netconf-config-change")
    assert change.findtext(f"{{{NC}}}datastore") == "running"
    target = "/eport:ports/eport:port[eport:name='tor-tf1/1']/eport:config/eport:mtu"
    assert edits(notification) == [(target, "merge")]
    target_element = change.find(f"{{{NC}}}edit/{{{NC}}}target")
    assert target_element.nsmap["eport"] == PORTS_NS


def test_create_and_delete_are_derived_from_the_diff(stack: Stack) -> None:
    session = stack.session("admin")
    stack.subscribe(session)
    admin = stack.client()
    new_slice = {
        "name": "video",
        "config": {"name": "video", "tenant": "operator-a", "sst": 1, "vlan-id": 3001},
    }
    admin.set(update=[("/slices/slice[name=video]", json.dumps(new_slice).encode())])
    admin.set(delete=["/slices/slice[name=video]"])
    created, deleted = stack.received(session, 2)
    slice_target = "/eslice:slices/eslice:slice[eslice:name='video']"
    assert edits(created) == [(slice_target, "create")]
    assert edits(deleted) == [(slice_target, "delete")]


def test_tenants_receive_only_what_their_access_sees(stack: Stack) -> None:
    admin_session = stack.session("admin")
    tenant_a = stack.session("tenant-a")
    tenant_b = stack.session("tenant-b")
    for session in (admin_session, tenant_a, tenant_b):
        stack.subscribe(session)
    admin = stack.client()
    admin.set(
        update=[
            ("/slices/slice[name=embb]/config/description", b'"broadband, tuned"'),
            ("/slices/slice[name=miot]/config/description", b'"iot, tuned"'),
        ]
    )
    admin.set(update=[("/ports/port[name=tor-tf1/2/2]/config/description", b'"spare"')])
    admin.set(update=[("/slices/slice[name=miot]/config/priority", b"3")])
    embb = "/eslice:slices/eslice:slice[eslice:name='embb']/eslice:config/eslice:description"
    miot = "/eslice:slices/eslice:slice[eslice:name='miot']/eslice:config/eslice:description"
    seen_by_admin = stack.received(admin_session, 2)
    assert sorted(edits(seen_by_admin[0])) == sorted([(embb, "merge"), (miot, "merge")])
    [only] = stack.received(tenant_a, 1)
    assert edits(only) == [(embb, "merge")]
    first, second = stack.received(tenant_b, 2)
    assert edits(first) == [(miot, "merge")]
    assert [t for t, _ in edits(second)] == [
        "/eslice:slices/eslice:slice[eslice:name='miot']/eslice:config/eslice:priority"
    ]
    stack.agent.run(_settle())
    assert len(tenant_a.received) == 1  # an undelegated port and operator-b's slice


def test_a_tenant_write_names_its_user(stack: Stack) -> None:
    tenant_a = stack.session("tenant-a")
    stack.subscribe(tenant_a)
    stack.client("tenant-a").set(
        update=[("/slices/slice[name=urllc]/config/description", b'"low latency"')]
    )
    [notification] = stack.received(tenant_a, 1)
    assert changed_by(notification)["username"] == "tenant-a"


def test_a_commit_confirmed_rollback_is_made_by_the_server(stack: Stack) -> None:
    session = stack.session("admin")
    stack.subscribe(session)
    stack.client().set(
        update=[("/ports/port[name=tor-tf1/1]/config/mtu", b"1600")],
        extension=[commit_ext("c1", "commit", 0.2)],
    )
    committed, rolled_back = stack.received(session, 2)
    assert changed_by(committed)["username"] == "admin"
    assert changed_by(rolled_back) == {"server": ""}
    target = "/eport:ports/eport:port[eport:name='tor-tf1/1']/eport:config/eport:mtu"
    assert edits(rolled_back) == [(target, "merge")]


def test_a_second_subscription_is_in_use(stack: Stack) -> None:
    session = stack.session("admin")
    stack.subscribe(session)
    with pytest.raises(RpcError) as caught:
        stack.subscribe(session)
    assert caught.value.tag == "in-use"


@pytest.mark.parametrize(
    ("body", "tag", "bad"),
    [
        ("<stream>SYSLOG</stream>", "invalid-value", "stream"),
        ("<startTime>2025-01-01T00:00:00Z</startTime>", "operation-failed", None),
        ("<stopTime>2025-01-01T00:00:00Z</stopTime>", "missing-element", "startTime"),
    ],
)
def test_refused_subscriptions(stack: Stack, body: str, tag: str, bad: str | None) -> None:
    session = stack.session("admin")
    with pytest.raises(RpcError) as caught:
        stack.subscribe(session, body)
    assert caught.value.tag == tag
    assert caught.value.info.get("bad-element") == bad
    stack.subscribe(session, "<stream>NETCONF</stream>")  # a refusal leaves none behind


def test_a_slow_client_loses_the_oldest_and_never_holds_a_commit(
    engine: SchemaEngine, tmp_path: Path
) -> None:
    agent = AgentThread(agent_settings(tmp_path / "state"), schema=engine).start()
    stack = Stack(agent, queue_limit=2)
    admin = stack.client()
    try:
        release = agent.run(_event())
        sent: list[Any] = []

        async def stuck_send(notification: Any) -> None:
            sent.append(notification)
            await release.wait()

        user = agent.agent.users.get("admin")
        context = RpcContext(7, user, "127.0.0.1:1", frozenset(), send=stuck_send)
        agent.run(stack.service.create_subscription(context, rpc()))
        for mtu in range(1500, 1506):
            admin.set(update=[("/ports/port[name=tor-tf1/1]/config/mtu", str(mtu).encode())])
        [subscription] = stack.service.subscriptions
        agent.run(_settle())
        assert subscription.dropped == 3  # one in flight, two queued, three dropped
        agent.run(_set(release))
        agent.run(_until(lambda: subscription.sent == 3))
        assert len(sent) == 3
    finally:
        agent.run(_stop(stack.service))
        admin.close()
        agent.stop()


async def _event() -> asyncio.Event:
    return asyncio.Event()


async def _set(event: asyncio.Event) -> None:
    event.set()


async def _settle() -> None:
    for _ in range(10):
        await asyncio.sleep(0)


async def _until(condition: Any) -> None:
    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0)

    await asyncio.wait_for(poll(), WAIT_S)


def test_a_failing_send_ends_the_subscription(stack: Stack) -> None:
    async def broken_send(notification: Any) -> None:
        raise ConnectionError("channel closed")

    user = stack.agent.agent.users.get("admin")
    context = RpcContext(9, user, "127.0.0.1:1", frozenset(), send=broken_send)
    stack.agent.run(stack.service.create_subscription(context, rpc()))
    stack.client().set(update=[("/ports/port[name=tor-tf1/1]/config/mtu", b"1700")])
    stack.agent.run(_until(lambda: not stack.service.subscriptions))
    stack.agent.run(stack.service.create_subscription(context, rpc()))  # may subscribe again


def test_a_closed_session_ends_its_subscription(stack: Stack) -> None:
    session = stack.session("admin")
    stack.subscribe(session)
    assert len(stack.service.subscriptions) == 1
    stack.agent.run(_ended(stack.service, session.context))
    assert stack.service.subscriptions == ()


async def _ended(service: NotificationService, context: RpcContext) -> None:
    service.session_ended(context)


def test_a_filter_selects_the_events(stack: Stack) -> None:
    changes_only = stack.session("admin")
    sessions_only = stack.session("admin")
    stack.subscribe(
        changes_only, f'<filter type="subtree"><netconf-config-change xmlns="{NC}"/></filter>'
    )
    stack.subscribe(sessions_only, f'<filter><netconf-session-start xmlns="{NC}"/></filter>')
    stack.client().set(update=[("/ports/port[name=tor-tf1/1]/config/mtu", b"1800")])
    stack.agent.run(_started(stack.registry, "reader"))
    [change] = stack.received(changes_only, 1)
    assert change.find(f"{{{NC}}}netconf-config-change") is not None
    [start] = stack.received(sessions_only, 1)
    started = start.find(f"{{{NC}}}netconf-session-start")
    assert started.findtext(f"{{{NC}}}username") == "reader"
    stack.agent.run(_settle())
    assert len(changes_only.received) == 1


def test_session_starts_and_ends_are_notified(stack: Stack) -> None:
    admin = stack.session("admin")
    tenant_a = stack.session("tenant-a")
    stack.subscribe(admin)
    stack.subscribe(tenant_a)
    stack.agent.run(_started(stack.registry, "reader"))
    stack.agent.run(_started(stack.registry, "tenant-a"))
    stack.agent.run(_ended_in_registry(stack.registry, "reader"))
    start, tenant_start, end = stack.received(admin, 3)
    assert _fields(tenant_start, "netconf-session-start")["username"] == "tenant-a"
    assert _fields(start, "netconf-session-start")["username"] == "reader"
    assert _fields(end, "netconf-session-end") == {
        "username": "reader",
        "session-id": _fields(start, "netconf-session-start")["session-id"],
        "source-host": "192.0.2.7",
        "killed-by": "1",
        "termination-reason": "killed",
    }
    [seen] = stack.received(tenant_a, 1)
    assert _fields(seen, "netconf-session-start")["username"] == "tenant-a"
    stack.agent.run(_settle())
    assert len(tenant_a.received) == 1  # not the reader's sessions


def test_a_session_that_ends_loses_its_subscription(stack: Stack) -> None:
    user = stack.agent.agent.users.get("admin")

    async def open_and_subscribe() -> RpcContext:
        info = stack.registry.admit(user, "192.0.2.9", 1)
        session = FakeSession(user, info.session_id)
        info.context = session.context
        stack.registry.started(info)
        await stack.service.create_subscription(session.context, rpc())
        stack.registry.remove(info, TerminationReason.DROPPED)
        return session.context

    stack.agent.run(open_and_subscribe())
    assert stack.service.subscriptions == ()


def _fields(notification: Any, name: str) -> dict[str, str]:
    found = notification.find(f"{{{NC}}}{name}")
    assert found is not None, etree.tostring(notification)
    return {etree.QName(c).localname: c.text or "" for c in found}


async def _started(registry: SessionRegistry, name: str) -> None:
    role = Role.TENANT if name.startswith("tenant") else Role.READ_ONLY
    user = User(name, role, "operator-a" if role is Role.TENANT else None)
    registry.started(registry.admit(user, "192.0.2.7", 40000))


async def _ended_in_registry(registry: SessionRegistry, name: str) -> None:
    info = next(i for i in registry.sessions() if i.user.name == name)
    registry.remove(info, TerminationReason.KILLED, killed_by=1)


def test_an_xpath_filter_selects_the_events(stack: Stack) -> None:
    deletes = stack.session("admin")
    stack.subscribe(
        deletes,
        f'<filter type="xpath" xmlns:n="{NC}" '
        "select=\"/n:netconf-config-change[n:edit/n:operation='delete']\"/>",
    )
    admin = stack.client()
    admin.set(update=[("/ports/port[name=tor-tf1/1]/config/mtu", b"1900")])
    admin.set(delete=["/slices/slice[name=miot]"])
    [only] = stack.received(deletes, 1)
    assert edits(only) == [("/eslice:slices/eslice:slice[eslice:name='miot']", "delete")]
