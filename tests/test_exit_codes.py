"""`edge-agent serve` exits with a code that says which kind of problem stopped it.

Each failing start is the real command in a process of its own; the reason is one line
on stderr (one JSON record with ``--log-format json``) and nothing listens afterwards.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from agent.exit_codes import ExitCode

pytestmark = pytest.mark.integration


def serve(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`edge-agent serve` on 127.0.0.1 with ``args``, run to its end."""
    command = [sys.executable, "-m", "agent.cli", "serve", "--state-dir", str(tmp_path / "state")]
    command += ["--listen", "127.0.0.1:0", "--no-netconf", "--insecure", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=tmp_path)


def refused(result: subprocess.CompletedProcess[str], code: ExitCode, wanted: str) -> None:
    assert result.returncode == code, result.stderr
    (line,) = result.stderr.splitlines()
    assert line.startswith("edge-agent serve: error: ") and wanted in line
    assert result.stdout == ""  # no start-up text: it never served


def test_a_bad_command_line_is_usage(tmp_path: Path) -> None:
    result = serve(tmp_path, "--no-such-flag")
    assert result.returncode == ExitCode.USAGE
    assert "unrecognized arguments: --no-such-flag" in result.stderr


def test_a_bad_flag_value_is_configuration(tmp_path: Path) -> None:
    result = serve(tmp_path, "--metrics-listen", "nowhere")
    refused(result, ExitCode.CONFIG, "--metrics-listen: listen address 'nowhere'")


def test_an_unknown_setting_is_configuration(tmp_path: Path) -> None:
    settings = tmp_path / "agent.toml"
    settings.write_text("[metrics]\nlisten = '127.0.0.1:0'\ncountrs = true\n")
    result = serve(tmp_path, "--config", str(settings))
    refused(result, ExitCode.CONFIG, "unknown setting 'metrics.countrs'")


def test_a_missing_site_file_is_configuration(tmp_path: Path) -> None:
    result = serve(tmp_path, "--site", str(tmp_path / "no-such-site.json"))
    refused(result, ExitCode.CONFIG, "no-such-site.json")


def test_a_state_dir_others_can_write_is_state(tmp_path: Path) -> None:
    (tmp_path / "state").mkdir(mode=0o777)
    (tmp_path / "state").chmod(0o777)
    result = serve(tmp_path)
    refused(result, ExitCode.STATE, "writable by others")


def test_a_busy_metrics_port_is_listen(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = serve(tmp_path, "--metrics-listen", f"127.0.0.1:{port}")
    refused(result, ExitCode.LISTEN, f"metrics cannot listen on 127.0.0.1:{port}")


def test_with_json_logs_the_reason_is_one_record_with_the_exit_code(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-site.json"
    result = serve(tmp_path, "--log-format", "json", "--site", str(missing))
    assert result.returncode == ExitCode.CONFIG
    (line,) = result.stderr.splitlines()
    record = json.loads(line)
    assert record["level"] == "critical" and record["logger"] == "agent.serve"
    assert record["message"].startswith("cannot start: ") and str(missing) in record["message"]
    assert record["exit_code"] == ExitCode.CONFIG
    assert result.stdout == ""
