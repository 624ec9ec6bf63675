"""/netconf-state (RFC 6022): capabilities, datastores with locks, schemas, sessions and
statistics, and what <get> adds to its data."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

from lxml import etree

from agent.clock import FakeClock
from agent.northbound.netconf.contracts import NS_MONITORING, NetconfEnv, RpcContext
from agent.northbound.netconf.monitoring import (
    MONITORING_CAPABILITY,
    monitoring_capabilities,
    monitoring_data,
    state_elements,
)
from agent.northbound.netconf.registry import Counter, SessionRegistry
from agent.northbound.netconf.yang_library import content_id, yang_library_capability
from agent.schema.engine import SchemaEngine
from agent.security.users import Role, User
from agent.service.locks import DatastoreLocks, LockHolder
from tests.netconf.reads_harness import ReadsHarness

START_NS = 1_700_000_000_000_000_000
ADMIN = User("admin", Role.ADMIN)
ALICE = User("alice", Role.TENANT, "operator-a")
BOB = User("bob", Role.TENANT, "operator-b")
CAPABILITIES = ("urn:ietf:params:netconf:base:1.1", MONITORING_CAPABILITY)


def q(name: str) -> str:
    return f"{{{NS_MONITORING}}}{name}"


def build(engine: SchemaEngine) -> tuple[NetconfEnv, SessionRegistry, DatastoreLocks]:
    clock = FakeClock(START_NS)
    registry = SessionRegistry(clock)
    locks = DatastoreLocks()
    core = SimpleNamespace(writes=SimpleNamespace(locks=locks))
    env = NetconfEnv(
        core=core,
        engine=engine,
        state=None,
        sessions=registry,
        modules=engine.modules,
        clock=clock,
        extras={"capabilities": lambda: CAPABILITIES},
    )
    return env, registry, locks


def context(user: User, session_id: int = 1) -> RpcContext:
    return RpcContext(session_id, user, "192.0.2.1:40000", frozenset())


def state(env: NetconfEnv, user: User) -> Any:
    return etree.fromstring(etree.tostring(monitoring_data(env, context(user))))


def test_capabilities_and_schemas(engine: SchemaEngine) -> None:
    env, _, _ = build(engine)
    found = state(env, ADMIN)
    assert found.tag == q("netconf-state")
    assert [c.text for c in found.iterfind(f"{q('capabilities')}/{q('capability')}")] == list(
        CAPABILITIES
    )
    schemas = {
        s.findtext(q("identifier")): {etree.QName(c).localname: c.text for c in s}
        for s in found.iterfind(f"{q('schemas')}/{q('schema')}")
    }
    assert set(schemas) == {m.name for m in engine.modules}
    ports = next(m for m in engine.modules if m.name == "edge-ports")
    assert schemas["edge-ports"] == {
        "identifier": "edge-ports",
        "version": ports.revision,
        "format": "yang",
        "namespace": ports.namespace,
        "location": "NETCONF",
    }


def test_datastores_show_their_locks(engine: SchemaEngine) -> None:
    env, _, locks = build(engine)
    locks.lock("candidate", LockHolder("netconf:4", "admin", "NETCONF session 4 (user admin)"))
    found = state(env, ADMIN)
    datastores = {
        d.findtext(q("name")): d for d in found.iterfind(f"{q('datastores')}/{q('datastore')}")
    }
    assert set(datastores) == {"running", "candidate"}
    assert datastores["running"].find(q("locks")) is None
    lock = datastores["candidate"].find(f"{q('locks')}/{q('global-lock')}")
    assert lock.findtext(q("locked-by-session")) == "4"


def test_sessions_and_statistics(engine: SchemaEngine) -> None:
    env, registry, _ = build(engine)
    first = registry.admit(ADMIN, "192.0.2.1", 40000)
    registry.started(first)
    second = registry.admit(ALICE, "2001:db8::5", 40001)
    registry.started(second)
    registry.totals.in_sessions = 2
    registry.count(first, Counter.IN_RPCS, 3)
    registry.count(first, Counter.OUT_RPC_ERRORS)
    registry.count(second, Counter.OUT_NOTIFICATIONS, 2)
    found = state(env, ADMIN)
    sessions = {
        s.findtext(q("session-id")): {etree.QName(c).localname: c.text for c in s}
        for s in found.iterfind(f"{q('sessions')}/{q('session')}")
    }
    assert sessions[str(first.session_id)] == {
        "session-id": str(first.session_id),
        "transport": "netconf-ssh",
        "username": "admin",
        "source-host": "192.0.2.1",
        "login-time": "2023-11-14T22:13:20.000000Z",
        "in-rpcs": "3",
        "in-bad-rpcs": "0",
        "out-rpc-errors": "1",
        "out-notifications": "0",
    }
    assert sessions[str(second.session_id)]["source-host"] == "2001:db8::5"
    statistics = {etree.QName(c).localname: c.text for c in found.find(q("statistics"))}
    assert statistics == {
        "netconf-start-time": "2023-11-14T22:13:20.000000Z",
        "in-bad-hellos": "0",
        "in-sessions": "2",
        "dropped-sessions": "0",
        "in-rpcs": "3",
        "in-bad-rpcs": "0",
        "out-rpc-errors": "1",
        "out-notifications": "2",
    }


def test_a_tenant_sees_only_its_own_sessions(engine: SchemaEngine) -> None:
    env, registry, _ = build(engine)
    for user, host in ((ADMIN, "192.0.2.1"), (ALICE, "192.0.2.2"), (BOB, "192.0.2.3")):
        registry.started(registry.admit(user, host, 40000))
    found = state(env, ALICE)
    names = [s.findtext(q("username")) for s in found.iterfind(f"{q('sessions')}/{q('session')}")]
    assert names == ["alice"]
    every = state(env, ADMIN)
    assert len(every.findall(f"{q('sessions')}/{q('session')}")) == 3


def test_get_adds_monitoring_yang_library_and_streams(engine: SchemaEngine) -> None:
    env, _, _ = build(engine)
    tags = [element.tag for element in state_elements(env, context(ADMIN))]
    assert tags == [
        q("netconf-state"),
        "{urn:ietf:params:xml:ns:yang:ietf-yang-library}yang-library",
        "{urn:ietf:params:xml:ns:netmod:notification}netconf",
    ]


def test_the_hello_capabilities(engine: SchemaEngine) -> None:
    assert monitoring_capabilities(engine.modules) == (
        "urn:ietf:params:xml:ns:yang:ietf-netconf-monitoring"
        "?module=ietf-netconf-monitoring&revision=2010-10-04",
        yang_library_capability(engine.modules),
    )


def test_get_with_a_filter_returns_the_monitoring_data(
    engine: SchemaEngine, tmp_path: Path, site: dict[str, Any]
) -> None:
    harness = ReadsHarness(tmp_path / "state", site, engine, state_data=state_elements)
    try:
        data = harness.call(
            f'<get><filter type="subtree"><netconf-state xmlns="{NS_MONITORING}">'
            "<schemas/></netconf-state></filter></get>"
        )
        [netconf_state] = list(data)
        assert netconf_state.tag == q("netconf-state")
        identifiers = [s.findtext(q("identifier")) for s in netconf_state.iter(q("schema"))]
        assert sorted(identifiers) == sorted(m.name for m in engine.modules)
        library = harness.call(
            '<get><filter><yang-library xmlns="urn:ietf:params:xml:ns:yang:ietf-yang-library">'
            "<content-id/></yang-library></filter></get>"
        )
        assert [c.text for c in library.iter() if etree.QName(c).localname == "content-id"] == [
            content_id(engine.modules)
        ]
    finally:
        harness.close()
