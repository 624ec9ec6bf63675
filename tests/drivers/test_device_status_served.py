"""Devices the agent could not bring in line are served as such, with the reason.

`edge-agent serve` starts on a site with two linux-backed devices it cannot reconcile:
one whose network namespace does not exist (it cannot be opened: DOWN) and one in the
agent's own namespace whose port names a netdev that is not there (its reconcile is
refused: DEGRADED). pygnmi, in its own process, reads their state.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest

from agent.site_file import default_site_path
from tests.integration.conftest import ADMIN_PASSWORD, AgentProcess, PygnmiWorker

pytestmark = pytest.mark.integration

ABSENT_NETNS = f"edge-agent-absent-{os.getpid()}"
ABSENT_NETDEV = "edgeabsent0"


def _linux_device(name: str, address: str | None, port: dict[str, Any]) -> dict[str, Any]:
    config = {"name": name, "chipset": "edge-types:connectx-6", "backend": "linux"}
    if address is not None:
        config["address"] = address
    return {
        "device": {"name": name, "config": config},
        "port": {"name": f"{name}/1", "config": {"name": f"{name}/1", "device": name, **port}},
    }


@pytest.fixture(scope="module")
def agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AgentProcess]:
    site = json.loads(default_site_path().read_text(encoding="utf-8"))
    port = {"index": 1, "speed": "100G", "interface-name": ABSENT_NETDEV}
    for extra in (
        _linux_device("nic-gone", f"netns:{ABSENT_NETNS}", port),
        _linux_device("nic-here", None, port),
    ):
        site["edge-platform:platform"]["devices"]["device"].append(extra["device"])
        site["edge-ports:ports"]["port"].append(extra["port"])
    root = tmp_path_factory.mktemp("status")
    (root / "site.json").write_text(json.dumps(site))
    process = AgentProcess(root / "state", "--site", str(root / "site.json"), "--insecure")
    process.start()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="module")
def gnmi(agent: AgentProcess) -> Iterator[PygnmiWorker]:
    worker = PygnmiWorker()
    try:
        worker.connect("admin", agent, "admin", ADMIN_PASSWORD, insecure=True)
        yield worker
    finally:
        worker.close()


def device_state(gnmi: PygnmiWorker, name: str) -> dict[str, Any]:
    path = f"/platform/devices/device[name={name}]/state"
    reply = gnmi.call("get", client="admin", path=[path], encoding="json_ietf")
    value = reply["notification"][0]["update"][0]["val"]
    return {member.rpartition(":")[2]: leaf for member, leaf in value.items()}


def test_a_device_that_cannot_be_opened_is_down_with_the_reason(gnmi: PygnmiWorker) -> None:
    state = device_state(gnmi, "nic-gone")
    assert state["oper-status"] == "DOWN"
    assert state["oper-status-reason"].startswith("open failed: ")
    assert ABSENT_NETNS in state["oper-status-reason"]


def test_a_device_whose_reconcile_is_refused_is_degraded_with_the_reason(
    gnmi: PygnmiWorker,
) -> None:
    state = device_state(gnmi, "nic-here")
    assert state["oper-status"] == "DEGRADED"
    reason = state["oper-status-reason"]
    assert reason.startswith("reconcile failed: refused: port nic-here/1: ")
    assert ABSENT_NETDEV in reason and "\n" not in reason


def test_devices_in_line_are_up_without_a_reason(gnmi: PygnmiWorker) -> None:
    state = device_state(gnmi, "nic-cx6")
    assert state["oper-status"] == "UP" and "oper-status-reason" not in state
