"""Exceptions raised by the security package."""

from __future__ import annotations

import enum
from pathlib import Path

import grpc


class UserError(ValueError):
    """A user-management request is invalid (bad name, unknown role, duplicate user, ...)."""


class UserDatabaseError(RuntimeError):
    """The user database on disk cannot be read or does not have the expected shape."""


class TlsMaterialError(RuntimeError):
    """TLS files in the state directory are inconsistent and cannot be repaired safely.

    ``path`` is the file at fault, when there is one.
    """

    def __init__(self, message: str, *, path: Path | None = None) -> None:
        super().__init__(message)
        self.path = path


class MissingCaKeyError(TlsMaterialError):
    """A certificate must be issued but the CA private key is not in the state directory."""


class AuthFailure(enum.Enum):
    """Why an authentication attempt was refused (for the audit log and for tests)."""

    MISSING_CREDENTIALS = "missing-credentials"
    MISSING_USERNAME = "missing-username"
    MISSING_PASSWORD = "missing-password"
    UNKNOWN_USER = "unknown-user"
    BAD_PASSWORD = "bad-password"
    UNKNOWN_CERTIFICATE_USER = "unknown-certificate-user"
    THROTTLED = "throttled"


class AuthenticationError(Exception):
    """Authentication failed; maps onto gRPC UNAUTHENTICATED.

    ``message`` is safe to return to the client: it does not reveal whether a user
    exists. ``reason`` and ``username`` are for the audit log.
    """

    def __init__(self, reason: AuthFailure, message: str, *, username: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.username = username

    @property
    def code(self) -> grpc.StatusCode:
        """The gRPC status code the RPC must end with."""
        return grpc.StatusCode.UNAUTHENTICATED


class LoginThrottledError(AuthenticationError):
    """A password login refused by the login throttle, without checking the password;
    maps onto gRPC RESOURCE_EXHAUSTED."""

    def __init__(self, message: str, retry_after_s: float, *, username: str | None = None) -> None:
        super().__init__(AuthFailure.THROTTLED, message, username=username)
        self.retry_after_s = retry_after_s

    @property
    def code(self) -> grpc.StatusCode:
        """The gRPC status code the RPC must end with."""
        return grpc.StatusCode.RESOURCE_EXHAUSTED
