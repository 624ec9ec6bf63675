"""What each role may do over gNMI.

- admin: read and change everything.
- read-only (alias operator): read everything; every Set is refused.
- tenant: refused for Get and Set until per-slice path rules exist, because a tenant
  must never see or change another tenant's slices; Capabilities is allowed.

Refusals are PERMISSION_DENIED with a message that says which rule applied.
"""

from __future__ import annotations

from agent.gnmi.errors import GnmiError
from agent.northbound.status import permission_denied
from agent.security.users import Role, User

TENANT_NOT_YET = (
    "per-slice access for tenants is not available yet: tenant {name!r} may use Capabilities only"
)


def check_read(user: User) -> None:
    """Raises PERMISSION_DENIED unless ``user`` may read the whole tree."""
    if user.role.can_read_all:
        return
    raise _denied(user, "read")


def check_write(user: User) -> None:
    """Raises PERMISSION_DENIED unless ``user`` may change the configuration."""
    if user.role.can_write_all:
        return
    if user.role is Role.READ_ONLY:
        raise permission_denied(
            f"user {user.name!r} has the read-only role and may not change the configuration"
        )
    raise _denied(user, "write")


def _denied(user: User, action: str) -> GnmiError:
    if user.role is Role.TENANT:
        return permission_denied(TENANT_NOT_YET.format(name=user.name))
    return permission_denied(f"user {user.name!r} ({user.role.value}) may not {action}")
