"""Policy decisions: longest match, deny at equal specificity, implicit deny, wildcards."""

from __future__ import annotations

import pytest

from agent.schema.path import DataPath
from agent.security.users import Role
from agent.service.policy import BUILTIN_RULES, Action, Effect, Policy, Rule, RuleError
from agent.service.policy_rules import overlaps, specificity
from agent.service.principal import Principal

READ, WRITE = Action.READ, Action.WRITE
ANN = Principal("ann", Role.ADMIN)
NOC = Principal("noc", Role.READ_ONLY)
ACME = Principal("acme", Role.TENANT, "operator-a")
GLOBEX = Principal("globex", Role.TENANT, "operator-b")


def rule(name: str, path: str, effect: str = "permit", action: str = "read", *who: str) -> Rule:
    return Rule.of(name, who or ("*",), path, action, effect)


def only(*rules: Rule) -> Policy:
    return Policy(rules, builtin=False)


def decided_by(policy: Policy, path: str, principal: Principal = ANN, action: Action = READ) -> str:
    decision = policy.decide(principal, DataPath.parse(path), action)
    name = decision.rule.name if decision.rule else "-"
    return f"{decision.effect}:{name}"


def test_the_longest_matching_path_wins() -> None:
    policy = only(
        rule("all", "/"),
        rule("no-slices", "/slices", "deny"),
        rule("embb", "/slices/slice[name=embb]"),
        rule("no-embb-priority", "/slices/slice[name=embb]/config/priority", "deny"),
    )
    assert decided_by(policy, "/ports/port[name=p1]") == "permit:all"
    assert decided_by(policy, "/slices") == "deny:no-slices"
    assert decided_by(policy, "/slices/slice[name=miot]/config") == "deny:no-slices"
    assert decided_by(policy, "/slices/slice[name=embb]/config/vlan-id") == "permit:embb"
    assert decided_by(policy, "/slices/slice[name=embb]/config/priority") == "deny:no-embb-priority"


def test_deny_beats_permit_at_equal_specificity_whatever_the_order() -> None:
    permit, deny = rule("p", "/slices/slice[name=*]/config"), rule("d", "/slices/*/config", "deny")
    tie_p = rule("p2", "/ports/port/config")
    tie_d = rule("d2", "/ports/port[name=*]/config", "deny")
    for policy in (only(permit, deny, tie_p, tie_d), only(tie_d, tie_p, deny, permit)):
        assert decided_by(policy, "/slices/slice[name=a]/config/mtu") == "permit:p"  # names win
        assert decided_by(policy, "/ports/port[name=a]/config/mtu") == "deny:d2"
    decision = only(tie_p, tie_d).decide(ANN, DataPath.parse("/ports/port[name=a]/config"), READ)
    assert "deny beats the equally specific permit rule 'p2'" in decision.explanation


def test_no_matching_rule_means_deny() -> None:
    policy = only(rule("ports", "/ports"), rule("w", "/", "permit", "write", "user:bob"))
    decision = policy.decide(ANN, DataPath.parse("/slices"), READ)
    assert decision.effect is Effect.DENY and decision.rule is None and not decision.permitted
    assert decision.explanation == (
        "deny: no rule gives user 'ann' (groups admin) read /slices (implicit deny)"
    )
    assert decided_by(policy, "/ports", action=WRITE) == "deny:-"  # another action
    assert decided_by(only(), "/") == "deny:-"


def test_concrete_keys_beat_wildcard_keys() -> None:
    policy = only(
        rule("any-slice", "/slices/slice[name=*]", "deny"),
        rule("embb", "/slices/slice[name=embb]"),
        rule("keyless", "/ports/port", "deny"),
        rule("p1", "/ports/port[name=p1]"),
    )
    assert decided_by(policy, "/slices/slice[name=embb]/state") == "permit:embb"
    assert decided_by(policy, "/slices/slice[name=miot]/state") == "deny:any-slice"
    assert decided_by(policy, "/ports/port[name=p1]") == "permit:p1"
    assert decided_by(policy, "/ports/port[name=p2]") == "deny:keyless"


def test_a_keyed_rule_does_not_cover_the_whole_list() -> None:
    policy = only(rule("embb", "/slices/slice[name=embb]"))
    assert decided_by(policy, "/slices/slice") == "deny:-"
    assert decided_by(policy, "/slices") == "deny:-"


def test_one_level_and_any_depth_wildcards() -> None:
    policy = only(
        rule("base", "/"),
        rule("no-counters", "/.../counters", "deny"),
        rule("no-state", "/*/*/state", "deny"),
        rule("slice-state", "/slices/slice/state"),
    )
    assert decided_by(policy, "/ports/port[name=p1]/state/counters/in-octets") == "deny:no-state"
    assert decided_by(policy, "/ports/port[name=p1]/state/mtu") == "deny:no-state"
    assert decided_by(policy, "/slices/slice[name=a]/state/oper-status") == "permit:slice-state"
    assert decided_by(policy, "/slices/slice[name=a]/state/counters") == "permit:slice-state"
    assert decided_by(policy, "/platform/counters") == "deny:no-counters"
    assert decided_by(policy, "/counters") == "deny:no-counters"  # ... may be no levels
    assert decided_by(policy, "/ports/port[name=p1]/config") == "permit:base"


def test_specificity_does_not_count_any_depth() -> None:
    assert specificity(DataPath.parse("/slices/...")) == specificity(DataPath.parse("/slices"))
    assert specificity(DataPath.parse("/a/b[k=*]/c[x=1]/*")) == (4, 1, 3)
    policy = only(
        rule("deep", "/slices/.../priority", "deny"),  # 2 elements
        rule("config", "/slices/slice/config"),  # 3 elements
        rule("state", "/slices/slice"),  # 2 elements, as specific as "deep"
    )
    assert decided_by(policy, "/slices/slice[name=a]/config/priority") == "permit:config"
    assert decided_by(policy, "/slices/slice[name=a]/state/priority") == "deny:deep"


def test_module_qualifiers_are_ignored() -> None:
    policy = only(rule("q", "/edge-slices:slices/slice[name=a]"), rule("r", "/ports"))
    assert decided_by(policy, "/slices/slice[name=a]/config") == "permit:q"
    assert decided_by(policy, "/edge-ports:ports/port[name=x]") == "permit:r"


def test_principals_name_users_groups_or_everyone() -> None:
    policy = only(
        rule("acme", "/a", "permit", "read", "user:acme"),
        rule("tenants", "/b", "permit", "read", "group:tenant"),
        rule("operator-a", "/c", "permit", "read", "group:tenant:operator-a"),
        rule("all", "/d"),
        rule("admins", "/e", "permit", "read", "group:admin", "user:globex"),
    )
    allowed = {
        p.name: [x for x in "abcde" if policy.decide(p, DataPath.parse(f"/{x}"), READ).permitted]
        for p in (ANN, NOC, ACME, GLOBEX)
    }
    assert allowed == {
        "ann": ["d", "e"],
        "noc": ["d"],
        "acme": ["a", "b", "c", "d"],
        "globex": ["b", "d", "e"],
    }


def test_builtin_role_rules() -> None:
    policy = Policy()
    assert policy.rules[: len(BUILTIN_RULES)] == BUILTIN_RULES
    cases = {
        "/": ("RW", "R-", "--"),
        "/platform/devices/device[name=d1]/config/enabled": ("RW", "R-", "--"),
        "/ports/port[name=p1]/config/mtu": ("RW", "R-", "R-"),
        "/slices/slice[name=embb]/config/priority": ("RW", "R-", "RW"),
        "/slices": ("RW", "R-", "RW"),
        "/tenants/tenant[name=operator-a]/config/max-slices": ("RW", "R-", "R-"),
    }
    for path, wanted in cases.items():
        got = tuple(
            ("R" if policy.decide(p, DataPath.parse(path), READ).permitted else "-")
            + ("W" if policy.decide(p, DataPath.parse(path), WRITE).permitted else "-")
            for p in (ANN, NOC, ACME)
        )
        assert got == wanted, path
    assert decided_by(policy, "/platform", ACME) == "deny:builtin:tenant-no-read-platform"
    assert decided_by(policy, "/ports", ACME, WRITE) == "deny:builtin:tenant-no-write-ports"


def test_builtin_denies_beat_file_permits_on_the_same_path_only() -> None:
    policy = Policy(
        [
            rule("ports", "/ports", "permit", "write", "group:tenant"),
            rule("descr", "/ports/port[name=*]/config/description", "permit", "write", "user:acme"),
        ]
    )
    assert decided_by(policy, "/ports/port[name=p1]/config/mtu", ACME, WRITE).startswith("deny")
    assert decided_by(policy, "/ports/port[name=p1]/config/description", ACME, WRITE) == (
        "permit:descr"
    )


def test_matching_lists_every_applicable_rule_most_specific_first() -> None:
    policy = Policy([rule("prio", "/slices/slice[name=*]/config/priority", "deny", "write")])
    names = [
        r.name
        for r in policy.matching(
            ACME, DataPath.parse("/slices/slice[name=a]/config/priority"), WRITE
        )
    ]
    assert names == ["prio", "builtin:tenant-write-slices"]


def test_may_reach_sees_permits_below_and_through_wildcards() -> None:
    policy = Policy([rule("oper", "/platform/devices/device[name=*]/state/oper-status", "permit")])
    reach = lambda text, who=ACME: policy.may_reach(who, DataPath.parse(text), READ)  # noqa: E731
    assert reach("/platform")  # denied there, permitted below by a more specific rule
    assert reach("/platform/devices/device[name=d1]/state")
    assert not reach("/platform/devices/device[name=d1]/config")
    assert reach("/slices/slice[name=embb]")
    assert reach("/")
    assert reach("/*/devices")
    assert reach("/.../oper-status")
    assert not reach("/platform/*/config")
    assert not policy.may_reach(ACME, DataPath.parse("/ports"), WRITE)
    assert policy.may_reach(ACME, DataPath.parse("/slices/..."), WRITE)
    shadowed = only(rule("p", "/a/b"), rule("d", "/a", "deny"), rule("dd", "/a/b/c", "deny"))
    assert not shadowed.may_reach(ANN, DataPath.parse("/a/b/c"), READ)
    assert shadowed.may_reach(ANN, DataPath.parse("/a"), READ)


def test_is_uniform_tells_whether_a_subtree_shares_the_decision() -> None:
    policy = Policy([rule("prio", "/slices/slice[name=*]/config/priority", "deny", "write")])
    uniform = lambda text: policy.is_uniform(ACME, DataPath.parse(text), WRITE)  # noqa: E731
    assert not uniform("/slices")
    assert uniform("/slices/slice[name=a]/members")
    assert uniform("/ports")
    assert not policy.is_uniform(ACME, DataPath.parse("/"), READ)
    embb = only(rule("all", "/", "permit", "write"), rule("embb", "/s/e[n=embb]", "deny", "write"))
    for text, expected in [("/s/e", False), ("/s/e[n=embb]/c", True), ("/s/e[n=miot]", True)]:
        assert embb.is_uniform(ANN, DataPath.parse(text), WRITE) is expected, text
    assert not embb.is_uniform(ANN, DataPath.parse("/s/*/c"), WRITE)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("/slices", "/slices/slice[name=a]/config", True),
        ("/slices/slice[name=a]", "/slices/slice[name=b]", False),
        ("/slices/slice[name=*]/config", "/slices/slice[name=b]", True),
        ("/slices/slice/config", "/slices/slice[name=b]/state", False),
        ("/.../counters", "/ports/port/state", True),
        ("/.../counters", "/ports/port/config", True),  # below config there could be one
        ("/a/.../c", "/a/b/d", True),
        ("/a/*/c", "/a/b", True),
        ("/a/*/c", "/x/b", False),
        ("/", "/anything", True),
    ],
)
def test_overlaps(a: str, b: str, expected: bool) -> None:
    assert overlaps(DataPath.parse(a), DataPath.parse(b)) is expected
    assert overlaps(DataPath.parse(b), DataPath.parse(a)) is expected


@pytest.mark.parametrize(
    ("principals", "message"),
    [
        ((), "at least one principal"),
        (("bob",), "principal 'bob': use '[*]', 'user:NAME' or 'group:NAME'"),
        (("user:no such",), "not a valid user name"),
        (("group:noc",), "unknown group 'noc'"),
        (("group:tenant: x",), "invalid tenant name"),
    ],
)
def test_bad_principals(principals: tuple[str, ...], message: str) -> None:
    with pytest.raises(RuleError, match=message):
        Rule.of("r", principals, "/", "read", "permit")


def test_bad_rule_name_action_or_effect() -> None:
    with pytest.raises(RuleError, match="invalid rule name"):
        Rule.of("with space", ("*",), "/", "read", "permit")
    with pytest.raises(RuleError, match="'modify' is not a valid Action"):
        Rule.of("r", ("*",), "/", "modify", "permit")
    with pytest.raises(RuleError, match="'allow' is not a valid Effect"):
        Rule.of("r", ("*",), "/", "read", "allow")
