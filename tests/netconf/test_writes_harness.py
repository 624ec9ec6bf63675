"""An agent built as ``edge-agent serve`` builds it (no server), on a fake clock, with
the read and write operations behind a Dispatcher driven by fake sessions on one event
loop; and the smoke test of that harness."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from lxml import etree

from agent.app import LiveDrivers, build_agent
from agent.clock import FakeClock
from agent.mapping.state_tree import StateReader
from agent.northbound.netconf.candidate import CandidateReads
from agent.northbound.netconf.codec import XmlCodec
from agent.northbound.netconf.contracts import (
    NS_BASE,
    EncodedData,
    NetconfEnv,
    RpcContext,
    RpcError,
    RpcErrors,
)
from agent.northbound.netconf.dispatch import Dispatcher
from agent.northbound.netconf.reads import CANDIDATE_KEY, read_table
from agent.northbound.netconf.registry import SessionRegistry
from agent.northbound.netconf.writes import NetconfWrites
from agent.schema.engine import SchemaEngine
from agent.security.users import Role, User
from agent.telemetry.timer import ManualTimer
from tests.northbound.harness import FAST_SCRYPT, agent_settings

NS_PORTS = "urn:edge-agent:yang:edge-ports"
NS_SLICES = "urn:edge-agent:yang:edge-slices"
NS_TENANTS = "urn:edge-agent:yang:edge-tenants"
PORT = "tor-tf1/1"
USERS = {
    "admin": User("admin", Role.ADMIN),
    "admin2": User("admin2", Role.ADMIN),
    "reader": User("reader", Role.READ_ONLY),
    "tenant-a": User("tenant-a", Role.TENANT, "operator-a"),
    "tenant-b": User("tenant-b", Role.TENANT, "operator-b"),
}


def mtu_config(mtu: int, port: str = PORT, operation: str = "") -> str:
    """A ``<config>`` body setting one port's MTU."""
    op = f' nc:operation="{operation}"' if operation else ""
    return (
        f'<ports xmlns="{NS_PORTS}"><port><name>{port}</name>'
        f"<config><mtu{op}>{mtu}</mtu></config></port></ports>"
    )


def edit(body: str, target: str = "running", **options: str) -> str:
    """An ``<edit-config>`` of ``body``; options as ``default_operation="none"``."""
    extra = "".join(
        f"<{name.replace('_', '-')}>{value}</{name.replace('_', '-')}>"
        for name, value in options.items()
    )
    return f"<edit-config><target><{target}/></target>{extra}<config>{body}</config></edit-config>"


class WritesHarness:
    """The NETCONF operations over a started datastore of ``site``."""

    def __init__(self, state_dir: Path, site: dict[str, Any], engine: SchemaEngine) -> None:
        self.clock = FakeClock()
        self.timer = ManualTimer(self.clock)
        self.agent = build_agent(
            agent_settings(state_dir),
            scrypt=FAST_SCRYPT,
            schema=engine,
            clock=self.clock,
            timer=self.timer,
        )
        self.core = self.agent.core
        self.datastore = self.agent.datastore
        self.datastore.start(site)
        self.registry = SessionRegistry(self.clock)
        self.codec = XmlCodec(engine)
        self.env = NetconfEnv(
            core=self.core,
            engine=engine,
            state=StateReader(LiveDrivers(self.datastore.devices)),
            sessions=self.registry,
            modules=engine.modules,
            clock=self.clock,
            extras={CANDIDATE_KEY: CandidateReads(self.core.candidate)},
        )
        self.loop = asyncio.new_event_loop()
        self.writes = NetconfWrites(self.env, self.codec)
        self.dispatch = Dispatcher([read_table(self.env, codec=self.codec), self.writes.table()])
        self.run(self._start())

    async def _start(self) -> None:
        self.core.start()

    def run(self, coroutine: Any) -> Any:
        return self.loop.run_until_complete(coroutine)

    def close(self) -> None:
        self.run(self.core.stop())
        self.loop.close()
        self.datastore.stop()
        self.agent.audit.close()

    def context(self, user: str = "admin", session: int = 1) -> RpcContext:
        return RpcContext(session, USERS[user], f"127.0.0.1:{40000 + session}", frozenset())

    def call(self, operation: str, user: str = "admin", session: int = 1) -> Any:
        """The reply's content for ``<rpc>`` holding ``operation`` (None: ``<ok/>``)."""
        rpc = etree.fromstring(
            f'<rpc xmlns="{NS_BASE}" xmlns:nc="{NS_BASE}" message-id="1">{operation}</rpc>'
        )
        answer = self.run(self.dispatch(self.context(user, session), rpc))
        return answer.element() if isinstance(answer, EncodedData) else answer

    def error(self, operation: str, user: str = "admin", session: int = 1) -> RpcError:
        """The one RpcError ``operation`` answers."""
        try:
            self.call(operation, user, session)
        except RpcError as err:
            return err
        raise AssertionError(f"{operation[:60]} succeeded")

    def errors(self, operation: str, user: str = "admin", session: int = 1) -> list[RpcError]:
        """Every RpcError ``operation`` answers."""
        try:
            self.call(operation, user, session)
        except RpcError as err:
            return [err]
        except RpcErrors as errs:
            return list(errs.errors)
        raise AssertionError(f"{operation[:60]} succeeded")

    def end_session(self, session: int) -> None:
        """What the transport does when a session ends, and what the writes undo."""
        self.core.writes.locks.release_all(f"netconf:{session}")
        self.run(self.writes.session_ended(session))

    def advance(self, seconds: float) -> None:
        self.run(self.timer.advance(seconds))

    def mtu(self, port: str = PORT) -> Any:
        return self.port_config(port).get("mtu")

    def port_config(self, port: str = PORT, tree: dict[str, Any] | None = None) -> Any:
        tree = tree if tree is not None else self.datastore.running.tree
        for entry in tree["edge-ports:ports"]["port"]:
            if entry["name"] == port:
                return entry.get("config", {})
        return None

    def candidate_mtu(self, port: str = PORT) -> Any:
        return self.port_config(port, self.core.candidate.tree).get("mtu")

    def hw(self) -> dict[str, Any]:
        return {
            name: driver.backend.hw_snapshot()  # type: ignore[attr-defined]
            for name, driver in sorted(self.datastore.devices.drivers.items())
        }

    def get_config(self, source: str = "running", user: str = "admin", session: int = 1) -> Any:
        return self.call(f"<get-config><source><{source}/></source></get-config>", user, session)


def test_the_harness_edits_running(
    tmp_path: Path, site: dict[str, Any], engine: SchemaEngine
) -> None:
    harness = WritesHarness(tmp_path / "state", site, engine)
    try:
        assert harness.call(edit(mtu_config(1600))) is None
        assert harness.mtu() == 1600
    finally:
        harness.close()
