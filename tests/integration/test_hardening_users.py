"""`edge-agent serve` follows its user database and refuses an unsafe state directory.

- A pygnmi STREAM subscription of a read-only user ends (UNAUTHENTICATED) within about
  two seconds when `edge-agent user remove` or `user passwd` runs in another process,
  and PERMISSION_DENIED after `user role`; the old login stops working for Get too.
- A damaged users.json, or a state file others can write, stops `serve` before it
  listens: exit code 1 and one line on stderr naming the file. A users.json others can
  read is made private (0600) with a warning, and the agent serves.
"""

from __future__ import annotations

import asyncio
import json
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent.commands import serve as serve_command
from agent.config import ListenAddress, Settings, TlsSettings
from agent.exit_codes import ExitCode
from tests.integration.conftest import (
    AgentProcess,
    GnmiCallError,
    PygnmiWorker,
    add_user,
)

pytestmark = pytest.mark.integration

STATUS = "/ports/port[name=tor-tf1/4]/state/oper-status"
MTU = "/ports/port[name=tor-tf1/1]/config/mtu"
ENDS_WITHIN_S = 2.0
REFUSED_WITHIN_S = 1.5


def user_cli(state_dir: Path, *args: str, password: str | None = None) -> None:
    """`edge-agent user ...` in a process of its own, as an operator runs it."""
    command = [sys.executable, "-m", "agent.cli", "user", *args, "--state-dir", str(state_dir)]
    if password is not None:
        command.append("--password-stdin")
    subprocess.run(
        command,
        input=None if password is None else password + "\n",
        text=True,
        check=True,
        capture_output=True,
        timeout=60,
    )


@pytest.fixture(scope="module")
def agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AgentProcess]:
    state_dir = tmp_path_factory.mktemp("hardening") / "state"
    process = AgentProcess(state_dir).start()
    try:
        yield process
    finally:
        process.stop()


def subscribe(gnmi: PygnmiWorker, agent: AgentProcess, user: str, password: str) -> None:
    """A new read-only user with an open STREAM subscription called ``user``."""
    add_user(agent.state_dir, user, "read-only", password)
    gnmi.connect(user, agent, user, password)
    listing = {"subscription": [{"path": STATUS, "mode": "on_change"}], "encoding": "json"}
    first = gnmi.call("stream", client=user, name=user, subscribe=listing)
    assert first.get("sync_response")


def stream_end(gnmi: PygnmiWorker, name: str, since: float) -> tuple[GnmiCallError, float]:
    """How the subscription ``name`` ended, and how long after ``since``."""
    with pytest.raises(GnmiCallError) as ended:
        while True:
            gnmi.call("next", name=name, timeout=10)  # on_change: nothing else arrives
    return ended.value, time.monotonic() - since


def get_refused(gnmi: PygnmiWorker, client: str, since: float) -> tuple[GnmiCallError, float]:
    """Repeats a Get until it is refused; the refusal and how long after ``since``."""
    while True:
        try:
            gnmi.call("get", client=client, path=[MTU])
        except GnmiCallError as refused:
            return refused, time.monotonic() - since
        assert time.monotonic() - since < 10, "the old login still works"
        time.sleep(0.05)


def test_removing_a_user_ends_their_stream(pygnmi: PygnmiWorker, agent: AgentProcess) -> None:
    subscribe(pygnmi, agent, "leaver", "leaver-pw")
    user_cli(agent.state_dir, "remove", "leaver")
    removed = time.monotonic()
    error, after = stream_end(pygnmi, "leaver", removed)
    assert error.code == "UNAUTHENTICATED"
    assert error.details == "user 'leaver' was removed: the subscription has ended"
    assert after < ENDS_WITHIN_S
    refused, after = get_refused(pygnmi, "leaver", removed)
    assert refused.code == "UNAUTHENTICATED" and after < REFUSED_WITHIN_S
    pygnmi.call("close", client="leaver")


def test_a_new_password_ends_the_stream(pygnmi: PygnmiWorker, agent: AgentProcess) -> None:
    subscribe(pygnmi, agent, "rotator", "first-pw")
    user_cli(agent.state_dir, "passwd", "rotator", password="second-pw")
    changed = time.monotonic()
    error, after = stream_end(pygnmi, "rotator", changed)
    assert error.code == "UNAUTHENTICATED" and "password of user 'rotator'" in error.details
    assert after < ENDS_WITHIN_S
    refused, after = get_refused(pygnmi, "rotator", changed)
    assert refused.code == "UNAUTHENTICATED" and after < REFUSED_WITHIN_S
    pygnmi.call("close", client="rotator")
    pygnmi.connect("rotated", agent, "rotator", "second-pw")
    assert pygnmi.call("get", client="rotated", path=[MTU])["notification"]
    pygnmi.call("close", client="rotated")


def test_a_new_role_ends_the_stream(pygnmi: PygnmiWorker, agent: AgentProcess) -> None:
    subscribe(pygnmi, agent, "promoted", "promoted-pw")
    user_cli(agent.state_dir, "role", "promoted", "--role", "admin")
    changed = time.monotonic()
    error, after = stream_end(pygnmi, "promoted", changed)
    assert error.code == "PERMISSION_DENIED" and "role of user 'promoted'" in error.details
    assert after < ENDS_WITHIN_S
    pygnmi.call("close", client="promoted")


# --- start-up refusals ------------------------------------------------------------------------


def edge_agent() -> list[str]:
    script = Path(sys.executable).with_name("edge-agent")
    return [str(script)] if script.exists() else [sys.executable, "-m", "agent.cli"]


def serve(cwd: Path) -> subprocess.CompletedProcess[str]:
    """`edge-agent serve` on the state directory ``cwd/state``; it is expected to fail."""
    command = [*edge_agent(), "serve", "--insecure", "--listen", "127.0.0.1:0"]
    return subprocess.run(
        [*command, "--state-dir", "state"],
        cwd=cwd,
        text=True,
        capture_output=True,
        timeout=60,
    )


def users_file(tmp_path: Path, content: bytes, mode: int = 0o600) -> Path:
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    path = state / "users.json"
    path.write_bytes(content)
    path.chmod(mode)
    return path


def assert_refused(result: subprocess.CompletedProcess[str], state: Path, wanted: str) -> None:
    assert result.returncode == ExitCode.STATE
    assert result.stderr.splitlines() == [f"edge-agent serve: error: {wanted}"]
    assert "Traceback" not in result.stderr and "gNMI" not in result.stdout
    assert not (state / "running.json").exists()  # the datastore never started


GOOD_RECORD: dict[str, Any] = {
    "name": "ann",
    "role": "admin",
    "slices": [],
    "password": {"algorithm": "scrypt", "n": 16, "r": 1, "p": 1, "salt": "AAAA", "hash": "A" * 24},
}


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"this is not json", "not valid JSON: Expecting value: line 1 column 1 (char 0)"),
        (b'["a", "list"]', "expected an object with version 1 and a users list"),
        (
            json.dumps({"version": 1, "users": [GOOD_RECORD, dict(GOOD_RECORD, role="root")]}),
            "user #2: unknown role 'root': choose one of admin, read-only, tenant",
        ),
    ],
    ids=["not-json", "wrong-shape", "bad-record"],
)
def test_a_damaged_users_file_stops_the_start(
    tmp_path: Path, content: bytes | str, problem: str
) -> None:
    raw = content.encode() if isinstance(content, str) else content
    path = users_file(tmp_path, raw)
    result = serve(tmp_path)
    assert_refused(result, path.parent, f"state/users.json: {problem}")


def test_a_world_writable_state_dir_stops_the_start(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    state.chmod(0o777)
    result = serve(tmp_path)
    assert_refused(result, state, "state is writable by others (mode 0777): run chmod 755 state")


def test_a_world_writable_users_file_stops_the_start(tmp_path: Path) -> None:
    path = users_file(tmp_path, b'{"version": 1, "users": []}', mode=0o666)
    result = serve(tmp_path)
    wanted = "state/users.json is writable by others (mode 0666): run chmod 600 state/users.json"
    assert_refused(result, path.parent, wanted)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666  # refused, not changed


def test_a_readable_users_file_is_made_private(pygnmi: PygnmiWorker, tmp_path: Path) -> None:
    state = tmp_path / "state"
    add_user(state, "ann", "admin", "ann-pw")
    path = state / "users.json"
    path.chmod(0o644)
    agent = AgentProcess(state).start()
    try:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        pygnmi.connect("ann", agent, "ann", "ann-pw")
        assert pygnmi.call("get", client="ann", path=[MTU])["notification"]
        pygnmi.call("close", client="ann")
    finally:
        assert agent.stop() == 0
    warning = f"{path.relative_to(tmp_path)} was readable by others (mode 0644): changed it to 0600"
    assert warning in agent.stderr


@pytest.mark.parametrize(
    ("error", "wanted", "code"),
    [
        (OSError("disk\non fire"), "edge-agent serve: error: disk on fire", ExitCode.STATE),
        (
            KeyError("surprise"),
            "edge-agent serve: error: unexpected KeyError: 'surprise' (run with --log-level "
            "debug for details)",
            ExitCode.FAILED,
        ),
    ],
)
def test_any_start_failure_is_one_line(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    error: Exception,
    wanted: str,
    code: ExitCode,
) -> None:
    def failing(_settings: Settings) -> Any:
        raise error

    monkeypatch.setattr(serve_command, "build_agent", failing)
    settings = Settings(
        listen=ListenAddress("127.0.0.1", 0),
        state_dir=tmp_path / "state",
        tls=TlsSettings(insecure=True),
    )
    assert asyncio.run(serve_command.serve(settings)) == code
    out, err = capsys.readouterr()
    assert out == "" and err.splitlines() == [wanted]  # not even the --insecure warning
