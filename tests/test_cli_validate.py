"""`edge-agent validate` and `edge-agent site`, run as the installed console script."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from agent.site_file import default_site_path


def _edge_agent(*args: str) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("edge-agent", path=str(Path(sys.executable).parent))
    assert exe, "the edge-agent console script is not installed"
    return subprocess.run([exe, *args], capture_output=True, text=True, timeout=60)


def test_validate_accepts_the_default_site() -> None:
    result = _edge_agent("validate", str(default_site_path()))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "valid (9 devices, 26 ports, 3 slices, 2 tenants)" in result.stderr


def test_validate_prints_every_refusal_and_fails(tmp_path: Path, site: dict) -> None:
    ports = site["edge-ports:ports"]["port"]
    ports[0]["config"]["mtu"] = 70000
    ports[1]["config"]["speed"] = 100
    site["edge-slices:slices"]["slice"][0]["config"]["sd"] = "12345"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(site))
    result = _edge_agent("validate", str(bad))
    assert result.returncode == 1
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 3
    assert any(
        "/ports/port[name=tor-tf1/1]/config/mtu" in line and "[range]" in line for line in lines
    )
    assert any(
        "/ports/port[name=tor-tf1/2/0]/config/speed" in line and "[type]" in line for line in lines
    )
    assert any(
        "/slices/slice[name=embb]/config/sd" in line and "[pattern]" in line for line in lines
    )


def test_validate_json_output(tmp_path: Path, site: dict) -> None:
    site["edge-ports:ports"]["port"][0]["config"]["colour"] = "red"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(site))
    result = _edge_agent("validate", "--json", str(bad))
    assert result.returncode == 1
    record = json.loads(result.stdout)
    assert record == {
        "path": "/ports/port[name=tor-tf1/1]/config/colour",
        "rule": "unknown-node",
        "message": "no node 'colour' in /ports/port[name=tor-tf1/1]/config",
    }


@pytest.mark.parametrize(
    ("content", "message"),
    [("{not json", "invalid JSON at line 1"), ("[1, 2]", "top level must be a JSON object")],
)
def test_validate_unreadable_file(tmp_path: Path, content: str, message: str) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    result = _edge_agent("validate", str(bad))
    assert result.returncode == 2
    assert message in result.stderr


def test_validate_missing_file(tmp_path: Path) -> None:
    result = _edge_agent("validate", str(tmp_path / "absent.json"))
    assert result.returncode == 2 and "cannot read" in result.stderr


def test_site_prints_the_tree() -> None:
    result = _edge_agent("site")
    assert result.returncode == 0, result.stderr
    assert "device dpu-bf3 (bluefield-3, backend mock)" in result.stdout
    assert "slice urllc (S-NSSAI 2/000002, vlan 200" in result.stdout
    assert "tenant operator-b: max 4 slices, 5G guaranteed per port" in result.stdout
