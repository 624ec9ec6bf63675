"""Service and datastore errors as gNMI errors: the one map from Kind to gRPC code."""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

import grpc

from agent.datastore.errors import DatastoreError
from agent.gnmi.errors import GnmiError
from agent.service.errors import Kind, ServiceError, from_datastore

CODE_OF_KIND: Final = MappingProxyType(
    {
        Kind.INVALID: grpc.StatusCode.INVALID_ARGUMENT,
        Kind.NOT_FOUND: grpc.StatusCode.NOT_FOUND,
        Kind.UNSUPPORTED: grpc.StatusCode.UNIMPLEMENTED,
        Kind.UNAUTHENTICATED: grpc.StatusCode.UNAUTHENTICATED,
        Kind.DENIED: grpc.StatusCode.PERMISSION_DENIED,
        Kind.CONFLICT: grpc.StatusCode.FAILED_PRECONDITION,
        Kind.LOCKED: grpc.StatusCode.FAILED_PRECONDITION,
        Kind.ABORTED: grpc.StatusCode.ABORTED,
        Kind.EXHAUSTED: grpc.StatusCode.RESOURCE_EXHAUSTED,
        Kind.DEADLINE: grpc.StatusCode.DEADLINE_EXCEEDED,
        Kind.CANCELLED: grpc.StatusCode.CANCELLED,
        Kind.UNAVAILABLE: grpc.StatusCode.UNAVAILABLE,
        Kind.INTERNAL: grpc.StatusCode.INTERNAL,
    }
)
"""How each kind of refusal ends a gNMI RPC."""


def service_error(err: ServiceError, context: str | None = None) -> GnmiError:
    """The GnmiError for a service refusal, ``context`` (e.g. the operation) in front."""
    message = f"{context}: {err.message}" if context else err.message
    return GnmiError(CODE_OF_KIND[err.kind], message)


def gnmi_error(err: DatastoreError, context: str | None = None) -> GnmiError:
    """The GnmiError for a datastore error, ``context`` (e.g. the operation) in front."""
    return service_error(from_datastore(err), context)


def permission_denied(message: str) -> GnmiError:
    """A PERMISSION_DENIED GnmiError."""
    return GnmiError(grpc.StatusCode.PERMISSION_DENIED, message)


def failed_precondition(message: str) -> GnmiError:
    """A FAILED_PRECONDITION GnmiError."""
    return GnmiError(grpc.StatusCode.FAILED_PRECONDITION, message)
