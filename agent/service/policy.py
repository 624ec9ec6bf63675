"""The policy engine: may this principal read or write this path?

Rules (agent.service.policy_rules) name principals, a path pattern, an action and an
effect. The decision for (principal, path, action): among the rules for that principal
and action whose path matches ``path`` or one of its ancestors, the most specific wins
(longest path, then more concrete keys, then more concrete names); at equal specificity
deny beats permit; when no rule matches, the answer is deny. The built-in role rules
come first, then the policy file's rules in file order (which only names the deciding
rule among equals: the effect never depends on order).

:meth:`Policy.decide` answers for one node. Its path should be concrete: a wildcard,
or a list element without keys, is matched as written, so only rules that hold for
every node it stands for apply (``/slices/slice`` is the list as a whole, which a rule
on ``/slices/slice[name=embb]`` does not cover); authorize what a wildcard selects with
:meth:`Policy.filter`, or node by node. :meth:`Policy.filter` prunes a subtree (see
agent.service.policy_filter), :meth:`Policy.may_reach` tells whether anything at or
below a path (wildcards allowed) could be permitted, and :meth:`Policy.is_uniform`
whether a whole subtree shares its top's decision.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from agent.schema.path import ANY_DEPTH, ANY_ONE, DataPath
from agent.service.policy_filter import KeysOf, Pruner, start
from agent.service.policy_rules import (
    BUILTIN_RULES,
    Action,
    Effect,
    Rule,
    RuleError,
    overlaps,
)
from agent.service.principal import Principal

__all__ = [
    "BUILTIN_RULES",
    "Action",
    "Decision",
    "Effect",
    "KeysOf",
    "Policy",
    "Rule",
    "RuleError",
]

_CACHE_LIMIT = 1024


@dataclass(frozen=True)
class Decision:
    """The answer for one node: the effect, the rule that decided (None: no rule
    matched) and a one-line explanation."""

    effect: Effect
    rule: Rule | None
    explanation: str

    @property
    def permitted(self) -> bool:
        return self.effect is Effect.PERMIT


class Policy:
    """An immutable rule set (built-in rules first unless ``builtin`` is False)."""

    def __init__(self, rules: Iterable[Rule] = (), *, builtin: bool = True) -> None:
        self.rules: tuple[Rule, ...] = (*(BUILTIN_RULES if builtin else ()), *rules)
        self._lock = threading.Lock()
        self._applicable: dict[tuple[frozenset[str], Action, str], tuple[Rule, ...]] = {}

    def rules_for(
        self, principal: Principal, action: Action, path: DataPath | None = None
    ) -> tuple[Rule, ...]:
        """The rules that name ``principal`` for ``action``, in order; with ``path``, only
        those that can match at or below it (judged by its first element)."""
        first = path.elems[0].name if path is not None and path.elems else ANY_DEPTH
        key = (principal.identities, action, first)
        with self._lock:
            found = self._applicable.get(key)
        if found is None:
            found = tuple(
                r
                for r in self.rules
                if r.action is action and r.applies_to(principal) and _may_start(r, first)
            )
            with self._lock:
                if len(self._applicable) >= _CACHE_LIMIT:
                    self._applicable.clear()
                self._applicable[key] = found
        return found

    def decide(self, principal: Principal, path: DataPath, action: Action) -> Decision:
        """Whether ``principal`` may ``action`` the node at ``path``, and why."""
        rules = self.rules_for(principal, action, path)
        best: Rule | None = None
        for rule in rules:
            if rule.pattern.covers(path) and (best is None or rule.rank > best.rank):
                best = rule
        where = f"{action} {path}"
        if best is None:
            return Decision(
                Effect.DENY,
                None,
                f"deny: no rule gives {principal.describe()} {where} (implicit deny)",
            )
        explanation = f"{best.effect}: rule {best.describe()} is the most specific for {where}"
        if best.effect is Effect.DENY:
            equal = best.rank[:3]
            rivals = [
                r
                for r in rules
                if r.effect is Effect.PERMIT and r.rank[:3] == equal and r.pattern.covers(path)
            ]
            if rivals:
                explanation += f"; deny beats the equally specific permit rule {rivals[0].name!r}"
        return Decision(best.effect, best, explanation)

    def matching(self, principal: Principal, path: DataPath, action: Action) -> tuple[Rule, ...]:
        """Every rule that applies to the node at ``path``, the deciding one first."""
        rules = [r for r in self.rules_for(principal, action, path) if r.pattern.covers(path)]
        ordered = sorted(enumerate(rules), key=lambda item: (item[1].rank, -item[0]), reverse=True)
        return tuple(rule for _, rule in ordered)

    def may_reach(self, principal: Principal, path: DataPath, action: Action) -> bool:
        """True when a node at or below ``path`` (wildcards allowed) could be permitted.

        Never False when something there is permitted; may be True when every permit
        below is shadowed by an equally or more specific deny.
        """
        rules = self.rules_for(principal, action, path)
        shadow: Rule | None = None
        if not any(e.name in (ANY_ONE, ANY_DEPTH) for e in path.elems):
            shadow, _ = start(rules, path)
            if shadow is not None and shadow.effect is Effect.PERMIT:
                return True
        return any(
            rule.effect is Effect.PERMIT
            and (shadow is None or rule.rank > shadow.rank)
            and overlaps(rule.path, path)
            for rule in rules
        )

    def filter(
        self,
        principal: Principal,
        path: DataPath,
        value: Any,
        action: Action = Action.READ,
        *,
        keys_of: KeysOf,
    ) -> Any | None:
        """``value`` (RFC 7951, the node at ``path``) pruned to what ``principal`` may
        ``action``; None when nothing is. A keyless last element with a JSON array of
        objects means the entries of that list.

        ``keys_of`` names the key leaves of a list (``SchemaEngine.list_keys`` does).
        Subtrees kept whole are the input's own objects.
        """
        return Pruner(keys_of).value(value, path, self.rules_for(principal, action, path))

    def is_uniform(self, principal: Principal, path: DataPath, action: Action) -> bool:
        """True when every node at and below ``path`` has one decision, that of ``path``
        (e.g. a whole subtree may be replaced). A list element without keys stands for
        every entry; a path with ``*`` or ``...`` is never called uniform."""
        if any(e.name in (ANY_ONE, ANY_DEPTH) for e in path.elems):
            return False
        rules = self.rules_for(principal, action, path)
        best, _ = start(rules, path)
        reverse = Effect.PERMIT if best is None or best.effect is Effect.DENY else Effect.DENY
        return not any(
            rule.effect is reverse
            and (best is None or rule.rank > best.rank)
            and overlaps(rule.path, path)
            for rule in rules
        )


def _may_start(rule: Rule, first: str) -> bool:
    """True when ``rule`` can match a path whose first element is named ``first``."""
    elems = rule.path.elems
    return (
        not elems or first in (ANY_ONE, ANY_DEPTH) or elems[0].name in (first, ANY_ONE, ANY_DEPTH)
    )
