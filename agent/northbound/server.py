"""The gRPC server: gNMI plus health and reflection, TLS, limits and keepalive.

Requests pass the interceptors in order (decoding, then authentication); the health service
(``grpc.health.v1.Health``) and server reflection answer without credentials so that
load balancers and tools such as grpcurl can probe the agent.

The gNMI methods are registered with a pass-through response serializer
(``add_gnmi_servicer``): a handler may answer with a protobuf message or with bytes it
serialized itself (Subscribe sends Notifications encoded once for all its subscribers),
and bytes go to the wire untouched.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import grpc
from grpc import aio
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer
from grpc_reflection.v1alpha import reflection

from agent.gnmi.pb import gnmi_pb2, gnmi_pb2_grpc

log = logging.getLogger(__name__)

GNMI_SERVICE = gnmi_pb2.DESCRIPTOR.services_by_name["gNMI"].full_name
HEALTH_SERVICE = health_pb2.DESCRIPTOR.services_by_name["Health"].full_name
REFLECTION_SERVICE = reflection.SERVICE_NAME
EXEMPT_METHODS = (
    f"/{HEALTH_SERVICE}/Check",
    f"/{HEALTH_SERVICE}/Watch",
    f"/{HEALTH_SERVICE}/List",
    f"/{REFLECTION_SERVICE}/ServerReflectionInfo",
)
"""Methods that need no credentials."""


def serialized(response: Any) -> bytes:
    """The bytes of a gNMI response: bytes as they are, a message serialized."""
    if type(response) is bytes:
        return response
    data: bytes = response.SerializeToString()
    return data


def add_gnmi_servicer(servicer: Any, server: Any) -> None:
    """Registers the four gNMI methods of ``servicer`` on ``server`` (a grpc.aio server)
    with the generated request decoders and the ``serialized`` response encoder."""
    methods = {
        "Capabilities": (grpc.unary_unary_rpc_method_handler, gnmi_pb2.CapabilityRequest),
        "Get": (grpc.unary_unary_rpc_method_handler, gnmi_pb2.GetRequest),
        "Set": (grpc.unary_unary_rpc_method_handler, gnmi_pb2.SetRequest),
        "Subscribe": (grpc.stream_stream_rpc_method_handler, gnmi_pb2.SubscribeRequest),
    }
    handlers = {
        name: kind(
            getattr(servicer, name),
            request_deserializer=request.FromString,
            response_serializer=serialized,
        )
        for name, (kind, request) in methods.items()
    }
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(GNMI_SERVICE, handlers),))
    server.add_registered_method_handlers(GNMI_SERVICE, handlers)


class ServerStartError(RuntimeError):
    """The server could not listen on its address."""


@dataclass(frozen=True, slots=True)
class TransportOptions:
    """Message size limits (both directions) and keepalive of the server."""

    max_message_bytes: int = 64 * 1024 * 1024
    keepalive_time_ms: int = 30_000
    keepalive_timeout_ms: int = 20_000
    min_client_ping_interval_ms: int = 10_000

    def grpc_options(self) -> list[tuple[str, int]]:
        """The channel arguments for grpc.aio.server."""
        return [
            ("grpc.max_send_message_length", self.max_message_bytes),
            ("grpc.max_receive_message_length", self.max_message_bytes),
            ("grpc.keepalive_time_ms", self.keepalive_time_ms),
            ("grpc.keepalive_timeout_ms", self.keepalive_timeout_ms),
            ("grpc.keepalive_permit_without_calls", 1),
            ("grpc.http2.max_pings_without_data", 0),
            ("grpc.http2.min_ping_interval_without_data_ms", self.min_client_ping_interval_ms),
            ("grpc.http2.min_time_between_pings_ms", self.min_client_ping_interval_ms),
            ("grpc.so_reuseport", 0),
        ]


class GnmiServer:
    """A grpc.aio server for one gNMI servicer."""

    def __init__(
        self,
        servicer: gnmi_pb2_grpc.gNMIServicer,
        interceptors: Sequence[aio.ServerInterceptor],
        *,
        listen: str,
        credentials: grpc.ServerCredentials | None,
        options: TransportOptions | None = None,
    ) -> None:
        """``credentials`` None means plaintext (insecure)."""
        self._servicer = servicer
        self._interceptors = list(interceptors)
        self._listen = listen
        self._credentials = credentials
        self._options = options or TransportOptions()
        self._server: Any = None
        self._health: HealthServicer | None = None
        self._port = 0

    @property
    def port(self) -> int:
        """The bound TCP port (0 before start)."""
        return self._port

    async def start(self) -> int:
        """Binds and starts serving; returns the port. Raises ServerStartError."""
        server = aio.server(interceptors=self._interceptors, options=self._options.grpc_options())
        add_gnmi_servicer(self._servicer, server)
        health = HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(health, server)
        reflection.enable_server_reflection(
            (GNMI_SERVICE, HEALTH_SERVICE, REFLECTION_SERVICE), server
        )
        try:
            if self._credentials is None:
                port: int = server.add_insecure_port(self._listen)
            else:
                port = server.add_secure_port(self._listen, self._credentials)
        except RuntimeError as err:
            raise ServerStartError(f"cannot listen on {self._listen}: {err}") from err
        if not port:
            raise ServerStartError(f"cannot listen on {self._listen} (address in use?)")
        await server.start()
        serving = health_pb2.HealthCheckResponse.SERVING
        await health.set("", serving)
        await health.set(GNMI_SERVICE, serving)
        self._server, self._health, self._port = server, health, port
        return port

    async def stop(self, grace_s: float) -> None:
        """Reports NOT_SERVING, lets RPCs in flight finish for ``grace_s``, then stops."""
        if self._server is None:
            return
        if self._health is not None:
            await self._health.enter_graceful_shutdown()
        await self._server.stop(grace_s)
        self._server = None

    async def wait_for_termination(self) -> None:
        """Returns when the server has stopped."""
        if self._server is not None:
            await self._server.wait_for_termination()
