"""Users, roles and the user database (``users.json`` in the state directory).

Passwords are stored as salted scrypt hashes. Successful verifications are cached per
store instance, keyed by the user name and a keyed digest of the password, so per-RPC
authentication costs a dictionary lookup; the cache is dropped whenever the file changes
(including changes made by another process, such as the ``edge-agent user`` command).

A user returned by :meth:`UserStore.authenticate` remembers which stored password it
proved, so :meth:`UserStore.revoked` can tell a long-lived session (a Subscribe stream)
that its user was removed, got a new password or a new role since it logged in.

A tenant user is bound to exactly one tenant (an entry of ``/tenants/tenant``); other
roles name none. Files written before tenants existed bound tenant users to slices
(``"slices": [...]``): such a record stops the agent from reading the database, with a
message saying how to fix it (``edge-agent user role NAME --role tenant --tenant T``,
which keeps the password, or ``edge-agent user remove NAME``). The empty ``slices``
lists those files carry for every other user are ignored.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import fcntl
import hashlib
import hmac
import json
import os
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.durable_files import atomic_write, ensure_dir
from agent.security.errors import AuthenticationError, AuthFailure, UserDatabaseError, UserError
from agent.security.passwords import (
    DEFAULT_SCRYPT,
    PasswordHash,
    ScryptParams,
    hash_password,
    verify_password,
)

USERS_FILENAME = "users.json"
FILE_FORMAT_VERSION = 1
_NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")
_MAX_TENANT_NAME = 64
# A file whose mtime is this close to "now" may have been rewritten within the
# filesystem's timestamp granularity, so its content is compared, not just its stat.
_RACY_WINDOW_NS = 2_000_000_000


class Role(enum.StrEnum):
    """What a user may do. ``operator`` is accepted as another name for read-only."""

    ADMIN = "admin"
    READ_ONLY = "read-only"
    TENANT = "tenant"

    @property
    def can_read_all(self) -> bool:
        """True if the role may read the whole tree."""
        return self in (Role.ADMIN, Role.READ_ONLY)

    @property
    def can_write_all(self) -> bool:
        """True if the role may change the whole tree."""
        return self is Role.ADMIN

    @classmethod
    def parse(cls, text: str) -> Role:
        """The role named ``text``; raises UserError for an unknown name."""
        name = text.strip().lower()
        if name == "operator":
            return cls.READ_ONLY
        try:
            return cls(name)
        except ValueError:
            choices = ", ".join(role.value for role in cls)
            raise UserError(f"unknown role {text!r}: choose one of {choices}") from None


def is_user_name(name: str) -> bool:
    """True if ``name`` is 1-64 characters from ``A-Z a-z 0-9 . _ -``."""
    return isinstance(name, str) and _NAME.fullmatch(name) is not None


def validate_user_name(name: str) -> str:
    """Returns ``name`` if it is 1-64 characters from ``A-Z a-z 0-9 . _ -``; else UserError."""
    if not is_user_name(name):
        raise UserError(
            f"invalid user name {name!r}: use 1-64 characters from A-Z, a-z, 0-9, '.', '_', '-'"
        )
    return name


def validate_tenant_name(name: str) -> str:
    """Returns ``name`` if it can name a tenant (1-64 printable characters, no surrounding
    white space, as the model's name-string); raises UserError otherwise."""
    if (
        not isinstance(name, str)
        or not name
        or len(name) > _MAX_TENANT_NAME
        or name != name.strip()
        or not name.isprintable()
    ):
        raise UserError(
            f"invalid tenant name {name!r}: use 1-{_MAX_TENANT_NAME} printable characters, "
            "no surrounding spaces"
        )
    return name


class Revocation(enum.Enum):
    """Why a user, as authenticated earlier, is no longer current."""

    REMOVED = "removed"
    PASSWORD_CHANGED = "password changed"
    ROLE_CHANGED = "role changed"  # the role or a tenant user's tenant


@dataclass(frozen=True)
class User:
    """An authenticated user: name, role and, for the tenant role, the tenant it acts for.

    ``credential`` identifies the stored password the user proved (empty when the user
    was not authenticated by password, e.g. by a client certificate); it takes no part
    in comparisons.
    """

    name: str
    role: Role
    tenant: str | None = None
    credential: str = field(default="", compare=False, repr=False)

    def __post_init__(self) -> None:
        validate_user_name(self.name)
        if not isinstance(self.role, Role):
            raise UserError(f"unknown role {self.role!r}")
        if self.role is Role.TENANT and self.tenant is None:
            raise UserError(f"tenant user {self.name!r} must name its tenant")
        if self.role is not Role.TENANT and self.tenant is not None:
            raise UserError(f"user {self.name!r}: a tenant applies only to the tenant role")
        if self.tenant is not None:
            validate_tenant_name(self.tenant)


@dataclass(frozen=True)
class _Record:
    user: User
    password: PasswordHash
    login: User = field(init=False, repr=False, compare=False)  # ``user`` with its credential

    def __post_init__(self) -> None:
        stamp = hashlib.sha256(self.password.salt + self.password.digest).hexdigest()[:32]
        object.__setattr__(self, "login", dataclasses.replace(self.user, credential=stamp))

    @property
    def name(self) -> str:
        return self.user.name

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {"name": self.user.name, "role": self.user.role.value}
        if self.user.tenant is not None:
            document["tenant"] = self.user.tenant
        document["password"] = self.password.to_json()
        return document


@dataclass(frozen=True)
class _Legacy:
    """A tenant record from before tenants existed (bound to slices), kept as it is when
    the file is rewritten until it is given a tenant or removed."""

    name: str
    slices: tuple[str, ...]
    entry: Mapping[str, Any]
    password: PasswordHash

    def to_json(self) -> dict[str, Any]:
        return dict(self.entry)

    def problem(self) -> str:
        bound = ", ".join(self.slices)
        return (
            f"tenant user {self.name!r} is bound to slices ({bound}), as files of earlier "
            "versions were; tenant users are now bound to one tenant: run 'edge-agent user "
            f"role {self.name} --role tenant --tenant TENANT' (the password is kept)"
        )


@dataclass(frozen=True)
class _Snapshot:
    """The database as last read: file identity, raw bytes and parsed records.

    ``racy``: the file had been modified so recently when it was read that a rewrite in
    the same timestamp tick could leave its stat unchanged; until a later look finds the
    file older than that, its content is compared too.
    """

    signature: tuple[int, ...] | None
    content: bytes | None
    records: Mapping[str, _Record]
    generation: int
    racy: bool


class UserStore:
    """The user database file plus a verification cache.

    Safe to share between threads. Every read notices changes made to the file by other
    processes; writes take an advisory lock so concurrent writers do not lose updates.
    """

    def __init__(
        self,
        path: Path,
        *,
        scrypt: ScryptParams = DEFAULT_SCRYPT,
        cache_size: int = 1024,
        recheck_s: float = 0.0,
        monotonic_ns: Callable[[], int] = time.monotonic_ns,
    ) -> None:
        """``scrypt`` sets the cost of newly hashed passwords; stored hashes keep theirs.

        ``recheck_s`` lets verified logins skip looking at the file for that long (a
        server passes a fraction of a second: a removal or a password change made by
        another process, such as ``edge-agent user passwd``, then stops a remembered
        login within it; this store's own changes take effect at once, and a login that
        is not remembered always looks at the file).
        """
        self._path = path
        self._recheck_ns = int(recheck_s * 1_000_000_000)
        self._monotonic_ns = monotonic_ns
        self._checked_ns = 0
        self._scrypt = scrypt
        self._cache_size = cache_size
        self._secret = os.urandom(32)
        self._lock = threading.Lock()
        self._snapshot: _Snapshot | None = None
        self._verified: dict[tuple[str, bytes], User] = {}

    @classmethod
    def in_state_dir(cls, state_dir: Path, *, scrypt: ScryptParams = DEFAULT_SCRYPT) -> UserStore:
        """The store kept at ``STATE_DIR/users.json``."""
        return cls(state_dir / USERS_FILENAME, scrypt=scrypt)

    @property
    def path(self) -> Path:
        """The database file."""
        return self._path

    # Reading

    def users(self) -> tuple[User, ...]:
        """Every user, sorted by name."""
        records = self._current().records
        return tuple(records[name].user for name in sorted(records))

    def get(self, name: str) -> User | None:
        """The user called ``name``, or None."""
        record = self._current().records.get(name)
        return None if record is None else record.user

    def refresh(self) -> int:
        """Looks at the file now (whatever ``recheck_s`` says), reloading it if it changed.

        Returns the snapshot's generation: equal numbers mean no user changed in between.
        Raises UserDatabaseError when the file is damaged or unreadable.
        """
        return self._current(force=True).generation

    def revoked(self, user: User) -> Revocation | None:
        """Why ``user``, as authenticated earlier, is no longer current; None while it is.

        Removed, a new password (only for a user authenticated by password) or a new role
        or tenant. Cheap: no scrypt, and the file is looked at as ``recheck_s``
        allows (call :meth:`refresh` first to see the file as it is now).
        """
        record = self._current().records.get(user.name)
        if record is None:
            return Revocation.REMOVED
        if user.credential and user.credential != record.login.credential:
            return Revocation.PASSWORD_CHANGED
        if record.user != user:
            return Revocation.ROLE_CHANGED
        return None

    # Authentication

    def authenticate(self, name: str, password: str) -> User:
        """The user if ``password`` is right; raises AuthenticationError otherwise.

        A cache hit costs no scrypt. An unknown user costs the same scrypt as a known
        one, so response times do not reveal which names exist. The user returned carries
        the ``credential`` it proved.
        """
        snapshot = self._current()
        key = (name, self._fingerprint(password))
        with self._lock:
            cached = self._verified.get(key) if self._is_current(snapshot) else None
        if cached is not None:
            return cached
        # A miss costs scrypt anyway: look at the file as it is now (whatever recheck_s
        # says), so a user or password added a moment ago works at once.
        snapshot = self._current(force=True)
        record = snapshot.records.get(name)
        if record is None:
            verify_password(password, self._decoy())
            raise AuthenticationError(
                AuthFailure.UNKNOWN_USER, "invalid username or password", username=name
            )
        if not verify_password(password, record.password):
            raise AuthenticationError(
                AuthFailure.BAD_PASSWORD, "invalid username or password", username=name
            )
        with self._lock:
            # Cache only if no reload happened meanwhile, or a changed password could
            # be remembered as valid.
            if self._is_current(snapshot):
                if len(self._verified) >= self._cache_size:
                    self._verified.clear()
                self._verified[key] = record.login
        return record.login

    def cached_user(self, name: str, password: str) -> User | None:
        """The user if this exact name/password pair was verified since the file last
        changed; None otherwise. Never runs scrypt."""
        snapshot = self._current()
        with self._lock:
            if not self._is_current(snapshot):
                return None
            return self._verified.get((name, self._fingerprint(password)))

    # Changes

    def add(self, name: str, role: Role | str, password: str, tenant: str | None = None) -> User:
        """Creates a user (a tenant user names its ``tenant``); raises UserError if it
        exists or an argument is invalid."""
        validate_user_name(name)
        parsed_role = role if isinstance(role, Role) else Role.parse(role)
        user = User(name=name, role=parsed_role, tenant=tenant)
        hashed = self._hash(password)
        with self._writing() as records:
            if name in records:
                raise UserError(f"user {name!r} already exists")
            records[name] = _Record(user=user, password=hashed)
        return user

    def remove(self, name: str) -> None:
        """Deletes a user; raises UserError if there is no such user."""
        with self._writing() as records:
            if records.pop(name, None) is None:
                raise UserError(f"no user named {name!r}")

    def set_password(self, name: str, password: str) -> None:
        """Replaces a user's password; raises UserError if there is no such user."""
        hashed = self._hash(password)
        with self._writing() as records:
            record = records.get(name)
            if record is None:
                raise UserError(f"no user named {name!r}")
            if isinstance(record, _Legacy):
                raise UserError(record.problem())
            records[name] = _Record(user=record.user, password=hashed)

    def set_role(self, name: str, role: Role | str, tenant: str | None = None) -> User:
        """Gives a user a new role (and, for the tenant role, its tenant); the password
        stays. Also fixes a record of an earlier version that bound a tenant to slices.

        Raises UserError if there is no such user or an argument is invalid.
        """
        parsed_role = role if isinstance(role, Role) else Role.parse(role)
        user = User(name=name, role=parsed_role, tenant=tenant)
        with self._writing() as records:
            record = records.get(name)
            if record is None:
                raise UserError(f"no user named {name!r}")
            records[name] = _Record(user=user, password=record.password)
        return user

    # Internals

    def _hash(self, password: str) -> PasswordHash:
        if not isinstance(password, str) or not password:
            raise UserError("the password must not be empty")
        return hash_password(password, self._scrypt)

    def _decoy(self) -> PasswordHash:
        return PasswordHash(params=self._scrypt, salt=b"\0" * 16, digest=b"\0" * 32)

    def _fingerprint(self, password: str) -> bytes:
        return hmac.new(self._secret, password.encode("utf-8"), hashlib.sha256).digest()

    def _is_current(self, snapshot: _Snapshot) -> bool:
        """True if no reload happened since ``snapshot`` was taken (caller holds the lock)."""
        return self._snapshot is not None and self._snapshot.generation == snapshot.generation

    def _signature(self) -> tuple[int, ...] | None:
        try:
            st = os.stat(self._path)
        except FileNotFoundError:
            return None
        return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)

    def _read_content(self) -> bytes | None:
        try:
            return self._path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise UserDatabaseError(f"{self._path}: cannot read: {exc.strerror or exc}") from exc

    def _current(self, *, force: bool = False) -> _Snapshot:
        """The snapshot matching the file now, reloading (and dropping the cache) on change.

        Within ``recheck_s`` of the last look the file is not looked at, unless ``force``.
        """
        with self._lock:
            snapshot = self._snapshot
            now = self._monotonic_ns()
            if (
                not force
                and snapshot is not None
                and self._recheck_ns
                and now - self._checked_ns < self._recheck_ns
            ):
                return snapshot
            self._checked_ns = now
            signature = self._signature()
            if snapshot is not None and signature == snapshot.signature and not snapshot.racy:
                return snapshot
            content = self._read_content()
            racy = signature is not None and _recently_modified(signature)
            if snapshot is not None and content == snapshot.content:
                if signature != snapshot.signature or racy != snapshot.racy:
                    snapshot = dataclasses.replace(snapshot, signature=signature, racy=racy)
                    self._snapshot = snapshot
                return snapshot
            generation = 0 if snapshot is None else snapshot.generation + 1
            records = _parse(self._path, content)
            snapshot = _Snapshot(signature, content, records, generation, racy)
            self._snapshot = snapshot
            self._verified.clear()
            return snapshot

    @contextlib.contextmanager
    def _writing(self) -> Iterator[dict[str, _Record | _Legacy]]:
        """Read-modify-write under an exclusive lock; writes only if the body succeeds.

        Records of earlier versions are kept as they are (see :class:`_Legacy`)."""
        ensure_dir(self._path.parent)
        lock_path = self._path.with_name(self._path.name + ".lock")
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            records = _parse_records(self._path, self._read_content())
            yield records
            atomic_write(self._path, _serialise(records), mode=0o600)
        finally:
            os.close(fd)
        # This store's own change is seen at once (unless records of an earlier version
        # still keep the file from being read: the change is written all the same).
        with contextlib.suppress(UserDatabaseError):
            self._current(force=True)


def _recently_modified(signature: tuple[int, ...]) -> bool:
    """True if the file may have changed again within its timestamp granularity."""
    return time.time_ns() - signature[3] < _RACY_WINDOW_NS


def _serialise(records: Mapping[str, _Record | _Legacy]) -> bytes:
    document = {
        "version": FILE_FORMAT_VERSION,
        "users": [records[name].to_json() for name in sorted(records)],
    }
    return (json.dumps(document, indent=2, sort_keys=True) + "\n").encode("utf-8")


def _parse(path: Path, content: bytes | None) -> dict[str, _Record]:
    """The records of a database file; raises UserDatabaseError for a damaged file or a
    record of an earlier version that must be fixed first."""
    records: dict[str, _Record] = {}
    for index, (name, record) in enumerate(_parse_records(path, content).items()):
        if isinstance(record, _Legacy):
            raise UserDatabaseError(f"{path}: user #{index + 1}: {record.problem()}")
        records[name] = record
    return records


def _parse_records(path: Path, content: bytes | None) -> dict[str, _Record | _Legacy]:
    if content is None:
        return {}
    try:
        document = json.loads(content)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise UserDatabaseError(f"{path}: not valid JSON: {exc}") from exc
    if not isinstance(document, dict) or document.get("version") != FILE_FORMAT_VERSION:
        raise UserDatabaseError(
            f"{path}: expected an object with version {FILE_FORMAT_VERSION} and a users list"
        )
    entries = document.get("users")
    if not isinstance(entries, list):
        raise UserDatabaseError(f"{path}: 'users' must be a list")
    records: dict[str, _Record | _Legacy] = {}
    for index, entry in enumerate(entries):
        try:
            record = _parse_record(entry)
        except (UserError, ValueError, TypeError) as exc:
            raise UserDatabaseError(f"{path}: user #{index + 1}: {exc}") from exc
        if record.name in records:
            raise UserDatabaseError(f"{path}: user {record.name!r} appears twice")
        records[record.name] = record
    return records


def _parse_record(entry: object) -> _Record | _Legacy:
    if not isinstance(entry, dict):
        raise ValueError("each user must be an object")
    password = entry.get("password")
    if not isinstance(password, dict):
        raise ValueError("'password' must be an object")
    name = entry.get("name", "")
    role = Role.parse(str(entry.get("role", "")))
    tenant = entry.get("tenant")
    if tenant is not None and not isinstance(tenant, str):
        raise ValueError("'tenant' must be a string")
    slices = entry.get("slices", [])
    if not isinstance(slices, list) or not all(isinstance(s, str) for s in slices):
        raise ValueError("'slices' must be a list of slice names")
    if role is Role.TENANT and tenant is None and slices:
        validate_user_name(name)
        return _Legacy(name, tuple(sorted(slices)), entry, PasswordHash.from_json(password))
    if role is not Role.TENANT and slices:
        raise ValueError("slices apply only to tenant users of earlier versions")
    user = User(name=name, role=role, tenant=tenant)
    return _Record(user=user, password=PasswordHash.from_json(password))
