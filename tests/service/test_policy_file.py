"""The policy file: its format, every problem reported, reloading while the agent runs."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from agent.schema.engine import SchemaEngine
from agent.schema.path import DataPath
from agent.security.users import Role
from agent.service.policy import BUILTIN_RULES, Action, Effect
from agent.service.policy_file import PolicyFileError, PolicyStore, parse_policy, read_policy
from agent.service.policy_schema import schema_path_check
from agent.service.principal import Principal

ACME = Principal("acme", Role.TENANT, "operator-a")
PRIORITY = DataPath.parse("/slices/slice[name=embb]/config/priority")

GOOD = """\
version = 1

# Tenant operator-a may not change slice priorities.
[[rule]]
name = "operator-a-fixed-priority"
principals = ["group:tenant:operator-a", "user:bob"]
path = "/slices/slice[name=*]/config/priority"
action = "write"
effect = "deny"
"""

BROKEN = """\
version = 2
colour = "blue"

[[rule]]
name = "builtin:mine"
principals = ["group:noc", "bob"]
path = "/slices/slise"
action = "modify"
efect = "deny"

[[rule]]
name = "fine"
principals = "user:a"
path = "slices"
action = "read"
effect = "permit"

[[rule]]
name = "twice"
principals = ["*"]
path = "/ports/port[name=x"
action = "read"
effect = "permit"

[[rule]]
name = "twice"
principals = []
path = "/ports/port[nam=x]"
action = "read"
effect = "allow"
"""


def test_a_good_file() -> None:
    (only,) = parse_policy(GOOD)
    assert only.name == "operator-a-fixed-priority"
    assert only.principals == {"group:tenant:operator-a", "user:bob"}
    assert only.path == DataPath.parse("/slices/slice[name=*]/config/priority")
    assert (only.action, only.effect) == (Action.WRITE, Effect.DENY)
    assert parse_policy("version = 1\n") == ()


def test_every_problem_is_reported_with_its_rule(engine: SchemaEngine) -> None:
    with pytest.raises(PolicyFileError) as failed:
        parse_policy(BROKEN, source="p.toml", check_path=schema_path_check(engine.nav))
    assert not failed.value.unreadable
    assert failed.value.problems == (
        "'version = 1' is required",
        "unknown key 'colour'",
        "rule #1 'builtin:mine': unknown key 'efect' (a rule has name, principals, path, "
        "action, effect)",
        "rule #1 'builtin:mine': missing 'effect'",
        "rule #1 'builtin:mine': names starting with 'builtin:' are reserved",
        "rule #1 'builtin:mine': principal 'group:noc': unknown group 'noc' (groups are "
        "admin, operator, tenant and tenant:NAME)",
        "rule #1 'builtin:mine': principal 'bob': use '*', 'user:NAME' or 'group:NAME'",
        "rule #1 'builtin:mine': path '/slices/slise': no schema node 'slise' under /slices",
        "rule #1 'builtin:mine': 'action' must be 'read' or 'write', not 'modify'",
        "rule #2 'fine': 'principals' must be a list of strings",
        "rule #2 'fine': path 'slices' must start with '/'",
        "rule #3 'twice': path: unterminated key 'name' in '/ports/port[name=x'",
        "rule #4 'twice': 'principals' must name at least one principal",
        "rule #4 'twice': path '/ports/port[nam=x]': the list 'port' has no key 'nam'",
        "rule #4 'twice': 'effect' must be 'permit' or 'deny', not 'allow'",
        "rule #4 'twice': the name is already used by rule #3",
    )
    assert str(failed.value).startswith("p.toml: 'version = 1' is required; unknown key")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("version = \n", "not valid TOML: Invalid value (at line 1, column 11)"),
        ("version = 1\nrule = 3\n", "'rule' must be an array of tables ([[rule]])"),
        ("version = 1\nrule = [3]\n", "rule #1: must be a table"),
        ("version = 1\n[[rule]]\nname = 5\n", "rule #1: 'name' must be a string"),
    ],
)
def test_malformed_files(text: str, problem: str) -> None:
    with pytest.raises(PolicyFileError) as failed:
        parse_policy(text)
    assert problem in failed.value.problems


def test_without_a_schema_check_unknown_paths_pass() -> None:
    assert len(parse_policy(GOOD.replace("priority", "no-such-leaf"))) == 1


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(PolicyFileError, match="cannot read") as failed:
        read_policy(tmp_path / "missing.toml")
    assert failed.value.unreadable
    (tmp_path / "latin1.toml").write_bytes(b"# caf\xe9\nversion = 1\n")
    with pytest.raises(PolicyFileError, match="not UTF-8") as failed:
        read_policy(tmp_path / "latin1.toml")
    assert failed.value.unreadable


class Clock:
    def __init__(self) -> None:
        self.now_ns = 0

    def __call__(self) -> int:
        return self.now_ns

    def advance(self, seconds: float) -> None:
        self.now_ns += int(seconds * 1_000_000_000)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def write(path: Path, text: str, mode: int = 0o600) -> None:
    """Replaces the file as editors and tools do: a new file renamed over the old."""
    temporary = path.with_name(path.name + ".new")
    temporary.write_text(text)
    temporary.chmod(mode)
    os.replace(temporary, path)


def priority_effect(store: PolicyStore) -> Effect:
    return store.current().decide(ACME, PRIORITY, Action.WRITE).effect


def test_no_file_means_the_builtin_rules(tmp_path: Path) -> None:
    store = PolicyStore.in_state_dir(tmp_path)
    assert store.path == tmp_path / "policy.toml"
    assert store.current().rules == BUILTIN_RULES


def test_a_changed_file_is_reloaded_within_the_recheck_time(tmp_path: Path, clock: Clock) -> None:
    path = tmp_path / "policy.toml"
    store = PolicyStore(path, monotonic_ns=clock)
    assert priority_effect(store) is Effect.PERMIT
    write(path, GOOD)
    clock.advance(0.2)
    assert priority_effect(store) is Effect.PERMIT  # not looked at yet
    clock.advance(0.3)
    assert priority_effect(store) is Effect.DENY
    write(path, GOOD.replace('effect = "deny"', 'effect = "permit"'))
    assert store.reload().decide(ACME, PRIORITY, Action.WRITE).effect is Effect.PERMIT


def test_a_rewrite_in_place_is_seen(tmp_path: Path, clock: Clock) -> None:
    path = tmp_path / "policy.toml"
    write(path, GOOD)
    store = PolicyStore(path, monotonic_ns=clock)
    path.write_text(GOOD.replace("deny", "permit"))  # same inode, maybe the same mtime
    clock.advance(0.5)
    assert priority_effect(store) is Effect.PERMIT


def test_a_broken_reload_keeps_the_policy_and_logs_once(
    tmp_path: Path, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "policy.toml"
    write(path, GOOD)
    store = PolicyStore(path, monotonic_ns=clock)
    before = store.current()
    write(path, BROKEN)
    with caplog.at_level(logging.ERROR, logger="agent.service.policy_file"):
        for _ in range(4):
            clock.advance(0.5)
            assert store.current() is before
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert "the previous one stays" in errors[0].getMessage()
    assert "'version = 1' is required" in errors[0].getMessage()
    write(path, GOOD.replace("deny", "permit"))
    clock.advance(0.5)
    assert priority_effect(store) is Effect.PERMIT


@pytest.mark.parametrize("damage", ["remove", "group-writable", "unreadable"])
def test_a_file_that_cannot_be_used_keeps_the_policy(
    tmp_path: Path, clock: Clock, caplog: pytest.LogCaptureFixture, damage: str
) -> None:
    path = tmp_path / "policy.toml"
    write(path, GOOD)
    store = PolicyStore(path, monotonic_ns=clock)
    if damage == "remove":
        path.unlink()
    elif damage == "group-writable":
        path.chmod(0o620)
    else:
        if os.geteuid() == 0:
            pytest.skip("root reads any file")
        path.chmod(0o000)
    with caplog.at_level(logging.ERROR, logger="agent.service.policy_file"):
        for _ in range(3):
            clock.advance(0.5)
            assert priority_effect(store) is Effect.DENY
    assert len([r for r in caplog.records if r.levelno == logging.ERROR]) == 1
    write(path, GOOD.replace("deny", "permit"))
    clock.advance(0.5)
    assert priority_effect(store) is Effect.PERMIT


def test_a_broken_file_at_start_is_an_error(tmp_path: Path, engine: SchemaEngine) -> None:
    path = tmp_path / "policy.toml"
    write(path, BROKEN)
    with pytest.raises(PolicyFileError, match="'version = 1' is required"):
        PolicyStore(path)
    write(path, GOOD, mode=0o666)
    with pytest.raises(PolicyFileError, match="writable by group or others"):
        PolicyStore(path)
    write(path, GOOD.replace("priority", "priorty"))
    with pytest.raises(PolicyFileError, match="no schema node 'priorty'"):
        PolicyStore(path, check_path=schema_path_check(engine.nav))
    path.unlink()
    path.mkdir()
    with pytest.raises(PolicyFileError, match="not a regular file"):
        PolicyStore(path)
