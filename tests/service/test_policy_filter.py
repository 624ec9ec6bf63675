"""Policy.filter on the default site: subtrees pruned to what a principal may read."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

import pytest

from agent.schema.engine import SchemaEngine
from agent.schema.path import DataPath
from agent.security.users import Role
from agent.service.policy import Action, Policy, Rule
from agent.service.principal import Principal

ANN = Principal("ann", Role.ADMIN)
NOC = Principal("noc", Role.READ_ONLY)
ACME = Principal("acme", Role.TENANT, "operator-a")
GLOBEX = Principal("globex", Role.TENANT, "operator-b")
PLATFORM, PORTS, SLICES, TENANTS = (
    "edge-platform:platform",
    "edge-ports:ports",
    "edge-slices:slices",
    "edge-tenants:tenants",
)


def rule(name: str, who: str, path: str, effect: str = "permit", action: str = "read") -> Rule:
    return Rule.of(name, (who,), path, action, effect)


class Pruning:
    """Runs Policy.filter with the schema's list keys and checks the input is untouched."""

    def __init__(self, engine: SchemaEngine, rules: Iterable[Rule] = ()) -> None:
        self.engine = engine
        self.policy = Policy(rules)

    def __call__(
        self, who: Principal, value: Any, path: str = "/", action: Action = Action.READ
    ) -> Any:
        before = copy.deepcopy(value)
        out = self.policy.filter(
            who, DataPath.parse(path), value, action, keys_of=self.engine.list_keys
        )
        assert value == before
        return out


def names(entries: list[dict[str, Any]]) -> list[str]:
    return [entry["name"] for entry in entries]


def test_the_admin_gets_the_tree_itself(engine: SchemaEngine, site: dict[str, Any]) -> None:
    assert Pruning(engine)(ANN, site) is site
    assert Pruning(engine)(ANN, site, action=Action.WRITE) is site


def test_a_tenant_reads_slices_ports_and_tenants_but_not_the_platform(
    engine: SchemaEngine, site: dict[str, Any]
) -> None:
    out = Pruning(engine)(ACME, site)
    assert set(out) == {PORTS, SLICES, TENANTS}
    assert all(out[member] is site[member] for member in out)  # taken whole, not copied
    assert Pruning(engine)(ACME, site[PLATFORM], "/edge-platform:platform") is None
    writable = Pruning(engine)(ACME, site, action=Action.WRITE)
    assert set(writable) == {SLICES} and writable[SLICES] is site[SLICES]


def test_a_deny_below_a_permit_cuts_only_what_it_names(
    engine: SchemaEngine, site: dict[str, Any]
) -> None:
    prune = Pruning(engine, [rule("no-backend", "group:operator", "/platform/.../backend", "deny")])
    out = prune(NOC, site)
    devices = out[PLATFORM]["devices"]["device"]
    assert names(devices) == names(site[PLATFORM]["devices"]["device"])
    assert all("backend" not in d["config"] and "chipset" in d["config"] for d in devices)
    assert out[PORTS] is site[PORTS] and out[SLICES] is site[SLICES]
    assert prune(ANN, site) is site  # the rule names operators only


def test_a_permit_below_a_deny_keeps_the_way_down_to_it(
    engine: SchemaEngine, site: dict[str, Any]
) -> None:
    chipset = "/platform/devices/device[name=tor-tf1]/config/chipset"
    prune = Pruning(engine, [rule("tor-chipset", "group:tenant:operator-a", chipset)])
    out = prune(ACME, site)
    assert out[PLATFORM] == {
        "devices": {
            "device": [{"name": "tor-tf1", "config": {"chipset": "edge-types:tofino1"}}],
        }
    }
    assert PLATFORM not in prune(GLOBEX, site)


def test_permit_deny_permit_down_one_branch(engine: SchemaEngine, site: dict[str, Any]) -> None:
    prune = Pruning(
        engine,
        [
            rule("no-config", "group:tenant", "/slices/slice[name=*]/config", "deny"),
            rule("embb-config", "user:acme", "/slices/slice[name=embb]/config"),
            rule("no-rates", "group:tenant", "/slices/slice/config/max-rate-bps", "deny"),
        ],
    )
    slices = prune(ACME, site)[SLICES]["slice"]
    assert names(slices) == ["embb", "urllc", "miot"]  # which ones is the view's business
    embb, urllc, _ = slices
    assert "config" not in urllc and "members" in urllc
    original = site[SLICES]["slice"][0]["config"]
    assert embb["config"] == {k: v for k, v in original.items() if k != "max-rate-bps"}
    assert embb["members"] is site[SLICES]["slice"][0]["members"]
    assert "config" not in prune(GLOBEX, site)[SLICES]["slice"][0]


def test_leaf_lists_are_leaves(engine: SchemaEngine, site: dict[str, Any]) -> None:
    no_ports = rule("no-delegations", "group:tenant", "/tenants/tenant/config/ports", "deny")
    tenants = Pruning(engine, [no_ports])(ACME, site)[TENANTS]["tenant"]
    assert names(tenants) == ["operator-a", "operator-b"]
    assert all("ports" not in t["config"] and "max-slices" in t["config"] for t in tenants)


def test_filtering_below_the_root(engine: SchemaEngine, site: dict[str, Any]) -> None:
    prune = Pruning(engine, [rule("no-embb", "group:tenant", "/slices/slice[name=embb]", "deny")])
    entries = site[SLICES]["slice"]
    embb = entries[0]
    assert prune(ACME, embb, "/slices/slice[name=embb]") is None
    assert prune(ACME, entries[1], "/slices/slice[name=urllc]") is entries[1]
    assert names(prune(ACME, entries, "/slices/slice")) == ["urllc", "miot"]
    assert (
        prune(ACME, embb["config"]["priority"], "/slices/slice[name=embb]/config/priority") is None
    )
    assert prune(ANN, entries, "/slices/slice") is entries


def test_an_entry_kept_for_what_is_below_it_keeps_its_keys(engine: SchemaEngine) -> None:
    members = {
        "member": [
            {"port": "p1", "config": {"port": "p1"}},
            {"port": "p2", "config": {"port": "p2"}},
        ]
    }
    slices = {SLICES: {"slice": [{"name": "a", "config": {"name": "a"}, "members": members}]}}
    only_p2 = "/slices/slice/members/member[port=p2]/config"
    prune = Pruning(
        engine,
        [
            rule("no-slices", "group:tenant", "/slices", "deny"),
            rule("p2", "group:tenant", only_p2),
        ],
    )
    assert prune(ACME, slices) == {
        SLICES: {
            "slice": [
                {"name": "a", "members": {"member": [{"port": "p2", "config": {"port": "p2"}}]}}
            ]
        }
    }


def test_the_walk_stays_out_of_subtrees_no_rule_can_change(engine: SchemaEngine) -> None:
    class Sealed(dict[str, Any]):
        def items(self) -> Any:
            raise AssertionError("the walk looked inside")

    looked_up: list[str] = []

    def keys_of(path: DataPath) -> tuple[str, ...] | None:
        looked_up.append(str(path))
        return engine.list_keys(path)

    sealed_ports, sealed_platform = Sealed(port=[{"name": "p"}]), Sealed(devices={})
    tree = {PORTS: sealed_ports, PLATFORM: sealed_platform, SLICES: {"slice": [{"name": "a"}]}}
    policy = Policy([rule("no-descr", "group:tenant", "/slices/slice/config/description", "deny")])
    out = policy.filter(ACME, DataPath.root(), tree, keys_of=keys_of)
    assert out is not None and out[PORTS] is sealed_ports and PLATFORM not in out
    assert looked_up == ["/edge-slices:slices/slice"]


def test_entries_without_their_keys_are_cut(engine: SchemaEngine) -> None:
    tree = {SLICES: {"slice": [{"config": {"priority": 1}}, {"name": "b"}]}}
    policy = Policy([rule("no-prio", "group:tenant", "/slices/slice/config/priority", "deny")])
    out = policy.filter(ACME, DataPath.root(), tree, keys_of=engine.list_keys)
    assert out == {SLICES: {"slice": [{"name": "b"}]}}


@pytest.mark.parametrize("value", [{}, [], 7, "text", None])
def test_scalars_and_empty_values(engine: SchemaEngine, value: Any) -> None:
    prune = Pruning(engine)
    assert prune(ANN, value, "/slices") is value
    assert prune(ACME, value, "/platform") is None
