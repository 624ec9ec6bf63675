"""GnmiError: a failure that the gNMI servicer turns into the RPC status."""

from __future__ import annotations

import grpc

from agent.schema.characters import visible
from agent.schema.path import DataPath, PathElem


class GnmiError(Exception):
    """A canonical gRPC status code with a human-readable message (gNMI spec 2.5).

    Codes used by the wire layer: INVALID_ARGUMENT for malformed paths and bad values,
    UNIMPLEMENTED for unsupported encodings and origins, NOT_FOUND for schema nodes that
    do not exist, INTERNAL for data the agent itself cannot encode.
    """

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return f"{self.code.name}: {self.message}"

    def __repr__(self) -> str:
        return f"GnmiError({self.code.name}, {self.message!r})"

    def with_context(self, context: str) -> GnmiError:
        """The same error with ``context`` (e.g. the failing operation) put in front."""
        return GnmiError(self.code, f"{context}: {self.message}")

    @classmethod
    def invalid_argument(cls, message: str) -> GnmiError:
        return cls(grpc.StatusCode.INVALID_ARGUMENT, message)

    @classmethod
    def not_found(cls, message: str) -> GnmiError:
        return cls(grpc.StatusCode.NOT_FOUND, message)

    @classmethod
    def unimplemented(cls, message: str) -> GnmiError:
        return cls(grpc.StatusCode.UNIMPLEMENTED, message)

    @classmethod
    def internal(cls, message: str) -> GnmiError:
        return cls(grpc.StatusCode.INTERNAL, message)


def path_text(path: DataPath) -> str:
    """A path for messages: module names shown only where the module changes."""
    shown: list[PathElem] = []
    current: str | None = None
    for elem in path.elems:
        module = elem.module if elem.module not in (None, current) else None
        shown.append(PathElem(elem.name, elem.keys, module))
        current = elem.module or current
    return visible(str(DataPath(tuple(shown))))
