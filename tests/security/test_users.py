"""The user database: hashes at rest, roles, tenant bindings, verification cache."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from agent.security.errors import AuthenticationError, AuthFailure, UserDatabaseError, UserError
from agent.security.users import Role, User, UserStore


def test_password_is_hashed_at_rest(store: UserStore) -> None:
    store.add("alice", Role.ADMIN, "correct horse battery")
    raw = store.path.read_bytes()
    assert b"correct horse battery" not in raw
    entry = json.loads(raw)["users"][0]
    assert entry["name"] == "alice"
    assert entry["role"] == "admin"
    password = entry["password"]
    assert password["algorithm"] == "scrypt"
    assert {"n", "r", "p", "salt", "hash"} <= password.keys()
    assert len(password["salt"]) >= 16


def test_database_file_is_private(store: UserStore) -> None:
    store.add("alice", Role.ADMIN, "pw")
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    leftovers = [p.name for p in store.path.parent.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []


def test_authenticate_ok_and_refusals(store: UserStore) -> None:
    store.add("alice", Role.ADMIN, "pw1")
    assert store.authenticate("alice", "pw1") == User("alice", Role.ADMIN)
    with pytest.raises(AuthenticationError) as bad:
        store.authenticate("alice", "pw2")
    assert bad.value.reason is AuthFailure.BAD_PASSWORD
    with pytest.raises(AuthenticationError) as unknown:
        store.authenticate("mallory", "pw1")
    assert unknown.value.reason is AuthFailure.UNKNOWN_USER
    # The message does not tell an attacker which of the two went wrong.
    assert bad.value.message == unknown.value.message


def test_successful_verification_is_cached(store: UserStore) -> None:
    store.add("alice", Role.ADMIN, "pw")
    assert store.cached_user("alice", "pw") is None
    store.authenticate("alice", "pw")
    assert store.cached_user("alice", "pw") == User("alice", Role.ADMIN)
    assert store.cached_user("alice", "other") is None
    with pytest.raises(AuthenticationError):
        store.authenticate("alice", "other")
    assert store.cached_user("alice", "other") is None


def test_cache_dropped_when_another_process_changes_the_file(
    store: UserStore, open_store: Callable[[], UserStore]
) -> None:
    store.add("alice", Role.ADMIN, "old")
    store.authenticate("alice", "old")
    assert store.cached_user("alice", "old") is not None

    other = open_store()  # e.g. the CLI
    other.set_password("alice", "new")

    assert store.cached_user("alice", "old") is None
    with pytest.raises(AuthenticationError):
        store.authenticate("alice", "old")
    assert store.authenticate("alice", "new").name == "alice"


def test_cache_dropped_when_the_user_is_removed_elsewhere(
    store: UserStore, open_store: Callable[[], UserStore]
) -> None:
    store.add("alice", Role.ADMIN, "pw")
    store.authenticate("alice", "pw")
    open_store().remove("alice")
    with pytest.raises(AuthenticationError) as refused:
        store.authenticate("alice", "pw")
    assert refused.value.reason is AuthFailure.UNKNOWN_USER


def test_cache_dropped_when_the_file_is_deleted(store: UserStore) -> None:
    store.add("alice", Role.ADMIN, "pw")
    store.authenticate("alice", "pw")
    os.unlink(store.path)
    assert store.cached_user("alice", "pw") is None
    assert store.users() == ()


def test_change_invisible_to_stat_is_still_noticed(
    store: UserStore, open_store: Callable[[], UserStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rewrite within the filesystem's timestamp granularity, reusing the inode number,
    leaves stat() unchanged; the store must still see the new content."""
    store.add("alice", Role.ADMIN, "old")
    store.authenticate("alice", "old")
    frozen = os.stat(store.path)
    real_stat = os.stat

    def stat_that_does_not_move(path: Any, *args: Any, **kwargs: Any) -> os.stat_result:
        return frozen if Path(str(path)) == store.path else real_stat(path, *args, **kwargs)

    open_store().set_password("alice", "new")
    monkeypatch.setattr(os, "stat", stat_that_does_not_move)
    with pytest.raises(AuthenticationError):
        store.authenticate("alice", "old")
    assert store.authenticate("alice", "new").name == "alice"


def test_roles() -> None:
    assert Role.ADMIN.can_read_all and Role.ADMIN.can_write_all
    assert Role.READ_ONLY.can_read_all and not Role.READ_ONLY.can_write_all
    assert not Role.TENANT.can_read_all and not Role.TENANT.can_write_all
    assert Role.parse("operator") is Role.READ_ONLY
    assert Role.parse("read-only") is Role.READ_ONLY
    with pytest.raises(UserError, match="unknown role 'root'"):
        Role.parse("root")


def test_tenant_binding_is_stored(store: UserStore, open_store: Callable[[], UserStore]) -> None:
    store.add("acme", "tenant", "pw", tenant="operator-a")
    reopened = open_store()
    user = reopened.get("acme")
    assert user == User("acme", Role.TENANT, "operator-a")
    assert reopened.authenticate("acme", "pw").tenant == "operator-a"


def test_tenant_user_names_one_tenant_and_others_none(store: UserStore) -> None:
    with pytest.raises(UserError, match="must name its tenant"):
        store.add("acme", Role.TENANT, "pw")
    with pytest.raises(UserError, match="only to the tenant role"):
        store.add("root", Role.ADMIN, "pw", tenant="operator-a")
    assert not store.path.exists()


@pytest.mark.parametrize("name", ["", "a" * 65, "with space", "slash/y", "ünï", "x\n"])
def test_bad_names_are_refused(store: UserStore, name: str) -> None:
    with pytest.raises(UserError, match="invalid user name"):
        store.add(name, Role.ADMIN, "pw")


def test_good_names_are_accepted(store: UserStore) -> None:
    for name in ("a", "A.b_c-9", "x" * 64):
        store.add(name, Role.READ_ONLY, "pw")
    assert [u.name for u in store.users()] == sorted(["a", "A.b_c-9", "x" * 64])


def test_duplicate_empty_password_and_unknown_users(store: UserStore) -> None:
    store.add("alice", Role.ADMIN, "pw")
    with pytest.raises(UserError, match="already exists"):
        store.add("alice", Role.READ_ONLY, "pw")
    with pytest.raises(UserError, match="must not be empty"):
        store.add("bob", Role.ADMIN, "")
    with pytest.raises(UserError, match="no user named 'bob'"):
        store.remove("bob")
    with pytest.raises(UserError, match="no user named 'bob'"):
        store.set_password("bob", "pw")
    assert [u.name for u in store.users()] == ["alice"]


def test_corrupt_database_is_reported(store: UserStore) -> None:
    store.path.parent.mkdir(parents=True, exist_ok=True)
    store.path.write_text('{"version": 1, "users": [{"name": "bad name"}]}')
    with pytest.raises(UserDatabaseError, match="user #1"):
        store.users()
    store.path.write_text("not json")
    with pytest.raises(UserDatabaseError, match="not valid JSON"):
        store.authenticate("alice", "pw")


def test_recheck_window_skips_the_file_but_not_own_changes(tmp_path) -> None:
    from agent.security.passwords import ScryptParams
    from agent.security.users import UserStore

    now = [0]
    fast = ScryptParams(n=16, r=1, p=1)
    server = UserStore(
        tmp_path / "users.json", scrypt=fast, recheck_s=0.5, monotonic_ns=lambda: now[0]
    )
    other = UserStore(tmp_path / "users.json", scrypt=fast)
    server.add("ann", "admin", "one")
    assert server.authenticate("ann", "one").name == "ann"
    other.set_password("ann", "two")  # another process changes the file
    now[0] += 100_000_000  # 0.1 s later: still within the window
    assert server.cached_user("ann", "one") is not None
    now[0] += 500_000_000  # past the window: the change is seen
    assert server.cached_user("ann", "one") is None
    server.set_password("ann", "three")  # its own change is seen at once
    assert server.cached_user("ann", "two") is None
    assert server.authenticate("ann", "three").name == "ann"
