"""`--log-format json`: every line `edge-agent serve` writes on stderr is one JSON object.

The formatter on its own (message arguments, extra fields, tracebacks, levels), then the
real process: a start, a reload and a stop, and a start that fails.
"""

from __future__ import annotations

import io
import json
import logging
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent.exit_codes import ExitCode
from agent.log_setup import configure_logging
from tests.integration.conftest import AgentProcess


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        yield
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in handlers:
            root.addHandler(handler)
        root.setLevel(level)


def records(text: str) -> list[dict[str, Any]]:
    lines = text.splitlines()
    assert lines, "nothing was logged"
    return [json.loads(line) for line in lines]


def test_json_records_carry_time_level_logger_message_and_extras(restore_logging: None) -> None:
    out = io.StringIO()
    configure_logging("info", "json", stream=out)
    log = logging.getLogger("agent.test")
    log.debug("not at info")
    log.warning("port %s is %s", "tor-tf1/1", "down", extra={"device": "tor-tf1", "n": 3})
    try:
        raise ValueError("broken")
    except ValueError:
        log.exception("it failed")
    first, second = records(out.getvalue())
    assert first["message"] == "port tor-tf1/1 is down"
    assert (first["level"], first["logger"], first["device"], first["n"]) == (
        "warning",
        "agent.test",
        "tor-tf1",
        3,
    )
    assert first["time"].endswith("Z") and first["time"][10] == "T"
    assert "exception" not in first
    assert second["level"] == "error" and second["message"] == "it failed"
    trace = second["exception"]
    assert trace.startswith("Traceback") and "ValueError: broken" in trace


def test_text_is_the_default_format(restore_logging: None) -> None:
    out = io.StringIO()
    configure_logging("warning", "text", stream=out)
    logging.getLogger("agent.test").warning("plain")
    line = out.getvalue().strip()
    assert line.endswith(" WARNING agent.test: plain")
    with pytest.raises(json.JSONDecodeError):
        json.loads(line)


@pytest.mark.integration
def test_serve_logs_json_lines_from_start_to_stop(tmp_path: Path) -> None:
    agent = AgentProcess(tmp_path / "state", "--log-format", "json", "--insecure").start()
    assert agent.process is not None
    agent.process.send_signal(signal.SIGHUP)
    assert agent.stop() == ExitCode.OK
    logged = records(agent.stderr)
    assert all({"time", "level", "logger", "message"} <= set(r) for r in logged)
    messages = [r["message"] for r in logged]
    assert any(m.startswith("WARNING: --insecure") for m in messages)
    assert "created the bootstrap admin 'admin'" in messages
    reload_line = next(r for r in logged if r["message"].startswith("reloaded on SIGHUP"))
    assert reload_line["logger"] == "agent.reload" and reload_line["level"] == "info"
    assert any(m.startswith("stopping (grace period") for m in messages)
