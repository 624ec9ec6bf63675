"""RPC metrics of both northbounds: each RPC's service, method, status code and duration.

:class:`RpcMetricsInterceptor` sits in the gRPC interceptor chain right after decoding,
so it sees every call that reached a handler, refused logins included; the code is the
status the call ended with (``OK``, ``NOT_FOUND``, ``CANCELLED`` when the client went
away, ``UNKNOWN`` for an exception no one turned into a status). A stream's duration is
its whole life. :class:`MeteredNetconf` wraps the NETCONF RpcHandler the same way: the
service is ``netconf``, the method the operation's name (``get-config``;
``unsupported`` for one the agent does not serve, so clients cannot make up label
values), the code ``ok`` or the first ``<rpc-error>``'s error-tag.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
from lxml import etree

from agent.clock import Clock
from agent.grpc_handlers import Behaviour, WrappingInterceptor, rewrap_handler
from agent.metrics.sink import RpcMetrics
from agent.northbound.netconf.contracts import Element, RpcContext, RpcError, RpcErrors, RpcHandler

NETCONF_SERVICE = "netconf"


class _Meter:
    """Reports one method's RPCs."""

    def __init__(self, metrics: RpcMetrics, clock: Clock, service: str, method: str) -> None:
        self._metrics = metrics
        self._clock = clock
        self._service = service
        self._method = method

    def start(self) -> int:
        self._metrics.rpc_started(self._service, self._method)
        return self._clock.monotonic_ns()

    def finish(self, started_ns: int, code: str) -> None:
        seconds = (self._clock.monotonic_ns() - started_ns) / 1e9
        self._metrics.rpc_finished(self._service, self._method, code, seconds)


class RpcMetricsInterceptor(WrappingInterceptor):
    """Counts and times every RPC of the gRPC server."""

    def __init__(self, metrics: RpcMetrics, clock: Clock) -> None:
        super().__init__()
        self._metrics = metrics
        self._clock = clock

    def wrap(self, method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        service, _, name = method.lstrip("/").rpartition("/")
        meter = _Meter(self._metrics, self._clock, service, name)
        return rewrap_handler(handler, lambda b: _single(b, meter), lambda b: _streamed(b, meter))


def _single(behaviour: Behaviour, meter: _Meter) -> Callable[[Any, Any], Awaitable[Any]]:
    async def metered(request: Any, context: Any) -> Any:
        started = meter.start()
        try:
            response = await behaviour(request, context)
        except BaseException as exc:
            meter.finish(started, _failure_code(exc, context))
            raise
        meter.finish(started, _status_code(context))
        return response

    return metered


def _streamed(behaviour: Behaviour, meter: _Meter) -> Callable[[Any, Any], AsyncIterator[Any]]:
    async def metered(request: Any, context: Any) -> AsyncIterator[Any]:
        started = meter.start()
        try:
            result = behaviour(request, context)
            if inspect.isasyncgen(result):
                async for response in result:
                    yield response
            else:  # a coroutine that writes its responses with context.write()
                await result
        except BaseException as exc:
            meter.finish(started, _failure_code(exc, context))
            raise
        meter.finish(started, _status_code(context))

    return metered


def _status_code(context: Any) -> str:
    """The status of a call whose behaviour returned (OK unless it set another)."""
    code = context.code()
    if isinstance(code, grpc.StatusCode):
        return str(code.name)
    return "OK"


def _failure_code(exc: BaseException, context: Any) -> str:
    """The status of a call whose behaviour raised: the one it aborted with, CANCELLED
    when the client went away, UNKNOWN otherwise (as grpc answers it)."""
    code = context.code()
    if isinstance(code, grpc.StatusCode) and code is not grpc.StatusCode.OK:
        return str(code.name)
    if isinstance(exc, asyncio.CancelledError):
        return "CANCELLED"
    return "UNKNOWN"


class MeteredNetconf:
    """A NETCONF RpcHandler that reports each operation to ``metrics``."""

    def __init__(self, handler: RpcHandler, metrics: RpcMetrics, clock: Clock) -> None:
        self._handler = handler
        self._metrics = metrics
        self._clock = clock
        self._operations = frozenset(getattr(handler, "operations", ()))

    @property
    def operations(self) -> frozenset[str]:
        """The operations of the wrapped handler (when it tells)."""
        return self._operations

    async def __call__(self, context: RpcContext, rpc: Element) -> Element | list[Element] | None:
        method = _operation(rpc, self.operations)
        meter = _Meter(self._metrics, self._clock, NETCONF_SERVICE, method)
        started = meter.start()
        code = "ok"
        try:
            return await self._handler(context, rpc)
        except RpcError as error:
            code = str(error.tag)
            raise
        except RpcErrors as errors:
            code = str(errors.errors[0].tag) if errors.errors else "operation-failed"
            raise
        except asyncio.CancelledError:
            code = "cancelled"
            raise
        except Exception:
            code = "operation-failed"  # what the session answers for it
            raise
        finally:
            meter.finish(started, code)


def _operation(rpc: Element, served: frozenset[str]) -> str:
    """The operation's local name; ``rpc`` for an ``<rpc>`` without exactly one,
    ``unsupported`` for one not ``served``."""
    operations = [child for child in rpc if isinstance(child.tag, str)]
    if len(operations) != 1:
        return "rpc"
    if operations[0].tag not in served:
        return "unsupported"
    return str(etree.QName(operations[0]).localname)
