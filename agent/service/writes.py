"""Writes for every northbound: one writer at a time, arbitration, views, rates, audit.

A northbound decodes its request into datastore :class:`~agent.datastore.edits.Edit`s
and hands them to :meth:`WriteService.write` with the caller's principal. Here, under
the one writer lock:

1. master arbitration (the highest election id per role wins);
2. the principal's Set rate (tenants: their ``max-set-rate`` quota);
3. the principal's view turns the edits into edits of the whole site (a tenant's edits
   are evaluated in its view) and authorizes the commit's diff;
4. the datastore commits (validation, quotas, hardware, all or nothing; the lock is
   released before the commit's journal record is durable, and the write is answered
   only once it is, so concurrent writes share a sync), or performs
   the commit-confirmed action asked for, or (``validate_only``) checks the commit
   without applying anything;
5. the outcome or the refusal is written to the audit log (user, tenant, peer, paths,
   result, version), refusals with the names outside the caller's view removed.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Protocol

from agent.clock import Clock
from agent.datastore.datastore import CommitResult, Pending
from agent.datastore.diff import Change
from agent.datastore.edits import Edit
from agent.datastore.errors import DatastoreError
from agent.datastore.tree import Tree, TreeOps
from agent.precedence import ShortFirst
from agent.security.audit import AuditLog, AuditOperation, Outcome
from agent.service.errors import Kind, ServiceError, from_datastore
from agent.service.fair_lock import FairLock
from agent.service.locks import RUNNING, DatastoreLocks
from agent.service.rates import RateLimiter
from agent.service.views import View


class CommitAction(enum.Enum):
    """What a commit-confirmed request asks for."""

    COMMIT = "commit"
    CONFIRM = "confirm"
    CANCEL = "cancel"
    SET_ROLLBACK_DURATION = "set-rollback-duration"


@dataclass(frozen=True, slots=True)
class CommitRequest:
    """A commit-confirmed request: id, action and rollback duration (0: default).

    NETCONF's confirmed commits (RFC 6241 8.4) add two forms: COMMIT with ``follows``
    (the id of the pending commit) is a follow-up confirmed commit, which stays pending
    under ``commit_id``; CONFIRM with edits commits them and confirms the pending commit.
    """

    commit_id: str
    action: CommitAction
    rollback_ns: int = 0
    follows: str | None = None


@dataclass(frozen=True, slots=True)
class Arbitration:
    """A write's master arbitration: its role ('' is the default role) and election id."""

    role: str
    election_id: int


class Arbiter:
    """The highest election id seen per role; the write lock serialises ``admit``.

    Ids live in memory: after a restart the first master to write claims its role again.
    """

    def __init__(self) -> None:
        self._highest: dict[str, int] = {}

    def highest(self, role: str = "") -> int | None:
        """The highest election id seen for ``role``, if any."""
        return self._highest.get(role)

    def admit(self, arbitration: Arbitration | None) -> None:
        """Accepts the write (storing a higher id) or raises ServiceError DENIED."""
        if arbitration is None:
            return
        current = self._highest.get(arbitration.role)
        if current is not None and arbitration.election_id < current:
            role = f"role {arbitration.role!r}" if arbitration.role else "the default role"
            raise ServiceError(
                Kind.DENIED,
                f"election id {arbitration.election_id} is below the highest election id "
                f"{current} seen for {role}: not the master",
            )
        self._highest[arbitration.role] = arbitration.election_id


class Committer(Protocol):
    """The datastore, as writes use it."""

    @property
    def ops(self) -> TreeOps: ...

    @property
    def running(self) -> Any: ...

    def commit(
        self,
        edits: Sequence[Edit],
        *,
        confirm: tuple[str, int] | None = None,
        meta: Any = None,
        authorize: Callable[[Tree, Tree, Sequence[Change]], None] | None = None,
        follows: str | None = None,
        wait: bool = True,
    ) -> CommitResult: ...

    def validate(
        self,
        edits: Sequence[Edit],
        *,
        authorize: Callable[[Tree, Tree, Sequence[Change]], None] | None = None,
    ) -> tuple[Change, ...]: ...

    def confirm_commit(self, commit_id: str) -> Pending: ...

    def cancel_commit(self, commit_id: str) -> CommitResult: ...

    def set_rollback_timeout(self, commit_id: str, timeout_ns: int) -> Pending: ...


class Caller(Protocol):
    """Who writes: the fields of a principal that writes need."""

    @property
    def name(self) -> str: ...

    @property
    def tenant(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class WriteRequest:
    """One transaction from a northbound."""

    principal: Caller
    view: View
    edits: tuple[Edit, ...]
    operations: tuple[AuditOperation, ...]  # as the client wrote them, for the audit log
    arbitration: Arbitration | None = None
    commit: CommitRequest | None = None
    peer: str = ""
    rpc: str = "write"
    session: str | None = None  # the writing session (datastore locks are per session)
    rate_admitted: bool = False  # the northbound took the rate token before decoding
    validate_only: bool = False  # check everything a commit would, apply nothing


@dataclass(frozen=True, slots=True)
class WriteOutcome:
    """What a write did."""

    version: int | None  # the committed version, if a commit happened
    timestamp_ns: int
    summary: str
    durable: Future[int] | None = field(default=None, compare=False, repr=False)


CodeOf = Callable[[Kind | None], str]
"""A northbound's status code name for a kind (None: success), for the audit log."""


class WriteService:
    """Runs writes one at a time against the datastore."""

    def __init__(
        self,
        datastore: Committer,
        audit: AuditLog,
        clock: Clock,
        *,
        arbiter: Arbiter | None = None,
        rates: RateLimiter | None = None,
        after_write: Callable[[], None] | None = None,
        locks: DatastoreLocks | None = None,
        short_first: ShortFirst | None = None,
    ) -> None:
        """``after_write`` runs (on the loop) after every write that went through;
        ``short_first``: commits count as fresh work there, so long reads step aside
        while one runs (agent.precedence)."""
        self._datastore = datastore
        self._after_write = after_write
        self.locks = locks or DatastoreLocks()
        self._audit = audit
        self._clock = clock
        self._arbiter = arbiter or Arbiter()
        self._rates = rates
        self._lock = FairLock()
        self._short_first = short_first

    @property
    def arbiter(self) -> Arbiter:
        return self._arbiter

    @property
    def lock(self) -> FairLock:
        """The writer lock: held for each write until its commit is applied, granted to
        the waiting shares (tenants, users) in turn. The wait for the commit's journal
        record is outside it, so writes that arrive meanwhile share the next sync."""
        return self._lock

    async def write(self, request: WriteRequest, code_of: CodeOf) -> WriteOutcome:
        """Performs ``request``; raises ServiceError (nothing applied) on refusal. Both
        are audited."""
        try:
            if not request.rate_admitted:  # refused before it waits for the lock
                self.admit_rate(request.principal)
            async with self._lock.hold(_share_of(request.principal)):
                if not request.validate_only:  # a validation changes nothing
                    self.locks.check_write(RUNNING, request.session)
                self._arbiter.admit(request.arbitration)
                outcome = await asyncio.to_thread(self._perform_first, request)
            if outcome.durable is not None:  # outside the lock: later writes share the sync
                try:
                    await asyncio.wrap_future(outcome.durable)
                except DatastoreError as err:
                    raise from_datastore(err) from None
        except ServiceError as err:
            err = ServiceError(err.kind, request.view.redact(err.message), op_index=err.op_index)
            outcome_kind = Outcome.DENIED if err.kind is Kind.DENIED else Outcome.FAILED
            self._record(request, outcome_kind, code_of(err.kind), err.message, None)
            raise err from None
        self._record(request, Outcome.OK, code_of(None), outcome.summary, outcome.version)
        if self._after_write is not None and not request.validate_only:
            self._after_write()
        return outcome

    def admit_rate(self, principal: Caller) -> None:
        """Takes one write of ``principal``'s rate quota or raises ServiceError
        EXHAUSTED; northbounds call it before they decode a request, so a tenant over
        its quota costs next to nothing."""
        if self._rates is not None:
            self._rates.admit(principal)

    def _perform_first(self, request: WriteRequest) -> WriteOutcome:
        """:meth:`_perform` as fresh work: long reads wait at their checkpoints while
        the commit, which holds the writer lock, runs."""
        turn = self._short_first.start() if self._short_first is not None else None
        try:
            return self._perform(request)
        finally:
            if turn is not None:
                turn.end()

    def _perform(self, request: WriteRequest) -> WriteOutcome:
        commit = request.commit
        if commit is not None and commit.action is CommitAction.CONFIRM and request.edits:
            return self._commit(request, confirm=None, follows=commit.commit_id)
        if commit is not None and commit.action is not CommitAction.COMMIT:
            if request.edits:
                raise ServiceError(
                    Kind.INVALID, f"a commit {commit.action.value} request carries no operations"
                )
            return self._commit_action(commit)
        if not request.edits and commit is None:
            return WriteOutcome(None, self._clock.now_ns(), "nothing to change")
        if request.validate_only:
            return self._validate(request)
        confirm = (commit.commit_id, commit.rollback_ns) if commit is not None else None
        return self._commit(
            request, confirm=confirm, follows=commit.follows if commit is not None else None
        )

    def _site_edits(self, request: WriteRequest) -> tuple[list[Edit], list[int]]:
        try:
            return request.view.site_edits(
                self._datastore.ops, self._datastore.running.tree, request.edits
            )
        except DatastoreError as err:
            raise from_datastore(err) from None

    def _validate(self, request: WriteRequest) -> WriteOutcome:
        edits, sources = self._site_edits(request)
        try:
            changes = self._datastore.validate(edits, authorize=request.view.authorize)
        except DatastoreError as err:
            raise _refusal(err, sources) from None
        summary = f"valid: {len(changes)} changes checked, nothing applied"
        return WriteOutcome(None, self._clock.now_ns(), summary)

    def _commit(
        self, request: WriteRequest, *, confirm: tuple[str, int] | None, follows: str | None
    ) -> WriteOutcome:
        commit = request.commit
        edits, sources = self._site_edits(request)
        meta = {"user": request.principal.name, "peer": request.peer, "rpc": request.rpc}
        if request.principal.tenant is not None:
            meta["tenant"] = request.principal.tenant
        if request.session is not None:
            meta["session"] = request.session
        try:
            result = self._datastore.commit(
                edits,
                confirm=confirm,
                meta=meta,
                authorize=request.view.authorize,
                follows=follows,
                wait=False,
            )
        except DatastoreError as err:
            raise _refusal(err, sources) from None
        if not result.changes and commit is None:
            summary = f"no change (version {result.version})"
        else:
            summary = f"committed version {result.version}"
            if commit is not None and confirm is None:
                summary += f", confirming commit {commit.commit_id!r}"
            elif commit is not None:
                summary += f" awaiting confirmation of commit {commit.commit_id!r}"
        return WriteOutcome(result.version, result.timestamp_ns, summary, result.durable)

    def _commit_action(self, commit: CommitRequest) -> WriteOutcome:
        try:
            if commit.action is CommitAction.CONFIRM:
                pending = self._datastore.confirm_commit(commit.commit_id)
                summary = f"confirmed commit {commit.commit_id!r} (version {pending.version})"
                return WriteOutcome(pending.version, self._clock.now_ns(), summary)
            if commit.action is CommitAction.CANCEL:
                result = self._datastore.cancel_commit(commit.commit_id)
                summary = (
                    f"cancelled commit {commit.commit_id!r}: rolled back as version "
                    f"{result.version}"
                )
                return WriteOutcome(result.version, result.timestamp_ns, summary)
            pending = self._datastore.set_rollback_timeout(commit.commit_id, commit.rollback_ns)
        except DatastoreError as err:
            raise from_datastore(err) from None
        summary = (
            f"commit {commit.commit_id!r} now rolls back after {commit.rollback_ns / 1e9:g} s "
            "unless confirmed"
        )
        return WriteOutcome(pending.version, self._clock.now_ns(), summary)

    def _record(
        self,
        request: WriteRequest,
        outcome: Outcome,
        code: str,
        message: str,
        version: int | None,
    ) -> None:
        principal = request.principal
        self._audit.record(
            request.rpc,
            outcome,
            user=principal,  # type: ignore[arg-type]
            peer=request.peer,
            code=code,
            message=message,
            operations=request.operations,
            tenant=principal.tenant,
            version=version,
        )


def _refusal(err: DatastoreError, sources: Sequence[int]) -> ServiceError:
    """The ServiceError of a datastore refusal, its operation mapped back through
    ``sources`` (site edit -> request operation)."""
    index = err.op_index
    if index is not None and 0 <= index < len(sources):
        index = sources[index]
    return ServiceError(from_datastore(err).kind, err.message, op_index=index)


def _share_of(principal: Caller) -> str:
    """The share a writer waits in: its tenant (all its users together), else itself."""
    return f"tenant:{principal.tenant}" if principal.tenant is not None else principal.name
