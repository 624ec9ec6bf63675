"""Errors of the datastore, independent of any wire protocol.

Each carries an ErrorKind the northbound maps onto its own codes (gRPC status, NETCONF
error-tag) and, for a Set, the index of the operation that failed.
"""

from __future__ import annotations

from enum import Enum


class ErrorKind(Enum):
    """Why an edit or a commit was refused."""

    INVALID = "invalid"  # malformed path or value, schema violation
    NOT_FOUND = "not-found"  # no such schema node
    UNSUPPORTED = "unsupported"  # valid but not implemented
    HARDWARE = "hardware"  # a driver refused or failed
    CONFLICT = "conflict"  # state does not allow it (e.g. a commit already pending)
    STORAGE = "storage"  # persistence failed
    UNAVAILABLE = "unavailable"  # a device cannot be reached
    DENIED = "denied"  # the caller may not make this change


class DatastoreError(Exception):
    """A refused edit or commit; nothing of it was applied."""

    def __init__(self, kind: ErrorKind, message: str, *, op_index: int | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.op_index = op_index

    def at(self, op_index: int) -> DatastoreError:
        """The same error attributed to operation ``op_index`` of a request."""
        return DatastoreError(self.kind, self.message, op_index=op_index)

    def __str__(self) -> str:
        where = f"operation {self.op_index}: " if self.op_index is not None else ""
        return f"{where}{self.message}"
