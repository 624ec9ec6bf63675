"""File modes in the state directory: refused when writable by others, secrets made private.

Tests run as root, who opens any file, so they look at mode bits, never at access.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

import pytest

from agent.security.state_files import StateFileError, check_state_files


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def make(path: Path, file_mode: int, text: str = "x") -> Path:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(file_mode)
    return path


@pytest.fixture
def state(tmp_path: Path) -> Path:
    """A state directory as the agent leaves it."""
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    make(state / "users.json", 0o600)
    make(state / "running.json", 0o600)
    make(state / "bootstrap-admin.password", 0o600)
    make(state / "checkpoints" / "00000001.json", 0o600)
    make(state / "audit" / "audit.log", 0o600)
    make(state / "tls" / "ca.key", 0o600)
    make(state / "tls" / "server.key", 0o600)
    make(state / "tls" / "ca.crt", 0o644)
    make(state / "tls" / "server.crt", 0o644)
    return state


def test_what_the_agent_writes_passes(state: Path) -> None:
    assert check_state_files(state, users_file=state / "users.json") == []


def test_a_missing_state_dir_is_fine(tmp_path: Path) -> None:
    assert check_state_files(tmp_path / "nowhere") == []


def test_a_state_dir_that_is_a_file_is_refused(tmp_path: Path) -> None:
    make(tmp_path / "state", 0o600)
    with pytest.raises(StateFileError, match="state is not a directory"):
        check_state_files(tmp_path / "state")


def test_a_world_writable_state_dir_is_refused(state: Path) -> None:
    state.chmod(0o777)
    with pytest.raises(StateFileError) as refused:
        check_state_files(state)
    assert str(refused.value) == (
        f"{state} is writable by others (mode 0777): run chmod 755 {state}"
    )


def test_a_group_writable_directory_inside_is_refused(state: Path) -> None:
    (state / "tls").chmod(0o770)
    with pytest.raises(StateFileError) as refused:
        check_state_files(state)
    tls = state / "tls"
    assert str(refused.value) == f"{tls} is writable by its group (mode 0770): run chmod 750 {tls}"


@pytest.mark.parametrize(
    ("name", "file_mode", "wanted"),
    [
        ("users.json", 0o666, "writable by others (mode 0666): run chmod 600"),
        ("tls/server.key", 0o620, "writable by its group (mode 0620): run chmod 600"),
        ("bootstrap-admin.password", 0o602, "writable by others (mode 0602): run chmod 600"),
        ("tls/ca.crt", 0o666, "writable by others (mode 0666): run chmod 644"),
        ("running.json", 0o660, "writable by its group (mode 0660): run chmod 640"),
        ("checkpoints/00000001.json", 0o606, "writable by others (mode 0606): run chmod 604"),
        ("audit/audit.log", 0o666, "writable by others (mode 0666): run chmod 644"),
    ],
)
def test_a_file_others_can_write_is_refused(
    state: Path, name: str, file_mode: int, wanted: str
) -> None:
    path = state / name
    path.chmod(file_mode)
    with pytest.raises(StateFileError) as refused:
        check_state_files(state)
    assert str(refused.value) == f"{path} is {wanted} {path}"
    assert mode(path) == file_mode  # left alone: the operator decides


@pytest.mark.parametrize(
    ("name", "file_mode", "who"),
    [
        ("users.json", 0o644, "readable by others (mode 0644)"),
        ("users.json", 0o640, "readable by its group (mode 0640)"),
        ("bootstrap-admin.password", 0o604, "readable by others (mode 0604)"),
        ("tls/ca.key", 0o644, "readable by others (mode 0644)"),
        ("tls/server.key", 0o700, None),
        ("tls/server.key", 0o610, "open to its group (mode 0610)"),
    ],
)
def test_a_secret_others_can_read_is_made_private(
    state: Path, name: str, file_mode: int, who: str | None, caplog: pytest.LogCaptureFixture
) -> None:
    path = state / name
    path.chmod(file_mode)
    with caplog.at_level(logging.WARNING):
        warnings = check_state_files(state)
    if who is None:  # only the owner may touch it: nothing to do
        assert warnings == [] and mode(path) == file_mode
        return
    assert mode(path) == 0o600
    (warning,) = warnings
    assert warning.startswith(f"{path} was {who}: changed it to 0600; ")
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING] == [warning]


def test_the_warning_says_what_may_have_leaked(state: Path) -> None:
    for name in ("users.json", "bootstrap-admin.password", "tls/ca.key"):
        (state / name).chmod(0o644)
    warnings = {Path(w.split(" was ")[0]).name: w for w in check_state_files(state)}
    assert "password hashes" in warnings["users.json"]
    assert "bootstrap user a new password" in warnings["bootstrap-admin.password"]
    assert "private key" in warnings["ca.key"]


def test_readable_ordinary_files_are_left_alone(state: Path) -> None:
    (state / "running.json").chmod(0o644)
    (state / "audit" / "audit.log").chmod(0o644)
    assert check_state_files(state) == []
    assert mode(state / "running.json") == 0o644


def test_every_refusal_is_named_on_one_line(state: Path) -> None:
    (state / "users.json").chmod(0o666)
    (state / "tls" / "ca.key").chmod(0o666)
    with pytest.raises(StateFileError) as refused:
        check_state_files(state)
    message = str(refused.value)
    assert "\n" not in message and message.count("; ") == 1
    assert "tls/ca.key is writable" in message and "users.json is writable" in message


def test_a_users_file_elsewhere_is_a_secret(state: Path, tmp_path: Path) -> None:
    elsewhere = make(tmp_path / "etc" / "users.json", 0o644)
    warnings = check_state_files(state, users_file=elsewhere)
    assert mode(elsewhere) == 0o600 and len(warnings) == 1
    elsewhere.chmod(0o646)
    with pytest.raises(StateFileError, match=f"{elsewhere} is writable by others"):
        check_state_files(state, users_file=elsewhere)


def test_other_files_are_checked_wherever_they_are(state: Path, tmp_path: Path) -> None:
    bundle = make(tmp_path / "clients-ca.pem", 0o644)
    assert check_state_files(state, others=[bundle]) == []
    bundle.chmod(0o666)
    with pytest.raises(StateFileError, match=f"{bundle} is writable by others.*chmod 644"):
        check_state_files(state, others=[bundle, tmp_path / "missing.pem"])


def test_a_link_is_judged_by_its_target(state: Path, tmp_path: Path) -> None:
    target = make(tmp_path / "keys" / "server.key", 0o644)
    (state / "tls" / "server.key").unlink()
    (state / "tls" / "server.key").symlink_to(target)
    (state / "dangling").symlink_to(tmp_path / "gone")
    warnings = check_state_files(state)
    assert len(warnings) == 1 and mode(target) == 0o600


def test_linked_directories_are_not_walked(state: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    make(outside / "sub" / "open.txt", 0o666)
    outside.chmod(0o755)
    (state / "linked").symlink_to(outside)
    assert check_state_files(state) == []


def test_a_secret_that_cannot_be_changed_is_refused(
    state: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = state / "users.json"
    path.chmod(0o644)

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "chmod", refuse)
    with pytest.raises(StateFileError) as refused:
        check_state_files(state)
    assert str(refused.value) == (
        f"{path} is readable by others (mode 0644) and cannot be made private "
        f"(Operation not permitted): run chmod 600 {path}"
    )


def test_relative_paths_are_shown_as_given(state: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(state.parent)
    (state / "users.json").chmod(0o666)
    with pytest.raises(StateFileError) as refused:
        check_state_files(Path("state"), users_file=Path("state/users.json"))
    assert str(refused.value) == (
        "state/users.json is writable by others (mode 0666): run chmod 600 state/users.json"
    )
