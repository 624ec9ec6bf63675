"""`edge-agent health` against a real `edge-agent serve`: the container HEALTHCHECK and
the Kubernetes probes run it."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.security.tls import ensure_tls_material, issue_client_certificate
from tests.integration.conftest import AgentProcess

pytestmark = pytest.mark.integration


def health(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agent.cli", "health", "--timeout", "10", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
    )


@pytest.fixture(scope="module")
def agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AgentProcess]:
    running = AgentProcess(tmp_path_factory.mktemp("health") / "state").start()
    try:
        yield running
    finally:
        running.stop()


def test_a_serving_agent_is_healthy(agent: AgentProcess) -> None:
    result = health("--target", f"127.0.0.1:{agent.port}", "--state-dir", str(agent.state_dir))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"127.0.0.1:{agent.port}: edge-agent SERVING"


def test_the_gnmi_service_is_asked_by_name(agent: AgentProcess) -> None:
    target = f"127.0.0.1:{agent.port}"
    result = health("--target", target, "--ca-file", str(agent.ca_cert), "--service", "gnmi.gNMI")
    assert result.returncode == 0, result.stderr
    assert "gnmi.gNMI SERVING" in result.stdout
    unknown = health("--target", target, "--ca-file", str(agent.ca_cert), "--service", "no.Such")
    assert unknown.returncode == 1
    assert "NOT_FOUND" in unknown.stderr


def test_the_settings_file_gives_address_and_trust(agent: AgentProcess, tmp_path: Path) -> None:
    settings = tmp_path / "agent.toml"
    state_dir = agent.state_dir.resolve()
    settings.write_text(f'listen = "0.0.0.0:{agent.port}"\nstate_dir = "{state_dir}"\n')
    result = health("--config", str(settings), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"127.0.0.1:{agent.port}: ")  # wildcard -> loopback


def test_a_certificate_from_another_ca_is_refused(agent: AgentProcess, tmp_path: Path) -> None:
    other = AgentProcess(tmp_path / "other")
    other.start()
    other.stop()  # it left its own CA behind
    result = health("--target", f"127.0.0.1:{agent.port}", "--ca-file", str(other.ca_cert))
    assert result.returncode == 1
    assert "UNAVAILABLE" in result.stderr


def test_plaintext_agent_and_stopped_agent(tmp_path: Path) -> None:
    plain = AgentProcess(tmp_path / "state", "--insecure").start()
    target = f"127.0.0.1:{plain.port}"
    try:
        assert health("--target", target, "--insecure").returncode == 0
    finally:
        assert plain.stop() == 0
    gone = health("--target", target, "--insecure", "--timeout", "2")
    assert gone.returncode == 1
    assert "UNAVAILABLE" in gone.stderr


def test_bad_arguments_are_one_clear_line(tmp_path: Path) -> None:
    missing = health("--target", "127.0.0.1:9", "--state-dir", str(tmp_path / "none"))
    assert missing.returncode == 1
    assert missing.stderr.strip() == (
        f"edge-agent health: error: CA bundle {tmp_path / 'none' / 'tls' / 'ca.crt'}: "
        "No such file or directory"
    )
    half = health("--target", "127.0.0.1:9", "--insecure", "--client-cert", "x.pem")
    assert half.returncode == 1
    assert "--client-cert and --client-key go together" in half.stderr
    bad = health("--target", "nowhere")
    assert bad.returncode == 1
    assert "use HOST:PORT" in bad.stderr


def test_mutual_tls_needs_the_client_certificate(tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    first = AgentProcess(state_dir).start()  # creates the CA and the server certificate
    assert first.stop() == 0
    material = ensure_tls_material(state_dir)
    probe = issue_client_certificate(material, "admin")
    cert, key = tmp_path / "probe.crt", tmp_path / "probe.key"
    cert.write_bytes(probe.certificate_pem)
    key.write_bytes(probe.private_key_pem)
    mtls = AgentProcess(state_dir, "--client-ca", str(material.ca_cert_path)).start()
    try:
        target = ("--target", f"127.0.0.1:{mtls.port}", "--state-dir", str(state_dir))
        refused = health(*target)
        assert refused.returncode == 1
        assert "UNAVAILABLE" in refused.stderr
        answered = health(*target, "--client-cert", str(cert), "--client-key", str(key))
        assert answered.returncode == 0, answered.stderr
    finally:
        assert mtls.stop() == 0
