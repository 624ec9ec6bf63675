"""Tenant quotas on commit: each refusal names its quota, the tenant and the figures, is
attributed to the operation that broke it, and leaves configuration and hardware as
they were. Only the tenants a commit touches are checked; at start, all of them."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from agent.clock import FakeClock
from agent.datastore.datastore import Datastore
from agent.datastore.diff import diff_trees
from agent.datastore.edits import Edit
from agent.datastore.errors import DatastoreError, ErrorKind
from agent.datastore.quotas import quota_violations
from agent.schema.engine import SchemaEngine
from tests.datastore.harness import build, default_site, hw

GBPS = 1_000_000_000
A = "/tenants/tenant[name=operator-a]"
B = "/tenants/tenant[name=operator-b]"
SLICE = "/slices/slice[name={}]"
B_PORTS = ["tor-tf1/2/0", "tor-tf1/2/1", "nic-cx6/1", "ipu-e2k/1"]


def new_slice(name: str, vlan: int, tenant: str, *ports: str, rate: int = GBPS) -> dict[str, Any]:
    return {
        "name": name,
        "config": {
            "name": name,
            "tenant": tenant,
            "sst": 4,
            "sd": f"{vlan:06X}",
            "vlan-id": vlan,
            "min-rate-bps": str(rate),
        },
        "members": {"member": [{"port": p, "config": {"port": p}} for p in ports]},
    }


def urllc_rates(gbps: int) -> dict[str, int]:
    return {"min-rate-bps": gbps * GBPS, "max-rate-bps": 2 * gbps * GBPS}


def refused(ds: Datastore, edits: list[Edit]) -> DatastoreError:
    """The refusal of ``edits``, checked to have left everything as it was."""
    before = (ds.running.version, ds.running.tree, hw(ds))
    with pytest.raises(DatastoreError) as err:
        ds.commit(edits)
    assert (ds.running.version, ds.running.tree, hw(ds)) == before
    assert err.value.kind is ErrorKind.INVALID
    return err.value


# --- max-slices -----------------------------------------------------------------------


def test_too_many_slices_is_refused_at_the_operation_that_adds_one(ds: Datastore) -> None:
    added = [new_slice(f"iot-{n}", 400 + n, "operator-b", "nic-cx6/1") for n in range(4)]
    err = refused(
        ds,
        [
            Edit.update("/ports/port[name=nic-cx6/1]/config/mtu", 9100),
            Edit.update("/slices", {"slice": added}),
        ],
    )
    assert err.message == "tenant 'operator-b' would have 5 slices: over its max-slices quota of 4"
    assert err.op_index == 1


def test_up_to_max_slices_is_accepted(ds: Datastore) -> None:
    added = [new_slice(f"iot-{n}", 400 + n, "operator-b", "nic-cx6/1") for n in range(3)]
    assert ds.commit([Edit.update("/slices", {"slice": added})]).version == 2


def test_lowering_max_slices_below_the_slices_held_is_refused(ds: Datastore) -> None:
    err = refused(
        ds,
        [
            Edit.update(f"{B}/config/description", "renamed"),
            Edit.update(f"{A}/config/max-slices", 1),
        ],
    )
    assert "tenant 'operator-a' would have 2 slices: over its max-slices quota of 1" in err.message
    assert err.op_index == 1


# --- max-guaranteed-rate-bps ----------------------------------------------------------


def test_guaranteed_rate_over_the_quota_on_a_port_is_refused(ds: Datastore) -> None:
    # embb reserves 10G and urllc 5G on tor-tf1/1; operator-a may reserve 40G per port
    err = refused(ds, [Edit.update(f"{SLICE.format('urllc')}/config", urllc_rates(31))])
    assert err.message == (
        "tenant 'operator-a' would reserve 41000000000 bps of guaranteed rate on port "
        "'tor-tf1/1' (slices embb, urllc): over its max-guaranteed-rate-bps quota of "
        "40000000000"
    )
    assert err.op_index == 0


def test_a_member_rate_counts_instead_of_the_slice_rate(ds: Datastore) -> None:
    member = f"{SLICE.format('embb')}/members/member[port=tor-tf1/1]/config/min-rate-bps"
    assert ds.commit([Edit.update(member, 35 * GBPS)]).version == 2  # 35G + 5G = 40G
    err = refused(ds, [Edit.update(member, 36 * GBPS)])
    assert "would reserve 41000000000 bps" in err.message and "'tor-tf1/1'" in err.message
    # the slice rate no longer counts on that port: raising it is fine there
    ds.commit([Edit.update(f"{SLICE.format('embb')}/config/min-rate-bps", 12 * GBPS)])


def test_lowering_the_rate_quota_is_refused_with_the_figures(ds: Datastore) -> None:
    err = refused(ds, [Edit.update(f"{A}/config/max-guaranteed-rate-bps", 12 * GBPS)])
    assert err.message == (
        "tenant 'operator-a' would reserve 15000000000 bps of guaranteed rate on port "
        "'tor-tf1/1' (slices embb, urllc): over its max-guaranteed-rate-bps quota of "
        "12000000000"
    )
    assert err.op_index == 0


def test_no_rate_quota_means_no_limit_beyond_the_port(ds: Datastore) -> None:
    ds.commit([Edit.delete(f"{A}/config/max-guaranteed-rate-bps")])
    result = ds.commit([Edit.update(f"{SLICE.format('urllc')}/config", urllc_rates(31))])
    assert result.version == 3


# --- delegated ports ------------------------------------------------------------------


def test_a_member_on_a_port_not_delegated_is_refused(ds: Datastore) -> None:
    member = {"port": "nic-cx6/2", "config": {"port": "nic-cx6/2"}}
    err = refused(
        ds,
        [
            Edit.update("/ports/port[name=nic-cx6/2]/config/mtu", 9100),
            Edit.update(f"{SLICE.format('miot')}/members", {"member": [member]}),
        ],
    )
    assert err.message == (
        "slice 'miot' of tenant 'operator-b' has a member on port 'nic-cx6/2', which is not "
        "one of the tenant's delegated ports"
    )
    assert err.op_index == 1


def test_taking_back_a_port_a_slice_uses_is_refused(ds: Datastore) -> None:
    ports = [p for p in B_PORTS if p != "nic-cx6/1"]
    err = refused(ds, [Edit.replace(f"{B}/config/ports", ports)])
    assert "member on port 'nic-cx6/1'" in err.message and "delegated" in err.message
    assert err.op_index == 0


def test_moving_a_slice_to_a_tenant_without_its_ports_is_refused(ds: Datastore) -> None:
    err = refused(ds, [Edit.update(f"{SLICE.format('miot')}/config/tenant", "operator-a")])
    assert "slice 'miot' of tenant 'operator-a'" in err.message
    assert "(and 2 more)" in err.message  # each of its three ports


def test_delegating_a_port_then_using_it_in_one_commit(ds: Datastore) -> None:
    member = {"port": "nic-cx6/2", "config": {"port": "nic-cx6/2"}}
    result = ds.commit(
        [
            Edit.update(f"{B}/config/ports", [*B_PORTS, "nic-cx6/2"]),
            Edit.update(f"{SLICE.format('miot')}/members", {"member": [member]}),
        ]
    )
    assert result.version == 2


def test_a_slice_without_a_tenant_has_no_quota(ds: Datastore) -> None:
    loose = new_slice("lab", 900, "operator-a", "nic-cx6/2", rate=80 * GBPS)
    del loose["config"]["tenant"]
    assert ds.commit([Edit.update("/slices", {"slice": [loose]})]).version == 2


# --- references -----------------------------------------------------------------------


def test_a_tenant_its_slices_refer_to_cannot_be_deleted(ds: Datastore) -> None:
    err = refused(ds, [Edit.delete(B)])
    assert "'operator-b' refers to no existing /tenants/tenant/name" in err.message


def test_a_delegated_port_cannot_be_deleted(ds: Datastore) -> None:
    err = refused(ds, [Edit.delete("/ports/port[name=nic-e810/2]")])
    assert "/tenants/tenant[name=operator-a]/config/ports" in err.message
    assert "'nic-e810/2' refers to no existing /ports/port/name" in err.message


def test_a_tenant_without_slices_can_be_deleted(ds: Datastore) -> None:
    ds.commit([Edit.delete(SLICE.format("miot"))])
    assert ds.commit([Edit.delete(B)]).version == 3


# --- scope and start ------------------------------------------------------------------


def over_quota_site() -> dict[str, Any]:
    site = default_site()
    tenants = site["edge-tenants:tenants"]["tenant"]
    tenants[1]["config"]["max-slices"] = 0
    return site


def test_only_the_tenants_a_commit_touches_are_checked(engine: SchemaEngine) -> None:
    site = over_quota_site()
    assert quota_violations(site)  # operator-b holds a slice over a quota of 0
    changed = copy.deepcopy(site)
    changed["edge-ports:ports"]["port"][0]["config"]["mtu"] = 9100
    ports_only = diff_trees(site, changed, engine.nav)
    assert quota_violations(changed, ports_only) == ()
    embb = changed["edge-slices:slices"]["slice"][0]
    embb["config"]["priority"] = 3
    of_a = diff_trees(site, changed, engine.nav)
    assert quota_violations(changed, of_a) == ()  # embb is operator-a's
    changed["edge-slices:slices"]["slice"][2]["config"]["priority"] = 3  # miot: operator-b's
    (violation,) = quota_violations(changed, diff_trees(site, changed, engine.nav))
    assert str(violation.path) == "/slices/slice[name=miot]"


def test_start_refuses_an_initial_configuration_over_quota(
    engine: SchemaEngine, tmp_path: Path, clock: FakeClock
) -> None:
    with pytest.raises(DatastoreError) as err:
        build(engine, tmp_path / "state", clock, site=over_quota_site())
    assert err.value.message == (
        "the initial configuration is not valid: tenant 'operator-b' would have 1 slices: "
        "over its max-slices quota of 0"
    )
