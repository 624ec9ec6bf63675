"""Master arbitration (gnmi-master-arbitration.md): the highest election id per role.

A Set with an election id equal to or above the highest seen for its role is accepted
(and raises the stored id); a lower one is PERMISSION_DENIED. A Set without the
extension is accepted. Ids live in memory: after a restart the first master to send a
Set claims its role again.
"""

from __future__ import annotations

from agent.gnmi.errors import GnmiError
from agent.northbound.extensions import Arbitration
from agent.northbound.status import permission_denied


class Arbiter:
    """The highest election id seen per role; callers serialise ``admit``."""

    def __init__(self) -> None:
        self._highest: dict[str, int] = {}

    def highest(self, role: str = "") -> int | None:
        """The highest election id seen for ``role``, if any."""
        return self._highest.get(role)

    def admit(self, arbitration: Arbitration | None) -> None:
        """Accepts the Set (storing a higher id) or raises PERMISSION_DENIED."""
        if arbitration is None:
            return
        current = self._highest.get(arbitration.role)
        if current is not None and arbitration.election_id < current:
            raise _stale(arbitration, current)
        self._highest[arbitration.role] = arbitration.election_id


def _stale(arbitration: Arbitration, current: int) -> GnmiError:
    role = f"role {arbitration.role!r}" if arbitration.role else "the default role"
    return permission_denied(
        f"election id {arbitration.election_id} is below the highest election id {current} "
        f"seen for {role}: not the master"
    )
