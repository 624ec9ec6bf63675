"""What SIGHUP reloads, part by part, on the real stores in a state directory.

The policy store of a served agent never looks at its file by itself; ``reload`` takes
a new file up, and a broken one leaves the policy in force with the reason. The Reloader
reloads every part on its own: a damaged users file or TLS key is reported while the
other parts still reload.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from agent.reload import Reloader
from agent.security.passwords import ScryptParams
from agent.security.tls_reload import ReloadableTls
from agent.security.users import Role, UserStore
from agent.service.policy_file import PolicyStore

FAST = ScryptParams(n=16, r=1, p=1)
RULE = """
[[rule]]
name = "{name}"
principals = ["group:operator"]
path = "/ports"
action = "read"
effect = "deny"
"""


def write(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(0o600)


def names(store: PolicyStore) -> set[str]:
    return {rule.name for rule in store.current().rules if not rule.name.startswith("builtin:")}


def test_a_store_without_recheck_takes_a_new_file_only_on_reload(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    write(path, "version = 1\n" + RULE.format(name="first"))
    now = [0]
    store = PolicyStore(path, recheck_s=None, monotonic_ns=lambda: now[0])
    write(path, "version = 1\n" + RULE.format(name="second"))
    now[0] += 3_600_000_000_000  # an hour later: still the file as it was at start
    assert names(store) == {"first"}
    store.reload()
    assert names(store) == {"second"} and store.problem is None


def test_a_broken_file_on_reload_keeps_the_policy_and_says_why(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    write(path, "version = 1\n" + RULE.format(name="kept"))
    store = PolicyStore(path, recheck_s=None)
    write(path, "version = 1\n[[rule]]\nname = 'half'\n")
    store.reload()
    assert names(store) == {"kept"}
    assert store.problem is not None and "rule #1 'half': missing 'principals'" in store.problem


def test_each_part_reloads_on_its_own(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    users = UserStore(tmp_path / "users.json", scrypt=FAST)
    users.add("ann", Role.ADMIN, "ann-pw")
    policy_path = tmp_path / "policy.toml"
    policies = PolicyStore(policy_path, recheck_s=None)
    tls = ReloadableTls(tmp_path)
    reloader = Reloader(tls=tls, users=users, policy=policies)

    write(policy_path, "version = 1\n" + RULE.format(name="new"))
    (tmp_path / "users.json").write_text("{not json")
    (tmp_path / "tls" / "server.key").write_bytes(b"not a key")
    with caplog.at_level(logging.INFO, logger="agent.reload"):
        report = reloader.reload()
    assert names(policies) == {"new"}
    assert [p.split(":")[0] for p in report.problems] == ["TLS", "users"]
    assert "server.key" in report.problems[0] and "not valid JSON" in report.problems[1]
    assert report.done == ("policy: 12 rules in force",)
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 2 and all(e.startswith("reload: ") for e in errors)

    users_file = tmp_path / "users.json"
    users_file.unlink()
    UserStore(users_file, scrypt=FAST).add("bob", Role.READ_ONLY, "bob-pw")
    (tmp_path / "tls" / "server.key").unlink()
    (tmp_path / "tls" / "server.crt").unlink()  # the agent's own pair: issued again
    report = reloader.reload()
    assert report.problems == ()
    assert report.done[0].startswith("TLS: ") and report.done[1] == "users: 1"
    assert tls.material.server_cert_created
