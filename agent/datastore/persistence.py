"""Crash-safe persistence of the running configuration, its checkpoints and a pending
commit-confirmed record.

State directory layout::

    running.json                 the current configuration (see persist_format)
    checkpoints/00000042.json    byte-identical copies of the last ``keep`` commits
    pending-confirm.json         present only while a commit-confirmed awaits confirmation
    .tmp-*                       leftovers of an interrupted write, removed on load

A save replaces ``running.json`` first and then writes its checkpoint, each through a
fsynced temp file and rename. Whatever instant a crash hits, ``running.json`` holds the old
or the new commit intact and the previous commit's checkpoint is still there; a checkpoint
missing for the current commit (crash between the two renames) is written again on load.
Checkpoints are separate files rather than hard links, so damage to one copy never
reaches the other.

Versions only grow: restoring a checkpoint saves its tree as a new version.

A store is not thread-safe and expects one process per state directory; the datastore's
single writer lock serialises calls.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from agent.clock import Clock, SystemClock
from agent.datastore.persist_errors import (
    CHECKPOINT_DIR,
    CheckpointNotFoundError,
    CorruptConfigError,
    CorruptFileError,
    PersistenceError,
    StaleVersionError,
)
from agent.datastore.persist_format import (
    CheckpointInfo,
    ConfigHeader,
    FormatError,
    PendingConfirm,
    Snapshot,
    decode_config,
    decode_header,
    decode_pending,
    encode_config,
    encode_pending,
    encode_with_body,
    split_config,
)
from agent.durable_files import (
    atomic_write,
    ensure_dir,
    remove_durably,
    temp_files,
)

__all__ = [
    "CheckpointInfo",
    "CheckpointNotFoundError",
    "ConfigHeader",
    "ConfigStore",
    "CorruptConfigError",
    "CorruptFileError",
    "PendingConfirm",
    "PersistenceError",
    "Snapshot",
    "StaleVersionError",
]

CURRENT_NAME = "running.json"
PENDING_NAME = "pending-confirm.json"
DEFAULT_KEEP = 10

_CHECKPOINT_NAME = re.compile(r"(\d+)\.json")
_HEADER_LIMIT = 1 << 20


class ConfigStore:
    """The running configuration of one agent, kept in a state directory."""

    def __init__(
        self, state_dir: Path | str, *, keep: int = DEFAULT_KEEP, clock: Clock | None = None
    ) -> None:
        """``keep`` is how many of the newest commits stay as checkpoints (at least 1)."""
        if keep < 1:
            raise ValueError("keep must be at least 1")
        self._dir = Path(state_dir)
        self._keep = keep
        self._clock: Clock = clock or SystemClock()

    @property
    def state_dir(self) -> Path:
        return self._dir

    @property
    def current_path(self) -> Path:
        return self._dir / CURRENT_NAME

    @property
    def checkpoint_dir(self) -> Path:
        return self._dir / CHECKPOINT_DIR

    @property
    def pending_path(self) -> Path:
        return self._dir / PENDING_NAME

    def checkpoint_path(self, version: int) -> Path:
        return self.checkpoint_dir / f"{version:08d}.json"

    # -- running configuration ------------------------------------------------------------

    def load(self) -> Snapshot | None:
        """The current configuration, or None for a new (empty or missing) state directory.

        Removes leftover temp files and rewrites a missing checkpoint of the current commit.
        Raises CorruptConfigError when the current file is missing while checkpoints exist,
        unreadable or fails a check; never falls back to defaults or to a checkpoint.
        """
        remove_durably([*temp_files(self._dir), *temp_files(self.checkpoint_dir)])
        path = self.current_path
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            if not self._checkpoint_versions():
                return None
            raise self._corrupt("missing, but checkpoints exist") from None
        except OSError as exc:
            raise self._corrupt(f"cannot be read: {exc.strerror or exc}") from None
        try:
            snapshot = decode_config(data)
        except FormatError as exc:
            raise self._corrupt(str(exc)) from None
        self._ensure_checkpoint(snapshot.header, data)
        return snapshot

    def save(
        self,
        version: int,
        tree: Mapping[str, Any],
        meta: Mapping[str, Any] | None = None,
        *,
        pending: PendingConfirm | None = None,
    ) -> ConfigHeader:
        """Durably makes ``tree`` the current configuration as ``version``.

        ``version`` must be above every stored version. ``tree`` and ``meta`` must be
        JSON-serialisable; nothing is written otherwise. With ``pending`` (whose ``version``
        must equal ``version``) the commit-confirmed record is written before the
        configuration, so a crash in between leaves a record that ``resolve_pending``
        recognises as stale.
        """
        _check_version(version)
        latest = self.latest_version()
        if latest is not None and version <= latest:
            raise StaleVersionError(f"version {version} is not above stored version {latest}")
        if pending is not None and pending.version != version:
            raise ValueError(f"pending record is for version {pending.version}, not {version}")
        header, data = encode_config(version, tree, meta or {}, self._clock.now_ns())
        if pending is not None:
            self.write_pending(pending)
        self._install(header, data)
        return header

    def latest_version(self) -> int | None:
        """The highest version stored, current file or checkpoint (None when empty)."""
        versions = self._checkpoint_versions()
        current = self._current_header()
        if current is not None:
            versions.append(current.version)
        return max(versions, default=None)

    # -- checkpoints ----------------------------------------------------------------------

    def list_checkpoints(self) -> list[CheckpointInfo]:
        """Every checkpoint, oldest first, each fully checked."""
        return [self._inspect_checkpoint(v) for v in sorted(self._checkpoint_versions())]

    def load_checkpoint(self, version: int) -> Snapshot:
        """The configuration saved as ``version`` (e.g. a commit-confirmed rollback target)."""
        data = self._read_checkpoint(version)
        try:
            return decode_config(data)
        except FormatError as exc:
            raise CorruptFileError(self.checkpoint_path(version), str(exc)) from None

    def restore_checkpoint(self, version: int) -> ConfigHeader:
        """Atomically makes checkpoint ``version`` the current configuration.

        The tree is saved as a new version above every stored one, with meta
        ``{"restored_from": version}``; any pending commit-confirmed record is cleared.
        Works when the current file is damaged.
        """
        path = self.checkpoint_path(version)
        try:
            old, body = split_config(self._read_checkpoint(version))
        except FormatError as exc:
            raise CorruptFileError(path, str(exc)) from None
        new_version = max(self.latest_version() or 0, version) + 1
        header = ConfigHeader(
            version=new_version,
            saved_at_ns=self._clock.now_ns(),
            config_sha256=old.config_sha256,
            config_bytes=old.config_bytes,
            meta={"restored_from": version},
        )
        self._install(header, encode_with_body(header, body))
        self.clear_pending()
        return header

    # -- pending commit-confirmed ---------------------------------------------------------

    def write_pending(self, record: PendingConfirm) -> None:
        """Durably records a commit-confirmed awaiting confirmation (replacing any other).

        The rollback target's checkpoint must exist and is kept until the record is cleared.
        """
        if record.previous_version >= record.version:
            raise ValueError("previous_version must be below version")
        info = self._inspect_checkpoint(record.previous_version)
        if not info.path.exists():
            raise CheckpointNotFoundError(
                f"no checkpoint of rollback target version {record.previous_version}"
            )
        if info.problem is not None:
            raise CorruptFileError(info.path, info.problem)
        ensure_dir(self._dir)
        atomic_write(self.pending_path, encode_pending(record))

    def read_pending(self) -> PendingConfirm | None:
        """The pending commit-confirmed record, or None; CorruptFileError when damaged."""
        try:
            data = self.pending_path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise CorruptFileError(self.pending_path, f"cannot be read: {exc.strerror}") from None
        try:
            return decode_pending(data)
        except FormatError as exc:
            raise CorruptFileError(self.pending_path, str(exc)) from None

    def clear_pending(self) -> None:
        """Durably removes the pending record (confirmation, rollback done or cancel)."""
        remove_durably([self.pending_path])

    def resolve_pending(self, current_version: int) -> PendingConfirm | None:
        """The pending record that applies to the loaded ``current_version``, if any.

        A record whose commit never reached the current file (``current_version`` below
        its ``version``) is stale: it is cleared and None returned. Otherwise the caller
        rolls back to ``previous_version`` once ``deadline_wall_ns`` has passed.
        """
        record = self.read_pending()
        if record is None or current_version >= record.version:
            return record
        self.clear_pending()
        return None

    # -- internals ------------------------------------------------------------------------

    def _install(self, header: ConfigHeader, data: bytes) -> None:
        ensure_dir(self.checkpoint_dir)
        atomic_write(self.current_path, data)
        atomic_write(self.checkpoint_path(header.version), data)
        self._prune()

    def _prune(self) -> None:
        versions = sorted(self._checkpoint_versions())
        keep = set(versions[-self._keep :])
        try:
            record = self.read_pending()
        except CorruptFileError:
            return  # cannot tell which rollback target is pinned: keep everything
        if record is not None:
            keep.add(record.previous_version)
        remove_durably([self.checkpoint_path(v) for v in versions if v not in keep])

    def _ensure_checkpoint(self, header: ConfigHeader, data: bytes) -> None:
        path = self.checkpoint_path(header.version)
        try:
            intact = path.stat().st_size == len(data) and _read_header(path) == header
        except (OSError, FormatError):
            intact = False
        if not intact:
            ensure_dir(self.checkpoint_dir)
            atomic_write(path, data)

    def _current_header(self) -> ConfigHeader | None:
        try:
            return _read_header(self.current_path)
        except (OSError, FormatError):
            return None

    def _checkpoint_versions(self) -> list[int]:
        try:
            names = [p.name for p in self.checkpoint_dir.iterdir()]
        except FileNotFoundError:
            return []
        return [int(m[1]) for n in names if (m := _CHECKPOINT_NAME.fullmatch(n))]

    def _read_checkpoint(self, version: int) -> bytes:
        path = self.checkpoint_path(version)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise CheckpointNotFoundError(f"no checkpoint of version {version}") from None
        except OSError as exc:
            raise CorruptFileError(path, f"cannot be read: {exc.strerror}") from None

    def _inspect_checkpoint(self, version: int) -> CheckpointInfo:
        path = self.checkpoint_path(version)
        try:
            header, _ = split_config(path.read_bytes())
        except FileNotFoundError:
            return CheckpointInfo(version, path, None, "missing")
        except OSError as exc:
            return CheckpointInfo(version, path, None, f"cannot be read: {exc.strerror}")
        except FormatError as exc:
            return CheckpointInfo(version, path, None, str(exc))
        if header.version != version:
            return CheckpointInfo(version, path, None, f"holds version {header.version}")
        return CheckpointInfo(version, path, header)

    def _newest_valid_checkpoint(self) -> CheckpointInfo | None:
        try:
            versions = sorted(self._checkpoint_versions(), reverse=True)
        except OSError:
            return None
        for version in versions:
            info = self._inspect_checkpoint(version)
            if info.valid:
                return info
        return None

    def _corrupt(self, problem: str) -> CorruptConfigError:
        return CorruptConfigError(self.current_path, problem, self._newest_valid_checkpoint())


def _read_header(path: Path) -> ConfigHeader:
    with path.open("rb") as handle:
        line = handle.readline(_HEADER_LIMIT)
    if not line.endswith(b"\n"):
        raise FormatError("no complete header line")
    return decode_header(line[:-1])


def _check_version(version: int) -> None:
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        raise ValueError(f"version must be a non-negative integer, not {version!r}")
