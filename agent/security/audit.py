"""Append-only JSON-lines audit log with size-based rotation.

One record per line. ``audit.log`` is the live file; when the next record would take it
past ``max_bytes`` it becomes ``audit.log.1`` (older ones shift up to ``audit.log.K``,
the oldest is dropped). Each record is flushed to the operating system as it is written,
without fsync, so a write costs a system call, never a disk round trip.
"""

from __future__ import annotations

import enum
import json
import logging
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO

import grpc

from agent.clock import Clock, SystemClock
from agent.durable_files import ensure_dir
from agent.security.users import User

AUDIT_DIRNAME = "audit"
AUDIT_FILENAME = "audit.log"
MAX_MESSAGE_CHARS = 1024
MAX_OPERATIONS = 64

_LOG = logging.getLogger(__name__)


class Outcome(enum.StrEnum):
    """How a request ended: done, refused by security, or failed for another reason."""

    OK = "ok"
    DENIED = "denied"
    FAILED = "failed"


@dataclass(frozen=True)
class AuditOperation:
    """One operation of a request: ``action`` (update, replace, delete, get, ...) on a path."""

    action: str
    path: str


@dataclass(frozen=True)
class AuditRecord:
    """One line of the audit log."""

    timestamp_ns: int
    rpc: str
    outcome: Outcome
    user: str | None = None
    role: str | None = None
    peer: str = ""
    code: str = "OK"
    message: str = ""
    operations: tuple[AuditOperation, ...] = ()
    omitted_operations: int = 0
    tenant: str | None = None
    version: int | None = None

    def to_json(self) -> dict[str, Any]:
        """The JSON object written to the log."""
        seconds, nanos = divmod(self.timestamp_ns, 1_000_000_000)
        moment = datetime.fromtimestamp(seconds, UTC).replace(microsecond=nanos // 1000)
        return {
            "time": moment.isoformat(timespec="microseconds").replace("+00:00", "Z"),
            "time_ns": self.timestamp_ns,
            "user": self.user,
            "role": self.role,
            "tenant": self.tenant,
            "peer": self.peer,
            "rpc": self.rpc,
            "operations": [{"action": op.action, "path": op.path} for op in self.operations],
            "omitted_operations": self.omitted_operations,
            "outcome": self.outcome.value,
            "code": self.code,
            "message": self.message,
            "version": self.version,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AuditRecord:
        """Parses :meth:`to_json` output."""
        return cls(
            timestamp_ns=int(data["time_ns"]),
            rpc=str(data["rpc"]),
            outcome=Outcome(data["outcome"]),
            user=data.get("user"),
            role=data.get("role"),
            peer=str(data.get("peer", "")),
            code=str(data.get("code", "OK")),
            message=str(data.get("message", "")),
            operations=tuple(
                AuditOperation(action=str(op["action"]), path=str(op["path"]))
                for op in data.get("operations", [])
            ),
            omitted_operations=int(data.get("omitted_operations", 0)),
            tenant=data.get("tenant"),
            version=None if data.get("version") is None else int(data["version"]),
        )


class AuditLog:
    """Writer of the audit log; safe to share between threads.

    A failing write (disk full, ...) is reported through ``logging`` and counted in
    :attr:`write_errors`; it never raises into the request that is being audited.
    """

    def __init__(
        self,
        directory: Path,
        *,
        max_bytes: int = 10 * 1024 * 1024,
        keep: int = 5,
        clock: Clock | None = None,
        filename: str = AUDIT_FILENAME,
    ) -> None:
        """``keep`` rotated files are kept next to the live one."""
        if max_bytes < 1 or keep < 1:
            raise ValueError("max_bytes and keep must be positive")
        self._directory = directory
        self._path = directory / filename
        self._max_bytes = max_bytes
        self._keep = keep
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._lock = threading.Lock()
        self._file: BinaryIO | None = None
        self._size = 0
        self._write_errors = 0

    @classmethod
    def in_state_dir(cls, state_dir: Path, **options: Any) -> AuditLog:
        """The log kept at ``STATE_DIR/audit/audit.log``."""
        return cls(state_dir / AUDIT_DIRNAME, **options)

    @property
    def path(self) -> Path:
        """The live log file."""
        return self._path

    @property
    def write_errors(self) -> int:
        """How many records could not be written."""
        return self._write_errors

    def record(
        self,
        rpc: str,
        outcome: Outcome,
        *,
        user: User | str | None = None,
        peer: str = "",
        code: grpc.StatusCode | str = "OK",
        message: str = "",
        operations: Iterable[AuditOperation] = (),
        tenant: str | None = None,
        version: int | None = None,
    ) -> AuditRecord:
        """Builds a record stamped with the current time, writes it and returns it.

        Long messages and operation lists are shortened so one record stays small.
        """
        ops = tuple(operations)
        if isinstance(user, User):
            user_name: str | None = user.name
            role: str | None = user.role.value
        else:
            user_name, role = user, None
        entry = AuditRecord(
            timestamp_ns=self._clock.now_ns(),
            rpc=rpc,
            outcome=outcome,
            user=user_name,
            role=role,
            peer=peer,
            code=code if isinstance(code, str) else str(code.name),
            message=message[:MAX_MESSAGE_CHARS],
            operations=ops[:MAX_OPERATIONS],
            omitted_operations=max(0, len(ops) - MAX_OPERATIONS),
            tenant=tenant if tenant is not None else getattr(user, "tenant", None),
            version=version,
        )
        self.write(entry)
        return entry

    def write(self, entry: AuditRecord) -> None:
        """Appends one record."""
        line = (json.dumps(entry.to_json(), separators=(",", ":")) + "\n").encode("utf-8")
        with self._lock:
            try:
                handle = self._open()
                if self._size > 0 and self._size + len(line) > self._max_bytes:
                    self._rotate()
                    handle = self._open()
                handle.write(line)
                handle.flush()
                self._size += len(line)
            except OSError as exc:
                self._write_errors += 1
                _LOG.error("audit log %s: cannot write a record: %s", self._path, exc)
                self._close_file()

    def close(self) -> None:
        """Closes the live file; a later write reopens it."""
        with self._lock:
            self._close_file()

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _open(self) -> BinaryIO:
        if self._file is None:
            ensure_dir(self._directory)
            fd = os.open(self._path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            self._file = os.fdopen(fd, "ab")
            self._size = os.fstat(fd).st_size
        return self._file

    def _close_file(self) -> None:
        if self._file is not None:
            try:
                self._file.close()
            except OSError as exc:
                _LOG.error("audit log %s: cannot close: %s", self._path, exc)
            self._file = None

    def _rotate(self) -> None:
        self._close_file()
        for index in range(self._keep - 1, 0, -1):
            older = rotated_path(self._path, index)
            if older.exists():
                os.replace(older, rotated_path(self._path, index + 1))
        os.replace(self._path, rotated_path(self._path, 1))


def rotated_path(path: Path, index: int) -> Path:
    """The ``index``-th rotated file of ``path`` (1 is the most recent)."""
    return path.with_name(f"{path.name}.{index}")


def read_audit_log(directory: Path, *, filename: str = AUDIT_FILENAME) -> list[AuditRecord]:
    """Every record in the live file and its rotated files, oldest first."""
    live = directory / filename
    rotated: list[tuple[int, Path]] = []
    for candidate in directory.glob(f"{filename}.*"):
        suffix = candidate.name[len(filename) + 1 :]
        if suffix.isdigit():
            rotated.append((int(suffix), candidate))
    files = [path for _, path in sorted(rotated, reverse=True)]
    if live.exists():
        files.append(live)
    records: list[AuditRecord] = []
    for path in files:
        with path.open("r", encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    records.append(AuditRecord.from_json(json.loads(line)))
                except (ValueError, KeyError, TypeError) as exc:
                    raise ValueError(f"{path}:{number}: not an audit record: {exc}") from exc
    return records
