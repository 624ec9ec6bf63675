"""Principals: users as policy sees them, with their derived groups."""

from __future__ import annotations

import pytest

from agent.security.users import Role, User
from agent.service.principal import Principal


def test_groups_are_derived_from_role_and_tenant() -> None:
    assert Principal.of(User("ann", Role.ADMIN)).groups == {"admin"}
    assert Principal.of(User("noc", Role.READ_ONLY)).groups == {"operator"}
    acme = Principal.of(User("acme", Role.TENANT, "operator-a"))
    assert acme == Principal("acme", Role.TENANT, "operator-a")
    assert acme.groups == {"tenant", "tenant:operator-a"}
    assert acme.identities == {"*", "user:acme", "group:tenant", "group:tenant:operator-a"}


def test_extra_groups_keep_the_derived_ones() -> None:
    ann = Principal("ann", Role.ADMIN, groups=frozenset({"night-shift"}))
    assert ann.groups == {"admin", "night-shift"}
    assert "group:night-shift" in ann.identities


def test_a_tenant_goes_with_the_tenant_role_only() -> None:
    with pytest.raises(ValueError, match="tenant role only"):
        Principal("acme", Role.TENANT)
    with pytest.raises(ValueError, match="tenant role only"):
        Principal("ann", Role.ADMIN, "operator-a")
    with pytest.raises(ValueError, match="invalid user name"):
        Principal("no such name", Role.ADMIN)


def test_describe() -> None:
    acme = Principal("acme", Role.TENANT, "operator-a")
    assert acme.describe() == "user 'acme' (groups tenant, tenant:operator-a)"
