"""`edge-agent validate` (the model, then the drivers' rules offline) and `edge-agent site`,
run as the installed console script."""

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


def _write(tmp_path: Path, site: dict) -> Path:
    path = tmp_path / "site.json"
    path.write_text(json.dumps(site))
    return path


def _port(site: dict, name: str) -> dict:
    return next(p for p in site["edge-ports:ports"]["port"] if p["name"] == name)["config"]


def test_validate_runs_the_drivers_rules_400g_on_a_tofino1_port_is_refused(
    tmp_path: Path, site: dict
) -> None:
    _port(site, "tor-tf1/1").update(speed="400G", fec="rs544")
    result = _edge_agent("validate", str(_write(tmp_path, site)))
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.strip().splitlines() == [
        f"{tmp_path / 'site.json'}: /ports/port[name=tor-tf1/1]/config/speed: port tor-tf1/1: "
        "speed 400G is not supported by tofino1 (supported: 1G, 10G, 25G, 40G, 50G, 100G) "
        "[rule port-speed]"
    ]
    assert "refused (1 problem(s))" in result.stderr


def test_validate_reports_every_driver_refusal_as_json(tmp_path: Path, site: dict) -> None:
    _port(site, "nic-e810/1")["num-vfs"] = 200  # with nic-e810/2's 64: 264 > 256 per device
    _port(site, "tor-tf1/4")["lag-group"] = "uplinks"
    _port(site, "tor-tf1/3")["lag-group"] = "uplinks"  # 40G next to 100G
    result = _edge_agent("validate", "--json", str(_write(tmp_path, site)))
    assert result.returncode == 1, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert {(r["path"], r["rule"]) for r in records} == {
        ("/ports/port[name=nic-e810/1]/config/num-vfs", "vf-limit"),
        ("/ports/port[name=nic-e810/2]/config/num-vfs", "vf-limit"),
        ("/ports/port[name=tor-tf1/3]/config/speed", "lag-speed"),
    }
    lag = next(r for r in records if r["rule"] == "lag-speed")
    assert lag["message"].startswith("lag uplinks: members run different speeds")


def test_validate_is_offline_a_linux_device_uses_its_chip_profile(
    tmp_path: Path, site: dict
) -> None:
    site["edge-platform:platform"]["devices"]["device"].append(
        {
            "name": "nic-lab",
            "config": {
                "name": "nic-lab",
                "chipset": "edge-types:connectx-6",
                "backend": "linux",
                "address": "netns:no-such-namespace-here",
            },
        }
    )
    site["edge-ports:ports"]["port"].append(
        {
            "name": "nic-lab/1",
            "config": {
                "name": "nic-lab/1",
                "device": "nic-lab",
                "index": 1,
                "speed": "100G",
                "mtu": 9999,
                "interface-name": "eth-lab0",
            },
        }
    )
    result = _edge_agent("validate", str(_write(tmp_path, site)))
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.strip().splitlines() == [
        f"{tmp_path / 'site.json'}: /ports/port[name=nic-lab/1]/config/mtu: port nic-lab/1: "
        "mtu 9999 is outside the range 64..9978 of connectx-6 [rule port-mtu]"
    ]


def test_validate_names_a_device_no_driver_serves(tmp_path: Path, site: dict) -> None:
    device = site["edge-platform:platform"]["devices"]["device"][0]["config"]
    device["backend"] = "p4runtime"
    result = _edge_agent("validate", str(_write(tmp_path, site)))
    assert result.returncode == 1
    line = result.stdout.strip()
    assert "/platform/devices/device[name=tor-tf1]/config/backend" in line
    assert "has no backend 'p4runtime' for chipset tofino1" in line


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
