"""The YANG modules are clean under pyang --strict and yanglint, and documented."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from tests.conftest import ROOT
from tools import yang_tree

YANG = ROOT / "yang"
MODULES = sorted(str(p) for p in YANG.glob("*.yang"))


def test_the_five_modules_exist() -> None:
    names = {p.rsplit("/", 1)[1] for p in MODULES}
    assert names == {
        "edge-types.yang",
        "edge-platform.yang",
        "edge-ports.yang",
        "edge-slices.yang",
        "edge-tenants.yang",
    }


def test_pyang_strict_reports_nothing() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pyang", "--strict", "-p", str(YANG), *MODULES],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0
    assert result.stdout == "" and result.stderr == ""


def test_yanglint_reports_nothing() -> None:
    yanglint = shutil.which("yanglint")
    if yanglint is None:
        pytest.fail("yanglint is missing: run tools/system-deps.sh (Debian libyang2-tools)")
    result = subprocess.run([yanglint, "-p", str(YANG), *MODULES], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "" and result.stderr == ""


def test_pyang_strict_does_report_a_broken_module(tmp_path) -> None:
    """The check above can fail: a module with a dangling leafref is reported."""
    for path in YANG.glob("*.yang"):
        text = path.read_text()
        if path.name == "edge-slices.yang":
            text = text.replace(
                'path "/eport:ports/eport:port/eport:name"', 'path "/eport:ports/eport:nope"'
            )
        (tmp_path / path.name).write_text(text)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pyang",
            "--strict",
            "-p",
            str(tmp_path),
            str(tmp_path / "edge-slices.yang"),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "nope" in result.stderr


def test_every_module_has_a_revision_and_descriptions() -> None:
    for path in YANG.glob("*.yang"):
        text = path.read_text()
        assert "revision 20" in text, path.name
        assert "organization" in text and "contact" in text, path.name


def test_readme_tree_is_in_sync() -> None:
    readme = (YANG / "README.md").read_text()
    assert yang_tree.render(readme, yang_tree.tree_text()) == readme, (
        "yang/README.md is out of date: run python -m tools.yang_tree"
    )


def test_readme_tree_check_detects_a_change(tmp_path) -> None:
    for path in YANG.glob("*.yang"):
        text = path.read_text()
        if path.name == "edge-ports.yang":
            text = text.replace("leaf loopback {", "leaf loopback-mode-x {")
        (tmp_path / path.name).write_text(text)
    readme = (YANG / "README.md").read_text()
    assert yang_tree.render(readme, yang_tree.tree_text(tmp_path)) != readme
