"""``<commit>`` with :confirmed-commit:1.1 and ``<cancel-commit>`` (RFC 6241 8.3, 8.4).

A commit takes the caller's view of the candidate to running through the service
core's writes (validation, quotas, hardware all or nothing, audit, views, locks), and
the candidate follows running again. A confirmed commit is the service core's
commit-confirmed, the one gNMI uses: the datastore holds it pending (a gNMI Set gets
FAILED_PRECONDITION meanwhile), the core's timer rolls it back when ``confirm-timeout``
(default 600 s) passes, and a restart rolls it back.

- Without ``<persist>`` the commit belongs to its session: only that session confirms
  it (a ``<commit>``), follows it up (a ``<commit><confirmed/>``, new timeout, same
  rollback target) or cancels it, and the end of the session rolls it back.
- With ``<persist>`` it outlives its session; any session confirms, follows up or
  cancels it by giving the same value as ``<persist-id>``.
- A ``<persist-id>`` that matches no pending commit is ``invalid-value``; another
  session's pending commit is ``in-use``.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from dataclasses import dataclass
from typing import Any, Final

from agent.datastore.datastore import Pending
from agent.datastore.edits import Edit
from agent.datastore.errors import DatastoreError
from agent.northbound.netconf.codec import XmlCodec
from agent.northbound.netconf.contracts import NetconfEnv, RpcContext, RpcError
from agent.northbound.netconf.staged_view import ReplaceView, base_view
from agent.northbound.netconf.write_support import (
    CANDIDATE,
    code_of,
    operation_element,
    params,
    session_name,
    write_error,
)
from agent.schema.path import DataPath
from agent.security.audit import AuditOperation, Outcome
from agent.service.errors import ServiceError
from agent.service.writes import CommitAction, CommitRequest, WriteRequest

log = logging.getLogger(__name__)

NS_PER_S: Final = 1_000_000_000
DEFAULT_CONFIRM_TIMEOUT_S: Final = 600
MAX_CONFIRM_TIMEOUT_S: Final = 2**32 - 1  # uint32 in ietf-netconf


@dataclass(frozen=True, slots=True)
class Confirmed:
    """Who made the pending confirmed commit: its id, session and ``persist`` value."""

    commit_id: str
    session_id: int
    persist: str | None
    user: Any
    peer: str


class ConfirmedCommits:
    """The NETCONF side of the one pending commit (the datastore holds the commit)."""

    def __init__(self) -> None:
        self._made: Confirmed | None = None

    def of(self, pending: Pending | None) -> Confirmed | None:
        """Who made ``pending``, when it is a NETCONF confirmed commit."""
        made = self._made
        if pending is None or made is None or made.commit_id != pending.commit_id:
            return None
        return made

    def record(self, made: Confirmed | None) -> None:
        self._made = made


@dataclass(frozen=True, slots=True)
class CommitParams:
    """The parameters of one ``<commit>``."""

    confirmed: bool
    timeout_s: int
    persist: str | None
    persist_id: str | None


class CommitOperations:
    """commit and cancel-commit."""

    def __init__(self, env: NetconfEnv, codec: XmlCodec, confirmed: ConfirmedCommits) -> None:
        self._core = env.core
        self._codec = codec
        self._confirmed = confirmed

    async def commit(self, context: RpcContext, rpc: Any) -> None:
        """``<commit>``: the candidate to running; confirmed, confirming or following up."""
        given = commit_params(operation_element(rpc, "commit"))
        core = self._core
        candidate = core.candidate
        name = session_name(context)
        async with candidate.mutex:
            self._check_candidate_lock(name)
            pending = core.datastore.pending
            commit_id = given.persist or f"netconf-{context.session_id}-{secrets.token_hex(8)}"
            timeout_ns = given.timeout_s * NS_PER_S
            request: CommitRequest | None = None
            if pending is None:
                if given.persist_id is not None:
                    raise _no_such_commit(given.persist_id)
                if given.confirmed:
                    request = CommitRequest(commit_id, CommitAction.COMMIT, timeout_ns)
            else:
                self._check_may_follow(context, pending, given.persist_id)
                if given.confirmed:
                    request = CommitRequest(
                        commit_id, CommitAction.COMMIT, timeout_ns, follows=pending.commit_id
                    )
                else:
                    request = CommitRequest(pending.commit_id, CommitAction.CONFIRM)
            tree = candidate.tree
            access = core.access.of(context.user)
            over = core.access.over(context.user, tree)
            source = tree if over.full else base_view(over).project(tree)
            write = WriteRequest(
                principal=context.user,
                view=ReplaceView(access, source, writable_only=True),
                edits=(Edit.replace(DataPath.root(), source),),
                operations=(AuditOperation("commit", "candidate"),),
                commit=request,
                peer=context.peer,
                rpc="netconf:commit",
                session=name,
            )
            try:
                await core.writes.write(write, code_of)
            except ServiceError as err:
                raise _first(write_error(err, "commit", self._codec)) from None
            candidate.settle()
        if given.confirmed:
            self._confirmed.record(
                Confirmed(commit_id, context.session_id, given.persist, context.user, context.peer)
            )
        elif pending is not None:
            self._confirmed.record(None)

    async def cancel_commit(self, context: RpcContext, rpc: Any) -> None:
        """``<cancel-commit>``: rolls the pending confirmed commit back now."""
        found = params(operation_element(rpc, "cancel-commit"), "cancel-commit", {"persist-id"})
        persist_id = _text(found.get("persist-id"))
        pending = self._core.datastore.pending
        if pending is None:
            raise RpcError(
                "invalid-value",
                "cancel-commit: no confirmed commit awaits confirmation",
                info={"bad-element": "cancel-commit"},
            )
        self._check_may_follow(context, pending, persist_id)
        write = WriteRequest(
            principal=context.user,
            view=self._core.access.of(context.user),
            edits=(),
            operations=(AuditOperation("cancel-commit", "running"),),
            commit=CommitRequest(pending.commit_id, CommitAction.CANCEL),
            peer=context.peer,
            rpc="netconf:cancel-commit",
            session=session_name(context),
        )
        try:
            await self._core.writes.write(write, code_of)
        except ServiceError as err:
            raise _first(write_error(err, "cancel-commit", self._codec)) from None
        self._confirmed.record(None)

    async def session_ended(self, session_id: int) -> None:
        """Rolls back the pending confirmed commit of a session that ended, unless it
        was made with ``<persist>`` (RFC 6241 8.4.1)."""
        core = self._core
        made = self._confirmed.of(core.datastore.pending)
        if made is None or made.session_id != session_id or made.persist is not None:
            return
        async with core.writes.lock.hold("commit-confirmed"):
            if self._confirmed.of(core.datastore.pending) is not made:
                return
            try:
                result = await asyncio.to_thread(core.datastore.cancel_commit, made.commit_id)
            except DatastoreError as err:
                log.error(
                    "rolling back commit %r of an ended session failed: %s", made.commit_id, err
                )
                core.audit.record(
                    "netconf:session-end",
                    Outcome.FAILED,
                    user=made.user,
                    peer=made.peer,
                    code="operation-failed",
                    message=f"rolling back confirmed commit {made.commit_id!r} of NETCONF "
                    f"session {session_id}, which ended, failed ({err.message}); the "
                    "commit-confirmed timer retries it",
                )
                return
        self._confirmed.record(None)
        core.confirm.changed()
        core.audit.record(
            "netconf:session-end",
            Outcome.OK,
            user=made.user,
            peer=made.peer,
            code="ok",
            message=f"NETCONF session {session_id} ended before confirming commit "
            f"{made.commit_id!r}: rolled back as version {result.version}",
            version=result.version,
        )

    # --- internals ----------------------------------------------------------------------

    def _check_candidate_lock(self, session: str) -> None:
        try:
            self._core.writes.locks.check_write(CANDIDATE, session)
        except ServiceError as err:
            raise _first(write_error(err, "commit", self._codec)) from None

    def _check_may_follow(
        self, context: RpcContext, pending: Pending, persist_id: str | None
    ) -> None:
        """Refuses a commit or cancel-commit that may not act on ``pending``."""
        if persist_id is not None:
            if persist_id != pending.commit_id:
                raise _no_such_commit(persist_id)
            return
        made = self._confirmed.of(pending)
        if made is not None and made.persist is None and made.session_id == context.session_id:
            return
        if made is not None and made.persist is not None:
            raise RpcError(
                "missing-element",
                "the pending confirmed commit was made with <persist>: give its value as "
                "<persist-id>",
                "protocol",
                info={"bad-element": "persist-id"},
            )
        who = (
            f"NETCONF session {made.session_id}"
            if made is not None
            else f"another client (commit {pending.commit_id!r})"
        )
        raise RpcError(
            "in-use",
            f"a confirmed commit of {who} awaits confirmation; only its session confirms "
            "or cancels it",
        )


def commit_params(request: Any) -> CommitParams:
    """The parameters of ``<commit>``; RpcError for bad ones."""
    found = params(request, "commit", {"confirmed", "confirm-timeout", "persist", "persist-id"})
    confirmed = "confirmed" in found
    if not confirmed:
        for name in ("confirm-timeout", "persist"):
            if name in found:
                raise RpcError(
                    "invalid-value",
                    f"commit: <{name}> goes with <confirmed/> only",
                    "protocol",
                    info={"bad-element": name},
                )
    timeout = DEFAULT_CONFIRM_TIMEOUT_S
    if "confirm-timeout" in found:
        text = _text(found["confirm-timeout"]) or ""
        if not text.isdigit() or not 0 < int(text) <= MAX_CONFIRM_TIMEOUT_S:
            raise RpcError(
                "invalid-value",
                f"commit: <confirm-timeout> is {text!r}; it is a number of seconds from 1 to "
                f"{MAX_CONFIRM_TIMEOUT_S}",
                "protocol",
                info={"bad-element": "confirm-timeout"},
            )
        timeout = int(text)
    persist = _text(found.get("persist"))
    if "persist" in found and not persist:
        raise RpcError(
            "invalid-value",
            "commit: <persist> needs a value (the persist-id that confirms the commit)",
            "protocol",
            info={"bad-element": "persist"},
        )
    return CommitParams(confirmed, timeout, persist, _text(found.get("persist-id")))


def _text(element: Any) -> str | None:
    if element is None:
        return None
    return (element.text or "").strip()


def _no_such_commit(persist_id: str) -> RpcError:
    return RpcError(
        "invalid-value",
        f"no confirmed commit with persist-id {persist_id!r} awaits confirmation",
        "protocol",
        info={"bad-element": "persist-id"},
    )


def _first(errors: RpcError | list[RpcError]) -> RpcError:
    return errors[0] if isinstance(errors, list) else errors
