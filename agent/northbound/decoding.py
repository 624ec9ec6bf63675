"""Request decoding that answers INVALID_ARGUMENT instead of a crash.

grpc decodes a request before the handler runs; a message it cannot decode (corrupt
bytes, a string field that is not UTF-8) ends the RPC with UNKNOWN or INTERNAL and a
traceback in the log. :class:`DecodingInterceptor` goes first in the interceptor chain
and takes decoding over for every method of every service: grpc hands the raw bytes
through, and each request is decoded here, before authentication, so a malformed
message is INVALID_ARGUMENT whoever sends it. Each refusal writes one log line, at most
``log_burst`` lines per ``log_interval_s`` (a flood of garbage cannot flood the log);
the lines left out are counted in the next one written. After a large request ends,
the optional :class:`~agent.memory.MemoryReclaimer` gives its memory back.
"""

from __future__ import annotations

import inspect
import logging
import threading
from collections.abc import AsyncIterator, Callable
from typing import Any, NoReturn

import grpc

from agent.clock import Clock
from agent.grpc_handlers import WrappingInterceptor
from agent.memory import MemoryReclaimer

log = logging.getLogger(__name__)

Deserializer = Callable[[bytes], Any]


class RateLimitedLog:
    """Writes at most ``burst`` lines per ``interval_s``; counts the rest."""

    def __init__(
        self, logger: logging.Logger, clock: Clock, *, burst: int = 10, interval_s: float = 10.0
    ) -> None:
        self._log = logger
        self._clock = clock
        self._burst = burst
        self._interval_ns = int(interval_s * 1e9)
        self._window_start = -self._interval_ns
        self._written = 0
        self._suppressed = 0
        self._lock = threading.Lock()

    def warning(self, message: str) -> bool:
        """Logs ``message`` unless the window's budget is spent; True when written."""
        with self._lock:
            now = self._clock.monotonic_ns()
            if now - self._window_start >= self._interval_ns:
                self._window_start, self._written = now, 0
            if self._written >= self._burst:
                self._suppressed += 1
                return False
            self._written += 1
            suppressed, self._suppressed = self._suppressed, 0
        if suppressed:
            message += f" ({suppressed} similar lines suppressed)"
        self._log.warning("%s", message)
        return True


class DecodingInterceptor(WrappingInterceptor):
    """Decodes every request itself; undecodable ones end with INVALID_ARGUMENT."""

    def __init__(
        self,
        clock: Clock,
        *,
        reclaimer: MemoryReclaimer | None = None,
        log_burst: int = 10,
        log_interval_s: float = 10.0,
    ) -> None:
        super().__init__()
        self._log = RateLimitedLog(log, clock, burst=log_burst, interval_s=log_interval_s)
        self._reclaimer = reclaimer

    def wrap(self, method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        if handler.request_deserializer is None:
            return handler
        decode = self._decoder(method, handler.request_deserializer)
        serializer = handler.response_serializer
        if handler.unary_unary is not None:
            return grpc.unary_unary_rpc_method_handler(
                _unary_request(handler.unary_unary, decode), response_serializer=serializer
            )
        if handler.unary_stream is not None:
            return grpc.unary_stream_rpc_method_handler(
                _unary_request_stream(handler.unary_stream, decode),
                response_serializer=serializer,
            )
        if handler.stream_unary is not None:
            return grpc.stream_unary_rpc_method_handler(
                _stream_request(handler.stream_unary, decode), response_serializer=serializer
            )
        return grpc.stream_stream_rpc_method_handler(
            _stream_request_stream(handler.stream_stream, decode),
            response_serializer=serializer,
        )

    def _decoder(self, method: str, deserializer: Deserializer) -> Decode:
        reclaimer = self._reclaimer

        def decode(raw: bytes, context: Any) -> Any:
            if reclaimer is not None and len(raw) >= reclaimer.threshold_bytes:
                size = len(raw)
                context.add_done_callback(lambda _call: reclaimer.after_request(size))
            try:
                return deserializer(raw)
            except Exception as exc:
                reason = _reason(exc)
                self._log.warning(
                    f"undecodable {method} request from {context.peer()} "
                    f"({len(raw)} bytes): {reason}"
                )
                raise Undecodable(
                    f"the request is not a valid protobuf message for {method}: {reason}"
                ) from None

        return decode


class Undecodable(Exception):
    """A request that is not a valid message of its method (the call ends with
    INVALID_ARGUMENT)."""

    async def abort(self, context: Any) -> NoReturn:
        await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(self))
        raise AssertionError("abort() returns only by raising")


def _reason(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    first = text[0] if text else type(exc).__name__
    return first[:200]


Behaviour = Callable[..., Any]
Decode = Callable[[bytes, Any], Any]
"""Decodes one request (raises Undecodable); no suspension point on the way."""


def _unary_request(behaviour: Behaviour, decode: Decode) -> Callable[[bytes, Any], Any]:
    async def handle(raw: bytes, context: Any) -> Any:
        try:
            request = decode(raw, context)
        except Undecodable as refused:
            await refused.abort(context)
        del raw  # the request holds what the handler needs
        return await behaviour(request, context)

    return handle


def _unary_request_stream(
    behaviour: Behaviour, decode: Decode
) -> Callable[[bytes, Any], AsyncIterator[Any]]:
    async def handle(raw: bytes, context: Any) -> AsyncIterator[Any]:
        try:
            request = decode(raw, context)
        except Undecodable as refused:
            await refused.abort(context)
        del raw
        async for response in _responses(behaviour(request, context)):
            yield response

    return handle


def _decoded(requests: AsyncIterator[bytes], decode: Decode, context: Any) -> AsyncIterator[Any]:
    async def each() -> AsyncIterator[Any]:
        async for raw in requests:
            try:
                request = decode(raw, context)
            except Undecodable as refused:
                await refused.abort(context)
            yield request

    return each()


def _stream_request(
    behaviour: Behaviour, decode: Decode
) -> Callable[[AsyncIterator[bytes], Any], Any]:
    async def handle(requests: AsyncIterator[bytes], context: Any) -> Any:
        return await behaviour(_decoded(requests, decode, context), context)

    return handle


def _stream_request_stream(
    behaviour: Behaviour, decode: Decode
) -> Callable[[AsyncIterator[bytes], Any], AsyncIterator[Any]]:
    async def handle(requests: AsyncIterator[bytes], context: Any) -> AsyncIterator[Any]:
        async for response in _responses(behaviour(_decoded(requests, decode, context), context)):
            yield response

    return handle


async def _responses(result: Any) -> AsyncIterator[Any]:
    """The responses of a streaming behaviour: an async generator, or a coroutine that
    writes its responses with ``context.write`` (it yields none here)."""
    if inspect.isasyncgen(result):
        async for response in result:
            yield response
    else:
        await result
