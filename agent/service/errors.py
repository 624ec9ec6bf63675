"""One error-kind enum for every northbound.

The service core and the layers below it refuse with a :class:`ServiceError` of a
:class:`Kind`; each northbound maps the kind once onto its own codes (gRPC status codes
in ``agent.northbound.status``, NETCONF error-tags in the NETCONF adapter). Datastore
errors map onto kinds here.
"""

from __future__ import annotations

import enum
from types import MappingProxyType
from typing import Final

from agent.datastore.errors import DatastoreError, ErrorKind


class Kind(enum.Enum):
    """Why a request was refused or failed, independent of the protocol."""

    INVALID = "invalid"  # malformed input, a value the model forbids
    NOT_FOUND = "not-found"  # no such schema node, or no data (in the caller's view)
    UNSUPPORTED = "unsupported"  # valid but not implemented
    UNAUTHENTICATED = "unauthenticated"
    DENIED = "denied"  # authenticated, but not allowed
    CONFLICT = "conflict"  # the state does not allow it now (pending commit, lock)
    LOCKED = "locked"  # another session holds the lock
    ABORTED = "aborted"  # the hardware refused or failed: nothing applied
    EXHAUSTED = "exhausted"  # a quota, limit or fair share is used up
    DEADLINE = "deadline"  # the client's deadline passed
    CANCELLED = "cancelled"  # the client went away
    UNAVAILABLE = "unavailable"  # a device or the agent cannot serve now
    INTERNAL = "internal"  # a fault of the agent itself


class ServiceError(Exception):
    """A refusal with its kind, a one-line message and, for writes, the operation."""

    def __init__(self, kind: Kind, message: str, *, op_index: int | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.op_index = op_index

    def __str__(self) -> str:
        return f"{self.kind.value}: {self.message}"


KIND_OF_DATASTORE: Final = MappingProxyType(
    {
        ErrorKind.INVALID: Kind.INVALID,
        ErrorKind.NOT_FOUND: Kind.NOT_FOUND,
        ErrorKind.UNSUPPORTED: Kind.UNSUPPORTED,
        ErrorKind.HARDWARE: Kind.ABORTED,
        ErrorKind.CONFLICT: Kind.CONFLICT,
        ErrorKind.STORAGE: Kind.INTERNAL,
        ErrorKind.UNAVAILABLE: Kind.UNAVAILABLE,
        ErrorKind.DENIED: Kind.DENIED,
    }
)
"""The kind of each datastore error."""


def from_datastore(err: DatastoreError) -> ServiceError:
    """The ServiceError for a datastore refusal (operation index kept)."""
    return ServiceError(KIND_OF_DATASTORE[err.kind], err.message, op_index=err.op_index)
