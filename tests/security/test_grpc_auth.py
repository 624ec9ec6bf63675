"""The grpc.aio authentication interceptor, over real gRPC on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc import aio

from agent.clock import FakeClock
from agent.security.audit import AuditLog, Outcome, read_audit_log
from agent.security.grpc_auth import AuthInterceptor
from agent.security.tls import (
    channel_credentials,
    ensure_tls_material,
    issue_client_certificate,
    server_credentials,
)
from agent.security.users import Role, UserStore

TIMEOUT = 10
ALICE = (("username", "alice"), ("password", "pw-alice"))


def identity(data: bytes) -> bytes:
    return data


def build_server(interceptor: AuthInterceptor) -> aio.Server:
    async def whoami(request: bytes, context: Any) -> bytes:
        user = interceptor.current_user()
        return f"{user.name}:{user.role.value}".encode()

    async def countdown(request: bytes, context: Any) -> AsyncIterator[bytes]:
        for index in range(int(request)):
            yield f"{interceptor.current_user().name}:{index}".encode()

    async def health(request: bytes, context: Any) -> bytes:
        return b"SERVING"

    async def chat(requests: AsyncIterator[bytes], context: Any) -> AsyncIterator[bytes]:
        async for request in requests:
            yield interceptor.current_user().name.encode() + b">" + request

    server = aio.server(interceptors=[interceptor])
    handlers = {
        "WhoAmI": grpc.unary_unary_rpc_method_handler(whoami, identity, identity),
        "Countdown": grpc.unary_stream_rpc_method_handler(countdown, identity, identity),
        "Health": grpc.unary_unary_rpc_method_handler(health, identity, identity),
        "Chat": grpc.stream_stream_rpc_method_handler(chat, identity, identity),
    }
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler("edge.test.Svc", handlers),)
    )
    return server


@pytest.fixture
def users(store: UserStore) -> UserStore:
    store.add("alice", Role.ADMIN, "pw-alice")
    store.add("noc", Role.READ_ONLY, "pw-noc")
    return store


Scenario = Callable[[aio.Channel], Awaitable[None]]


def run_insecure(interceptor: AuthInterceptor, scenario: Scenario) -> None:
    async def main() -> None:
        server = build_server(interceptor)
        port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        try:
            async with aio.insecure_channel(f"127.0.0.1:{port}") as channel:
                await scenario(channel)
        finally:
            await server.stop(None)

    asyncio.run(main())


def unary(channel: aio.Channel, name: str) -> Any:
    return channel.unary_unary(
        f"/edge.test.Svc/{name}", request_serializer=identity, response_deserializer=identity
    )


def test_calls_with_good_credentials_reach_the_handler(users: UserStore) -> None:
    interceptor = AuthInterceptor(users)

    async def scenario(channel: aio.Channel) -> None:
        whoami = unary(channel, "WhoAmI")
        assert await whoami(b"", metadata=ALICE, timeout=TIMEOUT) == b"alice:admin"
        noc = (("username", "noc"), ("password", "pw-noc"))
        assert await whoami(b"", metadata=noc, timeout=TIMEOUT) == b"noc:read-only"
        # Second call hits the verification cache and still identifies the caller.
        assert await whoami(b"", metadata=ALICE, timeout=TIMEOUT) == b"alice:admin"
        stream = channel.unary_stream(
            "/edge.test.Svc/Countdown", request_serializer=identity, response_deserializer=identity
        )
        responses = [r async for r in stream(b"3", metadata=ALICE, timeout=TIMEOUT)]
        assert responses == [b"alice:0", b"alice:1", b"alice:2"]
        chat = channel.stream_stream(
            "/edge.test.Svc/Chat", request_serializer=identity, response_deserializer=identity
        )
        call = chat(iter([b"a", b"b"]), metadata=noc, timeout=TIMEOUT)
        assert [r async for r in call] == [b"noc>a", b"noc>b"]

    run_insecure(interceptor, scenario)
    assert users.cached_user("alice", "pw-alice") is not None


@pytest.mark.parametrize(
    ("metadata", "message", "reason"),
    [
        ((), "no credentials", "missing-credentials"),
        ((("username", "alice"),), "no 'password' metadata", "missing-password"),
        (
            (("username", "alice"), ("password", "wrong")),
            "invalid username or password",
            "bad-password",
        ),
        (
            (("username", "bob"), ("password", "pw-alice")),
            "invalid username or password",
            "unknown-user",
        ),
    ],
)
def test_refusals_are_unauthenticated_and_audited(
    users: UserStore,
    tmp_path: Path,
    metadata: tuple[tuple[str, str], ...],
    message: str,
    reason: str,
) -> None:
    audit = AuditLog(tmp_path / "audit", clock=FakeClock())
    interceptor = AuthInterceptor(users, audit=audit)

    async def scenario(channel: aio.Channel) -> None:
        with pytest.raises(aio.AioRpcError) as refused:
            await unary(channel, "WhoAmI")(b"", metadata=metadata, timeout=TIMEOUT)
        assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
        assert message in (refused.value.details() or "")
        stream = channel.unary_stream(
            "/edge.test.Svc/Countdown", request_serializer=identity, response_deserializer=identity
        )
        with pytest.raises(aio.AioRpcError) as refused_stream:
            _ = [r async for r in stream(b"2", metadata=metadata, timeout=TIMEOUT)]
        assert refused_stream.value.code() == grpc.StatusCode.UNAUTHENTICATED
        chat = channel.stream_stream(
            "/edge.test.Svc/Chat", request_serializer=identity, response_deserializer=identity
        )
        with pytest.raises(aio.AioRpcError) as refused_chat:
            _ = [r async for r in chat(iter([b"a"]), metadata=metadata, timeout=TIMEOUT)]
        assert refused_chat.value.code() == grpc.StatusCode.UNAUTHENTICATED

    run_insecure(interceptor, scenario)
    audit.close()
    records = read_audit_log(tmp_path / "audit")
    assert [(r.rpc, r.outcome, r.code) for r in records] == [
        ("/edge.test.Svc/WhoAmI", Outcome.DENIED, "UNAUTHENTICATED"),
        ("/edge.test.Svc/Countdown", Outcome.DENIED, "UNAUTHENTICATED"),
        ("/edge.test.Svc/Chat", Outcome.DENIED, "UNAUTHENTICATED"),
    ]
    assert all(r.peer.startswith("ipv4:127.0.0.1:") for r in records)
    assert all(r.message.startswith(f"{reason}: ") for r in records)


def test_exempt_methods_need_no_credentials(users: UserStore) -> None:
    interceptor = AuthInterceptor(users, exempt_methods={"/edge.test.Svc/Health"})

    async def scenario(channel: aio.Channel) -> None:
        assert await unary(channel, "Health")(b"", timeout=TIMEOUT) == b"SERVING"
        with pytest.raises(aio.AioRpcError) as refused:
            await unary(channel, "WhoAmI")(b"", timeout=TIMEOUT)
        assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED

    run_insecure(interceptor, scenario)


def test_mtls_client_certificate_authenticates_without_password(
    users: UserStore, state_dir: Path
) -> None:
    material = ensure_tls_material(state_dir)
    interceptor = AuthInterceptor(users)
    noc_cert = issue_client_certificate(material, "noc")
    stranger_cert = issue_client_certificate(material, "stranger")

    async def main() -> None:
        server = build_server(interceptor)
        port = server.add_secure_port(
            "127.0.0.1:0", server_credentials(material, client_ca_pem=material.ca_cert_pem)
        )
        await server.start()
        try:
            target = f"127.0.0.1:{port}"
            creds = channel_credentials(material.ca_cert_pem, noc_cert)
            async with aio.secure_channel(target, creds) as channel:
                assert await unary(channel, "WhoAmI")(b"", timeout=TIMEOUT) == b"noc:read-only"
                # Explicit credentials take precedence over the certificate.
                answer = await unary(channel, "WhoAmI")(b"", metadata=ALICE, timeout=TIMEOUT)
                assert answer == b"alice:admin"
            creds = channel_credentials(material.ca_cert_pem, stranger_cert)
            async with aio.secure_channel(target, creds) as channel:
                with pytest.raises(aio.AioRpcError) as refused:
                    await unary(channel, "WhoAmI")(b"", timeout=TIMEOUT)
                assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
                assert "stranger" in (refused.value.details() or "")
        finally:
            await server.stop(None)

    asyncio.run(main())
