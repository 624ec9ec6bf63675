"""The user store tells whether a user, as authenticated earlier, is still current; and
its login cache cannot outlive a change made by another process by more than recheck_s."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from agent.security.errors import AuthenticationError, AuthFailure, UserDatabaseError, UserError
from agent.security.passwords import ScryptParams
from agent.security.users import Revocation, Role, User, UserStore

FAST = ScryptParams(n=16, r=1, p=1)
NS = 1_000_000_000


def test_a_login_carries_the_credential_it_proved(store: UserStore) -> None:
    store.add("alice", Role.ADMIN, "pw")
    login = store.authenticate("alice", "pw")
    assert login == User("alice", Role.ADMIN)  # the credential takes no part in comparisons
    assert login.credential and "pw" not in repr(login) and login.credential not in repr(login)
    assert store.cached_user("alice", "pw") == login
    assert store.cached_user("alice", "pw").credential == login.credential  # type: ignore[union-attr]
    looked_up = store.get("alice")
    assert looked_up is not None and looked_up.credential == ""  # e.g. a certificate login


def test_a_current_user_is_not_revoked(store: UserStore) -> None:
    store.add("alice", Role.ADMIN, "pw")
    login = store.authenticate("alice", "pw")
    store.add("bob", Role.READ_ONLY, "pw")  # other users' changes do not matter
    store.set_password("bob", "other")
    assert store.revoked(login) is None
    assert store.revoked(User("alice", Role.ADMIN)) is None


def test_removed_elsewhere(store: UserStore, open_store: Callable[[], UserStore]) -> None:
    store.add("alice", Role.ADMIN, "pw")
    login = store.authenticate("alice", "pw")
    open_store().remove("alice")
    assert store.revoked(login) is Revocation.REMOVED


def test_new_password_elsewhere(store: UserStore, open_store: Callable[[], UserStore]) -> None:
    store.add("alice", Role.ADMIN, "pw")
    login = store.authenticate("alice", "pw")
    certificate_user = store.get("alice")
    assert certificate_user is not None
    open_store().set_password("alice", "pw")  # even the same password: a fresh hash
    assert store.revoked(login) is Revocation.PASSWORD_CHANGED
    assert store.revoked(certificate_user) is None  # did not log in with the password
    assert store.revoked(store.authenticate("alice", "pw")) is None


def test_new_role_or_tenant(store: UserStore, open_store: Callable[[], UserStore]) -> None:
    store.add("alice", Role.READ_ONLY, "pw")
    store.add("acme", Role.TENANT, "pw", "operator-a")
    alice = store.authenticate("alice", "pw")
    acme = store.authenticate("acme", "pw")
    other = open_store()
    assert other.set_role("alice", "admin") == User("alice", Role.ADMIN)
    other.set_role("acme", Role.TENANT, "operator-b")
    assert store.revoked(alice) is Revocation.ROLE_CHANGED
    assert store.revoked(acme) is Revocation.ROLE_CHANGED
    assert store.authenticate("alice", "pw").role is Role.ADMIN  # the password stays
    assert store.get("acme") == User("acme", Role.TENANT, "operator-b")


def test_a_new_password_outranks_a_new_role(store: UserStore) -> None:
    store.add("alice", Role.READ_ONLY, "pw")
    login = store.authenticate("alice", "pw")
    store.set_role("alice", Role.ADMIN)
    store.set_password("alice", "new")
    assert store.revoked(login) is Revocation.PASSWORD_CHANGED


def test_set_role_refusals(store: UserStore) -> None:
    store.add("alice", Role.ADMIN, "pw")
    with pytest.raises(UserError, match="no user named 'bob'"):
        store.set_role("bob", Role.ADMIN)
    with pytest.raises(UserError, match="must name its tenant"):
        store.set_role("alice", Role.TENANT)
    with pytest.raises(UserError, match="unknown role"):
        store.set_role("alice", "root")
    assert store.get("alice") == User("alice", Role.ADMIN)


def test_refresh_ignores_the_recheck_window(tmp_path: Path) -> None:
    now = [0]
    path = tmp_path / "users.json"
    server = UserStore(path, scrypt=FAST, recheck_s=0.5, monotonic_ns=lambda: now[0])
    other = UserStore(path, scrypt=FAST)
    server.add("ann", Role.ADMIN, "pw")
    login = server.authenticate("ann", "pw")
    first = server.refresh()
    assert server.refresh() == first  # nothing changed
    other.remove("ann")
    assert server.revoked(login) is None  # within the window the file is not looked at
    assert server.refresh() != first
    assert server.revoked(login) is Revocation.REMOVED


def test_an_identical_rewrite_is_no_change(store: UserStore) -> None:
    store.add("ann", Role.ADMIN, "pw")
    generation = store.refresh()
    content = store.path.read_bytes()
    store.path.unlink()
    store.path.write_bytes(content)
    assert store.refresh() == generation


@pytest.mark.parametrize("change", ["remove", "passwd"])
def test_the_login_cache_outlives_another_process_by_at_most_recheck_s(
    tmp_path: Path, change: str
) -> None:
    """What the server does: a 0.5 s window in which verified logins skip the file."""
    now = [0]
    path = tmp_path / "users.json"
    server = UserStore(path, scrypt=FAST, recheck_s=0.5, monotonic_ns=lambda: now[0])
    server.add("ann", Role.ADMIN, "old")
    server.authenticate("ann", "old")
    now[0] += NS  # the last look at the file was a second ago
    assert server.cached_user("ann", "old") is not None  # looks now, nothing changed
    cli = UserStore(path, scrypt=FAST)
    if change == "remove":
        cli.remove("ann")
    else:
        cli.set_password("ann", "new")
    now[0] += NS // 2 - 1
    assert server.cached_user("ann", "old") is not None  # still within the window
    now[0] += 1
    assert server.cached_user("ann", "old") is None
    with pytest.raises(AuthenticationError) as refused:
        server.authenticate("ann", "old")
    wanted = AuthFailure.UNKNOWN_USER if change == "remove" else AuthFailure.BAD_PASSWORD
    assert refused.value.reason is wanted


def test_a_rewrite_stat_cannot_see_is_noticed_even_much_later(
    store: UserStore, open_store: Callable[[], UserStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read just after a write, the file may be rewritten in the same timestamp tick,
    reusing the inode number: stat then never changes, and the content is what tells,
    even when the next look comes long after the rewrite."""
    store.add("alice", Role.ADMIN, "old")
    login = store.authenticate("alice", "old")
    frozen = os.stat(store.path)
    real_stat = os.stat

    def stat_that_does_not_move(path: Any, *args: Any, **kwargs: Any) -> os.stat_result:
        return frozen if Path(str(path)) == store.path else real_stat(path, *args, **kwargs)

    open_store().remove("alice")
    monkeypatch.setattr(os, "stat", stat_that_does_not_move)
    later = time.time_ns() + 60 * NS
    monkeypatch.setattr(time, "time_ns", lambda: later)
    assert store.revoked(login) is Revocation.REMOVED


def test_an_old_file_is_not_read_again_while_stat_is_unchanged(
    store: UserStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.add("alice", Role.ADMIN, "pw")
    later = time.time_ns() + 60 * NS
    monkeypatch.setattr(time, "time_ns", lambda: later)
    store.refresh()  # content compared once more, and found old enough
    reads: list[bool] = []
    original = store._read_content
    monkeypatch.setattr(store, "_read_content", lambda: reads.append(True) or original())
    for _ in range(5):
        store.refresh()
    assert reads == []


def test_an_unreadable_file_is_a_database_error(store: UserStore) -> None:
    store.path.mkdir(parents=True)
    with pytest.raises(UserDatabaseError, match=r"users\.json: cannot read: Is a directory"):
        store.refresh()


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"[1, 2", "not valid JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "not valid JSON"),
        (b'{"version": 2, "users": []}', "expected an object with version 1"),
        (b'{"version": 1, "users": {}}', "'users' must be a list"),
        (b'{"version": 1, "users": [{"name": "a", "role": "admin"}]}', "user #1: 'password'"),
        (b'{"version": 1, "users": [7]}', "user #1: each user must be an object"),
    ],
)
def test_a_damaged_file_is_reported_on_one_line(
    store: UserStore, content: bytes, problem: str
) -> None:
    store.path.parent.mkdir(parents=True)
    store.path.write_bytes(content)
    with pytest.raises(UserDatabaseError) as failed:
        store.refresh()
    message = str(failed.value)
    assert message.startswith(f"{store.path}: ") and problem in message
    assert "\n" not in message


def test_a_login_the_cache_does_not_know_looks_at_the_file_now(tmp_path: Path) -> None:
    """Only remembered logins skip the file: a user or password added a moment ago by
    another process works at once."""
    now = [0]
    path = tmp_path / "users.json"
    server = UserStore(path, scrypt=FAST, recheck_s=0.5, monotonic_ns=lambda: now[0])
    server.add("ann", Role.ADMIN, "pw")
    assert server.users()  # the file was just looked at
    cli = UserStore(path, scrypt=FAST)
    cli.add("bob", Role.READ_ONLY, "bob-pw")
    cli.set_password("ann", "new")
    assert server.cached_user("bob", "bob-pw") is None
    assert server.authenticate("bob", "bob-pw").name == "bob"
    assert server.authenticate("ann", "new").name == "ann"
    with pytest.raises(AuthenticationError):
        server.authenticate("ann", "pw")
