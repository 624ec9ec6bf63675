"""Building blocks of the gRPC server interceptors: method handlers with new behaviours.

An interceptor that changes what a method does (authenticate first, measure it, decode
the request itself) builds a new ``grpc.RpcMethodHandler`` around the one grpc found.
:class:`WrappingInterceptor` does that once per method and reuses it;
:func:`rewrap_handler` keeps the handler's kind and serializers and replaces its
behaviour.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import grpc
from grpc import aio

Behaviour = Callable[[Any, Any], Any]
"""A handler's behaviour: ``(request or request iterator, context)``."""
Rewrap = Callable[[Behaviour], Behaviour]


def rewrap_handler(
    handler: grpc.RpcMethodHandler, single: Rewrap, streamed: Rewrap
) -> grpc.RpcMethodHandler:
    """``handler`` with its behaviour replaced by ``single(behaviour)`` when it answers
    with one response, ``streamed(behaviour)`` when it streams its responses."""
    serializers = {
        "request_deserializer": handler.request_deserializer,
        "response_serializer": handler.response_serializer,
    }
    if handler.unary_unary is not None:
        return grpc.unary_unary_rpc_method_handler(single(handler.unary_unary), **serializers)
    if handler.stream_unary is not None:
        return grpc.stream_unary_rpc_method_handler(single(handler.stream_unary), **serializers)
    if handler.unary_stream is not None:
        return grpc.unary_stream_rpc_method_handler(streamed(handler.unary_stream), **serializers)
    return grpc.stream_stream_rpc_method_handler(streamed(handler.stream_stream), **serializers)


class WrappingInterceptor(aio.ServerInterceptor):  # type: ignore[misc]
    """Wraps each method's handler with :meth:`wrap` once and reuses the result (one
    entry per method: bounded by the services served)."""

    def __init__(self) -> None:
        self._wrapped: dict[str, tuple[grpc.RpcMethodHandler, grpc.RpcMethodHandler]] = {}

    def wrap(self, method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        """The handler serving ``method`` (``handler`` itself to leave it as it is)."""
        raise NotImplementedError

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None:
            return handler
        method: str = handler_call_details.method
        known = self._wrapped.get(method)
        if known is not None and known[0] is handler:
            return known[1]
        wrapped = self.wrap(method, handler)
        self._wrapped[method] = (handler, wrapped)
        return wrapped
