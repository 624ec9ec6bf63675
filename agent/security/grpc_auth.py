"""A grpc.aio server interceptor that authenticates every RPC before its handler runs.

It reads ``username``/``password`` metadata and, with mutual TLS, the verified client
certificate's common name; refusals end the RPC with UNAUTHENTICATED and are written to
the audit log. With a :class:`LoginThrottle`, password logins are throttled per peer
host and user name: a throttled attempt ends with RESOURCE_EXHAUSTED before its password
is checked. Each refusal is also reported to the LoginMetrics sink, if one is given.
Handlers read the caller with :meth:`AuthInterceptor.current_user`.
Handlers must be coroutines or async generators (the grpc.aio style).
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Any

import grpc

from agent.grpc_handlers import Behaviour, WrappingInterceptor, rewrap_handler
from agent.metrics.sink import LoginMetrics, NoMetrics
from agent.security.audit import AuditLog, Outcome
from agent.security.credentials import (
    Authenticator,
    Credentials,
    PasswordCredentials,
    extract_credentials,
    peer_certificate,
    peer_host,
    verify_credentials,
)
from agent.security.errors import (
    AuthenticationError,
    UserDatabaseError,
)
from agent.security.password_login import cached_login, password_login
from agent.security.throttle import LoginThrottle
from agent.security.users import User


class AuthInterceptor(WrappingInterceptor):
    """Authenticates each call; methods in ``exempt_methods`` (full names such as
    ``/grpc.health.v1.Health/Check``) pass through without credentials."""

    def __init__(
        self,
        authenticator: Authenticator,
        *,
        audit: AuditLog | None = None,
        exempt_methods: Iterable[str] = (),
        throttle: LoginThrottle | None = None,
        metrics: LoginMetrics | None = None,
    ) -> None:
        """``throttle`` limits password guessing; logins are not throttled without it."""
        super().__init__()
        self._authenticator = authenticator
        self._metrics: LoginMetrics = metrics or NoMetrics()
        self._audit = audit
        self._throttle = throttle
        self._exempt = frozenset(exempt_methods)
        self._user: contextvars.ContextVar[User | None] = contextvars.ContextVar(
            f"edge_agent_user_{id(self):x}", default=None
        )

    def current_user(self) -> User:
        """The caller of the RPC being handled; LookupError outside an authenticated RPC."""
        user = self._user.get()
        if user is None:
            raise LookupError("no authenticated user in this context")
        return user

    def wrap(self, method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        if method in self._exempt:
            return handler
        return _wrap_handler(
            handler,
            lambda context: self._admitted_now(context),
            lambda context: self._admit(method, context),
        )

    def _admitted_now(self, context: Any) -> bool:
        """Admits a call whose password was verified recently, without a suspension
        point (True); False leaves the call to ``_admit``, which decides (and refuses)."""
        try:
            credentials = _credentials(context)
            if not isinstance(credentials, PasswordCredentials):
                return False
            user = cached_login(
                self._authenticator,
                self._throttle,
                peer_host(context.peer()),
                credentials.username,
                credentials.password,
            )
        except (AuthenticationError, UserDatabaseError):
            return False
        if user is None:
            return False
        self._user.set(user)
        return True

    async def _admit(self, method: str, context: Any) -> None:
        """Authenticates the call or aborts it; remembers the user for the handler."""
        try:
            credentials = _credentials(context)
            if isinstance(credentials, PasswordCredentials):
                user = await self._password_login(credentials, context.peer())
            else:
                user = await asyncio.to_thread(self._verify, credentials)
        except AuthenticationError as exc:
            self._metrics.login_failed("gnmi", exc.reason.value)
            detail = f"{exc.reason.value}: {exc.message}"
            self._audit_refusal(method, context, exc.username, Outcome.DENIED, exc.code, detail)
            await context.abort(exc.code, exc.message)
            raise AssertionError("abort() returns only by raising") from exc
        except UserDatabaseError as exc:
            message = "user database unavailable"
            self._audit_refusal(
                method, context, None, Outcome.FAILED, grpc.StatusCode.INTERNAL, str(exc)
            )
            await context.abort(grpc.StatusCode.INTERNAL, message)
            raise AssertionError("abort() returns only by raising") from exc
        self._user.set(user)

    async def _password_login(self, credentials: PasswordCredentials, peer: str) -> User:
        """The user the password proves, consulting the throttle first if there is one."""
        return await password_login(
            self._authenticator,
            self._throttle,
            peer_host(peer),
            credentials.username,
            credentials.password,
        )

    def _verify(self, credentials: Credentials) -> User:
        return verify_credentials(self._authenticator, credentials)

    def _audit_refusal(
        self,
        method: str,
        context: Any,
        username: str | None,
        outcome: Outcome,
        code: grpc.StatusCode,
        message: str,
    ) -> None:
        if self._audit is not None:
            self._audit.record(
                method, outcome, user=username, peer=context.peer(), code=code, message=message
            )


def _credentials(context: Any) -> Credentials:
    """What the call presents: its metadata and its client certificate, if any."""
    metadata = tuple(context.invocation_metadata() or ())
    return extract_credentials(metadata, peer_certificate(context.auth_context()))


AdmitNow = Callable[[Any], bool]
Admit = Callable[[Any], Awaitable[None]]


def _wrap_handler(
    handler: grpc.RpcMethodHandler, admitted_now: AdmitNow, admit: Admit
) -> grpc.RpcMethodHandler:
    """The same handler admitting each call before its behaviour: ``admitted_now(context)``
    first, ``admit(context)`` (which may wait, and aborts a refused call) when it says no."""
    return rewrap_handler(
        handler,
        lambda b: _single_response(b, admitted_now, admit),
        lambda b: _response_stream(b, admitted_now, admit),
    )


def _single_response(
    behaviour: Behaviour, admitted_now: AdmitNow, admit: Admit
) -> Callable[[Any, Any], Awaitable[Any]]:
    async def guarded(request: Any, context: Any) -> Any:
        if not admitted_now(context):
            await admit(context)
        return await behaviour(request, context)

    return guarded


def _response_stream(
    behaviour: Behaviour, admitted_now: AdmitNow, admit: Admit
) -> Callable[[Any, Any], AsyncIterator[Any]]:
    async def guarded(request: Any, context: Any) -> AsyncIterator[Any]:
        if not admitted_now(context):
            await admit(context)
        result = behaviour(request, context)
        if inspect.isasyncgen(result):
            async for response in result:
                yield response
        else:
            # A coroutine that sends its responses with context.write().
            await result

    return guarded
