"""SIGHUP makes `edge-agent serve` reload its TLS files, users and policy file live.

With a pygnmi STREAM subscription open, the test adds a user, writes a policy file and
replaces the TLS material on disk with another PKI's, then sends SIGHUP to the real
process: the stream goes on delivering on its old connection, new connections present
the new certificate, the new user logs in and the policy decides from then on. Before
the signal the old certificate and policy are still in force: nothing polls the files.
A reload that finds broken files keeps what was in force and says so on stderr.
"""

from __future__ import annotations

import signal
import ssl
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import (
    ADMIN_PASSWORD,
    READER_PASSWORD,
    AgentProcess,
    GnmiCallError,
    PygnmiWorker,
    add_user,
)
from tests.security.test_tls_operator import issue

pytestmark = pytest.mark.integration

DESCRIPTION = "/ports/port[name=tor-tf1/1]/config/description"
COUNTERS = "/ports/port[name=tor-tf1/1]/state/counters"
POLICY = """version = 1

[[rule]]
name = "noc-no-descriptions"
principals = ["group:operator"]
path = "/ports/port[name=*]/config/description"
action = "read"
effect = "deny"
"""
RELOAD_WAIT_S = 20


def presented(agent: AgentProcess) -> str:
    """The certificate a new TLS connection to the agent gets, as PEM."""
    return ssl.get_server_certificate(("127.0.0.1", agent.port), timeout=10)


def same_pem(left: str | bytes, right: str | bytes) -> bool:
    def norm(pem: str | bytes) -> str:
        text = pem.decode() if isinstance(pem, bytes) else pem
        return "".join(text.split())

    return norm(left) == norm(right)


def stamp(result: dict[str, Any]) -> int:
    return int((result.get("update") or {}).get("timestamp", 0))


def rotate_tls(state_dir: Path) -> bytes:
    """Puts another PKI's CA and server pair in STATE_DIR/tls; the new certificate."""
    root = issue("Rotated Root CA", ca=True, days=3650)
    server = issue("edge-agent", root, names=("localhost", "127.0.0.1", "::1"))
    tls = state_dir / "tls"
    (tls / "ca.key").unlink()  # the operator's PKI: the agent issues nothing itself
    (tls / "ca.crt").write_bytes(root.cert_pem)
    (tls / "server.crt").write_bytes(server.cert_pem)
    (tls / "server.key").write_bytes(server.key_pem)
    (tls / "server.key").chmod(0o600)
    return server.cert_pem


def write_policy(state_dir: Path, text: str) -> None:
    path = state_dir / "policy.toml"
    path.write_text(text)
    path.chmod(0o600)


def description_of(pygnmi: PygnmiWorker, client: str) -> Any:
    result = pygnmi.call("get", client=client, path=[DESCRIPTION])
    return result["notification"][0]["update"][0]["val"]


@pytest.fixture
def agent(tmp_path: Path) -> Iterator[AgentProcess]:
    state_dir = tmp_path / "state"
    process = AgentProcess(state_dir, "--simulate-traffic").start()  # creates the admin
    try:
        add_user(state_dir, "reader", "read-only", READER_PASSWORD)
        yield process
    finally:
        process.stop()


def test_sighup_reloads_tls_users_and_policy_without_dropping_the_stream(
    pygnmi: PygnmiWorker, agent: AgentProcess
) -> None:
    state_dir = agent.state_dir
    old_cert = (state_dir / "tls" / "server.crt").read_bytes()
    pygnmi.connect("admin", agent, "admin", ADMIN_PASSWORD)
    pygnmi.call("set", client="admin", update=[[DESCRIPTION, "uplink"]])
    listing = {
        "subscription": [{"path": COUNTERS, "mode": "sample", "sample_interval": 1_000_000_000}],
        "encoding": "json",
    }
    assert pygnmi.call("stream", client="admin", name="counters", subscribe=listing)
    pygnmi.connect("reader", agent, "reader", READER_PASSWORD)
    assert description_of(pygnmi, "reader") == "uplink"

    add_user(state_dir, "late", "read-only", "late-pw")
    write_policy(state_dir, POLICY)
    new_cert = rotate_tls(state_dir)
    time.sleep(1)  # the files are on disk: nothing takes them up before the signal
    assert same_pem(presented(agent), old_cert)
    assert description_of(pygnmi, "reader") == "uplink"

    assert agent.process is not None
    signalled_ns = time.time_ns()
    agent.process.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + RELOAD_WAIT_S
    while not same_pem(presented(agent), new_cert):
        assert time.monotonic() < deadline, "new connections still get the old certificate"
        time.sleep(0.1)

    for _ in range(10):  # the stream, on its connection of before, goes on
        if stamp(pygnmi.call("next", name="counters")) > signalled_ns:
            break
    else:
        raise AssertionError("the stream delivered nothing after the reload")
    assert pygnmi.call("get", client="admin", path=[DESCRIPTION])["notification"]

    pygnmi.connect("late", agent, "late", "late-pw")  # trusts the new CA (state/tls/ca.crt)
    assert pygnmi.call("get", client="late", path=["/ports/port[name=tor-tf1/1]/config/mtu"])
    pygnmi.connect("reader-again", agent, "reader", READER_PASSWORD)
    for client in ("reader", "reader-again"):
        with pytest.raises(GnmiCallError) as refused:
            description_of(pygnmi, client)
        assert refused.value.code == "NOT_FOUND"
    for client in ("admin", "reader", "late", "reader-again"):
        pygnmi.call("close", client=client)
    assert agent.stop() == 0
    assert "reloaded on SIGHUP: TLS: " in agent.stderr
    assert "policy: " in agent.stderr and "users: 3" in agent.stderr


def test_a_reload_of_broken_files_keeps_what_is_in_force(
    pygnmi: PygnmiWorker, agent: AgentProcess
) -> None:
    state_dir = agent.state_dir
    old_cert = (state_dir / "tls" / "server.crt").read_bytes()
    pygnmi.connect("reader", agent, "reader", READER_PASSWORD)
    write_policy(state_dir, "version = 1\n[[rule]]\nname = 'half a rule'\n")
    (state_dir / "tls" / "server.key").write_bytes(b"not a key")
    assert agent.process is not None
    agent.process.send_signal(signal.SIGHUP)
    agent.process.send_signal(signal.SIGHUP)  # two in a row run one after the other
    time.sleep(1)
    assert same_pem(presented(agent), old_cert)
    pygnmi.connect("reader-again", agent, "reader", READER_PASSWORD)
    assert pygnmi.call("get", client="reader-again", path=[DESCRIPTION])["notification"]
    for client in ("reader", "reader-again"):
        pygnmi.call("close", client=client)
    assert agent.stop() == 0
    errors = [line for line in agent.stderr.splitlines() if " ERROR agent.reload: " in line]
    assert any("server.key" in line and "certificate in use stays" in line for line in errors)
    assert any("policy: " in line and "'half a rule'" in line for line in errors)
