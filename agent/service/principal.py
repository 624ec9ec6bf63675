"""Who is asking: the principal that policy rules name.

A principal is an authenticated user seen as policy sees it: its name, role, tenant (for
the tenant role) and groups. Groups are derived, never stored: the role's group
(``admin``, ``operator`` for the read-only role, ``tenant``) and, for a tenant user,
``tenant:NAME``. Rules name principals as ``user:NAME``, ``group:NAME`` or ``*``
(everyone authenticated); :attr:`Principal.identities` holds those forms.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from agent.security.users import Role, User, validate_tenant_name, validate_user_name

EVERYONE = "*"
USER_PREFIX = "user:"
GROUP_PREFIX = "group:"
TENANT_GROUP_PREFIX = "tenant:"


def role_group(role: Role) -> str:
    """The group every user of ``role`` is in."""
    if role is Role.ADMIN:
        return "admin"
    if role is Role.READ_ONLY:
        return "operator"
    return "tenant"


def tenant_group(tenant: str) -> str:
    """The group of the users acting for ``tenant``."""
    return TENANT_GROUP_PREFIX + tenant


@dataclass(frozen=True)
class Principal:
    """A user as policy sees it; ``groups`` always holds the derived groups."""

    name: str
    role: Role
    tenant: str | None = None
    groups: frozenset[str] = frozenset()
    identities: frozenset[str] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        validate_user_name(self.name)
        if (self.role is Role.TENANT) != (self.tenant is not None):
            raise ValueError(f"principal {self.name!r}: a tenant goes with the tenant role only")
        derived = {role_group(self.role)}
        if self.tenant is not None:
            derived.add(tenant_group(validate_tenant_name(self.tenant)))
        groups = frozenset(self.groups) | derived
        object.__setattr__(self, "groups", groups)
        names = {EVERYONE, USER_PREFIX + self.name, *(GROUP_PREFIX + g for g in groups)}
        object.__setattr__(self, "identities", frozenset(names))

    @classmethod
    def of(cls, user: User) -> Principal:
        """The principal of an authenticated user."""
        return cls(user.name, user.role, user.tenant)

    def describe(self) -> str:
        """``user 'acme' (groups tenant, tenant:operator-a)``, for explanations."""
        return f"user {self.name!r} (groups {', '.join(sorted(self.groups))})"
