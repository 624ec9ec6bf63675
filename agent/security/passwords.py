"""Password hashing at rest with scrypt (hashlib), verified in constant time."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

ALGORITHM = "scrypt"
_SALT_BYTES = 16
_KEY_BYTES = 32
# Bounds accepted when reading a stored hash, so a tampered file cannot make a single
# verification allocate gigabytes or run for minutes.
_MAX_N = 2**20
_MAX_R = 32
_MAX_P = 16
_MIN_KEY_BYTES = 16
_MAX_KEY_BYTES = 64


@dataclass(frozen=True)
class ScryptParams:
    """scrypt cost parameters: CPU/memory cost ``n`` (a power of two), block size ``r``,
    parallelism ``p``. The default costs about 16 MiB and some tens of milliseconds."""

    n: int = 2**14
    r: int = 8
    p: int = 1

    def __post_init__(self) -> None:
        if self.n < 2 or self.n & (self.n - 1) or self.n > _MAX_N:
            raise ValueError(f"scrypt n must be a power of two between 2 and {_MAX_N}")
        if not 1 <= self.r <= _MAX_R:
            raise ValueError(f"scrypt r must be between 1 and {_MAX_R}")
        if not 1 <= self.p <= _MAX_P:
            raise ValueError(f"scrypt p must be between 1 and {_MAX_P}")

    @property
    def maxmem(self) -> int:
        """Memory limit handed to OpenSSL: what these parameters need plus slack."""
        return 128 * self.r * (self.n + self.p + 2) + 1024 * 1024


DEFAULT_SCRYPT = ScryptParams()


@dataclass(frozen=True)
class PasswordHash:
    """A salted scrypt hash together with the parameters that produced it."""

    params: ScryptParams
    salt: bytes
    digest: bytes

    def to_json(self) -> dict[str, Any]:
        """The JSON object stored in the user database."""
        return {
            "algorithm": ALGORITHM,
            "n": self.params.n,
            "r": self.params.r,
            "p": self.params.p,
            "salt": base64.b64encode(self.salt).decode("ascii"),
            "hash": base64.b64encode(self.digest).decode("ascii"),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PasswordHash:
        """Parses :meth:`to_json` output; raises ValueError with the reason."""
        if data.get("algorithm") != ALGORITHM:
            raise ValueError(f"unsupported password algorithm {data.get('algorithm')!r}")
        params = ScryptParams(n=_integer(data, "n"), r=_integer(data, "r"), p=_integer(data, "p"))
        try:
            salt = base64.b64decode(str(data["salt"]), validate=True)
            digest = base64.b64decode(str(data["hash"]), validate=True)
        except (KeyError, binascii.Error) as exc:
            raise ValueError("salt and hash must be base64 strings") from exc
        if not salt or not _MIN_KEY_BYTES <= len(digest) <= _MAX_KEY_BYTES:
            bounds = f"{_MIN_KEY_BYTES}-{_MAX_KEY_BYTES}"
            raise ValueError(f"salt must not be empty and the hash must be {bounds} bytes")
        return cls(params=params, salt=salt, digest=digest)


def _integer(data: Mapping[str, Any], key: str) -> int:
    value = data.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"scrypt parameter {key!r} must be an integer")
    return value


def _derive(password: str, salt: bytes, params: ScryptParams, length: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"),
        salt=salt,
        n=params.n,
        r=params.r,
        p=params.p,
        maxmem=params.maxmem,
        dklen=length,
    )


def hash_password(password: str, params: ScryptParams = DEFAULT_SCRYPT) -> PasswordHash:
    """Hashes ``password`` with a fresh random salt."""
    salt = os.urandom(_SALT_BYTES)
    return PasswordHash(
        params=params, salt=salt, digest=_derive(password, salt, params, _KEY_BYTES)
    )


def verify_password(password: str, stored: PasswordHash) -> bool:
    """True if ``password`` matches ``stored``; the comparison runs in constant time."""
    candidate = _derive(password, stored.salt, stored.params, len(stored.digest))
    return hmac.compare_digest(candidate, stored.digest)


def generate_password(nbytes: int = 18) -> str:
    """A random URL-safe password that starts with a letter or digit, so that no client's
    option parser takes it for an option."""
    while True:
        password = secrets.token_urlsafe(nbytes)
        if password[0].isalnum():
            return password
