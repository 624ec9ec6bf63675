"""Start, stop and restart of `edge-agent serve`: persistence, signals, plaintext mode."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from agent.exit_codes import ExitCode
from tests.integration.conftest import ADMIN_PASSWORD, AgentProcess, PygnmiWorker

pytestmark = pytest.mark.integration

MTU = "/ports/port[name=tor-tf1/1]/config/mtu"


def mtu(pygnmi: PygnmiWorker, client: str) -> object:
    result = pygnmi.call("get", client=client, path=[MTU])
    return result["notification"][0]["update"][0]["val"]


def test_restart_keeps_the_last_committed_config(pygnmi: PygnmiWorker, tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    first = AgentProcess(state_dir).start()
    try:
        pygnmi.connect("first", first, "admin", ADMIN_PASSWORD)
        pygnmi.call("set", client="first", update=[[MTU, 1600]])
        pygnmi.call("close", client="first")
    finally:
        assert first.stop() == 0  # SIGTERM is a clean stop
    assert "edge-agent stopped" in "".join(first.stdout)

    second = AgentProcess(state_dir).start()
    try:
        assert "version 2:" in "".join(second.stdout)  # the commit, not the site file
        pygnmi.connect("second", second, "admin", ADMIN_PASSWORD)
        assert mtu(pygnmi, "second") == 1600
        pygnmi.call("close", client="second")
    finally:
        assert second.stop() == 0


def test_bootstrap_admin_password_file(pygnmi: PygnmiWorker, tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    agent = AgentProcess(state_dir, env={"EDGE_AGENT_ADMIN_PASSWORD": ""}).start()
    try:
        password_file = state_dir / "bootstrap-admin.password"
        assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
        banner = "".join(agent.stdout)
        assert f'--pass="$(cat {password_file.resolve()})"' in banner  # absolute
        pygnmi.connect("boot", agent, "admin", password_file.read_text().strip())
        assert mtu(pygnmi, "boot") == 9000
        pygnmi.call("close", client="boot")
    finally:
        assert agent.stop() == 0


def test_insecure_mode_warns_and_serves_plaintext(pygnmi: PygnmiWorker, tmp_path: Path) -> None:
    agent = AgentProcess(tmp_path / "state", "--insecure").start()
    try:
        pygnmi.connect("plain", agent, "admin", ADMIN_PASSWORD, insecure=True)
        assert mtu(pygnmi, "plain") == 9000
        pygnmi.call("close", client="plain")
    finally:
        assert agent.stop() == 0
    assert "WARNING" in agent.stderr and "WITHOUT TLS" in agent.stderr
    assert not (tmp_path / "state" / "tls").exists()


def test_busy_port_is_a_clear_error(tmp_path: Path) -> None:
    first = AgentProcess(tmp_path / "one").start()
    try:
        second = AgentProcess(tmp_path / "two", "--listen", f"127.0.0.1:{first.port}")
        with pytest.raises(AssertionError, match="cannot listen"):
            second.start()
        assert second.stop() == ExitCode.LISTEN
    finally:
        assert first.stop() == 0
