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
from dataclasses import dataclass
from typing import Any

from agent.clock import Clock
from agent.datastore.edits import Edit
from agent.gnmi.encoding import decode_update
from agent.gnmi.errors import GnmiError, path_text
from agent.gnmi.paths import to_data_path
from agent.gnmi.pb import gnmi_pb2
from agent.gnmi.schema_info import SchemaInfo
from agent.gnmi.timestamps import timestamp_ns
from agent.northbound.extensions import CommitAction, SetExtensions, set_extensions
from agent.northbound.status import CODE_OF_KIND, service_error
from agent.schema.characters import visible
from agent.schema.path import DataPath
from agent.security.audit import AuditOperation
from agent.service.errors import Kind, ServiceError
from agent.service.rates import RateExceeded
from agent.service.views import View
from agent.service.writes import WriteRequest, WriteService

MAX_REFUSAL_DELAY_S = 1.0
"""The longest a refusal over a rate quota is held back."""


class Operation(enum.IntEnum):
    """gnmi.UpdateResult.Operation."""

    DELETE = 1
    REPLACE = 2
    UPDATE = 3


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
    """Decodes SetRequests and runs them through the service core's writes."""

    def __init__(self, writes: WriteService, schema: SchemaInfo, clock: Clock) -> None:
        self._writes = writes
        self._schema = schema
        self._clock = clock

    @property
    def writes(self) -> WriteService:
        return self._writes

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

    async def admit_rate(self, user: Any) -> None:
        """Takes one write of the user's rate quota (before decoding); GnmiError when
        it is used up, answered only once a token would be there again, so a client
        retrying at once cannot turn refusals into a flood of their own."""
        try:
            self._writes.admit_rate(user)
        except RateExceeded as err:
            await asyncio.sleep(min(err.retry_after_s, MAX_REFUSAL_DELAY_S))
            raise service_error(err) from None

    async def run(self, plan: SetPlan, user: Any, view: View, peer: str, rpc: str) -> SetOutcome:
        """Commits through the service core; raises GnmiError (nothing applied, audited)."""
        request = WriteRequest(
            principal=user,
            view=view,
            edits=tuple(o.edit for o in plan.operations),
            operations=audit_operations(plan),
            arbitration=plan.extensions.arbitration,
            commit=plan.extensions.commit,
            peer=peer,
            rpc=rpc,
            rate_admitted=True,
        )
        try:
            outcome = await self._writes.write(request, _code_name)
        except ServiceError as err:
            raise self._error(plan, err) from None
        timestamp = outcome.timestamp_ns or timestamp_ns(self._clock)
        response = gnmi_pb2.SetResponse(
            prefix=plan.prefix,
            timestamp=max(timestamp, 1),
            response=[gnmi_pb2.UpdateResult(path=o.message, op=int(o.op)) for o in plan.operations],
        )
        return SetOutcome(response, outcome.version, outcome.summary)

    @staticmethod
    def _error(plan: SetPlan, err: ServiceError) -> GnmiError:
        index = err.op_index
        if index is not None and 0 <= index < len(plan.operations):
            return service_error(err, f"operation {index} ({plan.operations[index].describe()})")
        return service_error(err)


def audit_operations(plan: SetPlan) -> tuple[AuditOperation, ...]:
    """The plan's operations as the audit log lists them."""
    return tuple(AuditOperation(o.op.name.lower(), str(o.path)) for o in plan.operations)


def _code_name(kind: Kind | None) -> str:
    return "OK" if kind is None else CODE_OF_KIND[kind].name


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
        return visible(text)
    return f"{visible(text[:RAW_TEXT_CHARS])}...({len(text)} characters)"
