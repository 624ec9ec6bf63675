"""Login throttling in the authentication interceptor, over real gRPC.

The server listens on 127.0.0.1 and on a Unix socket: the two are different peers, so
the socket stands in for the real user at another site.
"""

from __future__ import annotations

import asyncio
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc import aio

from agent.clock import FakeClock
from agent.security.audit import AuditLog, Outcome, read_audit_log
from agent.security.credentials import peer_host
from agent.security.grpc_auth import AuthInterceptor
from agent.security.throttle import LoginThrottle, ThrottlePolicy
from agent.security.tls import (
    channel_credentials,
    ensure_tls_material,
    issue_client_certificate,
    server_credentials,
)
from agent.security.users import Role, User, UserStore

TIMEOUT = 10
METHOD = "/edge.test.Svc/WhoAmI"


def login(name: str, password: str) -> tuple[tuple[str, str], ...]:
    return (("username", name), ("password", password))


ALICE = login("alice", "pw-alice")
ALICE_WRONG = login("alice", "guess")
NOC = login("noc", "pw-noc")


class CountingAuthenticator:
    """The user store, counting password checks (each one costs scrypt); ``delay``
    makes every check slow, as production scrypt parameters would."""

    def __init__(self, users: UserStore, delay: float = 0.0) -> None:
        self._users = users
        self._delay = delay
        self._lock = threading.Lock()
        self.checks = 0

    def get(self, name: str) -> User | None:
        return self._users.get(name)

    def authenticate(self, name: str, password: str) -> User:
        with self._lock:
            self.checks += 1
        if self._delay:
            time.sleep(self._delay)
        return self._users.authenticate(name, password)

    def cached_user(self, name: str, password: str) -> User | None:
        return self._users.cached_user(name, password)


@pytest.fixture
def users(store: UserStore) -> UserStore:
    store.add("alice", Role.ADMIN, "pw-alice")
    store.add("noc", Role.READ_ONLY, "pw-noc")
    return store


@pytest.fixture
def socket_dir() -> Iterator[Path]:
    # Unix socket paths are short (about 100 bytes), so not under the test's tmp_path.
    with tempfile.TemporaryDirectory(prefix="ea-") as name:
        yield Path(name)


def identity(data: bytes) -> bytes:
    return data


def build_server(interceptor: AuthInterceptor) -> aio.Server:
    async def whoami(request: bytes, context: Any) -> bytes:
        return interceptor.current_user().name.encode()

    async def count(request: bytes, context: Any) -> AsyncIterator[bytes]:
        for index in range(int(request)):
            yield f"{interceptor.current_user().name}:{index}".encode()

    server = aio.server(interceptors=[interceptor])
    handlers = {
        "WhoAmI": grpc.unary_unary_rpc_method_handler(whoami, identity, identity),
        "Count": grpc.unary_stream_rpc_method_handler(count, identity, identity),
    }
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler("edge.test.Svc", handlers),)
    )
    return server


Scenario = Callable[[aio.Channel, aio.Channel], Awaitable[None]]


def run_two_peers(interceptor: AuthInterceptor, socket_dir: Path, scenario: Scenario) -> None:
    """Runs ``scenario(tcp_channel, unix_channel)`` against one server."""

    async def main() -> None:
        server = build_server(interceptor)
        port = server.add_insecure_port("127.0.0.1:0")
        socket = f"unix:{socket_dir / 'agent.sock'}"
        server.add_insecure_port(socket)
        await server.start()
        try:
            async with (
                aio.insecure_channel(f"127.0.0.1:{port}") as tcp,
                aio.insecure_channel(socket) as unix,
            ):
                await scenario(tcp, unix)
        finally:
            await server.stop(None)

    asyncio.run(main())


async def whoami(channel: aio.Channel, metadata: tuple[tuple[str, str], ...]) -> bytes:
    stub = channel.unary_unary(METHOD, request_serializer=identity, response_deserializer=identity)
    answer: bytes = await stub(b"", metadata=metadata, timeout=TIMEOUT)
    return answer


async def refused(
    channel: aio.Channel, metadata: tuple[tuple[str, str], ...]
) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(aio.AioRpcError) as error:
        await whoami(channel, metadata)
    return error.value.code(), error.value.details() or ""


def test_wrong_passwords_lock_the_peer_out_even_for_the_right_password(
    users: UserStore, socket_dir: Path, tmp_path: Path
) -> None:
    clock = FakeClock()
    checks = CountingAuthenticator(users)
    audit = AuditLog(tmp_path / "audit", clock=clock)
    throttle = LoginThrottle(ThrottlePolicy(peer_failures=3), clock=clock)
    interceptor = AuthInterceptor(checks, audit=audit, throttle=throttle)

    async def scenario(tcp: aio.Channel, unix: aio.Channel) -> None:
        for _ in range(3):
            assert (await refused(tcp, ALICE_WRONG))[0] == grpc.StatusCode.UNAUTHENTICATED
        assert checks.checks == 3
        code, details = await refused(tcp, ALICE)
        assert code == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert details == "too many failed logins for this peer; retry in 2 s"
        assert (await refused(tcp, NOC))[0] == grpc.StatusCode.RESOURCE_EXHAUSTED
        stream = tcp.unary_stream(
            "/edge.test.Svc/Count", request_serializer=identity, response_deserializer=identity
        )
        with pytest.raises(aio.AioRpcError) as streamed:
            _ = [r async for r in stream(b"2", metadata=ALICE, timeout=TIMEOUT)]
        assert streamed.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert checks.checks == 3  # refused attempts cost no password check
        # Another peer, the real users elsewhere, are not affected.
        assert await whoami(unix, ALICE) == b"alice"
        assert await whoami(unix, NOC) == b"noc"
        clock.advance(2)
        assert await whoami(tcp, ALICE) == b"alice"

    run_two_peers(interceptor, socket_dir, scenario)
    audit.close()
    records = read_audit_log(tmp_path / "audit")
    throttled = [r for r in records if r.code == "RESOURCE_EXHAUSTED"]
    assert [(r.user, r.outcome) for r in throttled] == [
        ("alice", Outcome.DENIED),
        ("noc", Outcome.DENIED),
        ("alice", Outcome.DENIED),
    ]
    assert all(r.peer.startswith("ipv4:127.0.0.1:") for r in throttled)
    assert all(
        r.message == "throttled: too many failed logins for this peer; retry in 2 s"
        for r in throttled
    )


def test_name_rule_spares_other_users_and_other_peers(users: UserStore, socket_dir: Path) -> None:
    clock = FakeClock()
    checks = CountingAuthenticator(users)
    policy = ThrottlePolicy(peer_failures=100, user_failures=3)
    interceptor = AuthInterceptor(checks, throttle=LoginThrottle(policy, clock=clock))

    async def scenario(tcp: aio.Channel, unix: aio.Channel) -> None:
        for _ in range(3):
            assert (await refused(tcp, ALICE_WRONG))[0] == grpc.StatusCode.UNAUTHENTICATED
        code, details = await refused(tcp, ALICE)
        assert code == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert details == "too many failed logins for this name; retry in 60 s"
        assert await whoami(tcp, NOC) == b"noc"
        assert await whoami(unix, ALICE) == b"alice"
        assert checks.checks == 5

    run_two_peers(interceptor, socket_dir, scenario)


def test_unknown_users_count_as_failures(users: UserStore, socket_dir: Path) -> None:
    throttle = LoginThrottle(ThrottlePolicy(peer_failures=2), clock=FakeClock())
    interceptor = AuthInterceptor(users, throttle=throttle)

    async def scenario(tcp: aio.Channel, unix: aio.Channel) -> None:
        for name in ("root", "oracle"):
            code, _ = await refused(tcp, login(name, "123456"))
            assert code == grpc.StatusCode.UNAUTHENTICATED
        assert (await refused(tcp, ALICE))[0] == grpc.StatusCode.RESOURCE_EXHAUSTED

    run_two_peers(interceptor, socket_dir, scenario)


def test_requests_without_a_password_do_not_count(users: UserStore, socket_dir: Path) -> None:
    throttle = LoginThrottle(ThrottlePolicy(peer_failures=1), clock=FakeClock())
    interceptor = AuthInterceptor(users, throttle=throttle)

    async def scenario(tcp: aio.Channel, unix: aio.Channel) -> None:
        for metadata in ((), (("username", "alice"),)):
            for _ in range(3):
                code, _ = await refused(tcp, metadata)
                assert code == grpc.StatusCode.UNAUTHENTICATED
        assert await whoami(tcp, ALICE) == b"alice"

    run_two_peers(interceptor, socket_dir, scenario)


def test_parallel_guesses_cannot_overrun_the_limit(users: UserStore, socket_dir: Path) -> None:
    checks = CountingAuthenticator(users, delay=0.05)
    throttle = LoginThrottle(ThrottlePolicy(peer_failures=3), clock=FakeClock())
    interceptor = AuthInterceptor(checks, throttle=throttle)

    async def scenario(tcp: aio.Channel, unix: aio.Channel) -> None:
        async def attempt(channel: aio.Channel, metadata: Any) -> grpc.StatusCode:
            try:
                await whoami(channel, metadata)
            except aio.AioRpcError as error:
                return error.code()
            return grpc.StatusCode.OK

        codes = await asyncio.gather(*(attempt(tcp, ALICE_WRONG) for _ in range(20)))
        assert codes.count(grpc.StatusCode.UNAUTHENTICATED) == 3
        assert codes.count(grpc.StatusCode.RESOURCE_EXHAUSTED) == 17
        assert checks.checks == 3
        # A burst of right logins from a fresh peer waits instead of failing.
        codes = await asyncio.gather(*(attempt(unix, NOC) for _ in range(10)))
        assert codes == [grpc.StatusCode.OK] * 10
        assert checks.checks <= 6

    run_two_peers(interceptor, socket_dir, scenario)


def test_client_certificate_logins_are_not_throttled(users: UserStore, state_dir: Path) -> None:
    material = ensure_tls_material(state_dir)
    throttle = LoginThrottle(ThrottlePolicy(peer_failures=1), clock=FakeClock())
    interceptor = AuthInterceptor(users, throttle=throttle)
    noc_cert = issue_client_certificate(material, "noc")

    async def main() -> None:
        server = build_server(interceptor)
        port = server.add_secure_port(
            "127.0.0.1:0", server_credentials(material, client_ca_pem=material.ca_cert_pem)
        )
        await server.start()
        try:
            creds = channel_credentials(material.ca_cert_pem, noc_cert)
            async with aio.secure_channel(f"127.0.0.1:{port}", creds) as channel:
                code, _ = await refused(channel, ALICE_WRONG)
                assert code == grpc.StatusCode.UNAUTHENTICATED
                assert (await refused(channel, ALICE))[0] == grpc.StatusCode.RESOURCE_EXHAUSTED
                assert await whoami(channel, ()) == b"noc"
        finally:
            await server.stop(None)

    asyncio.run(main())


def test_without_a_throttle_nothing_is_refused(users: UserStore, socket_dir: Path) -> None:
    interceptor = AuthInterceptor(users)

    async def scenario(tcp: aio.Channel, unix: aio.Channel) -> None:
        for _ in range(10):
            assert (await refused(tcp, ALICE_WRONG))[0] == grpc.StatusCode.UNAUTHENTICATED
        assert await whoami(tcp, ALICE) == b"alice"

    run_two_peers(interceptor, socket_dir, scenario)


@pytest.mark.parametrize(
    ("peer", "host"),
    [
        ("ipv4:127.0.0.1:5555", "127.0.0.1"),
        ("ipv4:10.1.2.3:1", "10.1.2.3"),
        ("ipv6:[::1]:5555", "::1"),
        ("ipv6:%5B::1%5D:59342", "::1"),
        ("ipv6:[2001:db8::7]:443", "2001:db8::7"),
        ("ipv6:%5Bfe80::1%25eth0%5D:22", "fe80::1"),
        ("unix:", "unix:"),
        ("unix:/run/agent.sock", "unix:/run/agent.sock"),
        ("ipv4:garbage", "ipv4:garbage"),
        ("ipv6:[::1]", "ipv6:[::1]"),
        ("", ""),
    ],
)
def test_peer_host(peer: str, host: str) -> None:
    assert peer_host(peer) == host
