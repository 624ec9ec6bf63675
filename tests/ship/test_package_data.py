"""The YANG modules and the simulated site are package data; in the source checkout the
editable install finds the sources of truth themselves through agent/data's links."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import agent
from agent.package_data import PackageDataError, packaged
from agent.schema.library import default_yang_dir, discover_modules
from agent.site_file import default_site_path

ROOT = Path(__file__).resolve().parents[2]


def test_the_checkout_finds_the_sources_of_truth() -> None:
    assert Path(agent.__file__).resolve().parent == ROOT / "agent"  # the editable install
    assert default_yang_dir() == (ROOT / "yang").resolve()
    assert default_site_path() == (ROOT / "examples" / "site.json").resolve()
    assert os.readlink(ROOT / "agent" / "data" / "yang") == "../../yang"
    assert os.readlink(ROOT / "agent" / "data" / "site.json") == "../../examples/site.json"
    names = sorted(module.path.name for module in discover_modules(default_yang_dir()))
    assert names == sorted(path.name for path in (ROOT / "yang").glob("*.yang"))


def test_found_from_any_working_directory(tmp_path: Path) -> None:
    script = (
        "from agent.schema.engine import SchemaEngine\n"
        "from agent.site_file import default_site_path, read_config_file\n"
        "engine = SchemaEngine()\n"
        "print(len(engine.modules), len(engine.refusals(read_config_file(default_site_path()))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    modules, refusals = map(int, result.stdout.split())
    assert modules == len(list((ROOT / "yang").glob("*.yang"))) and refusals == 0


def test_a_missing_data_file_is_a_clear_error() -> None:
    with pytest.raises(PackageDataError, match="missing from the installed package"):
        packaged("no-such-file.json")
