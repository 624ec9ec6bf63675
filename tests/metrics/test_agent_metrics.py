"""/metrics of an agent built by agent.app, driven over gRPC and NETCONF on 127.0.0.1.

Each test makes the agent do something (RPCs answered or refused, commits, a driver
refusal and a driver failure, a commit-confirmed cancelled, refused logins, an open
stream) and reads the counters back from the HTTP endpoint, as Prometheus would.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import paramiko
import pytest
from netconf_client.connect import connect_ssh
from netconf_client.error import RpcError as NetconfRpcError

from agent.config import ListenAddress, MetricsSettings
from agent.gnmi.pb import gnmi_pb2
from agent.schema.engine import SchemaEngine
from tests.metrics.scrape import Samples, scrape
from tests.netconf.ssh_client import open_manager
from tests.northbound.harness import AgentThread, Client, agent_settings, code_of, commit_ext, path

MTU = "/ports/port[name=tor-tf1/1]/config/mtu"
GNMI = "gnmi.gNMI"


@pytest.fixture
def agent(engine: SchemaEngine, tmp_path: Path) -> Iterator[AgentThread]:
    settings = agent_settings(
        tmp_path / "state", metrics=MetricsSettings(listen=ListenAddress("127.0.0.1", 0))
    )
    running = AgentThread(settings, schema=engine).start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def admin(agent: AgentThread) -> Iterator[Client]:
    client = Client(agent.target, "admin")
    try:
        yield client
    finally:
        client.close()


def samples(agent: AgentThread) -> Samples:
    assert agent.agent.metrics is not None
    return scrape(agent.agent.metrics.url)


def test_gnmi_rpcs_by_method_and_code_with_latency(agent: AgentThread, admin: Client) -> None:
    admin.get(MTU)
    admin.get(MTU)
    code, _ = code_of(lambda: admin.get("/ports/port[name=no-such-port]/config/mtu"))
    assert code is grpc.StatusCode.NOT_FOUND
    got = samples(agent)
    assert got.get("edge_agent_rpcs_total", service=GNMI, method="Get", code="OK") == 2
    assert got.get("edge_agent_rpcs_total", service=GNMI, method="Get", code="NOT_FOUND") == 1
    assert got.get("edge_agent_rpc_duration_seconds_count", service=GNMI, method="Get") == 3
    assert got.get("edge_agent_rpc_duration_seconds_sum", service=GNMI, method="Get") > 0
    every = got.get("edge_agent_rpc_duration_seconds_bucket", service=GNMI, method="Get", le="+Inf")
    assert every == 3
    assert got.get("edge_agent_rpcs_in_flight", service=GNMI, method="Get") == 0
    assert got.types["edge_agent_rpc_duration_seconds"] == "histogram"


def test_commits_refusals_and_driver_operations(agent: AgentThread, admin: Client) -> None:
    admin.set(update=[(MTU, b"1500")])
    admin.set(update=[(MTU, b"1500")])  # the same value: nothing to do
    code, _ = code_of(
        lambda: admin.set(update=[("/ports/port[name=tor-tf1/3]/config/speed", b'"400G"')])
    )
    assert code is grpc.StatusCode.ABORTED
    got = samples(agent)
    assert got.get("edge_agent_commits_total", result="committed") == 1
    assert got.get("edge_agent_commits_total", result="unchanged") == 1
    assert got.get("edge_agent_commits_total", result="hardware") == 1
    assert got.get("edge_agent_commit_duration_seconds_count") == 1
    assert got.get("edge_agent_config_version") == 2
    assert got.get("edge_agent_driver_operations_total", device="tor-tf1", operation="port-update")
    assert got.get("edge_agent_driver_refusals_total", device="tor-tf1") == 1
    assert got.get("edge_agent_rpcs_total", service=GNMI, method="Set", code="ABORTED") == 1


def test_a_driver_failure_is_undone_and_counted(agent: AgentThread, admin: Client) -> None:
    agent.hardware("tor-tf1").fail_operation(0)  # devices apply in name order: spine first
    code, _ = code_of(
        lambda: admin.set(
            update=[(MTU, b"1500"), ("/ports/port[name=spine-tf2/1]/config/mtu", b"1500")]
        )
    )
    assert code is grpc.StatusCode.ABORTED
    got = samples(agent)
    assert got.get("edge_agent_driver_errors_total", device="tor-tf1", stage="apply") == 1
    assert got.get("edge_agent_rollbacks_total", reason="hardware-failure", result="ok") == 1
    assert got.get("edge_agent_commits_total", result="hardware") == 1
    # spine-tf2 applied its op, then the inverse one
    ops = "edge_agent_driver_operations_total"
    assert got.get(ops, device="spine-tf2", operation="port-update") == 2
    assert got.get(ops, device="tor-tf1", operation="port-update") is None
    assert got.get(ops, device="tor-tf1", operation="port-create")  # the start's reconcile
    assert got.get("edge_agent_config_version") == 1


def test_a_cancelled_commit_confirmed_is_a_rollback(agent: AgentThread, admin: Client) -> None:
    admin.set(update=[(MTU, b"1500")], extension=[commit_ext("c1", "commit", 600)])
    assert samples(agent).get("edge_agent_commit_confirm_pending") == 1
    admin.set(extension=[commit_ext("c1", "cancel")])
    got = samples(agent)
    assert got.get("edge_agent_rollbacks_total", reason="cancelled", result="ok") == 1
    assert got.get("edge_agent_commit_confirm_pending") == 0
    assert got.get("edge_agent_config_version") == 3  # the commit, then its rollback


def test_refused_logins_of_both_protocols(agent: AgentThread) -> None:
    wrong = Client(agent.target, "admin", "not-the-password")
    try:
        code, _ = code_of(lambda: wrong.get(MTU))
    finally:
        wrong.close()
    assert code is grpc.StatusCode.UNAUTHENTICATED
    nobody = Client(agent.target, None)
    try:
        code_of(lambda: nobody.get(MTU))
    finally:
        nobody.close()
    assert agent.agent.netconf is not None
    with pytest.raises(paramiko.AuthenticationException):
        connect_ssh(
            host="127.0.0.1",
            port=agent.agent.netconf.port,
            username="reader",
            password="wrong",
            initial_timeout=20,
            general_timeout=20,
        )
    got = samples(agent)
    failures = "edge_agent_login_failures_total"
    assert got.get(failures, protocol="gnmi", reason="bad-password") == 1
    assert got.get(failures, protocol="gnmi", reason="missing-credentials") == 1
    assert got.get(failures, protocol="netconf", reason="bad-password") >= 1
    assert got.get("edge_agent_rpcs_total", service=GNMI, method="Get", code="UNAUTHENTICATED")


def test_netconf_rpcs_by_operation_and_error_tag(agent: AgentThread) -> None:
    assert agent.agent.netconf is not None
    manager = open_manager(agent.agent.netconf.port, "admin")
    try:
        manager.get_config(source="running")
        with pytest.raises(NetconfRpcError, match="not supported"):
            manager.get_config(source="no-such-datastore")
    finally:
        manager.close_session()
    got = samples(agent)
    rpcs = "edge_agent_rpcs_total"
    assert got.get(rpcs, service="netconf", method="get-config", code="ok") == 1
    assert got.get(rpcs, service="netconf", method="get-config", code="invalid-value") == 1
    assert got.get(rpcs, service="netconf", method="close-session", code="ok") == 1
    assert got.get("edge_agent_rpc_duration_seconds_count", service="netconf", method="get-config")


def test_open_streams_and_degraded_devices(agent: AgentThread, admin: Client) -> None:
    request = gnmi_pb2.SubscribeRequest(
        subscribe=gnmi_pb2.SubscriptionList(
            subscription=[gnmi_pb2.Subscription(path=path(MTU), mode=gnmi_pb2.ON_CHANGE)],
            mode=gnmi_pb2.SubscriptionList.STREAM,
        )
    )
    call = admin.stub.Subscribe(iter([request]), metadata=admin.metadata, timeout=30)
    try:
        assert next(call).HasField("update")
        assert next(call).sync_response
        agent.agent.datastore.devices.mark_degraded(["nic-cx6"])
        got = samples(agent)
        assert got.get("edge_agent_subscriptions", mode="stream") == 1
        assert got.get("edge_agent_subscriptions", mode="poll") == 0
        assert got.get("edge_agent_rpcs_in_flight", service=GNMI, method="Subscribe") == 1
        assert got.get("edge_agent_subscription_queued_updates") == 0
        assert got.get("edge_agent_device_degraded", device="nic-cx6") == 1
        assert got.get("edge_agent_device_degraded", device="tor-tf1") == 0
    finally:
        call.cancel()
    deadline = time.monotonic() + 10
    while samples(agent).get("edge_agent_subscriptions", mode="stream") != 0:
        assert time.monotonic() < deadline, "the cancelled stream is still counted"
        time.sleep(0.05)
    got = samples(agent)
    assert got.get("edge_agent_rpcs_total", service=GNMI, method="Subscribe", code="CANCELLED")


def test_no_port_counters_unless_asked_for(agent: AgentThread) -> None:
    got = samples(agent)
    assert not got.matching("edge_agent_port_in_octets_total")
    assert got.get("edge_agent_telemetry_reads_total") is not None
