"""close-session and kill-session (RFC 6241 sections 7.8 and 7.9).

close-session answers ``<ok/>`` and then ends the session. kill-session ends another
session (its operation in progress is aborted, its locks released) and answers once it
has ended. A session cannot kill itself (invalid-value: use close-session). Admins may
kill any session; other users only sessions of their own user name (access-denied).
"""

from __future__ import annotations

import contextlib

from agent.northbound.netconf.contracts import (
    NS_BASE,
    Element,
    HandlerTable,
    RpcContext,
    RpcError,
    qname,
)
from agent.northbound.netconf.registry import SessionRegistry
from agent.security.users import Role

CLOSE_SESSION = qname(NS_BASE, "close-session")
KILL_SESSION = qname(NS_BASE, "kill-session")
_MAX_SESSION_ID = 4294967295  # session-id-type is uint32


def session_operations(registry: SessionRegistry) -> HandlerTable:
    """The operation table of close-session and kill-session."""

    async def close_session(context: RpcContext, rpc: Element) -> None:
        context.close()

    async def kill_session(context: RpcContext, rpc: Element) -> None:
        target = _session_id(rpc.find(KILL_SESSION))
        if target == context.session_id:
            raise RpcError(
                "invalid-value",
                f"session {target} is this session: end it with <close-session>",
                "protocol",
                info={"bad-element": "session-id"},
            )
        info = registry.get(target)
        if info is None:
            raise RpcError(
                "invalid-value",
                f"there is no NETCONF session {target}",
                "protocol",
                info={"bad-element": "session-id"},
            )
        user = context.user
        if user.role is not Role.ADMIN and info.user.name != user.name:
            raise RpcError(
                "access-denied",
                f"session {target} belongs to another user: only admins may kill it",
                "protocol",
            )
        if context.kill is None:
            raise RpcError("operation-not-supported", "this session cannot kill sessions")
        with contextlib.suppress(LookupError):  # it ended meanwhile
            await context.kill(target)

    return {CLOSE_SESSION: close_session, KILL_SESSION: kill_session}


def _session_id(operation: Element) -> int:
    found = operation.find(qname(NS_BASE, "session-id"))
    if found is None:
        raise RpcError(
            "missing-element",
            "<kill-session> needs a <session-id>",
            "protocol",
            info={"bad-element": "session-id"},
        )
    text = (found.text or "").strip()
    if not text.isdigit() or not 0 < int(text) <= _MAX_SESSION_ID:
        raise RpcError(
            "invalid-value",
            f"session-id {text!r} is not a session id (1 to {_MAX_SESSION_ID})",
            "protocol",
            info={"bad-element": "session-id"},
        )
    return int(text)
