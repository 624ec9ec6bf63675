"""`edge-agent user ...` end to end through agent.cli.main."""

from __future__ import annotations

import io
import stat
import sys
from pathlib import Path

import pytest

from agent import cli
from agent.security.errors import AuthenticationError
from agent.security.users import Role, User, UserStore


@pytest.fixture(autouse=True)
def only_user_command(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run the parser with just this command so other commands' modules do not matter."""
    assert "user" in cli.COMMANDS
    monkeypatch.setattr(cli, "COMMANDS", ("user",))


def run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], stdin: str, *argv: str
) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_add_list_passwd_remove(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], state_dir: Path
) -> None:
    sd = str(state_dir)
    code, out, _ = run(
        monkeypatch,
        capsys,
        "s3cret pw\n",
        "user",
        "add",
        "alice",
        "--role",
        "admin",
        "--password-stdin",
        "--state-dir",
        sd,
    )
    assert code == 0 and "alice" in out
    code, _, _ = run(
        monkeypatch,
        capsys,
        "t\n",
        "user",
        "add",
        "acme",
        "--role",
        "tenant",
        "--tenant",
        "operator-a",
        "--password-stdin",
        "--state-dir",
        sd,
    )
    assert code == 0
    code, _, _ = run(
        monkeypatch,
        capsys,
        "o\n",
        "user",
        "add",
        "noc",
        "--role",
        "operator",
        "--password-stdin",
        "--state-dir",
        sd,
    )
    assert code == 0

    users_file = state_dir / "users.json"
    assert stat.S_IMODE(users_file.stat().st_mode) == 0o600
    assert b"s3cret" not in users_file.read_bytes()
    store = UserStore.in_state_dir(state_dir)
    assert store.authenticate("alice", "s3cret pw") == User("alice", Role.ADMIN)
    assert store.get("acme") == User("acme", Role.TENANT, "operator-a")
    assert store.get("noc") == User("noc", Role.READ_ONLY)

    code, out, _ = run(monkeypatch, capsys, "", "user", "list", "--state-dir", sd)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["NAME", "ROLE", "TENANT"]
    assert [line.split() for line in lines[1:]] == [
        ["acme", "tenant", "operator-a"],
        ["alice", "admin", "-"],
        ["noc", "read-only", "-"],
    ]

    code, _, _ = run(
        monkeypatch,
        capsys,
        "new pw\r\n",
        "user",
        "passwd",
        "alice",
        "--password-stdin",
        "--state-dir",
        sd,
    )
    assert code == 0
    assert store.authenticate("alice", "new pw").name == "alice"
    with pytest.raises(AuthenticationError):
        store.authenticate("alice", "s3cret pw")

    code, out, _ = run(monkeypatch, capsys, "", "user", "remove", "noc", "--state-dir", sd)
    assert code == 0 and "noc" in out
    assert [u.name for u in store.users()] == ["acme", "alice"]


def test_only_the_trailing_newline_is_stripped(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], state_dir: Path
) -> None:
    code, _, _ = run(
        monkeypatch,
        capsys,
        "  spaced  \nsecond line\n",
        "user",
        "add",
        "bob",
        "--role",
        "admin",
        "--password-stdin",
        "--state-dir",
        str(state_dir),
    )
    assert code == 0
    assert UserStore.in_state_dir(state_dir).authenticate("bob", "  spaced  ").name == "bob"


@pytest.mark.parametrize(
    ("stdin", "args", "message"),
    [
        ("pw\n", ["--role", "root"], "unknown role 'root'"),
        ("pw\n", ["--role", "tenant"], "a tenant user needs --tenant TENANT"),
        ("pw\n", ["--role", "admin", "--tenant", "t1"], "applies only to the tenant role"),
        ("pw\n", ["--role", "tenant", "--tenant", " t1"], "invalid tenant name ' t1'"),
        ("pw\n", ["--role", "tenant", "--tenant", ""], "invalid tenant name ''"),
        ("", ["--role", "admin"], "standard input is empty"),
        ("\n", ["--role", "admin"], "first line of standard input is empty"),
    ],
)
def test_add_errors(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    state_dir: Path,
    stdin: str,
    args: list[str],
    message: str,
) -> None:
    code, out, err = run(
        monkeypatch,
        capsys,
        stdin,
        "user",
        "add",
        "bob",
        *args,
        "--password-stdin",
        "--state-dir",
        str(state_dir),
    )
    assert code == 1
    assert message in err and out == ""
    assert not (state_dir / "users.json").exists()


def test_bad_name_duplicate_and_unknown_user(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], state_dir: Path
) -> None:
    sd = str(state_dir)
    add = ["user", "add", "--role", "admin", "--password-stdin", "--state-dir", sd]
    code, _, err = run(monkeypatch, capsys, "pw\n", *add, "bad name")
    assert code == 1 and "invalid user name" in err
    assert run(monkeypatch, capsys, "pw\n", *add, "alice")[0] == 0
    code, _, err = run(monkeypatch, capsys, "pw\n", *add, "alice")
    assert code == 1 and "already exists" in err
    code, _, err = run(monkeypatch, capsys, "", "user", "remove", "ghost", "--state-dir", sd)
    assert code == 1 and "no user named 'ghost'" in err
    code, _, err = run(
        monkeypatch,
        capsys,
        "pw\n",
        "user",
        "passwd",
        "ghost",
        "--password-stdin",
        "--state-dir",
        sd,
    )
    assert code == 1 and "no user named 'ghost'" in err


def test_password_needs_stdin_or_a_terminal(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], state_dir: Path
) -> None:
    code, _, err = run(
        monkeypatch,
        capsys,
        "pw\n",
        "user",
        "add",
        "alice",
        "--role",
        "admin",
        "--state-dir",
        str(state_dir),
    )
    assert code == 1 and "--password-stdin" in err


def test_list_of_an_empty_database(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], state_dir: Path
) -> None:
    code, out, _ = run(monkeypatch, capsys, "", "user", "list", "--state-dir", str(state_dir))
    assert code == 0 and out.strip() == "no users"


def test_corrupt_database_fails_cleanly(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], state_dir: Path
) -> None:
    state_dir.mkdir()
    (state_dir / "users.json").write_text("{")
    code, _, err = run(monkeypatch, capsys, "", "user", "list", "--state-dir", str(state_dir))
    assert code == 1 and "not valid JSON" in err


def test_state_dir_is_required(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        run(monkeypatch, capsys, "", "user", "list")
    assert exited.value.code == 2
