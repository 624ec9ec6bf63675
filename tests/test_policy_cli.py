"""`edge-agent policy check|explain`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from agent import cli
from agent.security.passwords import ScryptParams
from agent.security.users import Role, UserStore

GOOD = """\
version = 1

[[rule]]
name = "operator-a-fixed-priority"
principals = ["group:tenant:operator-a"]
path = "/slices/slice[name=*]/config/priority"
action = "write"
effect = "deny"

[[rule]]
name = "tenants-priority"
principals = ["group:tenant"]
path = "/slices/slice[name=*]/config/priority"
action = "write"
effect = "permit"
"""


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    users = UserStore.in_state_dir(state, scrypt=ScryptParams(n=16, r=1, p=1))
    users.add("acme", Role.TENANT, "pw", "operator-a")
    users.add("globex", Role.TENANT, "pw", "operator-b")
    users.add("noc", Role.READ_ONLY, "pw")
    policy = state / "policy.toml"
    policy.write_text(GOOD)
    policy.chmod(0o600)
    return state


def test_check_a_valid_file(capsys: pytest.CaptureFixture[str], state_dir: Path) -> None:
    path = state_dir / "policy.toml"
    assert run(capsys, "policy", "check", str(path)) == (0, f"{path}: valid (2 rule(s))\n", "")


def test_check_lists_every_problem(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    broken = GOOD.replace("config/priority", "config/priorty", 1)
    path.write_text(broken.replace('"write"', '"change"', 1) + "oops = 1\n")
    code, out, err = run(capsys, "policy", "check", str(path))
    assert code == 1
    assert out.splitlines() == [
        f"{path}: rule #1 'operator-a-fixed-priority': path "
        "'/slices/slice[name=*]/config/priorty': no schema node 'priorty' under "
        "/slices/slice[name=*]/config",
        f"{path}: rule #1 'operator-a-fixed-priority': 'action' must be 'read' or 'write', "
        "not 'change'",
        f"{path}: rule #2 'tenants-priority': unknown key 'oops' (a rule has name, principals, "
        "path, action, effect)",
    ]
    assert err == f"{path}: invalid (3 problem(s))\n"


def test_check_an_unreadable_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = run(capsys, "policy", "check", str(tmp_path / "missing.toml"))
    assert code == 2 and out == ""
    assert "missing.toml: cannot read: No such file or directory" in err


def explain(
    capsys: pytest.CaptureFixture[str], state_dir: Path, user: str, path: str, action: str
) -> tuple[int, str, str]:
    return run(
        capsys,
        *("policy", "explain", "--user", user, "--path", path, "--action", action),
        *("--state-dir", str(state_dir)),
    )


def test_explain_a_deny_that_beats_a_permit(
    capsys: pytest.CaptureFixture[str], state_dir: Path
) -> None:
    path = "/slices/slice[name=embb]/config/priority"
    code, out, err = explain(capsys, state_dir, "acme", path, "write")
    assert code == 0 and err == ""
    rule = (
        "'operator-a-fixed-priority' (deny write /slices/slice[name=*]/config/priority "
        "for group:tenant:operator-a)"
    )
    assert out.splitlines() == [
        "decision:  deny",
        "principal: user 'acme' (groups tenant, tenant:operator-a)",
        f"rule:      {rule}",
        f"why:       deny: rule {rule} is the most specific for write {path}; deny beats the "
        "equally specific permit rule 'tenants-priority'",
        "also:      'tenants-priority' (permit write /slices/slice[name=*]/config/priority "
        "for group:tenant)",
        "also:      'builtin:tenant-write-slices' (permit write /slices for group:tenant)",
    ]
    code, out, _ = explain(capsys, state_dir, "globex", path, "write")
    assert code == 0 and out.startswith("decision:  permit\n")
    assert "rule:      'tenants-priority'" in out


def test_explain_an_implicit_deny(capsys: pytest.CaptureFixture[str], state_dir: Path) -> None:
    code, out, _ = explain(capsys, state_dir, "noc", "/ports/port[name=p1]/config/mtu", "write")
    assert code == 0
    assert out.splitlines()[:3] == [
        "decision:  deny",
        "principal: user 'noc' (groups operator)",
        "rule:      none (implicit deny)",
    ]
    assert "(implicit deny)" in out.splitlines()[3]


@pytest.mark.parametrize(
    ("user", "path", "message"),
    [
        ("ghost", "/slices", "no user named 'ghost'"),
        ("acme", "/slices/slice[name=a", "unterminated key 'name'"),
        ("acme", "/slices/slise", "path '/slices/slise': no schema node 'slise' under /slices"),
    ],
)
def test_explain_errors(
    capsys: pytest.CaptureFixture[str], state_dir: Path, user: str, path: str, message: str
) -> None:
    code, out, err = explain(capsys, state_dir, user, path, "read")
    assert code == 1 and out == "" and message in err


def test_explain_refuses_a_broken_policy_file(
    capsys: pytest.CaptureFixture[str], state_dir: Path
) -> None:
    (state_dir / "policy.toml").write_text("version = 1\n[[rule]]\nname = 'x'\n")
    code, _, err = explain(capsys, state_dir, "acme", "/slices", "read")
    assert code == 1 and "rule #1 'x': missing 'principals'" in err


def test_the_console_command(state_dir: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "agent.cli", "policy", "check", str(state_dir / "policy.toml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith("valid (2 rule(s))\n")
