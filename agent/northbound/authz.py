"""What each role may do over gNMI before the service core's views and policy apply.

- admin: read and change everything;
- read-only (alias operator): read everything; every Set is refused;
- tenant: read and change, always within its tenant view (the service core decides
  what that view holds and what in it may change).

Refusals are PERMISSION_DENIED with a message that says which rule applied.
"""

from __future__ import annotations

from agent.northbound.status import permission_denied
from agent.security.users import Role, User


def check_read(user: User) -> None:
    """Every role may read (a tenant only its view)."""
    return None


def check_write(user: User) -> None:
    """Raises PERMISSION_DENIED when ``user``'s role may not change the configuration."""
    if user.role is Role.READ_ONLY:
        raise permission_denied(
            f"user {user.name!r} has the read-only role and may not change the configuration"
        )
