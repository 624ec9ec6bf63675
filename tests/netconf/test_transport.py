"""NETCONF over real SSH on 127.0.0.1: hellos, framing, errors, session operations.

netconf-client (paramiko) and a raw asyncssh client talk to a NetconfServer serving
the test operations of test_transport_harness.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree
from netconf_client.error import RpcError as ClientRpcError

from agent.northbound.netconf.contracts import BASE_1_0, BASE_1_1, NS_BASE, qname
from agent.northbound.netconf.framing import Framing
from agent.northbound.netconf.registry import TerminationReason
from agent.service.locks import RUNNING
from tests.netconf.test_transport_harness import (
    BASE_1_0_HELLO,
    BASE_1_1_HELLO,
    NS_TEST,
    TEST_CAPABILITY,
    RawClient,
    ServerThread,
    call,
    client,
    echo,
    errors_of,
    rpc,
    tags,
)

OK = qname(NS_BASE, "ok")


def kill(session_id: int) -> bytes:
    return rpc(
        f'<kill-session xmlns="{NS_BASE}"><session-id>{session_id}</session-id></kill-session>'
    )


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerThread]:
    running = ServerThread(tmp_path / "state").start()
    try:
        yield running
    finally:
        running.stop()


def raw(server: ServerThread, test: object) -> None:
    """Runs ``test(client)`` (a coroutine function) on a raw client in this thread."""

    async def main() -> None:
        connected = await RawClient.connect(server.port)
        try:
            await test(connected)  # type: ignore[operator]
        finally:
            await connected.close()

    asyncio.run(main())


# Hello and capabilities


def test_hello_lists_bases_operations_and_modules(server: ServerThread) -> None:
    with client(server.port) as session:
        capabilities = session.server_capabilities
        assert capabilities[:2] == [BASE_1_0, BASE_1_1]
        assert TEST_CAPABILITY in capabilities
        assert "urn:example:a?module=example-a&revision=2024-01-02" in capabilities
        assert "urn:b?module=example-b" in capabilities
        assert session.mode == "1.1"
        assert session.session_id in server.session_ids()


def test_session_ids_are_unique_and_never_reused(server: ServerThread) -> None:
    seen = []
    for _ in range(3):
        with client(server.port) as session:
            seen.append(session.session_id)
            call(session, rpc(f'<close-session xmlns="{NS_BASE}"/>'))
    with client(server.port) as first, client(server.port, "alice") as second:
        seen += [first.session_id, second.session_id]
    assert len(set(seen)) == 5 and seen == sorted(seen)


def test_the_authenticated_user_reaches_the_operations(server: ServerThread) -> None:
    with client(server.port, "alice") as session:
        reply = call(session, rpc(f'<whoami xmlns="{NS_TEST}"/>'))
        assert reply.findtext(qname(NS_TEST, "user")) == "alice"
        assert reply.findtext(qname(NS_TEST, "session")) == str(session.session_id)


# Framing


def test_chunked_framing_carries_large_messages_both_ways(server: ServerThread) -> None:
    text = "y" * 3_000_000
    with client(server.port) as session:
        assert session.mode == "1.1"
        reply = call(session, echo(text))
        echoed = reply.find(qname(NS_TEST, "echoed"))
        assert echoed is not None and echoed.findtext(qname(NS_TEST, "said")) == text
        big = call(session, rpc(f'<big xmlns="{NS_TEST}" size="5000000"/>'))
        assert len(big.findtext(qname(NS_TEST, "big")) or "") == 5_000_000


def test_base_1_0_client_keeps_end_of_message_framing(server: ServerThread) -> None:
    async def test(session: RawClient) -> None:
        hello = await session.hello(BASE_1_0_HELLO)
        assert hello.findtext(qname(NS_BASE, "session-id"))
        # two pipelined rpcs in one write, answered in order
        session.send(echo("one", "a") + b"]]>]]>" + echo("two", "b") + b"]]>]]>")
        first = etree.fromstring(await session.receive())
        second = etree.fromstring(await session.receive())
        assert (first.get("message-id"), second.get("message-id")) == ("a", "b")
        assert first.findtext(f".//{{{NS_TEST}}}said") == "one"

    raw(server, test)


def test_hello_and_first_chunked_rpc_in_one_write(server: ServerThread) -> None:
    async def test(session: RawClient) -> None:
        await session.receive()  # the server hello
        session.send(BASE_1_1_HELLO + b"]]>]]>" + b"\n#%d\n" % len(echo()) + echo() + b"\n##\n")
        session.deframer.switch(Framing.CHUNKED)
        reply = etree.fromstring(await session.receive())
        assert reply.find(f"{{{NS_TEST}}}echoed") is not None

    raw(server, test)


def test_chunks_split_anywhere_are_joined(server: ServerThread) -> None:
    async def test(session: RawClient) -> None:
        await session.hello(BASE_1_1_HELLO)
        message = echo("split")
        framed = b"\n#5\n" + message[:5] + b"\n#%d\n" % (len(message) - 5) + message[5:] + b"\n##\n"
        for byte in framed:
            session.send(bytes([byte]))
        reply = etree.fromstring(await session.receive())
        assert reply.findtext(f".//{{{NS_TEST}}}said") == "split"

    raw(server, test)


def test_bad_chunk_header_is_a_clean_disconnect(
    server: ServerThread, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)

    async def test(session: RawClient) -> None:
        await session.hello(BASE_1_1_HELLO)
        session.send(b"\n#12x\n<rpc/>")
        assert await session.closed()

    raw(server, test)
    server.wait_for(lambda: not server.registry.sessions())
    framing = [r for r in caplog.records if "bad framing" in r.getMessage()]
    assert len(framing) == 1 and framing[0].exc_info is None
    assert not any(r.exc_info for r in caplog.records if r.name.startswith("agent"))
    assert server.events[-1].reason is TerminationReason.DROPPED


# Hello problems


@pytest.mark.parametrize(
    "first",
    [
        echo(),  # an rpc before the hello
        b'<hello xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><capabilities>'
        b"<capability>urn:example:only</capability></capabilities></hello>",
        BASE_1_0_HELLO.replace(b"</hello>", b"<session-id>4</session-id></hello>"),
        b"<hello>not xml",
    ],
    ids=["rpc-first", "no-base", "session-id", "malformed"],
)
def test_bad_hello_ends_the_session(server: ServerThread, first: bytes) -> None:
    async def test(session: RawClient) -> None:
        await session.receive()
        session.send(first + b"]]>]]>")
        assert await session.closed()

    raw(server, test)
    server.wait_for(lambda: not server.registry.sessions())
    assert server.call(lambda: server.registry.totals.in_bad_hellos) == 1


# Errors


def test_malformed_xml_is_an_rpc_error_and_the_session_goes_on(server: ServerThread) -> None:
    with client(server.port) as session:
        with pytest.raises(ClientRpcError) as caught:
            call(session, b'<rpc message-id="1" xmlns="' + NS_BASE.encode() + b'"><echo>')
        assert caught.value.tag == "malformed-message"
        assert call(session, echo()).find(qname(NS_TEST, "echoed")) is not None
        with pytest.raises(ClientRpcError) as caught:
            call(session, b'<!DOCTYPE x [<!ENTITY e "boom">]><rpc message-id="2">&e;</rpc>')
        assert caught.value.tag == "malformed-message"
        assert "DOCTYPE" in caught.value.message or "not well-formed" in caught.value.message
        assert call(session, echo()).find(qname(NS_TEST, "echoed")) is not None
        counters = server.call(lambda: server.registry.get(session.session_id).counters)
        assert (counters.in_bad_rpcs, counters.out_rpc_errors, counters.in_rpcs) == (2, 2, 2)


def test_base_1_0_clients_get_operation_failed_for_malformed_xml(server: ServerThread) -> None:
    async def test(session: RawClient) -> None:
        await session.hello(BASE_1_0_HELLO)
        assert tags(await session.reply(b"<rpc <<")) == ["operation-failed"]

    raw(server, test)


def test_missing_message_id_is_missing_attribute_with_other_attributes_echoed(
    server: ServerThread,
) -> None:
    async def test(session: RawClient) -> None:
        await session.hello(BASE_1_1_HELLO)
        message = (
            f'<rpc xmlns="{NS_BASE}" xmlns:ex="urn:example:ext" ex:user-id="fred">'
            f'<echo xmlns="{NS_TEST}"/></rpc>'
        ).encode()
        reply = await session.reply(message)
        assert reply.get("{urn:example:ext}user-id") == "fred"
        assert reply.get("message-id") is None
        (error,) = errors_of(reply)
        assert error["error-tag"] == "missing-attribute" and error["error-type"] == "rpc"
        assert error["error-info"] == {"bad-attribute": "message-id", "bad-element": "rpc"}
        # the session goes on; every attribute is echoed, prefixes kept
        message = (
            f'<nc:rpc xmlns:nc="{NS_BASE}" xmlns:ex="urn:example:ext" message-id="7" '
            f'ex:user-id="fred" other="x"><echo xmlns="{NS_TEST}"/></nc:rpc>'
        ).encode()
        good = await session.reply(message)
        assert dict(good.attrib) == {
            "message-id": "7",
            "{urn:example:ext}user-id": "fred",
            "other": "x",
        }
        assert good.prefix == "nc"

    raw(server, test)


def test_not_an_rpc(server: ServerThread) -> None:
    async def test(session: RawClient) -> None:
        await session.hello(BASE_1_1_HELLO)
        assert tags(await session.reply(b'<foo message-id="1"/>')) == ["unknown-element"]
        wrong = await session.reply(b'<rpc xmlns="urn:other" message-id="1"/>')
        assert tags(wrong) == ["unknown-namespace"]
        nothing = await session.reply(rpc(""))
        assert tags(nothing) == ["missing-element"]
        unknown = await session.reply(rpc('<frobnicate xmlns="urn:x"/>'))
        assert tags(unknown) == ["operation-not-supported"]

    raw(server, test)


def test_handler_errors_become_rpc_errors(
    server: ServerThread, caplog: pytest.LogCaptureFixture
) -> None:
    with client(server.port) as session:
        with pytest.raises(ClientRpcError) as caught:
            call(session, rpc(f'<refuse xmlns="{NS_TEST}"/>', "r"))
        assert caught.value.tag == "access-denied"
        with pytest.raises(ClientRpcError) as caught:
            call(session, rpc(f'<errors xmlns="{NS_TEST}"/>', "e"))
        errors = errors_of(caught.value.reply_ele)
        assert [e["error-tag"] for e in errors] == ["invalid-value", "data-missing"]
        assert errors[0]["error-info"] == {"bad-element": "a"}
        assert errors[1]["error-path"] == "/x:y"
        with pytest.raises(ClientRpcError) as caught:
            call(session, rpc(f'<fail xmlns="{NS_TEST}"/>', "f"))
        assert caught.value.tag == "operation-failed"
        assert "secret" not in caught.value.reply_raw.decode()
        assert "Traceback" not in caught.value.reply_raw.decode()
        assert caught.value.reply_ele.get("message-id") == "f"
        assert call(session, echo()).find(qname(NS_TEST, "echoed")) is not None
    failed = [r for r in caplog.records if "fail (message-id f) failed" in r.getMessage()]
    assert len(failed) == 1 and failed[0].exc_info is None
    assert "\n" not in failed[0].getMessage()


def test_oversized_messages_get_too_big(tmp_path: Path) -> None:
    server = ServerThread(tmp_path / "state", max_message_bytes=64 * 1024).start()
    try:
        with client(server.port) as session:
            with pytest.raises(ClientRpcError) as caught:
                call(session, echo("z" * 100_000, "huge"))
            assert caught.value.tag == "too-big"
            assert caught.value.reply_ele.get("message-id") == "huge"
            assert call(session, echo("small")).find(qname(NS_TEST, "echoed")) is not None
            with pytest.raises(ClientRpcError) as caught:
                call(session, rpc(f'<big xmlns="{NS_TEST}" size="100000"/>', "reply"))
            assert caught.value.tag == "too-big"

        async def test(session: RawClient) -> None:
            await session.hello(BASE_1_0_HELLO)
            session.send(echo("q" * 200_000, "eom") + b"]]>]]>")
            reply = etree.fromstring(await session.receive())
            assert tags(reply) == ["too-big"] and reply.get("message-id") == "eom"
            assert tags(await session.reply(echo())) == []

        raw(server, test)
    finally:
        server.stop()


# Session operations


def test_close_session_answers_ok_then_ends(server: ServerThread) -> None:
    async def test(session: RawClient) -> None:
        await session.hello(BASE_1_1_HELLO)
        reply = await session.reply(rpc(f'<close-session xmlns="{NS_BASE}"/>', "bye"))
        assert reply.find(OK) is not None and reply.get("message-id") == "bye"
        assert await session.closed()

    raw(server, test)
    server.wait_for(lambda: not server.registry.sessions())
    assert server.events[-1].reason is TerminationReason.CLOSED
    assert server.call(lambda: server.registry.totals.dropped_sessions) == 0


def test_kill_session(server: ServerThread) -> None:
    with client(server.port) as killer, client(server.port) as victim:
        call(victim, rpc(f'<lock xmlns="{NS_TEST}"/>'))
        assert server.locks.holder(RUNNING) is not None
        pending = victim.send_rpc(rpc(f'<sleep xmlns="{NS_TEST}"/>'))  # in progress
        with pytest.raises(ClientRpcError) as caught:
            call(killer, kill(killer.session_id))
        assert caught.value.tag == "invalid-value"
        with pytest.raises(ClientRpcError) as caught:
            call(killer, kill(999))
        assert caught.value.tag == "invalid-value"
        reply = call(killer, kill(victim.session_id))
        assert reply.find(OK) is not None
        assert victim.session_id not in server.session_ids()
        assert server.locks.holder(RUNNING) is None  # released with the session
        with pytest.raises(Exception):  # noqa: B017 - the victim's rpc never got a reply
            pending.result(5)
        ended = [e for e in server.events if e.reason is not None]
        assert (ended[-1].reason, ended[-1].killed_by) == (
            TerminationReason.KILLED,
            killer.session_id,
        )
        assert call(killer, echo()).find(qname(NS_TEST, "echoed")) is not None


def test_only_admins_kill_other_users_sessions(server: ServerThread) -> None:
    with client(server.port, "alice") as alice, client(server.port, "bob") as bob:
        with pytest.raises(ClientRpcError) as caught:
            call(alice, kill(bob.session_id))
        assert caught.value.tag == "access-denied"
        assert bob.session_id in server.session_ids()


def test_notifications_interleave_with_replies(server: ServerThread) -> None:
    with client(server.port) as session:
        reply = call(session, rpc(f'<notify xmlns="{NS_TEST}" count="3"/>'))
        assert reply.find(OK) is not None
        events = [session.notifications.get(timeout=5)[1] for _ in range(3)]
        assert [e.findtext(f"{{{NS_TEST}}}event") for e in events] == ["0", "1", "2"]
        counters = server.call(lambda: server.registry.get(session.session_id).counters)
        assert counters.out_notifications == 3


def test_idle_sessions_are_closed(tmp_path: Path) -> None:
    server = ServerThread(tmp_path / "state", idle_timeout_s=0.3).start()
    try:
        with client(server.port) as session:
            assert call(session, echo()).find(qname(NS_TEST, "echoed")) is not None
            server.wait_for(lambda: not server.registry.sessions(), timeout=10)
        assert server.events[-1].reason is TerminationReason.TIMEOUT
    finally:
        server.stop()


def test_stop_ends_open_sessions(tmp_path: Path) -> None:
    server = ServerThread(tmp_path / "state").start()
    stopped = False
    try:

        async def test(session: RawClient) -> None:
            nonlocal stopped
            await session.hello(BASE_1_1_HELLO)
            assert tags(await session.reply(rpc(f'<lock xmlns="{NS_TEST}"/>'))) == []
            await asyncio.to_thread(server.stop)
            stopped = True
            assert await session.closed()

        raw(server, test)
        assert server.locks.holder(RUNNING) is None
        assert server.events[-1].reason is TerminationReason.OTHER
    finally:
        if not stopped:
            server.stop()
