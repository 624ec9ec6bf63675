"""gnmi_ext extensions a request may carry, parsed and checked.

Supported: master arbitration and commit-confirmed on Set, depth on Get. Extensions that
make no sense for an RPC (depth on Set, arbitration on Get, ...) are INVALID_ARGUMENT;
extensions we do not implement (history, registered ones) are UNIMPLEMENTED rather than
silently ignored, since ignoring them would answer a different question.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

from agent.gnmi.errors import GnmiError
from agent.service.writes import Arbitration, CommitAction, CommitRequest

__all__ = [
    "Arbitration",
    "CommitAction",
    "CommitRequest",
    "SetExtensions",
    "check_capabilities",
    "check_subscribe",
    "get_depth",
    "set_extensions",
]

NS_PER_S = 1_000_000_000


@dataclass(frozen=True, slots=True)
class SetExtensions:
    """The extensions of a SetRequest."""

    arbitration: Arbitration | None = None
    commit: CommitRequest | None = None


def _kind(extension: Any) -> str:
    kind = extension.WhichOneof("ext")
    return str(kind) if kind else "empty"


IMPLEMENTED: Final = frozenset({"master_arbitration", "commit", "depth"})
"""Extension kinds this agent implements (each for some RPCs only)."""


def _unsupported(kind: str, rpc: str) -> GnmiError:
    """A kind we implement elsewhere does not apply here (INVALID_ARGUMENT); any other
    kind (history, registered, config_subscription, one unknown to us) is UNIMPLEMENTED."""
    if kind in IMPLEMENTED:
        return GnmiError.invalid_argument(f"the {kind} extension does not apply to {rpc}")
    if kind == "empty":
        return GnmiError.unimplemented(
            f"{rpc} carries an extension of a kind this agent does not know"
        )
    return GnmiError.unimplemented(f"the {kind} extension is not supported")


def set_extensions(extensions: Iterable[Any]) -> SetExtensions:
    """Parses a SetRequest's extensions; each kind may appear once."""
    arbitration: Arbitration | None = None
    commit: CommitRequest | None = None
    for extension in extensions:
        kind = _kind(extension)
        if kind == "master_arbitration":
            if arbitration is not None:
                raise GnmiError.invalid_argument("master_arbitration given twice")
            arbitration = _arbitration(extension.master_arbitration)
        elif kind == "commit":
            if commit is not None:
                raise GnmiError.invalid_argument("commit given twice")
            commit = _commit(extension.commit)
        else:
            raise _unsupported(kind, "Set")
    return SetExtensions(arbitration, commit)


def get_depth(extensions: Iterable[Any]) -> int:
    """The depth a GetRequest asks for (0: no limit)."""
    depth: int | None = None
    for extension in extensions:
        kind = _kind(extension)
        if kind != "depth":
            raise _unsupported(kind, "Get")
        if depth is not None:
            raise GnmiError.invalid_argument("depth given twice")
        depth = int(extension.depth.level)
    return depth or 0


def check_capabilities(extensions: Iterable[Any]) -> None:
    """Capabilities takes no extensions."""
    for extension in extensions:
        raise _unsupported(_kind(extension), "Capabilities")


def check_subscribe(extensions: Iterable[Any]) -> None:
    """Subscribe takes no extensions: history and registered ones are UNIMPLEMENTED
    (answering without them would be a different answer), others INVALID_ARGUMENT."""
    for extension in extensions:
        raise _unsupported(_kind(extension), "Subscribe")


def _arbitration(message: Any) -> Arbitration:
    if not message.HasField("election_id"):
        raise GnmiError.invalid_argument("master_arbitration without an election_id")
    election = message.election_id
    role = message.role.id if message.HasField("role") else ""
    return Arbitration(role, (int(election.high) << 64) | int(election.low))


def _commit(message: Any) -> CommitRequest:
    if not message.id:
        raise GnmiError.invalid_argument("the commit extension needs an id")
    action = message.WhichOneof("action")
    if action == "commit":
        rollback = _duration_ns(message.commit.rollback_duration, "rollback_duration")
        return CommitRequest(message.id, CommitAction.COMMIT, rollback)
    if action == "confirm":
        return CommitRequest(message.id, CommitAction.CONFIRM)
    if action == "cancel":
        return CommitRequest(message.id, CommitAction.CANCEL)
    if action == "set_rollback_duration":
        duration = message.set_rollback_duration
        if not duration.HasField("rollback_duration"):
            raise GnmiError.invalid_argument("set_rollback_duration needs a rollback_duration")
        rollback = _duration_ns(duration.rollback_duration, "rollback_duration")
        if rollback <= 0:
            raise GnmiError.invalid_argument("the rollback duration must be above 0")
        return CommitRequest(message.id, CommitAction.SET_ROLLBACK_DURATION, rollback)
    raise GnmiError.invalid_argument(
        "the commit extension needs an action: commit, confirm, cancel or set_rollback_duration"
    )


def _duration_ns(duration: Any, what: str) -> int:
    ns = int(duration.seconds) * NS_PER_S + int(duration.nanos)
    if ns < 0:
        raise GnmiError.invalid_argument(f"{what} must not be negative")
    return ns
