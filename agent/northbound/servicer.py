"""The gNMI service: authorises each call, runs it, turns failures into gRPC status.

Authentication happens before (AuthInterceptor); here each RPC checks what the caller's
role allows, hands the request to its handler and ends the call with the handler's
GnmiError code when it fails. Every Set and every refusal is written to the audit log.

Heavy work never runs on the event loop: Get answers (unless already encoded) and Set
planning (decoding and staging values) run in the request workers of
:class:`~agent.service.admission.Admission`, shared fairly by user, each inside a work
scope bounded by the client's deadline and the per-request budget. A client that
cancels frees its worker at the next checkpoint; an expired deadline answers
DEADLINE_EXCEEDED, the agent's own budget RESOURCE_EXHAUSTED.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any, Protocol

import grpc

from agent.cancellation import CancelReason, WorkCancelled, WorkScope
from agent.clock import Clock, SystemClock
from agent.gnmi.errors import GnmiError
from agent.gnmi.pb import gnmi_pb2_grpc
from agent.northbound.authz import check_read, check_write
from agent.northbound.extensions import check_capabilities
from agent.northbound.get import GetHandler
from agent.northbound.set import SetHandler, SetPlan, audit_operations
from agent.security.audit import AuditLog, AuditOperation, Outcome
from agent.security.users import User
from agent.service.access import AccessSource
from agent.service.admission import Admission, AdmissionRefused
from agent.service.views import tenant_of

log = logging.getLogger(__name__)

SERVICE = "gnmi.gNMI"
CAPABILITIES = f"/{SERVICE}/Capabilities"
GET = f"/{SERVICE}/Get"
SET = f"/{SERVICE}/Set"
SUBSCRIBE = f"/{SERVICE}/Subscribe"
MAX_STATUS_CHARS = 4096
# A SetRequest this small is decoded on the event loop: its plan takes tens of
# microseconds, less than handing it to a worker thread and back.
INLINE_PLAN_MAX_BYTES = 2048


class SubscribeHandler(Protocol):
    """Serves one Subscribe RPC for an authenticated user (provided by telemetry),
    writing its responses with ``context.write``."""

    async def __call__(self, requests: AsyncIterator[Any], context: Any, user: User) -> None: ...


class GnmiServicer(gnmi_pb2_grpc.gNMIServicer):  # type: ignore[misc]
    """gNMI 0.10.0: Capabilities, Get and Set here; Subscribe through ``subscribe``."""

    def __init__(
        self,
        *,
        capabilities: Any,
        get: GetHandler,
        set_: SetHandler,
        current_user: Callable[[], User],
        audit: AuditLog,
        subscribe: SubscribeHandler | None = None,
        access: AccessSource,
        admission: Admission | None = None,
        request_budget_s: float | None = None,
        deadline_clock: Clock | None = None,
    ) -> None:
        """``request_budget_s``: the most worker time one request may take (None: only
        the client's deadline bounds it); ``deadline_clock`` measures both."""
        self._capabilities = capabilities
        self._get = get
        self._set = set_
        self._user = current_user
        self._audit = audit
        self._subscribe = subscribe
        self._access = access
        self._admission = admission or Admission()
        self._budget_s = request_budget_s
        self._deadline_clock = deadline_clock or SystemClock()

    async def Capabilities(self, request: Any, context: Any) -> Any:  # noqa: N802
        try:
            check_capabilities(request.extension)
        except GnmiError as err:
            await self._abort(context, err)
        return self._capabilities

    async def Get(self, request: Any, context: Any) -> Any:  # noqa: N802
        user = self._user()
        refusal = self._read_refusal(GET, user, context)  # no suspension point on the way
        if refusal is not None:
            await self._abort(context, refusal)
        try:
            query = self._get.prepare(request)
            view = self._access.of(user)
            response = self._get.cached_response(query, view)
            if response is None:
                # serialized in the worker too: a large answer would hold the event loop
                response = await self._in_worker(
                    user, context, lambda: self._get.respond(query, view)
                )
            return response
        except GnmiError as err:
            await self._abort(context, err)
        except Exception:
            log.exception("Get failed")
            await self._abort(context, GnmiError.internal("Get failed; see the agent's log"))

    async def Set(self, request: Any, context: Any) -> Any:  # noqa: N802
        user = self._user()
        plan: SetPlan | None = None
        try:
            check_write(user)
            await self._set.admit_rate(user)
            if request.ByteSize() <= INLINE_PLAN_MAX_BYTES:
                plan = self._set.plan(request)  # cheaper than the hop to a worker and back
            else:
                plan = await self._in_worker(user, context, lambda: self._set.plan(request))
        except GnmiError as err:
            failure = err
        except Exception:
            log.exception("Set failed")
            failure = GnmiError.internal("Set failed; see the agent's log")
        else:
            try:  # the service core audits what it runs
                view = self._access.of(user)
                outcome = await self._set.run(plan, user, view, context.peer(), SET)
            except GnmiError as err:
                await self._abort(context, err)
            except Exception:
                log.exception("Set failed")
                await self._abort(context, GnmiError.internal("Set failed; see the agent's log"))
            return outcome.response
        denied = failure.code is grpc.StatusCode.PERMISSION_DENIED
        self._record(
            SET,
            Outcome.DENIED if denied else Outcome.FAILED,
            user,
            context,
            failure.message,
            code=failure.code,
            operations=_audit_operations(request, plan),
        )
        await self._abort(context, failure)

    async def Subscribe(  # noqa: N802
        self, request_iterator: AsyncIterator[Any], context: Any
    ) -> None:
        """Responses are written by the handler (``context.write``): a coroutine, not a
        generator, so the interceptors add nothing per message."""
        user = self._user()
        refusal = self._read_refusal(SUBSCRIBE, user, context)
        if refusal is not None:
            await self._abort(context, refusal)
        if self._subscribe is None:
            await self._abort(
                context, GnmiError.unimplemented("Subscribe is not available on this agent")
            )
        assert self._subscribe is not None
        await self._subscribe(request_iterator, context, user)

    async def _in_worker(self, user: User, context: Any, work: Callable[[], Any]) -> Any:
        """``work()`` in a request worker, within the call's deadline and our budget."""
        scope = WorkScope(
            self._deadline_clock,
            client_timeout_s=context.time_remaining(),
            budget_s=self._budget_s,
        )
        tenant = tenant_of(user)
        share = user.name if tenant is None else f"tenant {tenant!r}"  # a tenant's users share
        try:
            return await self._admission.run(share, scope, work, tenant=tenant is not None)
        except AdmissionRefused as err:
            raise GnmiError(grpc.StatusCode.RESOURCE_EXHAUSTED, str(err)) from None
        except WorkCancelled as err:
            raise cancelled_error(err) from None

    def _read_refusal(self, rpc: str, user: User, context: Any) -> GnmiError | None:
        """Why ``user``'s role may not read (the refusal audited), or None."""
        try:
            check_read(user)
        except GnmiError as err:
            self._record(rpc, Outcome.DENIED, user, context, err.message, code=err.code)
            return err
        return None

    def _record(
        self,
        rpc: str,
        outcome: Outcome,
        user: User,
        context: Any,
        message: str,
        *,
        code: grpc.StatusCode | str = "OK",
        operations: Iterable[AuditOperation] = (),
    ) -> None:
        self._audit.record(
            rpc,
            outcome,
            user=user,
            peer=context.peer(),
            code=code,
            message=message,
            operations=operations,
        )

    @staticmethod
    async def _abort(context: Any, err: GnmiError) -> Any:
        await context.abort(err.code, bounded(err.message))
        raise AssertionError("abort() returns only by raising")  # pragma: no cover


def cancelled_error(err: WorkCancelled) -> GnmiError:
    """The status of work stopped by its scope."""
    if err.reason is CancelReason.BUDGET:
        return GnmiError(
            grpc.StatusCode.RESOURCE_EXHAUSTED,
            f"the request needed more than the per-request budget of {err.budget_s:g} s "
            "of worker time; ask for less data (narrower paths, a type filter)",
        )
    if err.reason is CancelReason.DEADLINE:
        return GnmiError(grpc.StatusCode.DEADLINE_EXCEEDED, "the request's deadline passed")
    return GnmiError(grpc.StatusCode.CANCELLED, "the request was cancelled")


def bounded(message: str, limit: int = MAX_STATUS_CHARS) -> str:
    """``message`` cut to ``limit`` characters: status messages travel in HTTP/2 trailers,
    which clients cap (16 KiB by default), and may quote a client's huge value."""
    if len(message) <= limit:
        return message
    return f"{message[:limit]}... ({len(message) - limit} more characters)"


def _audit_operations(request: Any, plan: SetPlan | None) -> list[AuditOperation]:
    if plan is not None:
        return list(audit_operations(plan))
    ops = [AuditOperation("delete", _text(p)) for p in request.delete]
    ops += [AuditOperation("replace", _text(u.path)) for u in request.replace]
    ops += [AuditOperation("update", _text(u.path)) for u in request.update]
    ops += [AuditOperation("union_replace", _text(u.path)) for u in request.union_replace]
    return ops


def _text(path: Any) -> str:
    parts = [e.name + "".join(f"[{k}={v}]" for k, v in sorted(e.key.items())) for e in path.elem]
    return "/" + "/".join(parts or list(path.element))
