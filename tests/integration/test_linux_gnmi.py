"""The linux backend through gNMI: `edge-agent serve` manages veths in a namespace the test
creates, pygnmi drives it, and the kernel is read back independently with `ip -j`/`tc`.

Site: device nic (connectx-7, backend linux, address netns:HOST) with ports nic/1 on veth
va0, nic/2 on va1, nic/3 on macvlan mv0 (on va1) and nic/4 on veth va2; the peers vb0..2
are up in namespace PEER.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.drivers.linux.netns_lab import NetnsLab, ip, require_root, udp_blast
from tests.integration.conftest import ADMIN_PASSWORD, AgentProcess, GnmiCallError, PygnmiWorker
from tools.linux_lab import linux_site

pytestmark = pytest.mark.integration

LINKWATCH_S = 1.1  # the kernel reports a carrier loss up to 1 s late after a recent change
UPDATE_TIMEOUT = 10


class Site:
    def __init__(self, lab: NetnsLab, host: str, peer: str, agent: AgentProcess) -> None:
        self.lab, self.host, self.peer, self.agent = lab, host, peer, agent


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    require_root()
    lab = NetnsLab()
    try:
        host, peer = lab.netns("host"), lab.netns("peer")
        for i in range(3):
            lab.veth(host, f"va{i}", peer, f"vb{i}")
        ip("-n", host, "link", "add", "mv0", "link", "va1", "type", "macvlan", "mode", "bridge")
        path: Path = tmp_path_factory.mktemp("linux") / "site.json"
        config = linux_site(host, ["va0", "va1", "mv0", "va2"], device="nic")
        path.write_text(json.dumps(config))
        agent = AgentProcess(path.parent / "state", "--site", str(path)).start()
        try:
            yield Site(lab, host, peer, agent)
        finally:
            agent.stop()
    finally:
        lab.close()


@pytest.fixture(scope="module")
def gnmi(pygnmi: PygnmiWorker, site: Site) -> PygnmiWorker:
    pygnmi.connect("admin", site.agent, "admin", ADMIN_PASSWORD)
    return pygnmi


def port(name: str) -> str:
    return f"/ports/port[name={name}]"


def value(result: dict[str, Any]) -> Any:
    (update,) = result["notification"][0]["update"]
    return update["val"]


def refused(call: Any) -> GnmiCallError:
    with pytest.raises(GnmiCallError) as caught:
        call()
    return caught.value


def test_a_set_of_mtu_and_enabled_changes_the_kernel(gnmi: PygnmiWorker, site: Site) -> None:
    link = site.lab.link(site.host, "va0")
    assert (link["mtu"], "UP" in link["flags"]) == (1500, True)  # programmed at start
    gnmi.call(
        "set",
        client="admin",
        update=[[f"{port('nic/1')}/config/mtu", 4000], [f"{port('nic/1')}/config/enabled", False]],
    )
    link = site.lab.link(site.host, "va0")
    assert (link["mtu"], "UP" in link["flags"]) == (4000, False)
    state = value(gnmi.call("get", client="admin", path=[f"{port('nic/1')}/state"]))
    assert (state["mtu"], state["enabled"], state["oper-status"]) == (4000, False, "DOWN")
    gnmi.call("set", client="admin", update=[[f"{port('nic/1')}/config/enabled", True]])
    assert "UP" in site.lab.link(site.host, "va0")["flags"]


def test_a_linux_port_without_interface_name_is_refused(gnmi: PygnmiWorker) -> None:
    entry = {"name": "nic/9", "device": "nic", "index": 9, "speed": "10G"}
    error = refused(
        lambda: gnmi.call("set", client="admin", update=[[f"{port('nic/9')}/config", entry]])
    )
    assert "port nic/9: has no interface-name" in error.details
    assert "/ports/port/config/interface-name" in error.details


def test_capabilities_are_probed_from_the_kernel(gnmi: PygnmiWorker, site: Site) -> None:
    caps = value(gnmi.call(
        "get", client="admin", path=["/platform/devices/device[name=nic]/state/capabilities"]
    ))  # fmt: skip
    link = site.lab.link(site.host, "va0")
    assert (caps["mtu-min"], caps["mtu-max"]) == (link["min_mtu"], link["max_mtu"])
    assert caps["supported-speeds"] == ["10G"] and caps["vf-scope"] == "none"


def test_a_peer_going_down_is_an_on_change_update(gnmi: PygnmiWorker, site: Site) -> None:
    path = f"{port('nic/2')}/state/oper-status"
    subscribe = {"subscription": [{"path": path, "mode": "on_change"}], "encoding": "json"}
    first = gnmi.call("stream", client="admin", name="oper", subscribe=subscribe)
    seen = [u["val"] for u in (first.get("update") or {}).get("update", [])]
    assert seen == ["UP"], first
    try:
        time.sleep(LINKWATCH_S)
        ip("-n", site.peer, "link", "set", "vb1", "down")
        assert _next_value(gnmi, "oper") == "DOWN"
        time.sleep(LINKWATCH_S)
        ip("-n", site.peer, "link", "set", "vb1", "up")
        assert _next_value(gnmi, "oper") == "UP"
    finally:
        gnmi.call("unsubscribe", name="oper")


def _next_value(gnmi: PygnmiWorker, name: str) -> Any:
    for _ in range(20):
        result = gnmi.call("next", name=name, timeout=UPDATE_TIMEOUT)
        for update in (result.get("update") or {}).get("update", []):
            return update["val"]
    raise AssertionError("no update")


def test_traffic_through_the_veth_moves_the_counters(gnmi: PygnmiWorker, site: Site) -> None:
    ip("-n", site.host, "addr", "add", "10.68.0.1/24", "dev", "va0")
    ip("-n", site.peer, "addr", "add", "10.68.0.2/24", "dev", "vb0")
    path = f"{port('nic/1')}/state/counters"
    before = value(gnmi.call("get", client="admin", path=[path]))
    assert "in-unicast-pkts" not in before and "in-broadcast-pkts" not in before
    sent = udp_blast(site.peer, "10.68.0.1", seconds=0.5, rate_bps=16_000_000)
    time.sleep(0.2)
    after = value(gnmi.call("get", client="admin", path=[path]))
    assert int(after["in-octets"]) - int(before["in-octets"]) >= sent
    assert int(after["in-pkts"]) - int(before["in-pkts"]) >= sent // 1200
    kernel = site.lab.link(site.host, "va0")["stats64"]["rx"]
    assert int(after["in-octets"]) <= kernel["bytes"]


def test_a_commit_whose_later_operation_fails_leaves_the_kernel_as_before(
    gnmi: PygnmiWorker, site: Site
) -> None:
    before = site.lab.kernel_dump(site.host)
    running = value(gnmi.call("get", client="admin", path=["/ports"], datatype="config"))
    # nic/1 (va0) takes 2000, then the kernel refuses 9000 on mv0: above its lower va1's MTU
    error = refused(lambda: gnmi.call("set", client="admin", update=[
        [f"{port('nic/1')}/config/mtu", 2000], [f"{port('nic/3')}/config/mtu", 9000]
    ]))  # fmt: skip
    assert error.code == "ABORTED" and "port nic/3 update" in error.details
    assert "the kernel refused" in error.details  # applying failed; nic/1 was undone
    assert site.lab.kernel_dump(site.host) == before
    assert value(gnmi.call("get", client="admin", path=["/ports"], datatype="config")) == running


def test_a_commit_naming_a_vanished_netdev_leaves_the_kernel_as_before(
    gnmi: PygnmiWorker, site: Site
) -> None:
    ip("-n", site.host, "link", "del", "va2")
    time.sleep(0.2)  # the link monitor learns it
    before = site.lab.kernel_dump(site.host)
    error = refused(lambda: gnmi.call("set", client="admin", update=[
        [f"{port('nic/1')}/config/mtu", 2100], [f"{port('nic/4')}/config/mtu", 1600]
    ]))  # fmt: skip
    assert f"port nic/4: netdev va2 does not exist in network namespace {site.host}" in (
        error.details
    )
    assert "rule port-index" not in error.details
    assert site.lab.kernel_dump(site.host) == before
