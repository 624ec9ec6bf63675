"""`edge-agent user role`: a new role (and a tenant user's tenant), the password kept."""

from __future__ import annotations

import sys
from io import StringIO
from pathlib import Path

import pytest

from agent import cli
from agent.security.passwords import ScryptParams
from agent.security.users import Role, User, UserStore


@pytest.fixture(autouse=True)
def only_user_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "COMMANDS", ("user",))


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def store(state_dir: Path, fast_scrypt: ScryptParams) -> UserStore:
    store = UserStore.in_state_dir(state_dir, scrypt=fast_scrypt)
    store.add("ann", Role.READ_ONLY, "ann-pw")
    return store


def test_a_new_role_keeps_the_password(
    capsys: pytest.CaptureFixture[str], state_dir: Path, store: UserStore
) -> None:
    code, out, _ = run(
        capsys, "user", "role", "ann", "--role", "admin", "--state-dir", str(state_dir)
    )
    assert code == 0 and out.strip() == "user 'ann' now has role admin"
    assert store.authenticate("ann", "ann-pw") == User("ann", Role.ADMIN)


def test_a_tenant_user_needs_its_tenant(
    capsys: pytest.CaptureFixture[str], state_dir: Path, store: UserStore
) -> None:
    sd = str(state_dir)
    code, _, err = run(capsys, "user", "role", "ann", "--role", "tenant", "--state-dir", sd)
    assert code == 1 and "a tenant user needs --tenant TENANT" in err
    code, out, _ = run(
        capsys,
        *("user", "role", "ann", "--role", "tenant", "--tenant", "operator-a"),
        *("--state-dir", sd),
    )
    assert code == 0 and out.strip() == "user 'ann' now has role tenant for tenant 'operator-a'"
    assert store.get("ann") == User("ann", Role.TENANT, "operator-a")
    code, out, _ = run(capsys, "user", "role", "ann", "--role", "admin", "--state-dir", sd)
    assert code == 0 and store.get("ann") == User("ann", Role.ADMIN)


def test_refusals(capsys: pytest.CaptureFixture[str], state_dir: Path, store: UserStore) -> None:
    sd = str(state_dir)
    code, _, err = run(capsys, "user", "role", "bob", "--role", "admin", "--state-dir", sd)
    assert code == 1 and "no user named 'bob'" in err
    code, _, err = run(capsys, "user", "role", "ann", "--role", "root", "--state-dir", sd)
    assert code == 1 and "unknown role 'root'" in err
    code, _, err = run(
        capsys, "user", "role", "ann", "--role", "admin", "--tenant", "t1", "--state-dir", sd
    )
    assert code == 1 and "--tenant applies only to the tenant role, not to admin" in err
    assert store.get("ann") == User("ann", Role.READ_ONLY)


def test_add_still_works_after_the_refactor(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], state_dir: Path
) -> None:
    monkeypatch.setattr(sys, "stdin", StringIO("pw\n"))
    code, out, _ = run(
        capsys,
        *("user", "add", "acme", "--role", "tenant", "--tenant", "operator-a"),
        *("--password-stdin", "--state-dir", str(state_dir)),
    )
    assert code == 0 and out.strip() == "added user 'acme' with role tenant for tenant 'operator-a'"
