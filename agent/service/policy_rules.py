"""Policy rules: who (principals) may or may not (effect) read or write (action) where (path).

A rule's path is a pattern (see agent.schema.pattern): ``*`` one element, ``...`` any
number of elements, a key value ``*`` or no keys at all any list entry; module
qualifiers are ignored. A rule applies to the nodes its path matches and everything
below them, so a rule on ``/slices`` covers every slice.

Specificity orders rules that apply to the same node: first the number of path
elements (``...`` not counted: it may stand for none), then the number of concrete key
values, then the number of concrete element names (not ``*``); at equal specificity a
deny beats a permit.

The built-in rules give each role what it may do at all, and come before any rule of
the policy file:

- admin: permit read and write on ``/``;
- operator (the read-only role): permit read on ``/``;
- tenant: permit read on ``/slices``, ``/ports``, ``/tenants``; permit write on
  ``/slices``; deny write on ``/ports``, ``/tenants``, ``/platform``; deny read on
  ``/platform``. Which slices, ports and tenant entries a tenant user sees is decided
  by its tenant view, from data ownership, not by these rules.

The built-in denies beat a permit of the file on the same path (deny wins at equal
specificity); a file rule on a longer path overrides them.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final

from agent.schema.path import ANY_DEPTH, ANY_ONE, DataPath, PathElem
from agent.schema.pattern import PathPattern
from agent.security.users import is_user_name, validate_tenant_name
from agent.service.principal import (
    EVERYONE,
    GROUP_PREFIX,
    TENANT_GROUP_PREFIX,
    USER_PREFIX,
    Principal,
)

ROLE_GROUPS: Final = ("admin", "operator", "tenant")
BUILTIN_PREFIX = "builtin:"
_RULE_NAME = re.compile(r"[A-Za-z0-9._:-]{1,64}")

Rank = tuple[int, int, int, int]


class Action(enum.StrEnum):
    """What a request does to the nodes it names."""

    READ = "read"
    WRITE = "write"


class Effect(enum.StrEnum):
    """What a rule says about its nodes."""

    PERMIT = "permit"
    DENY = "deny"


class RuleError(ValueError):
    """A rule that cannot be built; the message says which part is wrong."""


def specificity(path: DataPath) -> tuple[int, int, int]:
    """(elements other than ``...``, concrete key values, concrete element names)."""
    elems = path.elems
    depth = sum(1 for e in elems if e.name != ANY_DEPTH)
    keys = sum(1 for e in elems for _, value in e.keys if value != ANY_ONE)
    names = sum(1 for e in elems if e.name not in (ANY_ONE, ANY_DEPTH))
    return depth, keys, names


def is_rule_name(name: str) -> bool:
    """True for 1-64 characters from ``A-Z a-z 0-9 . _ : -``."""
    return isinstance(name, str) and _RULE_NAME.fullmatch(name) is not None


def check_principal(text: str) -> str:
    """Returns ``text`` if it names principals (``*``, ``user:NAME``, ``group:G``)."""
    if text == EVERYONE:
        return text
    if text.startswith(USER_PREFIX):
        if is_user_name(text[len(USER_PREFIX) :]):
            return text
        raise RuleError(f"principal {text!r}: not a valid user name")
    if text.startswith(GROUP_PREFIX):
        group = text[len(GROUP_PREFIX) :]
        if group in ROLE_GROUPS:
            return text
        if group.startswith(TENANT_GROUP_PREFIX):
            try:
                validate_tenant_name(group[len(TENANT_GROUP_PREFIX) :])
            except ValueError as exc:
                raise RuleError(f"principal {text!r}: {exc}") from None
            return text
        raise RuleError(
            f"principal {text!r}: unknown group {group!r} "
            "(groups are admin, operator, tenant and tenant:NAME)"
        )
    raise RuleError(f"principal {text!r}: use '*', 'user:NAME' or 'group:NAME'")


@dataclass(frozen=True)
class Rule:
    """One rule; ``principals`` holds ``*``, ``user:NAME`` and ``group:NAME`` forms."""

    name: str
    principals: frozenset[str]
    path: DataPath
    action: Action
    effect: Effect
    pattern: PathPattern = field(init=False, compare=False, repr=False)
    rank: Rank = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not is_rule_name(self.name):
            raise RuleError(
                f"invalid rule name {self.name!r}: use 1-64 characters from A-Z a-z 0-9 . _ : -"
            )
        if not self.principals:
            raise RuleError("a rule needs at least one principal")
        for principal in self.principals:
            check_principal(principal)
        object.__setattr__(self, "action", Action(self.action))
        object.__setattr__(self, "effect", Effect(self.effect))
        object.__setattr__(self, "pattern", PathPattern(self.path))
        deny = 1 if self.effect is Effect.DENY else 0
        object.__setattr__(self, "rank", (*specificity(self.path), deny))

    @classmethod
    def of(
        cls,
        name: str,
        principals: Iterable[str],
        path: str | DataPath,
        action: Action | str,
        effect: Effect | str,
    ) -> Rule:
        """A rule from plain values; raises RuleError (or PathSyntaxError) when one is bad."""
        parsed = DataPath.parse(path) if isinstance(path, str) else path
        try:
            return cls(name, frozenset(principals), parsed, Action(action), Effect(effect))
        except ValueError as exc:
            if isinstance(exc, RuleError):
                raise
            raise RuleError(str(exc)) from None

    def applies_to(self, principal: Principal) -> bool:
        """True when the rule names the principal (its user, a group of it, or ``*``)."""
        return not self.principals.isdisjoint(principal.identities)

    def describe(self) -> str:
        """``'name' (permit read /slices for group:tenant)``."""
        who = ", ".join(sorted(self.principals))
        return f"{self.name!r} ({self.effect} {self.action} {self.path} for {who})"


def _builtin(name: str, group: str, path: str, action: Action, effect: Effect) -> Rule:
    return Rule.of(BUILTIN_PREFIX + name, (GROUP_PREFIX + group,), path, action, effect)


_R, _W, _P, _D = Action.READ, Action.WRITE, Effect.PERMIT, Effect.DENY
BUILTIN_RULES: Final[tuple[Rule, ...]] = (
    _builtin("admin-read", "admin", "/", _R, _P),
    _builtin("admin-write", "admin", "/", _W, _P),
    _builtin("operator-read", "operator", "/", _R, _P),
    _builtin("tenant-read-slices", "tenant", "/slices", _R, _P),
    _builtin("tenant-read-ports", "tenant", "/ports", _R, _P),
    _builtin("tenant-read-tenants", "tenant", "/tenants", _R, _P),
    _builtin("tenant-write-slices", "tenant", "/slices", _W, _P),
    _builtin("tenant-no-write-ports", "tenant", "/ports", _W, _D),
    _builtin("tenant-no-write-tenants", "tenant", "/tenants", _W, _D),
    _builtin("tenant-no-write-platform", "tenant", "/platform", _W, _D),
    _builtin("tenant-no-read-platform", "tenant", "/platform", _R, _D),
)
"""What each role may do at all, loaded before the policy file's rules."""


def overlaps(a: DataPath, b: DataPath) -> bool:
    """True when some node is selected by both patterns (each selecting the nodes it
    matches and everything below them). Runs both patterns side by side over one
    imagined path, so it costs (len a) x (len b) steps at most."""
    x, y = a.elems, b.elems
    seen: set[tuple[int, int]] = set()
    todo = [(0, 0)]
    while todo:
        state = todo.pop()
        if state in seen:
            continue
        seen.add(state)
        i, j = state
        if i == len(x) or j == len(y):
            return True
        ex, ey = x[i], y[j]
        if ex.name == ANY_DEPTH:
            todo.append((i + 1, j))
        if ey.name == ANY_DEPTH:
            todo.append((i, j + 1))
        if ex.name == ANY_DEPTH and ey.name == ANY_DEPTH:
            continue
        if _compatible(ex, ey):
            todo.append((i + (ex.name != ANY_DEPTH), j + (ey.name != ANY_DEPTH)))
    return False


def _compatible(a: PathElem, b: PathElem) -> bool:
    """True when one element can match both ``a`` and ``b``."""
    if ANY_DEPTH in (a.name, b.name):
        return True
    if a.name != b.name and ANY_ONE not in (a.name, b.name):
        return False
    theirs = dict(b.keys)
    for key, value in a.keys:
        other = theirs.get(key)
        if other is not None and ANY_ONE not in (value, other) and other != value:
            return False
    return True
