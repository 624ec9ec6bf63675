"""Tenant users act for one tenant; records of earlier versions bound them to slices."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from agent import cli
from agent.exit_codes import ExitCode
from agent.security.errors import UserDatabaseError, UserError
from agent.security.passwords import ScryptParams, hash_password
from agent.security.users import Role, User, UserStore

FAST = ScryptParams(n=16, r=1, p=1)


def record(name: str, role: str, password: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "role": role,
        **extra,
        "password": hash_password(password, FAST).to_json(),
    }


def write_users(state_dir: Path, *records: dict[str, Any]) -> Path:
    state_dir.mkdir(mode=0o700, exist_ok=True)
    path = state_dir / "users.json"
    path.write_text(json.dumps({"version": 1, "users": list(records)}))
    path.chmod(0o600)
    return path


@pytest.fixture
def legacy(state_dir: Path) -> Path:
    """A file as earlier versions wrote it: every user with a slices list."""
    return write_users(
        state_dir,
        record("acme", "tenant", "acme-pw", slices=["urllc", "embb"]),
        record("ann", "admin", "ann-pw", slices=[]),
    )


def run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], stdin: str, *argv: str
) -> tuple[int, str, str]:
    monkeypatch.setattr(cli, "COMMANDS", ("user",))
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_the_file_records_the_tenant(state_dir: Path) -> None:
    store = UserStore.in_state_dir(state_dir, scrypt=FAST)
    store.add("acme", Role.TENANT, "pw", "operator-a")
    store.add("ann", Role.ADMIN, "pw")
    users = json.loads((state_dir / "users.json").read_text())["users"]
    assert [(u["name"], u.get("tenant"), "slices" in u) for u in users] == [
        ("acme", "operator-a", False),
        ("ann", None, False),
    ]


@pytest.mark.parametrize("tenant", ["", " a", "a ", "x" * 65, "tab\there"])
def test_bad_tenant_names(state_dir: Path, tenant: str) -> None:
    with pytest.raises(UserError, match="invalid tenant name"):
        UserStore.in_state_dir(state_dir, scrypt=FAST).add("acme", Role.TENANT, "pw", tenant)


def test_a_tenant_bound_to_slices_stops_the_database(legacy: Path, state_dir: Path) -> None:
    store = UserStore.in_state_dir(state_dir, scrypt=FAST)
    with pytest.raises(UserDatabaseError) as failed:
        store.get("ann")
    assert str(failed.value) == (
        f"{legacy}: user #1: tenant user 'acme' is bound to slices (embb, urllc), as files of "
        "earlier versions were; tenant users are now bound to one tenant: run 'edge-agent user "
        "role acme --role tenant --tenant TENANT' (the password is kept)"
    )


def test_user_role_fixes_it_and_keeps_the_password(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    legacy: Path,
    state_dir: Path,
) -> None:
    sd = str(state_dir)
    code, _, err = run(monkeypatch, capsys, "", "user", "list", "--state-dir", sd)
    assert code == 1 and "--tenant TENANT" in err
    code, _, err = run(
        monkeypatch,
        capsys,
        "new\n",
        "user",
        "passwd",
        "acme",
        "--password-stdin",
        "--state-dir",
        sd,
    )
    assert code == 1 and "is bound to slices" in err
    code, out, _ = run(
        monkeypatch,
        capsys,
        "",
        *("user", "role", "acme", "--role", "tenant", "--tenant", "operator-a"),
        *("--state-dir", sd),
    )
    assert code == 0 and "for tenant 'operator-a'" in out
    store = UserStore.in_state_dir(state_dir, scrypt=FAST)
    assert store.authenticate("acme", "acme-pw") == User("acme", Role.TENANT, "operator-a")
    assert store.authenticate("ann", "ann-pw") == User("ann", Role.ADMIN)
    assert "slices" not in legacy.read_text()


def test_user_remove_works_on_such_a_file(legacy: Path, state_dir: Path) -> None:
    store = UserStore.in_state_dir(state_dir, scrypt=FAST)
    store.remove("acme")
    assert store.users() == (User("ann", Role.ADMIN),)


def test_a_legacy_record_is_kept_while_other_users_change(legacy: Path, state_dir: Path) -> None:
    store = UserStore.in_state_dir(state_dir, scrypt=FAST)
    store.set_role("ann", Role.READ_ONLY)
    with pytest.raises(UserError, match="already exists"):
        store.add("acme", Role.ADMIN, "pw")
    entry = json.loads(legacy.read_text())["users"][0]
    assert entry["name"] == "acme" and entry["slices"] == ["urllc", "embb"]


def test_slices_on_another_role_are_refused(state_dir: Path) -> None:
    path = write_users(state_dir, record("ann", "admin", "pw", slices=["embb"]))
    with pytest.raises(UserDatabaseError, match="user #1: slices apply only to tenant users"):
        UserStore.in_state_dir(state_dir).users()
    write_users(state_dir, record("ann", "admin", "pw", tenant="operator-a"))
    with pytest.raises(UserDatabaseError, match="a tenant applies only to the tenant role"):
        UserStore.in_state_dir(state_dir).users()
    write_users(state_dir, record("acme", "tenant", "pw"))
    with pytest.raises(UserDatabaseError, match="tenant user 'acme' must name its tenant"):
        UserStore.in_state_dir(state_dir).users()
    write_users(state_dir, record("acme", "tenant", "pw", tenant=["a"]))
    with pytest.raises(UserDatabaseError, match="'tenant' must be a string"):
        UserStore.in_state_dir(state_dir).users()
    assert path.exists()


def test_fixing_one_of_several_legacy_records(state_dir: Path) -> None:
    write_users(
        state_dir,
        record("acme", "tenant", "pw", slices=["embb"]),
        record("globex", "tenant", "pw", slices=["miot"]),
    )
    store = UserStore.in_state_dir(state_dir, scrypt=FAST)
    store.set_role("acme", Role.TENANT, "operator-a")
    with pytest.raises(UserDatabaseError, match="tenant user 'globex' is bound to slices"):
        store.users()
    store.set_role("globex", Role.TENANT, "operator-b")
    assert [u.tenant for u in store.users()] == ["operator-a", "operator-b"]


def test_serve_refuses_to_start_with_such_a_file(legacy: Path, state_dir: Path) -> None:
    serve = ("serve", "--insecure", "--listen", "127.0.0.1:0", "--state-dir", str(state_dir))
    result = subprocess.run(
        [sys.executable, "-m", "agent.cli", *serve],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == ExitCode.STATE
    assert result.stderr.splitlines() == [
        f"edge-agent serve: error: {legacy}: user #1: tenant user 'acme' is bound to slices "
        "(embb, urllc), as files of earlier versions were; tenant users are now bound to one "
        "tenant: run 'edge-agent user role acme --role tenant --tenant TENANT' (the password "
        "is kept)"
    ]
