"""NETCONF over SSH: logins, the login throttle, session limits, what SSH may open."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Iterator
from pathlib import Path

import asyncssh
import paramiko
import pytest

from agent.northbound.netconf.contracts import qname
from agent.northbound.netconf.registry import SessionLimits
from agent.northbound.netconf.sshkeys import authorized_keys_path, ensure_host_key
from tests.netconf.test_transport_harness import (
    NS_TEST,
    USERS,
    RawClient,
    ServerThread,
    call,
    client,
    rpc,
    throttle,
)

WHOAMI = rpc(f'<whoami xmlns="{NS_TEST}"/>')


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerThread]:
    running = ServerThread(tmp_path / "state", throttle=throttle(peer_failures=3)).start()
    try:
        yield running
    finally:
        running.stop()


def audit_records(server: ServerThread) -> list[dict[str, object]]:
    server.audit.close()
    path = server.audit.path
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def refusal(server: ServerThread, user: str) -> str:
    """The reason of the SSH disconnect a login as ``user`` gets."""
    lost: list[BaseException | None] = []

    class Client(asyncssh.SSHClient):
        def connection_lost(self, exc: Exception | None) -> None:
            lost.append(exc)

    async def main() -> None:
        with contextlib.suppress(asyncssh.Error, OSError):
            conn = await asyncssh.connect(
                "127.0.0.1",
                server.port,
                username=user,
                password=USERS[user][0],
                known_hosts=None,
                client_keys=None,
                agent_path=None,
                client_factory=Client,
            )
            await asyncio.wait_for(conn.wait_closed(), 10)

    asyncio.run(main())
    assert lost and isinstance(lost[0], asyncssh.DisconnectError), lost
    return str(lost[0].reason)


def test_wrong_passwords_are_refused_then_throttled(server: ServerThread) -> None:
    for _ in range(3):
        with pytest.raises(paramiko.AuthenticationException):
            client(server.port, "alice", "wrong")
    # locked out: even the right password is not checked now
    with pytest.raises(paramiko.AuthenticationException):
        client(server.port, "alice")
    with pytest.raises(paramiko.AuthenticationException):
        client(server.port, "admin")
    records = [r for r in audit_records(server) if r["rpc"] == "netconf:login"]
    assert [r["code"] for r in records] == ["UNAUTHENTICATED"] * 3 + ["RESOURCE_EXHAUSTED"] * 2
    assert all(r["outcome"] == "denied" and r["user"] for r in records)
    assert "bad-password" in str(records[0]["message"])
    assert "too many failed logins for this peer" in str(records[-1]["message"])


def test_a_throttled_client_is_told_when_to_retry(server: ServerThread) -> None:
    banners: list[str] = []

    class Client(asyncssh.SSHClient):
        def auth_banner_received(self, msg: str, lang: str) -> None:
            banners.append(msg)

    async def attempt(password: str) -> None:
        conn = await asyncssh.connect(
            "127.0.0.1",
            server.port,
            username="bob",
            password=password,
            known_hosts=None,
            client_keys=None,
            agent_path=None,
            client_factory=Client,
        )
        conn.close()

    for _ in range(3):
        with pytest.raises(asyncssh.PermissionDenied):
            asyncio.run(attempt("nope"))
    with pytest.raises(asyncssh.PermissionDenied):
        asyncio.run(attempt("bob-pw"))
    assert banners and "too many failed logins for this peer; retry in" in banners[-1]


def test_unknown_users_are_refused(server: ServerThread) -> None:
    with pytest.raises(paramiko.AuthenticationException):
        client(server.port, "mallory", "x")
    (record,) = [r for r in audit_records(server) if r["rpc"] == "netconf:login"]
    assert "unknown-user" in str(record["message"])


def test_sessions_per_user_are_capped(tmp_path: Path) -> None:
    server = ServerThread(tmp_path / "state", limits=SessionLimits(per_user=1)).start()
    try:
        with client(server.port, "alice"):
            with pytest.raises(Exception):  # noqa: B017 - paramiko sees the connection end
                client(server.port, "alice")

            assert "user 'alice' already has 1 NETCONF sessions" in refusal(server, "alice")
            with client(server.port, "bob") as bob:  # other users are not affected
                assert call(bob, WHOAMI) is not None
        with client(server.port, "alice") as again:  # the slot is free once closed
            assert call(again, WHOAMI) is not None
    finally:
        server.stop()


def test_total_connections_are_capped(tmp_path: Path) -> None:
    server = ServerThread(tmp_path / "state", max_sessions=2).start()
    try:
        with client(server.port, "alice"), client(server.port, "bob"):
            assert "at most 2 NETCONF connections" in refusal(server, "admin")
        server.wait_for(lambda: not server.registry.sessions())
        with client(server.port, "admin") as admin:
            assert call(admin, WHOAMI) is not None
    finally:
        server.stop()


def test_only_the_netconf_subsystem_is_served(server: ServerThread) -> None:
    async def main() -> None:
        conn = await asyncssh.connect(
            "127.0.0.1",
            server.port,
            username="admin",
            password="admin-pw",
            known_hosts=None,
            client_keys=None,
            agent_path=None,
        )
        try:
            with pytest.raises(asyncssh.ChannelOpenError):
                await conn.create_connection(asyncssh.SSHTCPSession, "127.0.0.1", server.port)
            with pytest.raises(asyncssh.ChannelListenError):
                await conn.forward_remote_port("127.0.0.1", 0, "127.0.0.1", 22)
            # refused requests on the one session channel (exec, shell, sftp)
            for options in ({"command": "id"}, {"subsystem": "sftp"}, {}):
                with pytest.raises((asyncssh.ChannelOpenError, asyncssh.Error, OSError)):
                    await conn.open_session(**options)
        finally:
            conn.close()
            await conn.wait_closed()

    asyncio.run(main())
    assert server.session_ids() == []


def test_public_keys_log_in_as_their_user(server: ServerThread) -> None:
    key = asyncssh.generate_private_key("ssh-ed25519")
    path = authorized_keys_path(server.state_dir, "alice")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(key.export_public_key())
    path.chmod(0o644)

    async def login(as_user: str) -> str:
        conn = await asyncssh.connect(
            "127.0.0.1",
            server.port,
            username=as_user,
            known_hosts=None,
            client_keys=[key],
            agent_path=None,
            password=None,
            preferred_auth="publickey",
        )
        try:
            writer, reader, _ = await conn.open_session(subsystem="netconf", encoding=None)
            session = RawClient(conn, writer, reader)
            await session.hello()
            reply = await session.reply(WHOAMI)
            return str(reply.findtext(qname(NS_TEST, "user")))
        finally:
            conn.close()
            await conn.wait_closed()

    assert asyncio.run(login("alice")) == "alice"
    with pytest.raises(asyncssh.PermissionDenied):
        asyncio.run(login("bob"))
    path.chmod(0o666)  # writable by others: ignored
    with pytest.raises(asyncssh.PermissionDenied):
        asyncio.run(login("alice"))


def test_host_key_is_generated_once_and_kept(tmp_path: Path) -> None:
    first = ensure_host_key(tmp_path)
    assert first.created and first.path.stat().st_mode & 0o777 == 0o600
    again = ensure_host_key(tmp_path)
    assert not again.created and again.fingerprint == first.fingerprint
    own = asyncssh.generate_private_key("ecdsa-sha2-nistp256")
    written = own.export_private_key()
    first.path.write_bytes(written)
    kept = ensure_host_key(tmp_path)
    assert kept.algorithm == "ecdsa-sha2-nistp256"
    assert kept.fingerprint == own.get_fingerprint()
    assert first.path.read_bytes() == written


def test_a_damaged_host_key_stops_the_start(tmp_path: Path) -> None:
    from agent.northbound.netconf.sshkeys import HostKeyError, host_key_path

    path = host_key_path(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text("not a key")
    with pytest.raises(HostKeyError, match="not an unencrypted SSH private key"):
        ensure_host_key(tmp_path)
    assert path.read_text() == "not a key"
