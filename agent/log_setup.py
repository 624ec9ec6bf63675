"""Logging of ``edge-agent serve``: text for people, JSON lines for log collectors.

``--log-format json`` writes one JSON object per record on stderr::

    {"time": "2026-12-04T21:53:50.123456Z", "level": "warning", "logger": "agent.app",
     "message": "created the bootstrap admin 'admin'"}

plus ``exception`` (the formatted traceback) when the record carries one, and any
``extra`` fields the caller gave (values that are not JSON are written as text). The
text format is ``TIME LEVEL LOGGER: MESSAGE``.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_RECORD_FIELDS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "taskName",
}
"""Attributes every LogRecord has; anything else on a record came from ``extra``."""


class JsonFormatter(logging.Formatter):
    """Formats a record as one line of JSON."""

    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, Any] = {
            "time": _utc(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            document["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            document["stack"] = self.formatStack(record.stack_info)
        for key, value in vars(record).items():
            if key not in _RECORD_FIELDS and key not in document:
                document[key] = value
        return json.dumps(document, default=str, ensure_ascii=False)


def _utc(created: float) -> str:
    return datetime.fromtimestamp(created, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def configure_logging(level: str, log_format: str, stream: TextIO | None = None) -> None:
    """Sends every log record at ``level`` or above to ``stream`` (stderr) in
    ``log_format`` (``text`` or ``json``), replacing handlers set up before."""
    handler = logging.StreamHandler(stream or sys.stderr)
    formatter = JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    if level != "debug":  # asyncssh logs every connection and login at info
        logging.getLogger("asyncssh").setLevel(logging.WARNING)
