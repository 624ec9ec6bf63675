"""The container image, built by deploy/container/build.sh with podman on a Debian base made
here (no registry is reachable): it runs as an arbitrary UID in group 0 on a read-only root
with no capabilities, keeps its state in the volume, answers its HEALTHCHECK through gRPC
health, serves pygnmi on the host and stops cleanly on SIGTERM."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.integration.conftest import PygnmiWorker
from tests.ship.conftest import (
    ROOT,
    Wheelhouse,
    cached_dir,
    free_port,
    mark_complete,
    require,
    require_root,
)

pytestmark = [pytest.mark.ship, pytest.mark.integration]

SUITE = "bookworm"
BASE_TAG = "localhost/edge-agent-test-base"
IMAGE = "localhost/edge-agent:test"
ARBITRARY_UID = 4242  # as OpenShift's restricted SCC picks one: any UID, group 0
PASSWORD = "container-admin-pw"
MTU = "/ports/port[name=tor-tf1/1]/config/mtu"
CONTAINERS_CONF = """\
[containers]
netns = "host"
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
runtime = "runc"
"""


@dataclass(frozen=True)
class Podman:
    """podman with this test's own configuration and storage."""

    env: dict[str, str]

    def run(self, *args: str | Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["podman", *map(str, args)],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def __call__(self, *args: str | Path) -> str:
        """The output of a podman command that must succeed."""
        result = self.run(*args)
        if result.returncode != 0:
            raise AssertionError(
                f"podman {' '.join(map(str, args))} exited {result.returncode}: {result.stderr}"
            )
        return result.stdout


@dataclass(frozen=True)
class Served:
    """What PygnmiWorker.connect needs of an agent."""

    port: int
    ca_cert: Path


@pytest.fixture(scope="module")
def podman(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Podman]:
    require_root()
    require("podman", "runc", "debootstrap")
    home = tmp_path_factory.mktemp("podman")
    (home / "containers.conf").write_text(CONTAINERS_CONF)
    (home / "storage.conf").write_text(
        f'[storage]\ndriver = "overlay"\ngraphroot = "{home / "root"}"\n'
        f'runroot = "{home / "run"}"\n'
    )
    env = dict(os.environ)
    env["CONTAINERS_CONF"] = str(home / "containers.conf")
    env["CONTAINERS_STORAGE_CONF"] = str(home / "storage.conf")
    tool = Podman(env)
    try:
        yield tool
    finally:
        tool.run("system", "reset", "--force")
        shutil.rmtree(home, ignore_errors=True)


def debian_base(tmp: Path) -> Path:
    """A tar of `debootstrap --variant=minbase --include=python3`, cached on a developer's
    machine (by suite, variant and debootstrap version), made fresh under CI."""
    version = subprocess.run(
        ["dpkg-query", "-W", "-f=${Version}", "debootstrap"], capture_output=True, text=True
    ).stdout
    directory, filled = cached_dir("debootstrap", f"{SUITE} minbase python3 {version}", tmp)
    tarball = directory / "rootfs.tar"
    if filled:
        return tarball
    rootfs = tmp / "rootfs"
    directory.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["debootstrap", "--variant=minbase", "--include=python3", SUITE, str(rootfs)],
        check=True,
        capture_output=True,
        timeout=1200,
    )
    subprocess.run(
        ["tar", "--numeric-owner", "-C", str(rootfs), "-cf", str(tarball), "."], check=True
    )
    shutil.rmtree(rootfs)
    mark_complete(directory)
    return tarball


@pytest.fixture(scope="module")
def image(podman: Podman, wheelhouse: Wheelhouse, tmp_path_factory: pytest.TempPathFactory) -> str:
    tmp = tmp_path_factory.mktemp("base")
    tarball = debian_base(tmp)
    podman("import", tarball, f"{BASE_TAG}:{SUITE}")
    build = subprocess.run(
        [
            *(str(ROOT / "deploy" / "container" / "build.sh"), "--tag", IMAGE),
            *("--wheelhouse", str(wheelhouse.directory), "--base", f"{BASE_TAG}:{SUITE}"),
        ],
        env=podman.env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert build.returncode == 0, build.stderr[-4000:]
    assert build.stdout.strip() == IMAGE
    shutil.rmtree(tmp, ignore_errors=True)
    return IMAGE


def test_the_image_declares_user_volume_stop_signal_and_healthcheck(
    podman: Podman, image: str
) -> None:
    (inspected,) = json.loads(podman("image", "inspect", image))
    config = inspected["Config"]
    assert config["User"] == "1001"  # numeric: runAsNonRoot can check it
    assert "/var/lib/edge-agent" in config["Volumes"]
    assert config["StopSignal"] == "SIGTERM"
    assert config["Entrypoint"] == ["edge-agent"]
    test = (inspected.get("Healthcheck") or {}).get("Test") or []  # docker format keeps it
    assert test[:3] == ["CMD", "edge-agent", "health"]


def start(podman: Podman, volume: str, settings: Path, name: str) -> None:
    podman(
        *("run", "--detach", "--name", name, "--user", f"{ARBITRARY_UID}:0"),
        *("--read-only", "--cap-drop=ALL", "--security-opt", "no-new-privileges"),
        "--health-interval=disable",  # no systemd here to run the timer: asked by hand below
        *("--env", f"EDGE_AGENT_ADMIN_PASSWORD={PASSWORD}"),
        *("--volume", f"{volume}:/var/lib/edge-agent"),
        *("--volume", f"{settings}:/etc/edge-agent/agent.toml:ro"),
        IMAGE,
    )


def wait_healthy(podman: Podman, name: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while podman.run("healthcheck", "run", name).returncode != 0:
        logs = podman.run("logs", name)
        assert time.monotonic() < deadline, f"never healthy: {logs.stdout}{logs.stderr}"
        state = podman("inspect", "--format", "{{.State.Status}}", name).strip()
        assert state == "running", f"{logs.stdout}{logs.stderr}"
        time.sleep(1)
    status = podman("inspect", "--format", "{{.State.Health.Status}}", name).strip()
    assert status == "healthy"


def stop(podman: Podman, name: str) -> str:
    """SIGTERM (the image's STOPSIGNAL), then the logs; a clean exit is 0, not 137."""
    podman("stop", "--time", "30", name)
    exit_code = podman("inspect", "--format", "{{.State.ExitCode}}", name).strip()
    logs = podman.run("logs", name)
    podman("rm", name)
    assert exit_code == "0", logs.stderr[-3000:]
    return logs.stdout + logs.stderr


def test_runs_as_an_arbitrary_uid_serves_pygnmi_and_stops_on_sigterm(
    podman: Podman, image: str, tmp_path: Path
) -> None:
    gnmi, netconf = free_port(), free_port()
    settings = tmp_path / "agent.toml"
    settings.write_text(
        f'listen = "127.0.0.1:{gnmi}"\nstate_dir = "/var/lib/edge-agent/state"\n'
        f'[users]\nbootstrap_admin = "admin"\n[netconf]\nlisten = "127.0.0.1:{netconf}"\n'
    )
    volume = "edge-agent-test-state"
    podman("volume", "create", volume)
    mountpoint = Path(podman("volume", "inspect", "--format", "{{.Mountpoint}}", volume).strip())
    state = mountpoint / "state"
    pygnmi = PygnmiWorker()
    try:
        start(podman, volume, settings, "edge-agent-first")
        wait_healthy(podman, "edge-agent-first")
        info = os.stat(state)
        assert (info.st_uid, info.st_gid) == (ARBITRARY_UID, 0)
        assert stat.S_IMODE(info.st_mode) & 0o777 == 0o700  # inside the group-0 volume
        assert stat.S_IMODE(os.stat(state / "users.json").st_mode) == 0o600
        served = Served(gnmi, state / "tls" / "ca.crt")
        pygnmi.connect("first", served, "admin", PASSWORD)
        got = pygnmi.call("get", client="first", path=[MTU])
        assert got["notification"][0]["update"][0]["val"] == 9000
        pygnmi.call("set", client="first", update=[[MTU, 1600]])
        pygnmi.call("close", client="first")
        logs = stop(podman, "edge-agent-first")
        assert "edge-agent stopped" in logs

        start(podman, volume, settings, "edge-agent-second")  # the same volume again
        wait_healthy(podman, "edge-agent-second")
        pygnmi.connect("second", served, "admin", PASSWORD)
        got = pygnmi.call("get", client="second", path=[MTU])
        assert got["notification"][0]["update"][0]["val"] == 1600  # kept in the volume
        pygnmi.call("close", client="second")
        assert "edge-agent stopped" in stop(podman, "edge-agent-second")
    finally:
        pygnmi.close()
        for name in ("edge-agent-first", "edge-agent-second"):
            podman.run("rm", "--force", name)
        podman.run("volume", "rm", "--force", volume)
