"""Set (gNMI spec 3.4): operations -> one datastore commit -> SetResponse.

Deletes, replaces and updates are decoded in request order (that is also the order
the UpdateResults come back in) and handed to the datastore as ONE commit, which applies
them deletes first, then replaces, then updates, all or nothing. A failure ends the RPC
with the code of its cause (ABORTED for a driver refusal) and a message naming the
failing operation: ``operation 1 (update /ports/port[name=p1]/config/speed): ...``.

Extensions: master arbitration (a stale master gets PERMISSION_DENIED) and
commit-confirmed (commit with a rollback duration, confirm, cancel, set the rollback
duration). union_replace is UNIMPLEMENTED.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from agent.clock import Clock
from agent.datastore.edits import Edit
from agent.datastore.errors import DatastoreError
from agent.gnmi.encoding import decode_update
from agent.gnmi.errors import GnmiError, path_text
from agent.gnmi.paths import to_data_path
from agent.gnmi.pb import gnmi_pb2
from agent.gnmi.schema_info import SchemaInfo
from agent.gnmi.timestamps import timestamp_ns
from agent.northbound.arbitration import Arbiter
from agent.northbound.extensions import CommitAction, CommitRequest, SetExtensions, set_extensions
from agent.northbound.status import gnmi_error
from agent.schema.path import DataPath


class Operation(enum.IntEnum):
    """gnmi.UpdateResult.Operation."""

    DELETE = 1
    REPLACE = 2
    UPDATE = 3


class CommitTarget(Protocol):
    """The datastore operations a Set uses (agent.datastore.Datastore has them)."""

    def commit(
        self,
        edits: Sequence[Edit],
        *,
        confirm: tuple[str, int] | None = None,
        meta: Mapping[str, Any] | None = None,
    ) -> Any: ...

    def confirm_commit(self, commit_id: str) -> Any: ...

    def cancel_commit(self, commit_id: str) -> Any: ...

    def set_rollback_timeout(self, commit_id: str, timeout_ns: int) -> Any: ...


@dataclass(frozen=True, slots=True)
class SetOperation:
    """One decoded operation: what the request said and what the datastore gets."""

    op: Operation
    message: Any  # the request's gnmi.Path, echoed in the UpdateResult
    path: DataPath
    edit: Edit

    def describe(self) -> str:
        return f"{self.op.name.lower()} {path_text(self.path)}"


@dataclass(frozen=True, slots=True)
class SetPlan:
    """A checked SetRequest."""

    prefix: Any  # echoed prefix or None
    operations: tuple[SetOperation, ...]
    extensions: SetExtensions


@dataclass(frozen=True, slots=True)
class SetOutcome:
    """The response and what to write into the audit log."""

    response: Any
    version: int | None  # the committed version, if a commit happened
    summary: str


class SetHandler:
    """Runs SetRequests against the datastore, one at a time."""

    def __init__(
        self, datastore: CommitTarget, schema: SchemaInfo, arbiter: Arbiter, clock: Clock
    ) -> None:
        self._datastore = datastore
        self._schema = schema
        self._arbiter = arbiter
        self._clock = clock
        self._lock = asyncio.Lock()

    @property
    def arbiter(self) -> Arbiter:
        return self._arbiter

    def plan(self, request: Any) -> SetPlan:
        """Decodes every operation; raises GnmiError naming the failing one."""
        if len(request.union_replace):
            raise GnmiError.unimplemented("union_replace is not supported; use replace")
        extensions = set_extensions(request.extension)
        prefix = request.prefix if request.HasField("prefix") else None
        operations: list[SetOperation] = []
        for message in request.delete:
            operations.append(self._operation(len(operations), Operation.DELETE, message, prefix))
        for update in request.replace:
            operations.append(
                self._operation(len(operations), Operation.REPLACE, update.path, prefix, update)
            )
        for update in request.update:
            operations.append(
                self._operation(len(operations), Operation.UPDATE, update.path, prefix, update)
            )
        commit = extensions.commit
        if commit is not None and commit.action is not CommitAction.COMMIT and operations:
            raise GnmiError.invalid_argument(
                f"a commit {commit.action.value} request carries no operations"
            )
        echo = None
        if prefix is not None:
            echo = gnmi_pb2.Path()
            echo.CopyFrom(prefix)
        return SetPlan(echo, tuple(operations), extensions)

    def _operation(
        self, index: int, op: Operation, message: Any, prefix: Any, update: Any = None
    ) -> SetOperation:
        where = f"operation {index} ({op.name.lower()} {_raw_text(prefix, message)})"
        try:
            path = to_data_path(message, prefix)
            if op is Operation.DELETE:
                edit = Edit.delete(path)
            else:
                value = decode_update(path, update, self._schema)
                edit = (
                    Edit.replace(path, value)
                    if op is Operation.REPLACE
                    else Edit.update(path, value)
                )
        except GnmiError as err:
            raise err.with_context(where) from None
        return SetOperation(op, message, path, edit)

    async def run(self, plan: SetPlan, meta: Mapping[str, Any]) -> SetOutcome:
        """Arbitrates and commits; raises GnmiError (nothing applied) on failure."""
        async with self._lock:
            self._arbiter.admit(plan.extensions.arbitration)
            try:
                return await asyncio.to_thread(self._commit, plan, meta)
            except DatastoreError as err:
                raise self._error(plan, err) from None

    def _commit(self, plan: SetPlan, meta: Mapping[str, Any]) -> SetOutcome:
        commit = plan.extensions.commit
        edits = [o.edit for o in plan.operations]
        if commit is not None and commit.action is not CommitAction.COMMIT:
            return self._commit_action(plan, commit)
        if not edits and commit is None:
            return self._outcome(plan, timestamp_ns(self._clock), None, "nothing to change")
        confirm = (commit.commit_id, commit.rollback_ns) if commit is not None else None
        result = self._datastore.commit(edits, confirm=confirm, meta=meta)
        if not result.changes and commit is None:
            summary = f"no change (version {result.version})"
        else:
            summary = f"committed version {result.version}"
            if commit is not None:
                summary += f" awaiting confirmation of commit {commit.commit_id!r}"
        return self._outcome(plan, result.timestamp_ns, result.version, summary)

    def _commit_action(self, plan: SetPlan, commit: CommitRequest) -> SetOutcome:
        if commit.action is CommitAction.CONFIRM:
            pending = self._datastore.confirm_commit(commit.commit_id)
            summary = f"confirmed commit {commit.commit_id!r} (version {pending.version})"
            return self._outcome(plan, timestamp_ns(self._clock), pending.version, summary)
        if commit.action is CommitAction.CANCEL:
            result = self._datastore.cancel_commit(commit.commit_id)
            summary = (
                f"cancelled commit {commit.commit_id!r}: rolled back as version {result.version}"
            )
            return self._outcome(plan, result.timestamp_ns, result.version, summary)
        pending = self._datastore.set_rollback_timeout(commit.commit_id, commit.rollback_ns)
        summary = (
            f"commit {commit.commit_id!r} now rolls back after {commit.rollback_ns / 1e9:g} s "
            "unless confirmed"
        )
        return self._outcome(plan, timestamp_ns(self._clock), pending.version, summary)

    def _outcome(
        self, plan: SetPlan, timestamp: int, version: int | None, summary: str
    ) -> SetOutcome:
        response = gnmi_pb2.SetResponse(
            prefix=plan.prefix,
            timestamp=max(timestamp, 1),
            response=[gnmi_pb2.UpdateResult(path=o.message, op=int(o.op)) for o in plan.operations],
        )
        return SetOutcome(response, version, summary)

    @staticmethod
    def _error(plan: SetPlan, err: DatastoreError) -> GnmiError:
        index = err.op_index
        if index is not None and 0 <= index < len(plan.operations):
            return gnmi_error(err, f"operation {index} ({plan.operations[index].describe()})")
        return gnmi_error(err)


def _raw_text(prefix: Any, message: Any) -> str:
    """A path as the client wrote it, for messages about paths that do not parse (long
    names and values shortened, so the reason after the path stays readable)."""
    parts: list[str] = []
    for part in (prefix, message):
        if part is None:
            continue
        for elem in part.elem[:RAW_TEXT_ELEMS]:
            keys = "".join(f"[{_short(k)}={_short(v)}]" for k, v in sorted(elem.key.items()))
            parts.append(f"{_short(elem.name)}{keys}")
        parts.extend(_short(text) for text in part.element[:RAW_TEXT_ELEMS])
        if max(len(part.elem), len(part.element)) > RAW_TEXT_ELEMS:
            parts.append("...")
    return "/" + "/".join(parts)


RAW_TEXT_ELEMS = 16
RAW_TEXT_CHARS = 64


def _short(text: str) -> str:
    if len(text) <= RAW_TEXT_CHARS:
        return text
    return f"{text[:RAW_TEXT_CHARS]}...({len(text)} characters)"
