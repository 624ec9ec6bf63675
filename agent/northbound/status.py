"""Datastore errors as gNMI errors: the canonical gRPC code for each ErrorKind."""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

import grpc

from agent.datastore.errors import DatastoreError, ErrorKind
from agent.gnmi.errors import GnmiError

CODE_OF_KIND: Final = MappingProxyType(
    {
        ErrorKind.INVALID: grpc.StatusCode.INVALID_ARGUMENT,
        ErrorKind.NOT_FOUND: grpc.StatusCode.NOT_FOUND,
        ErrorKind.UNSUPPORTED: grpc.StatusCode.UNIMPLEMENTED,
        ErrorKind.HARDWARE: grpc.StatusCode.ABORTED,
        ErrorKind.CONFLICT: grpc.StatusCode.FAILED_PRECONDITION,
        ErrorKind.STORAGE: grpc.StatusCode.INTERNAL,
        ErrorKind.UNAVAILABLE: grpc.StatusCode.UNAVAILABLE,
    }
)
"""How each datastore ErrorKind ends a gNMI RPC."""


def gnmi_error(err: DatastoreError, context: str | None = None) -> GnmiError:
    """The GnmiError for a datastore error, ``context`` (e.g. the operation) in front."""
    code = CODE_OF_KIND.get(err.kind, grpc.StatusCode.INTERNAL)
    message = f"{context}: {err.message}" if context else err.message
    return GnmiError(code, message)


def permission_denied(message: str) -> GnmiError:
    """A PERMISSION_DENIED GnmiError."""
    return GnmiError(grpc.StatusCode.PERMISSION_DENIED, message)


def failed_precondition(message: str) -> GnmiError:
    """A FAILED_PRECONDITION GnmiError."""
    return GnmiError(grpc.StatusCode.FAILED_PRECONDITION, message)
