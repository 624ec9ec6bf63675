"""The NETCONF server inside the agent: settings and flags, the banner's command, the
login throttle shared with gNMI, state files and a clean stop."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
from dataclasses import replace
from pathlib import Path

import grpc
import paramiko
import pytest

from agent.app import build_agent
from agent.cli import build_parser
from agent.commands.serve import banner, settings_from_args
from agent.config import (
    ConfigError,
    ListenAddress,
    LoginThrottleSettings,
    NetconfSettings,
    UserSettings,
    load_settings,
)
from agent.northbound.netconf.contracts import BASE_1_1
from agent.northbound.netconf.registry import TerminationReason
from agent.northbound.netconf.server import NetconfStartError
from agent.northbound.netconf.sshkeys import authorized_keys_path, host_key_path
from agent.schema.engine import SchemaEngine
from agent.security.state_files import StateFileError
from tests.netconf.test_transport_harness import BASE_1_1_HELLO, RawClient, client
from tests.northbound.harness import FAST_SCRYPT, AgentThread, Client, agent_settings


def parse(*argv: str) -> NetconfSettings:
    return settings_from_args(build_parser().parse_args(["serve", *argv])).netconf


def test_flags_and_settings(tmp_path: Path) -> None:
    default = parse()
    assert default.enabled and str(default.listen) == "127.0.0.1:830"
    assert default.max_message_bytes == 64 * 1024 * 1024
    assert parse("--netconf-listen", "0.0.0.0:0").listen == ListenAddress("0.0.0.0", 0)
    assert not parse("--no-netconf").enabled
    with pytest.raises(SystemExit):
        parse("--no-netconf", "--netconf-listen", "127.0.0.1:8830")
    with pytest.raises(ConfigError, match="--netconf-listen"):
        parse("--netconf-listen", "nowhere")
    config = tmp_path / "agent.toml"
    config.write_text(
        "[netconf]\nenabled = false\nlisten = '[::1]:8830'\nidle_timeout_s = 5\n"
        "max_sessions = 3\nmax_sessions_per_user = 1\nmax_message_bytes = 1000\n"
        "login_timeout_s = 2\n"
    )
    loaded = load_settings(config).netconf
    assert loaded == NetconfSettings(
        enabled=False,
        listen=ListenAddress("::1", 8830),
        max_message_bytes=1000,
        idle_timeout_s=5.0,
        login_timeout_s=2.0,
        max_sessions=3,
        max_sessions_per_user=1,
    )
    # the flag turns it back on
    assert parse("--config", str(config), "--netconf-listen", "127.0.0.1:1").enabled
    config.write_text("[netconf]\nport = 830\n")
    with pytest.raises(ConfigError, match=r"netconf\.port"):
        load_settings(config)


def test_the_banner_command_works_as_printed(engine: SchemaEngine, tmp_path: Path) -> None:
    settings = agent_settings(tmp_path / "state", insecure=False)
    settings = settings.replace(users=UserSettings(bootstrap_admin="admin"))
    agent = AgentThread(settings, schema=engine, users=False)
    bootstrap = agent.agent.bootstrap_admin(env={})
    agent.start()
    try:
        assert agent.running is not None and agent.agent.netconf is not None
        text = banner(agent.agent, agent.running, bootstrap)
        port = agent.agent.netconf.port
        assert f"  NETCONF        127.0.0.1:{port} over SSH" in text
        assert agent.agent.netconf.host_key.fingerprint in text
        commands = [line.strip() for line in text.splitlines() if "netconf-console2 " in line]
        (command,) = [line for line in commands if line.endswith("--hello")]
        assert f"--port {port}" in command
        result = subprocess.run(
            ["bash", "-c", command], capture_output=True, text=True, timeout=60, cwd=Path.cwd()
        )
    finally:
        agent.stop()
    assert result.returncode == 0, result.stderr
    assert BASE_1_1 in result.stdout and "capability:yang-library:1.1" in result.stdout
    assert "edge-ports?module=edge-ports" not in result.stdout  # YANG 1.1: yang-library only


def test_no_netconf(engine: SchemaEngine, tmp_path: Path) -> None:
    settings = agent_settings(tmp_path / "state", netconf=NetconfSettings(enabled=False))
    agent = AgentThread(settings, schema=engine).start()
    try:
        assert agent.agent.netconf is None and agent.running is not None
        text = banner(agent.agent, agent.running, None)
    finally:
        agent.stop()
    assert "NETCONF" not in text
    assert not host_key_path(tmp_path / "state").exists()


def test_gnmi_and_netconf_share_the_login_throttle(engine: SchemaEngine, tmp_path: Path) -> None:
    throttle = LoginThrottleSettings(peer_failures=2, lockout_s=600, max_lockout_s=600)
    agent = AgentThread(
        agent_settings(tmp_path / "state", login_throttle=throttle), schema=engine
    ).start()
    try:
        assert agent.agent.netconf is not None
        port = agent.agent.netconf.port
        with client(port, "reader", "reader-pw") as session:  # works before
            assert session.session_id > 0
        gnmi = Client(agent.target, "reader", "wrong")
        try:
            for _ in range(2):
                with pytest.raises(grpc.RpcError) as caught:
                    gnmi.capabilities()
                assert caught.value.code() is grpc.StatusCode.UNAUTHENTICATED
        finally:
            gnmi.close()
        # locked out over gNMI: NETCONF refuses the right password too
        with pytest.raises(paramiko.AuthenticationException):
            client(port, "admin", "admin-pw")
        assert_gnmi_locked_out(agent, "admin")
    finally:
        agent.stop()


def assert_gnmi_locked_out(agent: AgentThread, user: str) -> None:
    """The user's right password is refused over gNMI while the peer is locked out."""
    gnmi = Client(agent.target, user)
    try:
        with pytest.raises(grpc.RpcError) as caught:
            gnmi.capabilities()
        assert caught.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
    finally:
        gnmi.close()


def test_netconf_failures_lock_out_gnmi(engine: SchemaEngine, tmp_path: Path) -> None:
    throttle = LoginThrottleSettings(peer_failures=2, lockout_s=600, max_lockout_s=600)
    agent = AgentThread(
        agent_settings(tmp_path / "state", login_throttle=throttle), schema=engine
    ).start()
    try:
        assert agent.agent.netconf is not None
        for _ in range(2):
            with pytest.raises(paramiko.AuthenticationException):
                client(agent.agent.netconf.port, "admin", "guess")
        assert_gnmi_locked_out(agent, "admin")
    finally:
        agent.stop()


def test_agent_stop_ends_sessions(engine: SchemaEngine, tmp_path: Path) -> None:
    agent = AgentThread(agent_settings(tmp_path / "state"), schema=engine).start()
    stopped = False
    events: list[object] = []
    try:
        server = agent.agent.netconf
        assert server is not None
        server.registry.listen(events.append)

        async def main() -> None:
            nonlocal stopped
            session = await RawClient.connect(server.port, "admin", "admin-pw")
            try:
                await session.hello(BASE_1_1_HELLO)
                await asyncio.to_thread(agent.stop)
                stopped = True
                assert await session.closed()
            finally:
                await session.close()

        asyncio.run(main())
    finally:
        if not stopped:
            agent.stop()
    assert [getattr(e, "reason", None) for e in events] == [None, TerminationReason.OTHER]


def test_a_busy_port_stops_the_start_cleanly(engine: SchemaEngine, tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        settings = agent_settings(
            tmp_path / "state",
            netconf=NetconfSettings(listen=ListenAddress("127.0.0.1", taken)),
        )
        agent = build_agent(settings, scrypt=FAST_SCRYPT, schema=engine)
        try:
            with pytest.raises(NetconfStartError, match=f"127.0.0.1:{taken}.*another program"):
                asyncio.run(agent.start())
        finally:
            agent.audit.close()
    # the gNMI server it had started is closed again: its port can be bound
    with socket.socket() as again:
        again.bind(("127.0.0.1", agent.server.port))


def test_state_files_of_netconf(engine: SchemaEngine, tmp_path: Path) -> None:
    state = tmp_path / "state"
    settings = replace(agent_settings(state))
    build_agent(settings, scrypt=FAST_SCRYPT, schema=engine).audit.close()
    key = host_key_path(state)
    assert key.stat().st_mode & 0o777 == 0o600
    key.chmod(0o644)
    build_agent(settings, scrypt=FAST_SCRYPT, schema=engine).audit.close()
    assert key.stat().st_mode & 0o777 == 0o600  # a secret: made private again
    keys = authorized_keys_path(state, "admin")
    keys.parent.mkdir()
    keys.write_text("")
    os.chmod(keys, 0o666)
    with pytest.raises(StateFileError, match="authorized_keys/admin is writable by others"):
        build_agent(settings, scrypt=FAST_SCRYPT, schema=engine)
