"""Durable file primitives for the state directory (configuration, users, TLS, audit).

Every file is replaced atomically: the new content goes to a temp file in the same
directory, is flushed and fsynced, renamed over the final name, and the directory is
fsynced so the rename itself survives a power loss. A crash leaves at worst a temp file,
whose name starts with ``TEMP_PREFIX`` and which is never read as data.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

TEMP_PREFIX = ".tmp-"
FILE_MODE = 0o600


def fsync_dir(directory: Path) -> None:
    """Makes a rename, a new file or a removal in ``directory`` durable."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def ensure_dir(directory: Path) -> None:
    """Creates ``directory`` (0700) and its parents if missing, durably."""
    if directory.is_dir():
        return
    ensure_dir(directory.parent)
    with contextlib.suppress(FileExistsError):
        directory.mkdir(mode=0o700)
    fsync_dir(directory.parent)


def atomic_write(path: Path, data: bytes, *, mode: int = FILE_MODE) -> None:
    """Replaces ``path`` with ``data``; readers and a crash see the old or the new file.

    The temp file gets ``mode`` before any byte is written, so secrets never sit in a
    file with wider permissions.
    """
    fd, temp_name = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), mode)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
        raise
    fsync_dir(path.parent)


def remove_durably(paths: list[Path]) -> None:
    """Removes ``paths`` (missing ones are fine) and fsyncs each directory touched."""
    directories: set[Path] = set()
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            directories.add(path.parent)
    for directory in sorted(directories):
        fsync_dir(directory)


def temp_files(directory: Path) -> list[Path]:
    """Leftover temp files of interrupted writes in ``directory`` (none if it is missing)."""
    try:
        entries = list(directory.iterdir())
    except FileNotFoundError:
        return []
    return sorted(p for p in entries if p.name.startswith(TEMP_PREFIX) and not p.is_dir())
