"""``<lock>`` and ``<unlock>`` (RFC 6241 7.5, 7.6) on running and the candidate.

The locks are the service core's :class:`~agent.service.locks.DatastoreLocks`, held as
``netconf:ID``, so every northbound respects them: while a session holds running, every
other session's write is refused (a gNMI Set with FAILED_PRECONDITION naming the
session). A lock is refused (``lock-denied``, error-info ``session-id`` of the holder,
0 when it is not a NETCONF session) when it is held, when the candidate holds changes
of another session, or, for running, while another session's confirmed commit awaits
confirmation. A lock locks the whole datastore, so only principals that may write all
of it take one: a tenant's or a read-only user's lock is ``access-denied`` (it would
stop every other tenant's writes).

Releasing the candidate lock, by ``<unlock>`` or by the end of the session, discards
the candidate's changes (RFC 6241 8.3.5.2); the transport releases the locks of a
session that ended.
"""

from __future__ import annotations

from typing import Any

from agent.northbound.netconf.confirmed import ConfirmedCommits
from agent.northbound.netconf.contracts import NetconfEnv, RpcContext, RpcError
from agent.northbound.netconf.errors import rpc_error
from agent.northbound.netconf.write_support import (
    CANDIDATE,
    RUNNING,
    datastore_of,
    holder,
    operation_element,
    params,
    required,
    session_name,
)
from agent.schema.path import DataPath
from agent.service.errors import Kind, ServiceError
from agent.service.policy import Action
from agent.service.principal import Principal


class LockOperations:
    """lock and unlock of running and the candidate."""

    def __init__(self, env: NetconfEnv, confirmed: ConfirmedCommits) -> None:
        self._core = env.core
        self._confirmed = confirmed
        self._candidate_holder: int | None = None

    async def lock(self, context: RpcContext, rpc: Any) -> None:
        """``<lock>``."""
        name = self._target(rpc, "lock")
        self._check_may_lock(context)
        locks = self._core.writes.locks
        if name == RUNNING:
            self._check_no_confirmed_commit(context)
            self._take(locks, name, context)
            return
        candidate = self._core.candidate
        async with candidate.mutex:
            others = sorted(candidate.changed_by - {session_name(context)})
            if others:
                raise RpcError(
                    "lock-denied",
                    f"the candidate holds changes of {_who(others[0])} that are neither "
                    "committed nor discarded: commit or discard-changes first",
                    "protocol",
                    info={"session-id": str(_session_id(others[0]))},
                )
            self._take(locks, name, context)
            self._candidate_holder = context.session_id

    async def unlock(self, context: RpcContext, rpc: Any) -> None:
        """``<unlock>``; unlocking the candidate discards its changes."""
        name = self._target(rpc, "unlock")
        locks = self._core.writes.locks
        if name == CANDIDATE:
            async with self._core.candidate.mutex:
                self._release(locks, name, context)
                self._core.candidate.discard()
                self._candidate_holder = None
            return
        self._release(locks, name, context)

    async def session_ended(self, session_id: int) -> None:
        """The candidate lock of a session that ended went with it: discard its changes."""
        if self._candidate_holder != session_id:
            return
        async with self._core.candidate.mutex:
            if self._candidate_holder == session_id:
                self._core.candidate.discard()
                self._candidate_holder = None

    # --- internals ----------------------------------------------------------------------

    @staticmethod
    def _target(rpc: Any, operation: str) -> str:
        request = operation_element(rpc, operation)
        found = params(request, operation, {"target"})
        name, _ = datastore_of(
            required(found, "target", operation), operation, (RUNNING, CANDIDATE)
        )
        return name

    def _check_may_lock(self, context: RpcContext) -> None:
        principal = Principal.of(context.user)
        decision = self._core.policies.current().decide(principal, DataPath.root(), Action.WRITE)
        if principal.tenant is not None or not decision.permitted:
            raise RpcError(
                "access-denied",
                f"{principal.describe()} may not lock a datastore: a lock stops every "
                "other writer, so it needs write access to the whole configuration",
            )

    def _check_no_confirmed_commit(self, context: RpcContext) -> None:
        pending = self._core.datastore.pending
        if pending is None:
            return
        made = self._confirmed.of(pending)
        if made is not None and made.session_id == context.session_id:
            return
        session_id = made.session_id if made is not None else 0
        who = f"NETCONF session {session_id}" if made is not None else "another client"
        raise RpcError(
            "lock-denied",
            f"a confirmed commit of {who} awaits confirmation: running cannot be locked "
            "until it is confirmed or cancelled",
            "protocol",
            info={"session-id": str(session_id)},
        )

    @staticmethod
    def _take(locks: Any, name: str, context: RpcContext) -> None:
        try:
            locks.lock(name, holder(context))
        except ServiceError as err:
            raise rpc_error(err, tag="lock-denied", context="lock") from None

    @staticmethod
    def _release(locks: Any, name: str, context: RpcContext) -> None:
        try:
            locks.unlock(name, session_name(context))
        except ServiceError as err:
            tag = "operation-failed" if err.kind is Kind.CONFLICT else None
            raise rpc_error(err, tag=tag, context="unlock") from None


def _session_id(session: str) -> int:
    """The NETCONF session id of a session name (0 for others)."""
    prefix, _, number = session.partition(":")
    return int(number) if prefix == "netconf" and number.isdigit() else 0


def _who(session: str) -> str:
    number = _session_id(session)
    return f"NETCONF session {number}" if number else f"session {session!r}"
