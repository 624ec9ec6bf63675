"""Real TLS and mutual-TLS handshakes between grpc clients and a grpc server."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc
import pytest

from agent.security.credentials import peer_common_name
from agent.security.tls import (
    TlsMaterial,
    channel_credentials,
    ensure_tls_material,
    issue_client_certificate,
    server_credentials,
)

METHOD = "/edge.test.Echo/Who"
TIMEOUT = 10


def who(request: bytes, context: grpc.ServicerContext) -> bytes:
    """Echoes the request, prefixed with the verified client CN (empty if none)."""
    name = peer_common_name(context.auth_context()) or ""
    return name.encode() + b"|" + request


def identity(data: bytes) -> bytes:
    return data


@pytest.fixture
def material(state_dir: Path) -> TlsMaterial:
    return ensure_tls_material(state_dir)


StartServer = Callable[[grpc.ServerCredentials], int]


@pytest.fixture
def start_server() -> Iterator[StartServer]:
    servers: list[Any] = []

    def start(credentials: grpc.ServerCredentials) -> int:
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        handler = grpc.unary_unary_rpc_method_handler(
            who, request_deserializer=identity, response_serializer=identity
        )
        server.add_generic_rpc_handlers(
            (grpc.method_handlers_generic_handler("edge.test.Echo", {"Who": handler}),)
        )
        port: int = server.add_secure_port("127.0.0.1:0", credentials)
        assert port > 0
        server.start()
        servers.append(server)
        return port

    yield start
    for server in servers:
        server.stop(grace=None)


def call(target: str, credentials: grpc.ChannelCredentials, payload: bytes = b"ping") -> bytes:
    with grpc.secure_channel(target, credentials) as channel:
        stub = channel.unary_unary(
            METHOD, request_serializer=identity, response_deserializer=identity
        )
        response: bytes = stub(payload, timeout=TIMEOUT)
        return response


def test_tls_call_with_generated_ca(material: TlsMaterial, start_server: StartServer) -> None:
    port = start_server(server_credentials(material))
    trust = channel_credentials(material.ca_cert_pem)
    assert call(f"127.0.0.1:{port}", trust) == b"|ping"
    assert call(f"localhost:{port}", trust) == b"|ping"


def test_tls_fails_against_another_ca(
    material: TlsMaterial, start_server: StartServer, tmp_path: Path
) -> None:
    port = start_server(server_credentials(material))
    stranger = ensure_tls_material(tmp_path / "elsewhere")
    with pytest.raises(grpc.RpcError) as failed:
        call(f"127.0.0.1:{port}", channel_credentials(stranger.ca_cert_pem))
    assert failed.value.code() == grpc.StatusCode.UNAVAILABLE


def test_tls_fails_for_a_name_not_in_the_certificate(
    material: TlsMaterial, start_server: StartServer
) -> None:
    port = start_server(server_credentials(material))
    options = (("grpc.ssl_target_name_override", "not-the-agent.example"),)
    with grpc.secure_channel(
        f"127.0.0.1:{port}", channel_credentials(material.ca_cert_pem), options=options
    ) as channel:
        stub = channel.unary_unary(
            METHOD, request_serializer=identity, response_deserializer=identity
        )
        with pytest.raises(grpc.RpcError) as failed:
            stub(b"ping", timeout=TIMEOUT)
    assert failed.value.code() == grpc.StatusCode.UNAVAILABLE


def test_mtls_requires_a_client_certificate(
    material: TlsMaterial, start_server: StartServer
) -> None:
    port = start_server(server_credentials(material, client_ca_pem=material.ca_cert_pem))
    target = f"127.0.0.1:{port}"

    with pytest.raises(grpc.RpcError) as failed:
        call(target, channel_credentials(material.ca_cert_pem))
    assert failed.value.code() == grpc.StatusCode.UNAVAILABLE

    alice = issue_client_certificate(material, "alice")
    assert call(target, channel_credentials(material.ca_cert_pem, alice)) == b"alice|ping"


def test_mtls_refuses_a_certificate_from_another_ca(
    material: TlsMaterial, start_server: StartServer, tmp_path: Path
) -> None:
    port = start_server(server_credentials(material, client_ca_pem=material.ca_cert_pem))
    rogue_ca = ensure_tls_material(tmp_path / "rogue")
    mallory = issue_client_certificate(rogue_ca, "alice")
    with pytest.raises(grpc.RpcError) as failed:
        call(f"127.0.0.1:{port}", channel_credentials(material.ca_cert_pem, mallory))
    assert failed.value.code() == grpc.StatusCode.UNAVAILABLE
