"""The NETCONF write operations (RFC 6241 7.2-7.6, 8.3-8.6) as one operation table.

edit-config, copy-config, delete-config, validate, discard-changes, lock, unlock,
commit and cancel-commit, on ``running`` (:writable-running) and the one shared
``candidate`` (:candidate). Every change of running goes through the service core's
writes as gNMI Sets do: the writer lock, the caller's rate, its view and the policy,
validation with quotas and the drivers' rules, hardware all or nothing, datastore
locks, audit. The caller's access is ``core.access.of(user)``; a tenant's edits are
evaluated in its view and change only its slices, of running or of the candidate.

- ``test-option`` on running: ``test-then-set`` (default) and ``set`` validate the
  outcome fully (schema, quotas, the drivers' validation) before it is set (running
  never holds what does not validate); ``test-only`` validates and sets nothing. On the
  candidate, a scratch configuration that may pass through states that are not valid
  yet, ``test-then-set`` and ``set`` check the edit itself (the model's names and types,
  the caller's view and policy) and the full validation runs at commit or validate;
  ``test-only`` runs the full validation of the candidate the edit would make.
- ``error-option``: an edit-config is one transaction whatever the option, so either
  all of it is set or nothing is (``rollback-on-error``, advertised). ``stop-on-error``
  (RFC 6241's default) stops at the first error with nothing set; ``continue-on-error``
  goes on through the request to report every data-exists/data-missing or edit error it
  finds, each in its own ``<rpc-error>``, and sets nothing either.
- create/delete/remove, default-operation and document order: :mod:`.edit_plan`.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Sequence
from typing import Any, Final

from agent.datastore.edits import Edit
from agent.datastore.errors import DatastoreError
from agent.datastore.tree import Tree, TreeOps
from agent.northbound.netconf.candidate import CandidateReads, edit_candidate
from agent.northbound.netconf.codec import EditNode, XmlCodec
from agent.northbound.netconf.confirmed import CommitOperations, ConfirmedCommits
from agent.northbound.netconf.contracts import (
    HandlerTable,
    NetconfEnv,
    RpcContext,
    RpcError,
    RpcErrors,
)
from agent.northbound.netconf.edit_plan import DefaultOperation, operation_of, request_edit
from agent.northbound.netconf.lock_ops import LockOperations
from agent.northbound.netconf.staged_view import EditConfigView, ReplaceView, base_view, replacement
from agent.northbound.netconf.write_support import (
    CANDIDATE,
    CONFIG,
    RUNNING,
    URL,
    base,
    choice,
    code_of,
    datastore_of,
    is_small,
    operation_element,
    params,
    path_text,
    required,
    session_name,
    write_error,
)
from agent.schema.path import DataPath
from agent.security.audit import AuditOperation, Outcome
from agent.service.errors import ServiceError
from agent.service.writes import WriteRequest

log = logging.getLogger(__name__)

WRITE_CAPABILITIES: Final = (
    "urn:ietf:params:netconf:capability:writable-running:1.0",
    "urn:ietf:params:netconf:capability:candidate:1.0",
    "urn:ietf:params:netconf:capability:confirmed-commit:1.0",
    "urn:ietf:params:netconf:capability:confirmed-commit:1.1",
    "urn:ietf:params:netconf:capability:rollback-on-error:1.0",
    "urn:ietf:params:netconf:capability:validate:1.0",
    "urn:ietf:params:netconf:capability:validate:1.1",
)
"""What the hello announces for the write operations."""

TEST_OPTIONS: Final = frozenset({"test-then-set", "set", "test-only"})
ERROR_OPTIONS: Final = frozenset({"rollback-on-error", "stop-on-error", "continue-on-error"})


def write_table(env: NetconfEnv, *, codec: XmlCodec | None = None) -> HandlerTable:
    """The handlers of the write operations (see :class:`NetconfWrites`)."""
    return NetconfWrites(env, codec or XmlCodec(env.engine)).table()


class NetconfWrites:
    """The write operations over one service core; the end of a session (heard from
    ``env.sessions``) rolls back its unpersisted confirmed commit and discards the
    candidate it had locked."""

    def __init__(self, env: NetconfEnv, codec: XmlCodec) -> None:
        self._env = env
        self._core = env.core
        self._codec = codec
        # the candidate's, off the writer lock; its key index is the datastore's, which
        # knows where the entries of every running tree's lists are
        datastore = env.core.datastore
        self._ops = TreeOps(datastore.schema.nav, datastore.ops.index)
        self.confirmed = ConfirmedCommits()
        self.commits = CommitOperations(env, codec, self.confirmed)
        self.locks = LockOperations(env, self.confirmed)
        self.candidate_source = CandidateReads(env.core.candidate)
        self._tasks: set[asyncio.Task[None]] = set()
        listen = getattr(env.sessions, "listen", None)
        if listen is not None:
            listen(self._session_event)

    def table(self) -> HandlerTable:
        return {
            base("edit-config"): self.edit_config,
            base("copy-config"): self.copy_config,
            base("delete-config"): self.delete_config,
            base("validate"): self.validate,
            base("discard-changes"): self.discard_changes,
            base("lock"): self.locks.lock,
            base("unlock"): self.locks.unlock,
            base("commit"): self.commits.commit,
            base("cancel-commit"): self.commits.cancel_commit,
        }

    async def session_ended(self, session_id: int) -> None:
        """What the end of session ``session_id`` undoes."""
        await self.commits.session_ended(session_id)
        await self.locks.session_ended(session_id)

    # --- edit-config ----------------------------------------------------------------

    async def edit_config(self, context: RpcContext, rpc: Any) -> None:
        """``<edit-config>``."""
        found = params(
            operation_element(rpc, "edit-config"),
            "edit-config",
            {"target", "default-operation", "test-option", "error-option", "config", URL},
        )
        if URL in found:
            raise RpcError(
                "operation-not-supported",
                "edit-config: <url> is not served (no :url capability); give <config>",
                info={"bad-element": URL},
            )
        target, _ = datastore_of(
            required(found, "target", "edit-config"), "edit-config", (RUNNING, CANDIDATE)
        )
        default = DefaultOperation(
            choice(
                found.get("default-operation"),
                "edit-config",
                {d.value for d in DefaultOperation},
                "merge",
            )
        )
        test = choice(found.get("test-option"), "edit-config", TEST_OPTIONS, "test-then-set")
        errors = choice(found.get("error-option"), "edit-config", ERROR_OPTIONS, "stop-on-error")
        config = required(found, CONFIG, "edit-config")
        nodes = self._codec.edit_nodes(config)
        every = errors == "continue-on-error"
        if target == RUNNING:
            await self._edit_running(context, nodes, default, test == "test-only", every)
        else:
            await self._edit_candidate(context, nodes, default, test, every, is_small(config))

    async def _edit_running(
        self,
        context: RpcContext,
        nodes: Sequence[EditNode],
        default: DefaultOperation,
        test_only: bool,
        every_error: bool,
    ) -> None:
        view = EditConfigView(
            self._core.access.of(context.user), nodes, default, every_error=every_error
        )
        write = WriteRequest(
            principal=context.user,
            view=view,
            edits=tuple(request_edit(n, default) for n in nodes),
            operations=_audit_operations(nodes, default),
            peer=context.peer,
            rpc="netconf:edit-config",
            session=session_name(context),
            validate_only=test_only,
        )
        try:
            await self._core.writes.write(write, code_of)
        except ServiceError as err:
            failure = write_error(err, "edit-config", self._codec, nodes, view.refused)
            raise _raised(failure) from None
        self._core.candidate.settle()

    async def _edit_candidate(
        self,
        context: RpcContext,
        nodes: Sequence[EditNode],
        default: DefaultOperation,
        test: str,
        every_error: bool,
        small: bool,
    ) -> None:
        """Stages the edit on the candidate; ``small`` ones on the event loop."""
        self._admit_rate(context, "edit-config")
        views: list[EditConfigView] = []
        core = self._core

        def site_edits(access: Any, tree: Tree) -> tuple[list[Edit], list[int]]:
            view = EditConfigView(access, nodes, default, every_error=every_error)
            views.append(view)
            return view.site_edits(self._ops, tree, ())

        operations = _audit_operations(nodes, default)
        async with core.candidate.mutex:
            self._check_candidate_lock(context, "edit-config")
            stage = functools.partial(
                edit_candidate,
                core.candidate.tree,
                self._ops,
                lambda tree: core.access.over(context.user, tree),
                site_edits,
            )
            try:
                after = stage() if small else await asyncio.to_thread(stage)
            except DatastoreError as err:
                refused = views[-1].refused if views else None
                failure = write_error(err, "edit-config", self._codec, nodes, refused)
                self._audit(context, "netconf:edit-config", operations, failure)
                raise _raised(failure) from None
            if test == "test-only":
                await self._validate_view(context, after, "edit-config")
            else:
                core.candidate.set(after, session_name(context))
        done = (
            "valid, candidate unchanged (test-only)" if test == "test-only" else "candidate changed"
        )
        self._audit(context, "netconf:edit-config", operations, None, done)

    # --- copy-config, delete-config, discard-changes -----------------------------------

    async def copy_config(self, context: RpcContext, rpc: Any) -> None:
        """``<copy-config>``: running, the candidate or an inline ``<config>`` onto
        running or the candidate (the caller's view of it)."""
        found = params(operation_element(rpc, "copy-config"), "copy-config", {"target", "source"})
        target, _ = datastore_of(
            required(found, "target", "copy-config"), "copy-config", (RUNNING, CANDIDATE)
        )
        source, element = datastore_of(
            required(found, "source", "copy-config"), "copy-config", (RUNNING, CANDIDATE, CONFIG)
        )
        if source == target:
            raise RpcError(
                "invalid-value",
                f"copy-config: the source and the target are both {target}",
                info={"bad-element": "target"},
            )
        tree = self._source_view(context, source, element)
        inline = source == CONFIG
        operations = (AuditOperation("copy-config", f"{source} -> {target}"),)
        if target == RUNNING:
            write = WriteRequest(
                principal=context.user,
                view=ReplaceView(
                    self._core.access.of(context.user), tree, writable_only=not inline
                ),
                edits=(Edit.replace(DataPath.root(), tree),),
                operations=operations,
                peer=context.peer,
                rpc="netconf:copy-config",
                session=session_name(context),
            )
            try:
                await self._core.writes.write(write, code_of)
            except ServiceError as err:
                raise _raised(write_error(err, "copy-config", self._codec)) from None
            self._core.candidate.settle()
            return
        await self._replace_candidate(context, "copy-config", tree, not inline, operations)

    async def delete_config(self, context: RpcContext, rpc: Any) -> None:
        """``<delete-config>``: the candidate is reset to running (its changes go);
        running cannot be deleted."""
        found = params(operation_element(rpc, "delete-config"), "delete-config", {"target"})
        param = required(found, "target", "delete-config")
        chosen = [c for c in param if isinstance(c.tag, str)]
        if len(chosen) == 1 and chosen[0].tag == base(RUNNING):
            raise RpcError(
                "invalid-value",
                "delete-config: the running datastore cannot be deleted (RFC 6241 7.4)",
                info={"bad-element": RUNNING},
            )
        datastore_of(param, "delete-config", (CANDIDATE,))
        await self._reset_candidate(context, "delete-config")

    async def discard_changes(self, context: RpcContext, rpc: Any) -> None:
        """``<discard-changes>``: the caller's view of the candidate is running's again."""
        params(operation_element(rpc, "discard-changes"), "discard-changes", ())
        await self._reset_candidate(context, "discard-changes")

    async def _reset_candidate(self, context: RpcContext, operation: str) -> None:
        access = self._core.access.of(context.user)
        operations = (AuditOperation(operation, CANDIDATE),)
        if access.full:
            async with self._core.candidate.mutex:
                self._check_candidate_lock(context, operation)
                self._core.candidate.discard()
            self._audit(context, f"netconf:{operation}", operations, None, "candidate reset")
            return
        running = self._source_view(context, RUNNING, None)
        await self._replace_candidate(context, operation, running, True, operations)

    async def _replace_candidate(
        self,
        context: RpcContext,
        operation: str,
        source: Tree,
        writable_only: bool,
        operations: tuple[AuditOperation, ...],
    ) -> None:
        core = self._core

        def site_edits(access: Any, tree: Tree) -> tuple[list[Edit], list[int]]:
            edit = replacement(access, tree, source, writable_only=writable_only)
            return access.site_edits(self._ops, tree, [edit])  # type: ignore[no-any-return]

        self._admit_rate(context, operation)
        async with core.candidate.mutex:
            self._check_candidate_lock(context, operation)
            try:
                after = await asyncio.to_thread(
                    edit_candidate,
                    core.candidate.tree,
                    self._ops,
                    lambda tree: core.access.over(context.user, tree),
                    site_edits,
                )
            except DatastoreError as err:
                failure = write_error(err, operation, self._codec)
                self._audit(context, f"netconf:{operation}", operations, failure)
                raise _raised(failure) from None
            core.candidate.set(after, session_name(context))
        self._audit(context, f"netconf:{operation}", operations, None, "candidate changed")

    # --- validate ---------------------------------------------------------------------

    async def validate(self, context: RpcContext, rpc: Any) -> None:
        """``<validate>`` (:validate:1.1): the candidate, running or an inline
        ``<config>``, checked as a commit of it would be (schema, quotas, the drivers'
        validation); nothing changes."""
        found = params(operation_element(rpc, "validate"), "validate", {"source"})
        source, element = datastore_of(
            required(found, "source", "validate"), "validate", (RUNNING, CANDIDATE, CONFIG)
        )
        if source == RUNNING:
            return  # every commit validated it: running is valid as it stands
        if source == CANDIDATE:
            async with self._core.candidate.mutex:
                await self._validate_view(context, self._core.candidate.tree, "validate")
            return
        tree = self._codec.from_xml(element)
        await self._validate_view(context, tree, "validate", writable_only=False, view_tree=True)

    async def _validate_view(
        self,
        context: RpcContext,
        tree: Tree,
        operation: str,
        *,
        writable_only: bool = True,
        view_tree: bool = False,
    ) -> None:
        """Validates a commit that makes the caller's view of running hold ``tree`` (a
        site tree, or with ``view_tree`` the caller's view already)."""
        core = self._core
        if not view_tree:
            over = core.access.over(context.user, tree)
            tree = tree if over.full else base_view(over).project(tree)
        write = WriteRequest(
            principal=context.user,
            view=ReplaceView(core.access.of(context.user), tree, writable_only=writable_only),
            edits=(Edit.replace(DataPath.root(), tree),),
            operations=(AuditOperation("validate", CANDIDATE),),
            peer=context.peer,
            rpc=f"netconf:{operation}",
            session=session_name(context),
            validate_only=True,
            rate_admitted=operation != "validate",
        )
        try:
            await core.writes.write(write, code_of)
        except ServiceError as err:
            raise _raised(write_error(err, operation, self._codec)) from None

    # --- internals --------------------------------------------------------------------

    def _source_view(self, context: RpcContext, source: str, element: Any) -> Tree:
        """The caller's view of a source datastore (an inline ``<config>`` is one)."""
        if source == CONFIG:
            return self._codec.from_xml(element)
        core = self._core
        tree = core.datastore.running.tree if source == RUNNING else core.candidate.tree
        over = core.access.over(context.user, tree)
        return tree if over.full else base_view(over).project(tree)  # type: ignore[no-any-return]

    def _check_candidate_lock(self, context: RpcContext, operation: str) -> None:
        try:
            self._core.writes.locks.check_write(CANDIDATE, session_name(context))
        except ServiceError as err:
            raise _raised(write_error(err, operation, self._codec)) from None

    def _admit_rate(self, context: RpcContext, operation: str) -> None:
        try:
            self._core.writes.admit_rate(context.user)
        except ServiceError as err:
            raise _raised(write_error(err, operation, self._codec)) from None

    def _audit(
        self,
        context: RpcContext,
        rpc: str,
        operations: Sequence[AuditOperation],
        failure: RpcError | list[RpcError] | None,
        summary: str = "",
    ) -> None:
        user = context.user
        first = failure[0] if isinstance(failure, list) else failure
        outcome = Outcome.OK if first is None else Outcome.FAILED
        if first is not None and first.tag == "access-denied":
            outcome = Outcome.DENIED
        self._core.audit.record(
            rpc,
            outcome,
            user=user,
            peer=context.peer,
            code="ok" if first is None else first.tag,
            message=summary if first is None else first.message,
            operations=operations,
            tenant=getattr(user, "tenant", None),
        )

    def _session_event(self, event: Any) -> None:
        """A registry SessionEvent: on an end, undo what the session leaves behind."""
        if getattr(event, "reason", None) is None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        task = loop.create_task(self.session_ended(event.session.session_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _audit_operations(
    nodes: Sequence[EditNode], default: DefaultOperation
) -> tuple[AuditOperation, ...]:
    return tuple(
        AuditOperation((operation_of(n, default) or DefaultOperation.NONE).value, path_text(n.path))
        for n in nodes
    )


def _raised(errors: RpcError | list[RpcError]) -> Exception:
    """The exception to raise for one or several errors."""
    if isinstance(errors, list):
        return errors[0] if len(errors) == 1 else RpcErrors(tuple(errors))
    return errors
