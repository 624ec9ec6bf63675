"""Tenants' allocations and state: rendered from the running configuration and a usage
provider, valid for the model, selected like every other entity."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from agent.clock import FakeClock
from agent.datastore.quotas import quota_violations
from agent.drivers.units import GBPS
from agent.mapping.state_tree import ALL, Selection, StateReader, render_state
from agent.mapping.tenants import (
    NO_ALLOCATION,
    SET_RATE,
    SUBSCRIPTIONS,
    Quotas,
    allocations,
    member_rates,
    tenant_entries,
    tenant_state,
)
from agent.schema.engine import SchemaEngine
from agent.sitegen import scaled_site
from tests.mapping.helpers import Tree, drivers_for, entry, slice_entry

TENANTS = "edge-tenants:tenants"


class Usage:
    """A provider with fixed figures per tenant, recording who was asked."""

    def __init__(self, figures: Mapping[str, Mapping[str, int | float]]) -> None:
        self.figures = figures
        self.asked: list[str] = []

    def usage(self, tenant: str) -> Mapping[str, int | float]:
        self.asked.append(tenant)
        return self.figures.get(tenant, {})


def tenant_of(tree: Tree, name: str) -> dict[str, Any]:
    found: dict[str, Any] = entry(tree[TENANTS]["tenant"], name)
    return found


def reserved(state: Mapping[str, Any]) -> dict[str, str]:
    return {r["port"]: r["rate-bps"] for r in state.get("reserved", [])}


def test_the_default_site_has_two_tenants_within_their_quotas(site: Tree) -> None:
    assert set(tenant_entries(site)) == {"operator-a", "operator-b"}
    owners = {s["name"]: s["config"].get("tenant") for s in site["edge-slices:slices"]["slice"]}
    assert owners == {"embb": "operator-a", "urllc": "operator-a", "miot": "operator-b"}
    assert quota_violations(site) == ()


def test_quotas_fill_in_the_defaults() -> None:
    quotas = Quotas.of({"name": "t", "config": {"name": "t"}})
    assert quotas == Quotas("t", (), 16, None, 32, 10)


def test_a_member_rate_overrides_the_slice_rate(site: Tree) -> None:
    slice_entry(site, "urllc")["members"]["member"][1]["config"]["min-rate-bps"] = "2000000000"
    rates = dict(member_rates(slice_entry(site, "urllc")))
    assert rates["tor-tf1/1"] == 5 * GBPS and rates["tor-tf1/4"] == 2 * GBPS


def test_allocations_sum_the_slices_per_port(site: Tree) -> None:
    taken = allocations(site)
    a = taken["operator-a"]
    assert a.slices == ("embb", "urllc")
    assert a.reserved["tor-tf1/1"] == 15 * GBPS  # both slices run there
    assert a.reserved["spine-tf2/1"] == 10 * GBPS and a.reserved["fpga-s10/1"] == 5 * GBPS
    assert a.members["tor-tf1/1"] == ("embb", "urllc")
    assert allocations(site, ["operator-b"]).keys() == {"operator-b"}


def test_a_slice_without_a_tenant_counts_for_nobody(site: Tree) -> None:
    del slice_entry(site, "miot")["config"]["tenant"]
    assert "operator-b" not in allocations(site)


def test_tenant_state_repeats_the_configuration_and_reports_usage(site: Tree) -> None:
    config = tenant_of(site, "operator-a")["config"]
    state = tenant_state(config, allocations(site)["operator-a"], {SUBSCRIPTIONS: 3, SET_RATE: 2.6})
    assert {k: state[k] for k in config} == config
    assert state["slices"] == 2
    assert state[SUBSCRIPTIONS] == 3 and state[SET_RATE] == 3
    # every delegated port in configured order, 0 where nothing is reserved
    assert list(reserved(state)) == config["ports"]
    assert reserved(state)["tor-tf1/1"] == str(15 * GBPS)
    assert reserved(state)["nic-e810/2"] == "0"


def test_tenant_state_fills_in_defaults_and_omits_empty_lists() -> None:
    state = tenant_state({"name": "t"}, NO_ALLOCATION, {})
    assert state == {
        "name": "t",
        "max-slices": 16,
        "max-subscriptions": 32,
        "max-set-rate": 10,
        "slices": 0,
        "subscriptions": 0,
        "set-rate": 0,
    }


def test_the_reader_renders_tenants_with_the_provider(
    engine: SchemaEngine, site: Tree, drivers_and_clock: tuple[dict[str, Any], FakeClock]
) -> None:
    drivers, _ = drivers_and_clock
    usage = Usage({"operator-b": {SUBSCRIPTIONS: 4, SET_RATE: 1}})
    tree = StateReader(drivers, usage).read(site)
    assert engine.refusals(tree, config_only=False) == ()
    b = tenant_of(tree, "operator-b")["state"]
    assert (b["slices"], b[SUBSCRIPTIONS], b[SET_RATE]) == (1, 4, 1)
    assert tenant_of(tree, "operator-a")["state"][SUBSCRIPTIONS] == 0
    assert sorted(usage.asked) == ["operator-a", "operator-b"]
    assert tenant_of(tree, "operator-a")["config"] is tenant_of(site, "operator-a")["config"]


def test_rendering_without_a_provider_reports_zeros(site: Tree) -> None:
    tree = render_state(site, {}, Selection.only(tenants=["operator-a"]))
    assert list(tree) == [TENANTS]
    state = tenant_of(tree, "operator-a")["state"]
    assert (state[SUBSCRIPTIONS], state[SET_RATE]) == (0, 0)


@pytest.mark.parametrize(
    ("selection", "names"),
    [
        (ALL, ["operator-a", "operator-b"]),
        (Selection.only(tenants=["operator-b"]), ["operator-b"]),
        (Selection.only(ports=["tor-tf1/1"]), []),
    ],
)
def test_the_selection_picks_the_tenants(
    site: Tree, selection: Selection, names: list[str]
) -> None:
    usage = Usage({})
    tree = render_state(site, {}, selection, usage)
    assert [t["name"] for t in tree.get(TENANTS, {}).get("tenant", [])] == names
    assert usage.asked == names  # only the rendered tenants are asked


def test_tenants_need_no_driver_read(
    site: Tree, drivers_and_clock: tuple[dict[str, Any], FakeClock]
) -> None:
    drivers, _ = drivers_and_clock
    assert StateReader(drivers).sample(site, Selection.only(tenants=["operator-a"])) == {}


@pytest.mark.parametrize(("ports", "slices", "tenants"), [(1024, 1000, 50), (64, 20, 7)])
def test_scaled_sites_spread_slices_over_tenants(
    engine: SchemaEngine, ports: int, slices: int, tenants: int
) -> None:
    tree = scaled_site(ports, slices, tenants=tenants)
    assert engine.refusals(tree) == ()
    assert quota_violations(tree) == ()
    taken = allocations(tree)
    assert len(tenant_entries(tree)) == len(taken) == tenants
    assert sum(len(a.slices) for a in taken.values()) == slices
    for name, config in tenant_entries(tree).items():
        assert set(config["config"]["ports"]) == set(taken[name].reserved)


def test_a_scaled_site_without_tenants_has_none(engine: SchemaEngine) -> None:
    tree = scaled_site(64, 10)
    assert TENANTS not in tree and engine.refusals(tree) == ()
    assert all("tenant" not in s["config"] for s in tree["edge-slices:slices"]["slice"])


def test_a_scaled_site_needs_a_slice_per_tenant() -> None:
    with pytest.raises(ValueError, match="every tenant needs a slice"):
        scaled_site(64, 3, tenants=5)


@pytest.fixture
def drivers_and_clock(site: Tree) -> tuple[dict[str, Any], FakeClock]:
    clock = FakeClock()
    return drivers_for(site, clock), clock
