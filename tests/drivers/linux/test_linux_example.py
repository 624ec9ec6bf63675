"""examples/linux-site.json is valid offline, and `edge-agent validate` refuses a linux port
without interface-name as a Set would (no kernel needed)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "linux-site.json"


def validate(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agent.cli", "validate", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_example_site_is_valid() -> None:
    done = validate(EXAMPLE)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "valid (2 devices, 3 ports" in done.stdout + done.stderr


def test_validate_refuses_a_linux_port_without_interface_name(tmp_path: Path) -> None:
    site = json.loads(EXAMPLE.read_text())
    del site["edge-ports:ports"]["port"][2]["config"]["interface-name"]
    path = tmp_path / "site.json"
    path.write_text(json.dumps(site))
    done = validate(path)
    assert done.returncode == 1
    assert "port host1-e810/1: has no interface-name" in done.stdout + done.stderr
