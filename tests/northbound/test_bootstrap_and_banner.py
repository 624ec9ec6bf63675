"""The bootstrap admin and the start-up text of `edge-agent serve`."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from agent.app import BOOTSTRAP_PASSWORD_ENV, BOOTSTRAP_PASSWORD_FILE, bootstrap_admin
from agent.commands.serve import banner
from agent.config import UserSettings
from agent.schema.engine import SchemaEngine
from agent.security.errors import AuthenticationError
from agent.security.passwords import generate_password
from agent.security.users import Role, UserStore
from tests.northbound.harness import FAST_SCRYPT, AgentThread, agent_settings


@pytest.fixture
def users(tmp_path: Path) -> UserStore:
    return UserStore(tmp_path / "users.json", scrypt=FAST_SCRYPT)


def test_generated_password_goes_to_a_private_file(users: UserStore, tmp_path: Path) -> None:
    result = bootstrap_admin(users, "admin", tmp_path, env={})
    assert result.created and result.password_file == tmp_path / BOOTSTRAP_PASSWORD_FILE
    assert stat.S_IMODE(result.password_file.stat().st_mode) == 0o600
    password = result.password_file.read_text().strip()
    assert len(password) >= 20
    user = users.authenticate("admin", password)
    assert user.role is Role.ADMIN


def test_password_from_the_environment(users: UserStore, tmp_path: Path) -> None:
    result = bootstrap_admin(users, "ops", tmp_path, env={BOOTSTRAP_PASSWORD_ENV: "s3cret!"})
    assert result.created and result.password_from_env and result.password_file is None
    assert not (tmp_path / BOOTSTRAP_PASSWORD_FILE).exists()
    assert users.authenticate("ops", "s3cret!").role is Role.ADMIN


def test_nothing_is_created_when_users_exist(users: UserStore, tmp_path: Path) -> None:
    first = bootstrap_admin(users, "admin", tmp_path, env={})
    again = bootstrap_admin(users, "admin", tmp_path, env={})
    assert not again.created and again.password_file == first.password_file
    assert [u.name for u in users.users()] == ["admin"]
    users.set_password("admin", "changed")  # the file no longer holds the password
    assert bootstrap_admin(users, "admin", tmp_path, env={}).password_file is None
    other = bootstrap_admin(users, "someone-else", tmp_path, env={})
    assert not other.created
    with pytest.raises(AuthenticationError):
        users.authenticate("someone-else", "x")


def test_banner_tells_how_to_reach_the_agent(engine: SchemaEngine, tmp_path: Path) -> None:
    settings = agent_settings(tmp_path / "state", insecure=False)
    settings = settings.replace(users=UserSettings(bootstrap_admin="admin"))
    agent = AgentThread(settings, schema=engine, users=False)
    bootstrap = agent.agent.bootstrap_admin(env={})
    agent.start()
    try:
        assert agent.running is not None
        text = banner(agent.agent, agent.running, bootstrap)
    finally:
        agent.stop()
    assert f"127.0.0.1:{agent.agent.port}" in text
    assert "(TLS)" in text
    assert "tls/ca.crt" in text
    assert "9 devices, 26 ports, 3 slices, 2 tenants" in text
    assert f'--pass="$(cat {tmp_path / "state" / BOOTSTRAP_PASSWORD_FILE})"' in text
    commands = [line.strip() for line in text.splitlines() if "pygnmicli" in line]
    assert any(c.endswith("-o capabilities") for c in commands)
    assert any("/state/counters" in c for c in commands)
    assert any("set-update" in c and "/config/mtu" in c for c in commands)


def test_insecure_banner_says_so(engine: SchemaEngine, tmp_path: Path) -> None:
    agent = AgentThread(agent_settings(tmp_path / "state"), schema=engine).start()
    try:
        assert agent.running is not None
        text = banner(agent.agent, agent.running, None)
    finally:
        agent.stop()
    assert "INSECURE" in text and " -i " in text
    assert "-u admin --pass=PASSWORD" in text


def test_generated_passwords_never_look_like_an_option() -> None:
    passwords = [generate_password() for _ in range(2000)]
    assert all(p[0].isalnum() and len(p) >= 20 for p in passwords)
    assert len(set(passwords)) == len(passwords)
