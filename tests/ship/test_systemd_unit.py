"""deploy/systemd: the unit and its linux-backend drop-in pass systemd-analyze verify
without a warning, the hardening scores as systemd judges it, and the settings file the
unit names is one the agent accepts for the unit's state directory. (No systemd runs as
PID 1 here, so the unit is checked, not started.)"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from agent.config import load_settings
from tests.ship.conftest import ROOT, require

pytestmark = pytest.mark.ship

UNIT_DIR = ROOT / "deploy" / "systemd"
UNIT = UNIT_DIR / "edge-agent.service"
INSTALLED = "/opt/edge-agent/bin/edge-agent"
MAX_EXPOSURE = 2.0  # systemd-analyze security: 0 (locked down) to 10 (unprotected)


def verify(unit_text: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """systemd-analyze verify of the unit, with ExecStart pointing at an edge-agent that
    exists here (verify insists on an executable)."""
    require("systemd-analyze")
    unit = tmp_path / "edge-agent.service"
    unit.write_text(unit_text.replace(INSTALLED, str(Path(sys.executable).with_name("edge-agent"))))
    return subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(unit)], capture_output=True, text=True
    )


def test_the_unit_verifies_cleanly(tmp_path: Path) -> None:
    text = UNIT.read_text()
    assert f"ExecStart={INSTALLED} serve --config /etc/edge-agent/agent.toml" in text
    result = verify(text, tmp_path)
    assert (result.returncode, result.stderr) == (0, "")


def test_the_linux_backend_drop_in_verifies_cleanly(tmp_path: Path) -> None:
    result = verify(
        UNIT.read_text() + "\n" + (UNIT_DIR / "linux-backend.conf").read_text(), tmp_path
    )
    assert (result.returncode, result.stderr) == (0, "")


def test_a_misspelt_setting_would_be_caught(tmp_path: Path) -> None:
    result = verify(UNIT.read_text().replace("ProtectHome=yes", "ProtectHomes=yes"), tmp_path)
    assert "Unknown key 'ProtectHomes'" in result.stderr


def test_hardening_exposure(tmp_path: Path) -> None:
    require("systemd-analyze")
    result = subprocess.run(
        ["systemd-analyze", "security", "--offline=true", str(UNIT)],
        capture_output=True,
        text=True,
    )
    score = re.search(r"Overall exposure level for edge-agent.service: ([\d.]+)", result.stdout)
    assert score is not None, result.stdout + result.stderr
    assert float(score.group(1)) <= MAX_EXPOSURE
    checks = subprocess.run(
        ["systemd-analyze", "security", "--offline=true", "--json=short", str(UNIT)],
        capture_output=True,
        text=True,
    )
    unmet = {c["name"] for c in json.loads(checks.stdout) if c["set"] is False}
    assert not {"NoNewPrivileges=", "ProtectSystem=", "PrivateDevices=", "ProtectHome="} & unmet


def test_the_settings_file_matches_the_unit() -> None:
    settings = load_settings(UNIT_DIR / "agent.toml")
    assert "StateDirectory=edge-agent" in UNIT.read_text()
    assert settings.state_dir == Path("/var/lib/edge-agent")
    assert settings.netconf.enabled and settings.netconf.listen.port == 830
    assert "CAP_NET_BIND_SERVICE" in UNIT.read_text()  # port 830 is privileged
