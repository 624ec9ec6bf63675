"""The [telemetry] settings reach the agent's Subscribe service."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.app import build_agent
from agent.config import ConfigError, load_settings
from agent.security.passwords import ScryptParams
from agent.telemetry.limits import Bundling


def test_bundling_and_notification_size_come_from_the_file(tmp_path: Path) -> None:
    path = tmp_path / "agent.toml"
    path.write_text(
        'state_dir = "state"\n[tls]\ninsecure = true\n[netconf]\nenabled = false\n'
        '[telemetry]\nbundling = "container"\nmax_updates_per_notification = 12\n'
    )
    settings = load_settings(path)
    agent = build_agent(settings, scrypt=ScryptParams(n=16, r=1, p=1))
    assert agent.telemetry.limits.bundling is Bundling.CONTAINER
    assert agent.telemetry.limits.max_updates_per_notification == 12


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('bundling = "port"', "telemetry.bundling 'port': use one of leaf, container, sample"),
        ("max_updates_per_notification = 0", "telemetry.max_updates_per_notification"),
        ("compact = true", "unknown setting 'telemetry.compact'"),
    ],
)
def test_bad_telemetry_settings_are_refused(tmp_path: Path, table: str, message: str) -> None:
    path = tmp_path / "agent.toml"
    path.write_text(f"[telemetry]\n{table}\n")
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        load_settings(path)
