"""A NETCONF session on an in-memory channel, the session registry and hello parsing."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest
from lxml import etree

from agent.clock import FakeClock
from agent.northbound.netconf.contracts import (
    BASE_1_0,
    BASE_1_1,
    NS_BASE,
    Element,
    RpcContext,
    qname,
)
from agent.northbound.netconf.dispatch import Dispatcher
from agent.northbound.netconf.framing import Deframer, Framing, encode
from agent.northbound.netconf.hello import (
    HelloError,
    module_capability,
    parse_client_hello,
    server_capabilities,
)
from agent.northbound.netconf.registry import (
    Counter,
    SessionEvent,
    SessionLimitError,
    SessionLimits,
    SessionRegistry,
    TerminationReason,
)
from agent.northbound.netconf.session import NetconfSession, SessionOptions
from agent.northbound.netconf.session_ops import session_operations
from agent.security.users import Role, User
from tests.netconf.test_transport_harness import (
    BASE_1_0_HELLO,
    BASE_1_1_HELLO,
    MODULES,
    NS_TEST,
    echo,
    rpc,
    tags,
)

ADMIN = User("admin", Role.ADMIN)


class MemoryChannel:
    """A session's channel that keeps what was written."""

    def __init__(self) -> None:
        self.written = bytearray()
        self.closed = False
        self.paused = False

    def write(self, data: bytes) -> None:
        assert not self.closed
        self.written += data

    async def drain(self) -> None:
        return None

    def close(self) -> None:
        self.closed = True

    def pause_reading(self) -> None:
        self.paused = True

    def resume_reading(self) -> None:
        self.paused = False


class Harness:
    def __init__(self, **options: Any) -> None:
        self.clock = FakeClock()
        self.registry = SessionRegistry(self.clock)
        self.events: list[SessionEvent] = []
        self.registry.listen(self.events.append)
        self.released: list[str] = []
        self.revoked: str | None = None
        self.channel = MemoryChannel()
        self.info = self.registry.admit(ADMIN, "192.0.2.1", 4000)

        async def echo_op(context: RpcContext, rpc_element: Element) -> Element:
            return etree.Element(qname(NS_TEST, "echoed"))

        handler = Dispatcher([session_operations(self.registry), {qname(NS_TEST, "echo"): echo_op}])
        self.session = NetconfSession(
            self.info,
            self.registry,
            handler,
            self.channel,
            SessionOptions(capabilities=(BASE_1_0, BASE_1_1), **options),
            release_locks=self.released.append,
            revoked=lambda user: self.revoked,
        )
        self.deframer = Deframer(1 << 30)

    def replies(self) -> list[Element]:
        self.deframer.feed(bytes(self.channel.written))
        self.channel.written.clear()
        found = []
        while (message := self.deframer.next()) is not None:
            assert isinstance(message, bytes)
            found.append(etree.fromstring(message))
            if found[-1].tag == qname(NS_BASE, "hello"):
                self.deframer.switch(self.session.framing)
        return found

    async def ended(self) -> None:
        for _ in range(500):
            if self.session.ended:
                return
            await asyncio.sleep(0.01)
        raise AssertionError("the session did not end")

    async def settle(self) -> None:
        for _ in range(20):
            await asyncio.sleep(0)


def test_pipelined_rpcs_are_answered_in_order_even_after_eof() -> None:
    async def main() -> None:
        harness = Harness()
        harness.session.start()
        stream = BASE_1_1_HELLO + b"]]>]]>"
        stream += b"".join(encode(echo(message_id=str(n)), Framing.CHUNKED) for n in range(5))
        harness.session.data_received(stream)
        harness.session.eof_received()
        await harness.ended()
        hello, *replies = harness.replies()
        assert hello.findtext(qname(NS_BASE, "session-id")) == str(harness.info.session_id)
        assert [r.get("message-id") for r in replies] == ["0", "1", "2", "3", "4"]
        assert harness.channel.closed and harness.released == ["netconf:1"]
        assert harness.events[-1].reason is TerminationReason.DROPPED

    asyncio.run(main())


def test_a_removed_user_ends_the_session() -> None:
    async def main() -> None:
        harness = Harness()
        harness.session.start()
        harness.session.data_received(BASE_1_0_HELLO + b"]]>]]>")
        harness.session.data_received(echo() + b"]]>]]>")
        await harness.settle()
        harness.revoked = "user 'admin': removed"
        harness.session.data_received(echo(message_id="2") + b"]]>]]>")
        await harness.ended()
        _hello, good, refused = harness.replies()
        assert tags(good) == [] and tags(refused) == ["access-denied"]
        assert harness.session.ended and harness.channel.closed

    asyncio.run(main())


def test_no_hello_in_time() -> None:
    async def main() -> None:
        harness = Harness(hello_timeout_s=0.05)
        harness.session.start()
        await harness.ended()
        assert harness.channel.closed
        assert harness.registry.totals.dropped_sessions == 1
        assert harness.events == []  # it never started

    asyncio.run(main())


def test_kill_and_notifications_after_the_end() -> None:
    async def main() -> None:
        harness = Harness()
        harness.session.start()
        harness.session.data_received(BASE_1_1_HELLO + b"]]>]]>")
        await harness.settle()
        context = harness.session.context
        assert context is not None and context.send is not None
        await harness.registry.kill(harness.info.session_id, by=99)
        assert harness.session.ended and harness.registry.get(harness.info.session_id) is None
        await context.send(etree.Element("notification"))  # nothing, no error
        assert harness.events[-1].killed_by == 99
        with pytest.raises(LookupError):
            await harness.registry.kill(harness.info.session_id)

    asyncio.run(main())


def test_registry_limits_ids_and_monitoring() -> None:
    clock = FakeClock()
    registry = SessionRegistry(clock, SessionLimits(max_sessions=3, per_user=2))
    first = registry.admit(ADMIN, "192.0.2.1", 1)
    registry.admit(ADMIN, "192.0.2.1", 2)
    with pytest.raises(SessionLimitError, match="user 'admin' already has 2"):
        registry.admit(ADMIN, "192.0.2.1", 3)
    other = registry.admit(User("bob", Role.READ_ONLY), "2001:db8::1", 4)
    assert other.peer == "[2001:db8::1]:4" and other.lock_session == "netconf:3"
    with pytest.raises(SessionLimitError, match="at most 3"):
        registry.admit(User("carol", Role.READ_ONLY), "192.0.2.1", 5)
    registry.count(first, Counter.IN_RPCS, 2)
    registry.count(other, Counter.OUT_NOTIFICATIONS)
    rows = list(registry.monitoring_sessions())
    assert [row["session-id"] for row in rows] == [1, 2, 3]
    assert rows[0]["in-rpcs"] == 2 and rows[2]["username"] == "bob"
    assert str(rows[0]["login-time"]).endswith("Z")
    registry.remove(first, TerminationReason.CLOSED)
    registry.remove(other, TerminationReason.TIMEOUT)
    stats = registry.monitoring_statistics()
    assert (stats["in-rpcs"], stats["out-notifications"], stats["dropped-sessions"]) == (2, 1, 1)
    assert registry.admit(ADMIN, "192.0.2.1", 6).session_id == 4  # never reused


def test_hellos() -> None:
    assert module_capability(MODULES[0]) == "urn:example:a?module=example-a&revision=2024-01-02"
    listed = server_capabilities(["urn:x", BASE_1_1, "urn:x"], MODULES)
    assert listed[:3] == (BASE_1_0, BASE_1_1, "urn:x") and len(listed) == 5
    newer = SimpleNamespace(name="c", revision="", namespace="urn:c", yang_version="1.1")
    assert server_capabilities([], [*MODULES, newer]) == server_capabilities([], MODULES)
    hello = parse_client_hello(etree.fromstring(BASE_1_1_HELLO))
    assert hello.framing is Framing.CHUNKED
    assert parse_client_hello(etree.fromstring(BASE_1_0_HELLO)).framing is Framing.END_OF_MESSAGE
    for bad in (
        echo(),
        BASE_1_0_HELLO.replace(b"base:1.0", b"base:2.0"),
        BASE_1_0_HELLO.replace(b"</hello>", b"<session-id>1</session-id></hello>"),
        f'<hello xmlns="{NS_BASE}"/>'.encode(),
    ):
        with pytest.raises(HelloError):
            parse_client_hello(etree.fromstring(bad))


def test_replies_keep_rpc_attributes_and_prefixes() -> None:
    async def main() -> None:
        harness = Harness()
        harness.session.start()
        harness.session.data_received(BASE_1_0_HELLO + b"]]>]]>")
        message = (
            f'<x:rpc xmlns:x="{NS_BASE}" xmlns:e="urn:e" message-id="m" e:a="b">'
            f'<echo xmlns="{NS_TEST}"/></x:rpc>'
        ).encode()
        harness.session.data_received(message + b"]]>]]>")
        harness.session.data_received(rpc(f'<close-session xmlns="{NS_BASE}"/>') + b"]]>]]>")
        await harness.ended()
        _hello, reply, closed = harness.replies()
        assert reply.prefix == "x" and dict(reply.attrib) == {"message-id": "m", "{urn:e}a": "b"}
        assert closed.find(qname(NS_BASE, "ok")) is not None
        assert harness.events[-1].reason is TerminationReason.CLOSED

    asyncio.run(main())


def test_an_oversized_hello_ends_the_session() -> None:
    async def main() -> None:
        harness = Harness()
        harness.session.start()
        padding = b"<!-- " + b"x" * (2 * 1024 * 1024) + b" -->"
        harness.session.data_received(
            BASE_1_1_HELLO.replace(b"<capabilities>", padding + b"<capabilities>")
        )
        harness.session.data_received(b"]]>]]>")
        await harness.ended()
        assert harness.registry.totals.in_bad_hellos == 1

    asyncio.run(main())
