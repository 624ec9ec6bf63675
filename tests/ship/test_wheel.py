"""The wheel and the sdist, built from a clean copy of the tracked files, install into fresh
virtual environments without an index, and the installed `edge-agent serve` works from a
directory that has nothing to do with the source tree."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from agent.site_file import read_config_file, summarise
from tests.integration.conftest import ADMIN_PASSWORD, AgentProcess, PygnmiWorker
from tests.ship.conftest import ROOT, Wheelhouse, run

pytestmark = [pytest.mark.ship, pytest.mark.integration]

MTU = "/ports/port[name=tor-tf1/1]/config/mtu"


def fresh_venv(directory: Path, wheelhouse: Wheelhouse, requirement: str | Path) -> Path:
    """A new virtual environment with ``requirement`` installed from the wheelhouse only."""
    run(sys.executable, "-m", "venv", directory)
    run(
        directory / "bin" / "python",
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-index",
        "--find-links",
        wheelhouse.directory,
        requirement,
    )
    return directory


def site_packages(venv: Path) -> Path:
    (found,) = venv.glob("lib/python3*/site-packages")
    return found.resolve()


def test_the_wheel_carries_modules_site_and_stubs(wheelhouse: Wheelhouse) -> None:
    names = run(sys.executable, "-m", "zipfile", "-l", wheelhouse.wheel)
    for name in ("edge-types.yang", "edge-ports.yang", "site.json", "gnmi_pb2.py"):
        assert name in names
    assert "agent/data/yang/edge-platform.yang" in names


def test_the_installed_wheel_serves_from_any_directory(
    wheelhouse: Wheelhouse, tmp_path: Path
) -> None:
    venv = fresh_venv(tmp_path / "venv", wheelhouse, "edge-agent")
    script = "import agent; print(agent.__file__)"
    installed = run(venv / "bin" / "python", "-c", script, cwd=tmp_path)
    assert Path(installed.strip()).is_relative_to(site_packages(venv))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    agent = AgentProcess(
        elsewhere / "state", program=(str(venv / "bin" / "edge-agent"),), cwd=elsewhere
    ).start()
    pygnmi = PygnmiWorker()
    try:
        banner = "".join(agent.stdout)
        modules = re.search(r"YANG modules   (\S+)", banner)
        assert modules is not None
        assert Path(modules.group(1)) == site_packages(venv) / "agent" / "data" / "yang"
        assert f"state dir      {(elsewhere / 'state').resolve()}" in banner  # absolute
        pygnmi.connect("wheel", agent, "admin", ADMIN_PASSWORD)
        result = pygnmi.call("get", client="wheel", path=[MTU])
        assert result["notification"][0]["update"][0]["val"] == 9000
        pygnmi.call("close", client="wheel")
    finally:
        pygnmi.close()
        assert agent.stop() == 0
    assert "edge-agent stopped" in "".join(agent.stdout)


def test_the_sdist_builds_and_installs_offline(wheelhouse: Wheelhouse, tmp_path: Path) -> None:
    venv = fresh_venv(tmp_path / "venv", wheelhouse, wheelhouse.sdist)
    shown = run(venv / "bin" / "edge-agent", "site", cwd=tmp_path)
    summary = summarise(read_config_file(ROOT / "examples" / "site.json"))
    assert shown.startswith(f"# site.json: valid ({summary})")
    version = run(venv / "bin" / "edge-agent", "--version", cwd=tmp_path)
    assert version.strip() == f"edge-agent {wheelhouse.wheel.name.split('-')[1]}"
