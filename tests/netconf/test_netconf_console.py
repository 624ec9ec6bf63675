"""Interoperability with netconf-console2, run as its own process against the agent: reads
with filters and defaults, a locked candidate edit and commit, a confirmed commit that rolls
back, schema download, a tenant's view and the errors it is given."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from agent.schema.path import DataPath
from tests.netconf.test_writes_harness import NS_PORTS, NS_SLICES
from tests.northbound.harness import USERS, AgentThread

CONSOLE = Path(sys.executable).parent / "netconf-console2"
MTU_XPATH = "/ports/port[name='tor-tf1/1']/config/mtu"


def _console(
    agent: AgentThread, *args: str, user: str = "admin"
) -> subprocess.CompletedProcess[str]:
    netconf = agent.agent.netconf
    assert netconf is not None
    command = [str(CONSOLE), "--host", "127.0.0.1", "--port", str(netconf.port)]
    command += ["-u", user, "-p", USERS[user][0], *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


def _ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stdout + result.stderr
    assert "rpc-error" not in result.stdout, result.stdout
    return result.stdout


def _mtu_edit(tmp_path: Path, mtu: int) -> Path:
    edit = tmp_path / f"mtu-{mtu}.xml"
    edit.write_text(
        f'<ports xmlns="{NS_PORTS}"><port><name>tor-tf1/1</name>'
        f"<config><mtu>{mtu}</mtu></config></port></ports>"
    )
    return edit


def _running(agent: AgentThread, path: str) -> object:
    datastore = agent.agent.datastore
    return datastore.ops.get(datastore.running.tree, DataPath.parse(path))


def _running_mtu(agent: AgentThread) -> int:
    return int(str(_running(agent, "/ports/port[name=tor-tf1/1]/config/mtu")))


def test_reads_with_xpath_subtree_and_defaults(agent: AgentThread, tmp_path: Path) -> None:
    text = _ok(_console(agent, "--get-config", "-x", MTU_XPATH))
    assert "<mtu>" in text and "tor-tf1/2" not in text
    subtree = ["--filter", "/s:slices/s:slice[s:name='miot']", "-N", f"s={NS_SLICES}"]
    text = _ok(_console(agent, "--get", *subtree))
    assert "<name>miot</name>" in text and "<name>embb</name>" not in text
    assert "<state>" in text  # get returns state as well as config
    trimmed = _ok(_console(agent, "--get-config", "-x", MTU_XPATH, "--with-defaults", "trim"))
    tagged = _ok(
        _console(agent, "--get-config", "-x", MTU_XPATH, "--with-defaults", "report-all-tagged")
    )
    if _running_mtu(agent) == 1514:  # the default: trim leaves it out, tagged marks it
        assert "<mtu>" not in trimmed and 'default="true"' in tagged


def test_locked_candidate_edit_and_commit(agent: AgentThread, tmp_path: Path) -> None:
    edit = _mtu_edit(tmp_path, 1700)
    _ok(
        _console(
            agent, "--db", "candidate", "--lock", "--edit-config", str(edit), "--commit", "--unlock"
        )
    )
    assert _running_mtu(agent) == 1700
    assert "<mtu>1700</mtu>" in _ok(_console(agent, "--get-config", "-x", MTU_XPATH))


def test_test_only_edit_changes_nothing(agent: AgentThread, tmp_path: Path) -> None:
    before = _running_mtu(agent)
    _ok(
        _console(
            agent,
            "--db",
            "candidate",
            "-t",
            "test-only",
            "--edit-config",
            str(_mtu_edit(tmp_path, 1800)),
        )
    )
    assert _running_mtu(agent) == before
    assert f"<mtu>{before}</mtu>" in _ok(
        _console(agent, "--db", "candidate", "--get-config", "-x", MTU_XPATH)
    )


def test_confirmed_commit_rolls_back_when_not_confirmed(agent: AgentThread, tmp_path: Path) -> None:
    before = _running_mtu(agent)
    edit = _mtu_edit(tmp_path, 1900)
    commit = ["--db", "candidate", "--edit-config", str(edit), "--commit", "confirmed"]
    read = ["--get", "-x", MTU_XPATH]  # --db applies to the whole command line
    text = _ok(_console(agent, *commit, "--timeout", "1", *read, "--sleep", "3", *read))
    first, second = text.split("<mtu>")[1:3]
    assert first.startswith("1900<") and second.startswith(f"{before}<")
    assert _running_mtu(agent) == before


def test_confirmed_commit_of_a_closed_session_rolls_back(
    agent: AgentThread, tmp_path: Path
) -> None:
    """RFC 6241 8.4.1: a confirmed commit without persist ends with its session."""
    before = _running_mtu(agent)
    commit = ["--db", "candidate", "--edit-config", str(_mtu_edit(tmp_path, 1950))]
    read = ["--get", "-x", MTU_XPATH]  # --db applies to the whole command line
    text = _ok(_console(agent, *commit, "--commit", "confirmed", "--timeout", "600", *read))
    assert "<mtu>1950</mtu>" in text
    deadline = time.monotonic() + 10
    while _running_mtu(agent) != before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _running_mtu(agent) == before


def test_get_schema_downloads_our_module(agent: AgentThread) -> None:
    text = _ok(_console(agent, "--get-schema", "edge-slices"))
    assert "module edge-slices" in text and "yang-version 1.1" in text


def test_tenant_sees_its_slices_and_is_refused_others(agent: AgentThread, tmp_path: Path) -> None:
    text = _ok(_console(agent, "--get-config", "-x", "/slices", user="tenant-a"))
    assert "<name>embb</name>" in text and "<name>urllc</name>" in text
    assert "miot" not in text and "operator-b" not in text
    foreign = tmp_path / "foreign.xml"
    foreign.write_text(
        f'<slices xmlns="{NS_SLICES}"><slice><name>miot</name>'
        "<config><priority>7</priority></config></slice></slices>"
    )
    result = _console(
        agent, "--db", "candidate", "--edit-config", str(foreign), "--commit", user="tenant-a"
    )
    assert "rpc-error" in result.stdout, result.stdout + result.stderr
    assert "<nc:error-tag>access-denied</nc:error-tag>" in result.stdout, result.stdout
    # the error echoes the name the tenant sent, nothing of the slice or its owner
    assert "operator-b" not in result.stdout and "Massive IoT" not in result.stdout
    assert _running(agent, "/slices/slice[name=miot]/config/priority") == 1
