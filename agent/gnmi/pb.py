"""The generated gNMI 0.10.0 modules, imported in one place.

The stubs are produced by ``make proto`` from ``agent/gnmi/proto`` and are not typed for
strict mypy, so they are typed ``Any`` here; the aliases below name which message a
parameter or result carries.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final, TypeAlias

if TYPE_CHECKING:
    gnmi_pb2: Any
    gnmi_ext_pb2: Any
    gnmi_pb2_grpc: Any
else:
    try:
        from agent.gnmi.generated import gnmi_ext_pb2, gnmi_pb2, gnmi_pb2_grpc
    except ModuleNotFoundError as exc:  # pragma: no cover - depends on the build
        if not (exc.name or "").startswith("agent.gnmi.generated"):
            raise
        raise ModuleNotFoundError(
            "the gNMI stubs in agent/gnmi/generated are missing; run `make proto`",
            name=exc.name,
        ) from exc

PathMsg: TypeAlias = Any
"""A ``gnmi.Path`` message."""
TypedValueMsg: TypeAlias = Any
"""A ``gnmi.TypedValue`` message."""
UpdateMsg: TypeAlias = Any
"""A ``gnmi.Update`` message."""
NotificationMsg: TypeAlias = Any
"""A ``gnmi.Notification`` message."""

GNMI_VERSION: Final[str] = gnmi_pb2.DESCRIPTOR.GetOptions().Extensions[gnmi_pb2.gnmi_service]
"""The gNMI service version declared by gnmi.proto (reported by Capabilities)."""

__all__ = [
    "GNMI_VERSION",
    "NotificationMsg",
    "PathMsg",
    "TypedValueMsg",
    "UpdateMsg",
    "gnmi_ext_pb2",
    "gnmi_pb2",
    "gnmi_pb2_grpc",
]
