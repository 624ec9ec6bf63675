"""The service around the RPCs: Capabilities, authentication, TLS and mutual TLS,
health, reflection, Subscribe placeholder and shutdown."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)

from agent.config import TlsSettings
from agent.gnmi.pb import gnmi_ext_pb2, gnmi_pb2
from agent.schema.engine import SchemaEngine
from agent.security.audit import read_audit_log
from agent.security.tls import channel_credentials, issue_client_certificate
from tests.northbound.harness import AgentThread, Client, agent_settings, code_of

MTU = "/ports/port[name=tor-tf1/1]/config/mtu"


def test_capabilities(client_for, engine: SchemaEngine) -> None:
    response = client_for("admin").capabilities()
    assert response.gNMI_version == "0.10.0"
    assert list(response.supported_encodings) == [
        gnmi_pb2.JSON,
        gnmi_pb2.JSON_IETF,
        gnmi_pb2.PROTO,
    ]
    models = {(m.name, m.organization, m.version) for m in response.supported_models}
    assert models == {(m.name, m.organization, m.revision) for m in engine.modules}
    assert {m[0] for m in models} == {
        "edge-platform",
        "edge-ports",
        "edge-slices",
        "edge-tenants",
        "edge-types",
    }
    assert all(m[1] and m[2] for m in models)
    # every authenticated role may ask, tenants included
    assert client_for("tenant-a").capabilities().gNMI_version == "0.10.0"


def test_capabilities_takes_no_extensions(admin: Client) -> None:
    depth = gnmi_ext_pb2.Extension(depth=gnmi_ext_pb2.Depth(level=1))
    code, _ = code_of(lambda: admin.capabilities(extension=[depth]))
    assert code is grpc.StatusCode.INVALID_ARGUMENT


@pytest.mark.parametrize(("user", "password"), [(None, None), ("admin", "wrong"), ("ghost", "x")])
def test_every_rpc_needs_credentials(client_for, user, password, state_dir: Path) -> None:
    client = client_for(user, password)
    for call in (client.capabilities, lambda: client.get(MTU)):
        code, _ = code_of(call)
        assert code is grpc.StatusCode.UNAUTHENTICATED
    refusals = [r for r in read_audit_log(state_dir / "audit") if r.code == "UNAUTHENTICATED"]
    assert {r.rpc for r in refusals} == {"/gnmi.gNMI/Capabilities", "/gnmi.gNMI/Get"}


def test_health_and_reflection_need_no_credentials(agent: AgentThread) -> None:
    with grpc.insecure_channel(agent.target) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        for service in ("", "gnmi.gNMI"):
            answer = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=10)
            assert answer.status == health_pb2.HealthCheckResponse.SERVING
        services = ProtoReflectionDescriptorDatabase(channel).get_services()
        assert "gnmi.gNMI" in services
        assert "grpc.health.v1.Health" in services


def test_subscribe_once_is_served(admin: Client) -> None:
    path = gnmi_pb2.Path(
        elem=[
            gnmi_pb2.PathElem(name="ports"),
            gnmi_pb2.PathElem(name="port", key={"name": "tor-tf1/1"}),
            gnmi_pb2.PathElem(name="config"),
            gnmi_pb2.PathElem(name="mtu"),
        ]
    )
    request = gnmi_pb2.SubscribeRequest(
        subscribe=gnmi_pb2.SubscriptionList(
            mode=gnmi_pb2.SubscriptionList.ONCE,
            subscription=[gnmi_pb2.Subscription(path=path)],
            encoding=gnmi_pb2.JSON_IETF,
        )
    )
    responses = list(admin.stub.Subscribe(iter([request]), metadata=admin.metadata, timeout=10))
    assert responses[-1].sync_response
    values = [u.val.json_ietf_val for r in responses[:-1] for u in r.update.update]
    assert values == [b"9000"]


@pytest.fixture
def tls_agent(engine: SchemaEngine, state_dir: Path) -> Iterator[AgentThread]:
    running = AgentThread(agent_settings(state_dir, insecure=False), schema=engine).start()
    try:
        yield running
    finally:
        running.stop()


def test_tls_by_default(tls_agent: AgentThread) -> None:
    material = tls_agent.agent.tls
    assert material is not None and material.ca_cert_path.exists()
    client = Client(tls_agent.target, credentials=channel_credentials(material.ca_cert_pem))
    try:
        assert client.get(MTU).notification[0].update
    finally:
        client.close()
    plaintext = Client(tls_agent.target)  # a client that does not speak TLS gets nowhere
    try:
        code, _ = code_of(lambda: plaintext.get(MTU))
        assert code is grpc.StatusCode.UNAVAILABLE
    finally:
        plaintext.close()


def test_mutual_tls_authenticates_by_certificate(engine: SchemaEngine, state_dir: Path) -> None:
    first = AgentThread(agent_settings(state_dir, insecure=False), schema=engine).start()
    material = first.agent.tls
    first.stop()
    assert material is not None
    settings = agent_settings(state_dir, insecure=False)
    settings = replace(settings, tls=TlsSettings(client_ca=material.ca_cert_path))
    agent = AgentThread(settings, schema=engine).start()
    try:
        reader_cert = issue_client_certificate(material, "reader")
        reader = Client(
            agent.target, None, credentials=channel_credentials(material.ca_cert_pem, reader_cert)
        )
        assert reader.get(MTU).notification[0].update  # no password needed
        code, _ = code_of(lambda: reader.set(update=[(MTU, b"1500")]))
        assert code is grpc.StatusCode.PERMISSION_DENIED  # and the role still applies
        reader.close()
        stranger = Client(
            agent.target,
            None,
            credentials=channel_credentials(
                material.ca_cert_pem, issue_client_certificate(material, "stranger")
            ),
        )
        code, _ = code_of(lambda: stranger.get(MTU))
        assert code is grpc.StatusCode.UNAUTHENTICATED
        stranger.close()
        no_cert = Client(agent.target, credentials=channel_credentials(material.ca_cert_pem))
        code, _ = code_of(lambda: no_cert.get(MTU))
        assert code is grpc.StatusCode.UNAVAILABLE  # the handshake itself fails
        no_cert.close()
    finally:
        agent.stop()


def test_stop_reports_not_serving_and_closes_the_port(engine: SchemaEngine, state_dir: Path):
    agent = AgentThread(agent_settings(state_dir), schema=engine).start()
    target = agent.target
    agent.stop()
    client = Client(target)
    try:
        code, _ = code_of(lambda: client.get(MTU))
        assert code is grpc.StatusCode.UNAVAILABLE
    finally:
        client.close()
