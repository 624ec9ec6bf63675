"""SSH key material of the NETCONF server in the state directory.

``STATE_DIR/ssh/host-key`` is the server's host key (OpenSSH format, mode 0600). The
agent generates an Ed25519 key there on first start, logs its fingerprint, and never
replaces the file: an operator's own key (any type asyncssh reads, unencrypted) is used
as it is, and a file that is not such a key stops the start with HostKeyError.

``STATE_DIR/ssh/authorized_keys/USER`` optionally holds the public keys (OpenSSH
authorized_keys format, options such as ``from=`` included) that log in as USER,
besides the password. The file is read at every login; one writable by its group or
by others is ignored with a warning, as sshd's StrictModes would.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import asyncssh

from agent.durable_files import TEMP_PREFIX, ensure_dir, fsync_dir
from agent.security.users import is_user_name

log = logging.getLogger(__name__)

SSH_DIRNAME: Final = "ssh"
HOST_KEY_FILENAME: Final = "host-key"
AUTHORIZED_KEYS_DIRNAME: Final = "authorized_keys"
HOST_KEY_ALGORITHM: Final = "ssh-ed25519"


class HostKeyError(RuntimeError):
    """The host key file cannot be used; the message names it."""


@dataclass(frozen=True)
class HostKey:
    """The server's host key and where it came from."""

    path: Path
    key: Any  # asyncssh.SSHKey
    created: bool

    @property
    def algorithm(self) -> str:
        return str(self.key.get_algorithm())

    @property
    def fingerprint(self) -> str:
        """``SHA256:...``, as ``ssh-keygen -l`` prints it."""
        return str(self.key.get_fingerprint("sha256"))


def host_key_path(state_dir: Path) -> Path:
    return state_dir / SSH_DIRNAME / HOST_KEY_FILENAME


def ensure_host_key(state_dir: Path) -> HostKey:
    """Loads ``STATE_DIR/ssh/host-key``, generating it first if there is none."""
    path = host_key_path(state_dir)
    ensure_dir(path.parent)
    if not path.exists():
        key = asyncssh.generate_private_key(HOST_KEY_ALGORITHM)
        if _create_exclusively(path, key.export_private_key("openssh")):
            made = HostKey(path, key, created=True)
            log.warning(
                "%s: generated a new SSH host key (%s %s)", path, made.algorithm, made.fingerprint
            )
            return made
    return HostKey(path, _read_host_key(path), created=False)


def _read_host_key(path: Path) -> Any:
    try:
        return asyncssh.read_private_key(path)
    except OSError as exc:
        raise HostKeyError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except (asyncssh.KeyImportError, ValueError) as exc:
        raise HostKeyError(
            f"{path}: not an unencrypted SSH private key ({exc}); put one there or remove "
            "the file to have a new one generated"
        ) from None


def _create_exclusively(path: Path, data: bytes) -> bool:
    """Writes ``data`` to ``path`` (mode 0600, durably) unless ``path`` exists; False
    if it did (another process made it meanwhile)."""
    fd, temp_name = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), 0o600)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temp_name, path)  # never replaces an existing file
        except FileExistsError:
            return False
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
    fsync_dir(path.parent)
    return True


def authorized_keys_path(state_dir: Path, user: str) -> Path:
    return state_dir / SSH_DIRNAME / AUTHORIZED_KEYS_DIRNAME / user


def authorized_key_files(state_dir: Path) -> list[Path]:
    """Every per-user authorized_keys file (for the state-file checks)."""
    directory = state_dir / SSH_DIRNAME / AUTHORIZED_KEYS_DIRNAME
    try:
        return sorted(path for path in directory.iterdir() if not path.name.startswith("."))
    except OSError:
        return []


def authorized_keys(state_dir: Path, user: str) -> Any:
    """The asyncssh SSHAuthorizedKeys of ``user``, or None without a usable file."""
    if not is_user_name(user):
        return None
    path = authorized_keys_path(state_dir, user)
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
        if mode & (stat.S_IWGRP | stat.S_IWOTH):
            log.warning(
                "%s is writable by its group or others (mode %04o): ignored; run chmod 644 %s",
                path,
                mode,
                path,
            )
            return None
        return asyncssh.import_authorized_keys(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, ValueError, asyncssh.KeyImportError) as exc:
        log.warning("%s: ignored, not an authorized_keys file: %s", path, exc)
        return None
