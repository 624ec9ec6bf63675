"""The transactional datastore: running configuration, Set transactions, commit-confirmed.

A commit stages the edits on a candidate (deletes, replaces, updates, each in request
order), validates it against the schema, programs the hardware through the drivers (all
or nothing, undone on failure), hands its journal record to the store and swaps it in.
Readers take ``running`` (an immutable snapshot, what the hardware holds) without any
lock and never see a half-made change; writers are serialised by one lock, which the
next commit may take while the previous record waits for its group's fsync. A commit is
published on the change feed and acknowledged only once its record is durable; when the
write fails, the datastore goes back to the last durable commit (journal_acks).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from typing import Any

from agent.clock import Clock
from agent.datastore.changes import ChangeFeed, CommitEvent, Listener
from agent.datastore.diff import Change, diff_trees, trees_differ
from agent.datastore.edits import Edit, EditKind, gnmi_order
from agent.datastore.errors import DatastoreError, ErrorKind
from agent.datastore.hardware import DevicePool, HardwareFailed, HardwareRefused
from agent.datastore.journal_acks import settled, wait_durable
from agent.datastore.model_registry import model_registry
from agent.datastore.persist_format import PendingConfirm, validation_stamp
from agent.datastore.persistence import ConfigStore
from agent.datastore.quotas import over_quota, quota_violations
from agent.datastore.refusals import blame as _blame
from agent.datastore.refusals import hardware_refused
from agent.datastore.scoped_validation import ScopedValidator
from agent.datastore.touched import touched_entries
from agent.datastore.tree import Tree, TreeOps
from agent.mapping.intents import SiteIntents, derive, intents_from_tree
from agent.mapping.registry import ModelRegistry
from agent.metrics.sink import CommitMetrics, NoMetrics, RollbackReason
from agent.schema.engine import SchemaEngine
from agent.schema.path import DataPath
from agent.schema.refusal import Refusal

log = logging.getLogger(__name__)

DEFAULT_ROLLBACK_NS = 600 * 1_000_000_000  # the commit-confirmed spec's 10 minutes

Authorizer = Callable[[Tree, Tree, Sequence[Change]], None]
"""Checks a commit's diff (running tree, candidate tree, changes) before anything is
validated or applied; raises DatastoreError (ErrorKind.DENIED) to refuse it."""


@dataclass(frozen=True)
class Running:
    """The running configuration as readers see it."""

    version: int
    tree: Tree
    timestamp_ns: int
    intents: SiteIntents


@dataclass(frozen=True)
class CommitResult:
    """What a commit changed (empty ``changes``: nothing to do, version unchanged).

    ``durable`` (None: nothing to wait for) resolves once the commit is durable and
    fails with a STORAGE DatastoreError when it was lost and undone."""

    version: int
    timestamp_ns: int
    changes: tuple[Change, ...]
    durable: Future[int] | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Pending:
    """A commit-confirmed commit waiting for its confirmation."""

    commit_id: str
    version: int
    previous_version: int
    deadline_ns: int  # wall clock


class Datastore:
    """Running configuration plus the commit pipeline onto the drivers."""

    def __init__(
        self,
        schema: SchemaEngine,
        devices: DevicePool,
        store: ConfigStore,
        clock: Clock,
    ) -> None:
        self.schema = schema
        self.model: ModelRegistry = model_registry(schema.nav)
        self.ops = TreeOps(schema.nav)
        self._validator = ScopedValidator(schema, self.ops.index)
        self._devices = devices
        self._store = store
        self._clock = clock
        self._lock = threading.RLock()
        self._feed = ChangeFeed()
        self._running = Running(0, {}, clock.now_ns(), self._intents_of({}))
        self._pending: Pending | None = None
        self._durable: tuple[Running, Pending | None] = (self._running, None)
        self.metrics: CommitMetrics = NoMetrics()
        """Where commits and rollbacks are reported (agent.app sets it)."""

    # --- lifecycle ----------------------------------------------------------------------

    def start(self, initial: Tree) -> Running:
        """Loads the saved configuration (``initial`` on first start), reconciles every
        device to it and resolves a commit-confirmed left pending by a restart."""
        with self._lock:
            stamp = validation_stamp(self.schema.modules)
            snapshot = self._store.load(validated_by=stamp)
            if snapshot is None:
                tree = self._checked(self.schema.normalise(initial), "the initial configuration")
                self._store.save(1, tree, {"origin": "initial"})
                version = 1
            else:
                tree, version = snapshot.tree, snapshot.version
                if snapshot.validated_by != stamp:  # another schema or agent version saved it
                    self._checked(tree, str(self._store.current_path))
                    self._store.request_checkpoint()
            self._running = Running(version, tree, self._clock.now_ns(), self._intents_of(tree))
            self._durable = (self._running, None)
            self._devices.start(self._running.intents)
            record = self._store.resolve_pending(version)
            if record is not None:
                log.warning(
                    "commit %r (version %d) was not confirmed before the restart: "
                    "rolling back to version %d",
                    record.commit_id,
                    record.version,
                    record.previous_version,
                )
                self._rollback_to(
                    record.previous_version,
                    reason="restart while pending",
                    kind=RollbackReason.RESTART,
                )
            return self._running

    def stop(self) -> None:
        """Closes the drivers; the running configuration stays saved."""
        with self._lock:
            self._store.close()
            self._devices.stop()

    # --- reading ------------------------------------------------------------------------

    @property
    def running(self) -> Running:
        """The current snapshot; never blocks."""
        return self._running

    @property
    def pending(self) -> Pending | None:
        """The commit-confirmed commit awaiting confirmation, if any."""
        return self._pending

    @property
    def devices(self) -> DevicePool:
        return self._devices

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Receives every later commit (see ChangeFeed)."""
        return self._feed.subscribe(listener)

    # --- writing ------------------------------------------------------------------------

    def commit(
        self,
        edits: Sequence[Edit],
        *,
        confirm: tuple[str, int] | None = None,
        meta: Mapping[str, Any] | None = None,
        authorize: Authorizer | None = None,
        follows: str | None = None,
        wait: bool = True,
    ) -> CommitResult:
        """Applies ``edits`` as one transaction; raises DatastoreError, nothing applied.

        Returns once the commit is durable; with ``wait`` False as soon as it is applied,
        and the caller must wait for ``durable`` before it acknowledges the commit.

        ``confirm`` is (commit id, rollback timeout ns): the commit is reverted unless
        ``confirm_commit`` is called before the timeout (0 means the 10-minute default).
        ``authorize`` sees the commit's diff first and may refuse it.

        ``follows`` names the pending commit this one follows up (NETCONF confirmed
        commits, RFC 6241 8.4): with ``confirm`` the commit stays pending under the new
        id and deadline, still rolling back to what preceded the first one; without
        ``confirm`` it is the confirming commit and the pending commit is kept.
        """
        started_ns = self._clock.monotonic_ns()
        try:
            result = self._commit(edits, confirm, meta, authorize, follows)
            if wait:
                wait_durable(result.durable, self._settle)
            elif result.durable is not None:
                result = replace(result, durable=settled(result.durable, self._settle))
        except DatastoreError as err:
            self.metrics.commit_finished(err.kind.value, _seconds_since(self._clock, started_ns))
            raise
        outcome = "committed" if result.changes else "unchanged"
        self.metrics.commit_finished(outcome, _seconds_since(self._clock, started_ns))
        return result

    def _commit(
        self,
        edits: Sequence[Edit],
        confirm: tuple[str, int] | None,
        meta: Mapping[str, Any] | None,
        authorize: Authorizer | None,
        follows: str | None,
    ) -> CommitResult:
        with self._lock:
            self._settle()
            prior = self._pending
            if prior is not None and follows != prior.commit_id:
                raise DatastoreError(
                    ErrorKind.CONFLICT,
                    f"commit {prior.commit_id!r} awaits confirmation: confirm or cancel it first",
                )
            if follows is not None:
                prior = self._check_pending(follows)
            if confirm is not None and not confirm[0]:
                raise DatastoreError(ErrorKind.INVALID, "a confirmed commit needs an id")
            base = self._running
            candidate = self._stage(base.tree, edits)
            pending = None
            if confirm is not None:
                timeout = confirm[1] or DEFAULT_ROLLBACK_NS
                previous = prior.previous_version if prior is not None else base.version
                pending = Pending(
                    confirm[0], base.version + 1, previous, self._clock.now_ns() + timeout
                )
            if prior is None:
                return self._install(candidate, edits, meta or {}, pending, authorize)
            return self._follow_up(prior, candidate, edits, meta or {}, pending, authorize)

    def validate(
        self, edits: Sequence[Edit], *, authorize: Authorizer | None = None
    ) -> tuple[Change, ...]:
        """Checks ``edits`` as ``commit`` would (staging, authorization, schema, quotas,
        the drivers' validation) without applying or saving anything; returns the
        changes they would make or raises the DatastoreError the commit would raise.
        A pending commit-confirmed does not stop a validation."""
        with self._lock:
            base = self._running
            candidate = self._stage(base.tree, edits)
            changes = diff_trees(base.tree, candidate, self.schema.nav)
            if not changes:
                return ()
            intents = self._checked_change(base, candidate, changes, edits, authorize)
            problems = self._devices.validate(base.intents, intents)
            if problems:
                raise hardware_refused(problems, edits, changes)
            return changes

    def confirm_commit(self, commit_id: str) -> Pending:
        """Keeps the pending commit ``commit_id``."""
        with self._lock:
            pending = self._check_pending(commit_id)
            self._store.clear_pending()
            self._pending = None
            return pending

    def cancel_commit(self, commit_id: str) -> CommitResult:
        """Reverts the pending commit ``commit_id`` now."""
        with self._lock:
            pending = self._check_pending(commit_id)
            return self._rollback_to(
                pending.previous_version, reason="cancelled", kind=RollbackReason.CANCELLED
            )

    def set_rollback_timeout(self, commit_id: str, timeout_ns: int) -> Pending:
        """Moves the deadline of the pending commit to ``timeout_ns`` from now."""
        with self._lock:
            pending = self._check_pending(commit_id)
            if timeout_ns <= 0:
                raise DatastoreError(ErrorKind.INVALID, "the rollback duration must be above 0")
            pending = Pending(
                pending.commit_id,
                pending.version,
                pending.previous_version,
                self._clock.now_ns() + timeout_ns,
            )
            self._store.write_pending(_record(pending))
            self._pending = pending
            return pending

    def expire_pending(self) -> CommitResult | None:
        """Reverts the pending commit when its deadline has passed (call periodically)."""
        with self._lock:
            pending = self._pending
            if pending is None or self._clock.now_ns() < pending.deadline_ns:
                return None
            log.warning("commit %r was not confirmed in time: rolling back", pending.commit_id)
            return self._rollback_to(
                pending.previous_version,
                reason="not confirmed in time",
                kind=RollbackReason.NOT_CONFIRMED,
            )

    # --- internals ----------------------------------------------------------------------

    def _intents_of(self, tree: Tree) -> SiteIntents:
        return intents_from_tree(tree, self.model)

    def _derived_intents(
        self, base: Running, candidate: Tree, changes: Sequence[Change]
    ) -> SiteIntents:
        """The candidate's intents, from the running ones and the entries the changes
        touch (the whole candidate when a change is above the lists)."""
        touched = touched_entries(changes, self.model)
        if touched is None:
            return self._intents_of(candidate)
        index = self.ops.index

        def lookup(kind: str, name: str) -> Any:
            model = self.model.of(kind)
            entries = model.entries(candidate)
            return index.find(entries, model.keys, (name,)) if isinstance(entries, list) else None

        return derive(base.intents, touched, lookup, self.model)

    def _checked(self, tree: Tree, what: str) -> Tree:
        problems = [str(r) for r in self.schema.refusals(tree)]
        problems = problems or [v.message for v in quota_violations(tree)]
        if problems:
            listing = "; ".join(problems[:10])
            raise DatastoreError(ErrorKind.INVALID, f"{what} is not valid: {listing}")
        return tree

    def _check_pending(self, commit_id: str) -> Pending:
        pending = self._pending
        if pending is None:
            raise DatastoreError(ErrorKind.CONFLICT, "no commit awaits confirmation")
        if commit_id != pending.commit_id:
            raise DatastoreError(
                ErrorKind.INVALID,
                f"commit id {commit_id!r} does not match the pending commit {pending.commit_id!r}",
            )
        return pending

    def _stage(self, tree: Tree, edits: Sequence[Edit]) -> Tree:
        candidate = tree
        for index, edit in gnmi_order(list(edits)):
            try:
                if edit.kind is EditKind.DELETE:
                    candidate = self.ops.delete(candidate, edit.path)
                elif edit.kind is EditKind.REPLACE:
                    candidate = self.ops.replace(candidate, edit.path, edit.value)
                else:
                    candidate = self.ops.update(candidate, edit.path, edit.value)
            except DatastoreError as err:
                raise err.at(index) from None
        return candidate

    def _install(
        self,
        candidate: Tree,
        edits: Sequence[Edit],
        meta: Mapping[str, Any],
        pending: Pending | None,
        authorize: Authorizer | None = None,
    ) -> CommitResult:
        base = self._running
        changes = diff_trees(base.tree, candidate, self.schema.nav)
        if not changes and pending is None:
            return CommitResult(base.version, self._clock.now_ns(), ())
        intents = self._checked_change(base, candidate, changes, edits, authorize)
        try:
            applied = self._devices.apply(base.intents, intents)
        except HardwareRefused as err:
            raise hardware_refused(err.problems, edits, changes) from None
        except HardwareFailed as err:
            self.metrics.rollback(RollbackReason.HARDWARE_FAILURE, ok=not err.degraded)
            kind = ErrorKind.UNAVAILABLE if err.unavailable else ErrorKind.HARDWARE
            degraded = (
                f" (devices left degraded: {', '.join(err.degraded)})" if err.degraded else ""
            )
            raise DatastoreError(kind, f"{err}; nothing was applied{degraded}") from None
        version = base.version + 1
        now = self._clock.now_ns()
        running = Running(version, candidate, now, intents)
        event = CommitEvent(version, now, changes, candidate, dict(meta))

        def made_durable() -> None:  # on the journal's thread, in version order
            self._durable = (running, pending)
            self._feed.publish(event)

        # In place before the record can become durable, so listeners see it running.
        before = (base, self._pending)
        self._devices.keep(applied)
        self._running, self._pending = running, pending
        try:
            durable = self._store.commit(
                version,
                candidate,
                dict(meta),
                pending=_record(pending) if pending else None,
                on_durable=made_durable,
            )
        except Exception as err:
            self._back_to(*before)
            raise DatastoreError(
                ErrorKind.STORAGE, f"saving the configuration failed: {err}"
            ) from err
        return CommitResult(version, now, changes, durable)

    def _settle(self) -> None:
        """After a failed journal write: the hardware and the running snapshot go back to
        the last durable commit and the journal is cut back to it (a storage that still
        fails is logged; the next commit then fails with STORAGE)."""
        with self._lock:
            if self._store.failure is None:
                return
            durable, pending = self._durable
            if self._running is not durable:
                self._back_to(durable, pending)
            try:
                self._store.recover()
            except OSError as err:
                log.error("the journal cannot be cut back to version %d: %s", durable.version, err)

    def _back_to(self, target: Running, pending: Pending | None) -> None:
        """Reprograms the hardware from the running intents to ``target``'s and makes it
        running again (a commit that could not be saved); devices that cannot follow
        are reported degraded."""
        current = self._running.intents
        try:
            self._devices.keep(self._devices.apply(current, target.intents))
            ok = True
        except (HardwareRefused, HardwareFailed) as err:
            log.error("going back to version %d failed: %s", target.version, err)
            names = current.keys() | target.intents.keys()
            self._devices.mark_degraded(n for n in names if current.get(n) != target.intents.get(n))
            ok = False
        self.metrics.rollback(RollbackReason.STORAGE_FAILURE, ok=ok)
        self._running, self._pending = target, pending

    def _checked_change(
        self,
        base: Running,
        candidate: Tree,
        changes: Sequence[Change],
        edits: Sequence[Edit],
        authorize: Authorizer | None,
    ) -> SiteIntents:
        """Authorizes and validates a change (schema, quotas); its device intents."""
        if authorize is not None:
            authorize(base.tree, candidate, changes)
        refusals = self._validator.refusals(base.tree, candidate, changes)
        if refusals:
            raise _refused(refusals, edits)
        violations = quota_violations(candidate, changes)
        if violations:
            raise over_quota(violations, lambda where: _blame(edits, where))
        return self._derived_intents(base, candidate, changes)

    def _follow_up(
        self,
        prior: Pending,
        candidate: Tree,
        edits: Sequence[Edit],
        meta: Mapping[str, Any],
        pending: Pending | None,
        authorize: Authorizer | None,
    ) -> CommitResult:
        """A commit while ``prior`` is pending: it stays pending as ``pending`` (None:
        it is confirmed). Without changes only the pending record changes."""
        base = self._running
        if not trees_differ(base.tree, candidate, self.schema.nav):
            if pending is None:
                self._store.clear_pending()
            else:
                pending = Pending(
                    pending.commit_id, prior.version, prior.previous_version, pending.deadline_ns
                )
                self._store.write_pending(_record(pending))
            self._pending = pending
            return CommitResult(base.version, self._clock.now_ns(), ())
        result = self._install(candidate, edits, meta, pending, authorize)
        if pending is None:
            wait_durable(result.durable, self._settle)  # before the pending record goes
            self._store.clear_pending()
        return result

    def _rollback_to(self, version: int, *, reason: str, kind: RollbackReason) -> CommitResult:
        """Reinstalls checkpoint ``version``. The pending commit (if any) is dropped only
        once the rollback has been installed: when it fails, the commit stays pending
        (and is persisted as pending), so the rollback is retried, never forgotten."""
        target = self._store.load_version(version).tree
        try:
            result = self._install(
                target, [Edit.replace(DataPath.root(), target)], {"rollback": reason}, None
            )
            wait_durable(result.durable, self._settle)  # before the pending record goes
        except DatastoreError:
            if self._pending is not None:  # its devices hold the unconfirmed change
                wanted = self._intents_of(target)
                current = self._running.intents
                self._devices.mark_degraded(
                    name
                    for name in current.keys() | wanted.keys()
                    if current.get(name) != wanted.get(name)
                )
            self.metrics.rollback(kind, ok=False)
            raise
        self.metrics.rollback(kind, ok=True)
        self._pending = None
        self._store.clear_pending()
        return result


def _seconds_since(clock: Clock, started_ns: int) -> float:
    return (clock.monotonic_ns() - started_ns) / 1e9


def _record(pending: Pending) -> PendingConfirm:
    return PendingConfirm(
        pending.commit_id, pending.version, pending.previous_version, pending.deadline_ns
    )


def _refused(refusals: tuple[Refusal, ...], edits: Sequence[Edit]) -> DatastoreError:
    first = refusals[0]
    more = f" (and {len(refusals) - 1} more)" if len(refusals) > 1 else ""
    return DatastoreError(ErrorKind.INVALID, f"{first}{more}", op_index=_blame(edits, first.path))
