"""Crash-safe file replacement: temp file, fsync, rename, fsync of the directory."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def write_atomic(path: Path, data: bytes, *, mode: int = 0o600) -> None:
    """Replaces ``path`` with ``data`` so readers see either the old or the new content.

    The file is created with ``mode`` before any byte is written, so secrets never sit
    in a file with wider permissions.
    """
    directory = path.parent
    fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
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
    fsync_directory(directory)


def fsync_directory(directory: Path) -> None:
    """Makes a rename or a new file in ``directory`` durable."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def ensure_private_directory(directory: Path) -> None:
    """Creates ``directory`` (and parents) if missing; a directory created here is 0700."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
