"""What SIGHUP reloads: the TLS material, the user database and the policy file.

Each part is read again on its own; a part that cannot be used keeps what was in force
and is reported (logged as an error), the others still reload. Nothing that is running
stops: open connections and Subscribe streams go on, new connections get the new
certificate, every login from then on sees the user database as it is on disk (streams
of a removed user, or one whose password or role changed, end as they do whenever the
file changes), and every request from then on is decided by the new policy.
"""

from __future__ import annotations

import logging
from collections.abc import Sized
from dataclasses import dataclass
from typing import Protocol

from agent.security.errors import TlsMaterialError, UserDatabaseError
from agent.security.tls import TlsMaterial

log = logging.getLogger(__name__)


class TlsSource(Protocol):
    """Server TLS material that can be read again (ReloadableTls)."""

    def reload(self) -> TlsMaterial: ...


class UserSource(Protocol):
    """The user database (UserStore)."""

    def refresh(self) -> int: ...

    def users(self) -> tuple[object, ...]: ...


class RuleSet(Protocol):
    """A policy (agent.service.policy.Policy)."""

    @property
    def rules(self) -> Sized: ...


class PolicySource(Protocol):
    """The policy file (PolicyStore)."""

    def reload(self) -> RuleSet: ...

    @property
    def problem(self) -> str | None: ...


@dataclass(frozen=True)
class ReloadReport:
    """What one reload did: a line per part, and the parts that could not be used."""

    done: tuple[str, ...]
    problems: tuple[str, ...]


class Reloader:
    """Reloads the parts of a running agent (blocking: run it off the event loop)."""

    def __init__(self, *, tls: TlsSource | None, users: UserSource, policy: PolicySource) -> None:
        self._tls = tls
        self._users = users
        self._policy = policy

    def reload(self) -> ReloadReport:
        """Reloads every part; logs and returns what happened."""
        done: list[str] = []
        problems: list[str] = []
        if self._tls is not None:
            try:
                material = self._tls.reload()
            except TlsMaterialError as err:
                problems.append(f"TLS: {err}; the certificate in use stays")
            else:
                done.append(f"TLS: {material.server_cert_path} for new connections")
        try:
            self._users.refresh()
            done.append(f"users: {len(self._users.users())}")
        except UserDatabaseError as err:
            problems.append(f"users: {err}")
        rules = len(self._policy.reload().rules)
        if self._policy.problem is not None:
            problems.append(f"policy: {self._policy.problem}")
        done.append(f"policy: {rules} rules in force")
        for problem in problems:
            log.error("reload: %s", problem)
        log.info("reloaded on SIGHUP: %s", "; ".join(done))
        return ReloadReport(tuple(done), tuple(problems))
