"""Every client command `edge-agent serve` prints works when pasted into a shell as
printed, whatever characters the password holds (one starting with '-' included)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.integration.conftest import AgentProcess

CLIENTS = ("pygnmicli ", "netconf-console2 ")


def printed_commands(agent: AgentProcess) -> list[str]:
    lines = [line.strip() for line in "".join(agent.stdout).splitlines()]
    return [line for line in lines if any(client in line for client in CLIENTS)]


@pytest.mark.parametrize(
    "password",
    [pytest.param("", id="generated"), pytest.param("-p-starts-like-an-option", id="dash-first")],
)
def test_every_printed_command_works(password: str, tmp_path: Path) -> None:
    agent = AgentProcess(
        tmp_path / "state",
        "--bootstrap-tenant",
        "tenant-a:operator-a",
        env={"EDGE_AGENT_ADMIN_PASSWORD": password},
    ).start()
    try:
        commands = printed_commands(agent)
        assert sum("pygnmicli " in c for c in commands) >= 5  # 4 as admin, 1 as the tenant
        assert sum("netconf-console2 " in c for c in commands) >= 2
        results = [
            subprocess.run(
                ["bash", "-c", command],
                capture_output=True,
                text=True,
                timeout=60,
                env=agent.env,
                cwd=Path.cwd(),
            )
            for command in commands
        ]
    finally:
        assert agent.stop() == 0
    for command, result in zip(commands, results, strict=True):
        assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
        assert "Traceback" not in result.stderr, f"{command}\n{result.stderr}"
    by_command = dict(zip(commands, results, strict=True))
    (read_back,) = [c for c in commands if "/config/mtu" in c and "set-update" not in c]
    assert '"val": 1500' in by_command[read_back].stdout  # the printed Set landed (was 9000)
    (slices,) = [c for c in commands if "/slices" in c]
    assert '"name": "embb"' in by_command[slices].stdout  # operator-a's slices
    assert '"name": "miot"' not in by_command[slices].stdout  # operator-b's is not in its view
