"""File modes in the state directory, checked before the agent uses anything in it.

The rules look at mode bits only (not at who may actually open a file: root opens
anything), for the state directory, the directories in it (``tls``, ``checkpoints``,
``ssh``, ...), every file in those, and the users file, the client CA bundle and the
SSH ``authorized_keys`` files wherever they are (the caller passes them):

- Writable by its group or by others: the start is refused. Someone else may already
  have changed what the agent would load (added an admin, replaced a key or a commit).
  The message names the file and the chmod that fixes it: the current mode without
  group and other write for a directory or an ordinary file (``chmod 755 state`` for a
  0777 state directory), ``chmod 600`` for a secret.
- Secrets (the users file, ``bootstrap-admin.password``, ``tls/ca.key``,
  ``tls/server.key``, ``ssh/host-key``) readable by their group or by others: changed
  to 0600 with a warning, and the agent starts. Whoever could read the file may hold password hashes
  or a private key, which the warning says.
- Anything else may be readable by everyone (the certificates must be).

The agent itself creates directories 0700, secrets and other state 0600, certificates
0644. Symbolic links are judged by what they point to and not followed into directories.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

SECRET_FILES = (
    "users.json",
    "bootstrap-admin.password",
    "tls/ca.key",
    "tls/server.key",
    "ssh/host-key",
)
"""Secrets, relative to the state directory."""
SECRET_MODE = 0o600
_GROUP_OR_OTHER_WRITE = stat.S_IWGRP | stat.S_IWOTH
_GROUP_OR_OTHER_ACCESS = 0o077


class StateFileError(RuntimeError):
    """The state directory cannot be used safely; the message says what to chmod."""


@dataclass(frozen=True)
class _Checked:
    path: Path
    identity: tuple[int, int]
    mode: int
    is_dir: bool
    secret: bool


def check_state_files(
    state_dir: Path, *, users_file: Path | None = None, others: Iterable[Path] = ()
) -> list[str]:
    """Applies the module's rules; returns the warnings for secrets made private.

    ``users_file`` (default ``STATE_DIR/users.json``) is a secret wherever it is;
    ``others`` are further files to check (e.g. the client CA bundle). Missing files are
    fine. Raises StateFileError naming every refusal, on one line.
    """
    secrets = {state_dir / name for name in SECRET_FILES}
    secrets.update(state_dir.glob("bootstrap-*.password"))  # bootstrap tenant users too
    if users_file is not None:
        secrets.add(users_file)
    refusals: list[str] = []
    warnings: list[str] = []
    try:
        top = os.stat(state_dir)
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise StateFileError(f"{state_dir}: cannot check it: {exc.strerror or exc}") from exc
    if not stat.S_ISDIR(top.st_mode):
        raise StateFileError(f"{state_dir} is not a directory")
    extra = [users_file] if users_file is not None else []
    extra += list(others)
    for checked in _entries(state_dir, extra, secrets):
        refusal, warning = _judge(checked)
        if refusal is not None:
            refusals.append(refusal)
        if warning is not None:
            warnings.append(warning)
            log.warning("%s", warning)
    if refusals:
        raise StateFileError("; ".join(refusals))
    return warnings


def _entries(state_dir: Path, extra: list[Path], secrets: set[Path]) -> Iterator[_Checked]:
    """The state directory, what is in it (two levels) and the extra files, each once."""
    seen: set[tuple[int, int]] = set()
    pending = [(state_dir, 0)]
    while pending:
        path, depth = pending.pop()
        checked = _stat(path, secrets)
        if checked is None or checked.identity in seen:
            continue
        seen.add(checked.identity)
        yield checked
        if checked.is_dir and depth < 2 and (depth == 0 or not path.is_symlink()):
            try:
                names = sorted(os.listdir(path), reverse=True)
            except OSError as exc:
                raise StateFileError(f"{path}: cannot list it: {exc.strerror or exc}") from exc
            pending.extend((path / name, depth + 1) for name in names)
    for path in extra:
        checked = _stat(path, secrets)
        if checked is not None and checked.identity not in seen:
            seen.add(checked.identity)
            yield checked


def _stat(path: Path, secrets: set[Path]) -> _Checked | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None  # gone, or a dangling link: nothing is loaded from it
    except OSError as exc:
        raise StateFileError(f"{path}: cannot check it: {exc.strerror or exc}") from exc
    return _Checked(
        path,
        (st.st_dev, st.st_ino),
        stat.S_IMODE(st.st_mode),
        stat.S_ISDIR(st.st_mode),
        path in secrets,
    )


def _judge(checked: _Checked) -> tuple[str | None, str | None]:
    """(refusal, warning) for one file or directory."""
    path, mode = checked.path, checked.mode
    if mode & _GROUP_OR_OTHER_WRITE:
        wanted = SECRET_MODE if checked.secret else mode & ~_GROUP_OR_OTHER_WRITE
        who = "others" if mode & stat.S_IWOTH else "its group"
        return (
            f"{path} is writable by {who} (mode {mode:04o}): run chmod {wanted:o} {path}",
            None,
        )
    if not checked.secret or checked.is_dir or not mode & _GROUP_OR_OTHER_ACCESS:
        return None, None
    who = "others" if mode & 0o007 else "its group"
    how = "readable by" if mode & (stat.S_IRGRP | stat.S_IROTH) else "open to"
    try:
        os.chmod(path, SECRET_MODE)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        return (
            f"{path} is {how} {who} (mode {mode:04o}) and cannot be made private "
            f"({reason}): run chmod 600 {path}",
            None,
        )
    fixed = f"{path} was {how} {who} (mode {mode:04o}): changed it to 0600"
    return None, f"{fixed}; {_advice(path)}"


def _advice(path: Path) -> str:
    if path.name.startswith("bootstrap-") and path.suffix == ".password":
        return "consider giving that bootstrap user a new password"
    if path.suffix == ".key" or path.name == "host-key":
        return "whoever read it may hold the private key: consider the key exposed"
    return "whoever read it may hold the password hashes: consider new passwords"
