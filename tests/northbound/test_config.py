"""Settings: TOML file, defaults, command-line overrides and refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.cli import build_parser
from agent.commands.serve import settings_from_args
from agent.config import (
    DEFAULT_MAX_MESSAGE_BYTES,
    ConfigError,
    ListenAddress,
    Settings,
    load_settings,
)

FULL = """
listen = "0.0.0.0:50051"
state_dir = "var/agent"
site = "sites/lab.json"
log_level = "debug"
commit_check_interval_s = 2

[grpc]
max_message_bytes = 1048576
keepalive_time_s = 60
keepalive_timeout_s = 5.5
min_client_ping_interval_s = 1
shutdown_grace_s = 0

[tls]
insecure = false
extra_names = ["agent.example.net", "192.0.2.10"]
client_ca = "/etc/edge/clients.pem"

[users]
file = "users.json"
bootstrap_admin = "root"

[audit]
max_bytes = 1000
keep = 2
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "agent.toml"
    path.write_text(text)
    return path


def test_defaults() -> None:
    settings = Settings()
    assert str(settings.listen) == "127.0.0.1:9339"
    assert settings.state_dir == Path("state")
    assert settings.users_file == Path("state/users.json")
    assert settings.grpc.max_message_bytes == DEFAULT_MAX_MESSAGE_BYTES > 4 * 1024 * 1024
    assert not settings.tls.insecure and settings.tls.client_ca is None


def test_full_file(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, FULL))
    assert settings.listen == ListenAddress("0.0.0.0", 50051)
    assert settings.state_dir == tmp_path / "var/agent"  # relative to the file
    assert settings.site == tmp_path / "sites/lab.json"
    assert settings.log_level == "debug"
    assert settings.commit_check_interval_s == 2.0
    assert settings.grpc.max_message_bytes == 1048576
    assert settings.grpc.keepalive_timeout_s == 5.5
    assert settings.grpc.shutdown_grace_s == 0.0
    assert settings.tls.extra_names == ("agent.example.net", "192.0.2.10")
    assert settings.tls.client_ca == Path("/etc/edge/clients.pem")
    assert settings.users_file == tmp_path / "users.json"
    assert settings.users.bootstrap_admin == "root"
    assert (settings.audit.max_bytes, settings.audit.keep) == (1000, 2)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("lisen = '127.0.0.1:1'", "unknown setting 'lisen'"),
        ("[grpc]\nmax_message_size = 1", "unknown setting 'grpc.max_message_size'"),
        ("[grpc]\nmax_message_bytes = '64M'", "grpc.max_message_bytes must be an integer"),
        ("[grpc]\nmax_message_bytes = 0", "must be above 0"),
        ("[tls]\ninsecure = 'yes'", "tls.insecure must be true or false"),
        ("[tls]\nextra_names = 'x'", "list of strings"),
        ("listen = '127.0.0.1'", "HOST:PORT"),
        ("listen = '127.0.0.1:99999'", "0..65535"),
        ("log_level = 'loud'", "log_level"),
        ("tls = 3", "must be a table"),
        ("listen = [", "not valid TOML"),
    ],
)
def test_refusals_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=None) as caught:
        load_settings(write(tmp_path, text))
    assert message in str(caught.value)
    assert "agent.toml" in str(caught.value)


@pytest.mark.parametrize(
    ("text", "host", "port"),
    [("127.0.0.1:9339", "127.0.0.1", 9339), ("[::1]:0", "::1", 0), ("localhost:1", "localhost", 1)],
)
def test_listen_address(text: str, host: str, port: int) -> None:
    address = ListenAddress.parse(text)
    assert (address.host, address.port) == (host, port)
    assert address.is_loopback
    assert ListenAddress.parse(str(address)) == address


@pytest.mark.parametrize("text", ["::1:9339", "[nonsense]:1", ":9339", "host:port"])
def test_bad_listen_address(text: str) -> None:
    with pytest.raises(ConfigError):
        ListenAddress.parse(text)


def test_flags_override_the_file(tmp_path: Path) -> None:
    config = write(tmp_path, FULL)
    args = build_parser().parse_args(
        [
            "serve",
            "--config",
            str(config),
            "--listen",
            "127.0.0.1:7000",
            "--state-dir",
            "elsewhere",
            "--insecure",
            "--tls-name",
            "extra.example.net",
            "--bootstrap-admin",
            "ops",
        ]
    )
    settings = settings_from_args(args)
    assert settings.listen == ListenAddress("127.0.0.1", 7000)
    assert settings.state_dir == Path("elsewhere")
    assert settings.tls.insecure
    assert settings.tls.extra_names[-1] == "extra.example.net"
    assert settings.users.bootstrap_admin == "ops"
    assert settings.grpc.max_message_bytes == 1048576  # from the file
    plain = settings_from_args(build_parser().parse_args(["serve"]))
    assert plain == Settings()
