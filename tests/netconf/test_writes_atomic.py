"""All or nothing through NETCONF: an edit-config or a commit that fails, whatever the
reason (validation, a driver refusal, a fault while programming), leaves running, the
candidate and the hardware exactly as they were; one that succeeds leaves the hardware
equal to what fresh devices programmed from running hold."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from agent.northbound.netconf.contracts import RpcError, RpcErrors
from agent.schema.engine import SchemaEngine
from tests.datastore.harness import default_site, fresh_hw
from tests.netconf.test_writes_harness import (
    NS_PORTS,
    NS_SLICES,
    WritesHarness,
    edit,
    mtu_config,
)

SITE = default_site()
PORTS = [p["name"] for p in SITE["edge-ports:ports"]["port"]]
DEVICE_OF = {p["name"]: p["config"]["device"] for p in SITE["edge-ports:ports"]["port"]}
DEVICES = sorted(set(DEVICE_OF.values()))
SLICES = ["embb", "urllc", "miot", "extra"]


def port_leaf(leaf: str, values: st.SearchStrategy[Any]) -> st.SearchStrategy[str]:
    return st.builds(
        lambda port, value: (
            f'<ports xmlns="{NS_PORTS}"><port><name>{port}</name>'
            f"<config><{leaf}>{value}</{leaf}></config></port></ports>"
        ),
        st.sampled_from(PORTS),
        values,
    )


def slice_region(name: str, operation: str, vlan: int, rate: int, port: str) -> str:
    op = f' nc:operation="{operation}"' if operation else ""
    if operation in ("delete", "remove"):
        return f'<slices xmlns="{NS_SLICES}"><slice{op}><name>{name}</name></slice></slices>'
    return (
        f'<slices xmlns="{NS_SLICES}"><slice{op}><name>{name}</name><config><name>{name}</name>'
        f"<sst>{100 + vlan % 100}</sst><vlan-id>{vlan}</vlan-id><min-rate-bps>{rate}</min-rate-bps>"
        f"</config><members><member><port>{port}</port><config><port>{port}</port></config>"
        "</member></members></slice></slices>"
    )


REGIONS = st.one_of(
    port_leaf("mtu", st.sampled_from([1514, 9000, 9216, 9500, 16000])),
    port_leaf("speed", st.sampled_from(["10G", "25G", "100G", "400G"])),
    port_leaf("fec", st.sampled_from(["none", "rs528", "rs544"])),
    port_leaf("enabled", st.sampled_from(["true", "false"])),
    st.builds(
        slice_region,
        st.sampled_from(SLICES),
        st.sampled_from(["", "create", "replace", "delete", "remove"]),
        st.integers(100, 104),
        st.sampled_from([0, 10**9, 300 * 10**9]),
        st.sampled_from(PORTS),
    ),
    st.builds(
        lambda port: (
            f'<ports xmlns="{NS_PORTS}"><port nc:operation="remove">'
            f"<name>{port}</name></port></ports>"
        ),
        st.sampled_from(PORTS),
    ),
)
FAULT = st.one_of(
    st.none(),
    st.tuples(st.just("op"), st.sampled_from(DEVICES), st.integers(0, 3)),
    st.tuples(st.just("port"), st.sampled_from(PORTS)),
)
TRANSACTION = st.tuples(
    st.lists(REGIONS, min_size=1, max_size=4), st.sampled_from(["running", "candidate"]), FAULT
)


def inject(harness: WritesHarness, fault: Any) -> None:
    if fault is None:
        return
    drivers = harness.datastore.devices.drivers
    if fault[0] == "op":
        if fault[1] in drivers:
            drivers[fault[1]].backend.fail_operation(fault[2])
    elif DEVICE_OF[fault[1]] in drivers:
        drivers[DEVICE_OF[fault[1]]].backend.fail_port(fault[1])


def clear(harness: WritesHarness) -> None:
    for driver in harness.datastore.devices.drivers.values():
        driver.backend.clear_faults()


def attempt(harness: WritesHarness, operation: str) -> bool:
    try:
        harness.call(operation)
    except (RpcError, RpcErrors) as err:
        tag = err.tag if isinstance(err, RpcError) else err.errors[0].tag
        event(f"refused: {tag}")
        return False
    return True


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(transactions=st.lists(TRANSACTION, min_size=1, max_size=4))
def test_netconf_writes_are_all_or_nothing(
    harness: WritesHarness, engine: SchemaEngine, transactions: list[Any]
) -> None:
    for regions, target, fault in transactions:
        harness.call("<discard-changes/>")
        body = "".join(regions)
        running, hw = harness.datastore.running, harness.hw()
        candidate = harness.core.candidate.tree
        inject(harness, fault)
        try:
            if target == "running":
                ok = attempt(harness, edit(body))
            else:
                ok = attempt(harness, edit(body, "candidate", test_option="set"))
                candidate = harness.core.candidate.tree
                ok = ok and attempt(harness, "<commit/>")
        finally:
            clear(harness)
        if ok:
            event("committed")
            assert harness.hw() == fresh_hw(harness.datastore, harness.clock)
            assert engine.refusals(harness.datastore.running.tree) == ()
            assert not harness.core.candidate.changed
        else:
            assert harness.datastore.running is running
            assert harness.hw() == hw
            assert harness.core.candidate.tree is candidate


def test_a_failing_edit_leaves_the_hardware_untouched(harness: WritesHarness) -> None:
    running, hw = harness.datastore.running, harness.hw()
    harness.datastore.devices.drivers["tor-tf1"].backend.fail_operation(0)
    try:
        err = harness.error(edit(mtu_config(1600) + mtu_config(1600, "spine-tf2/1")))
    finally:
        clear(harness)
    assert err.tag in ("operation-failed", "resource-denied")
    assert harness.datastore.running is running and harness.hw() == hw
    assert harness.candidate_mtu() == 9000
