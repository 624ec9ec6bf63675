"""At start the agent reconciles the kernel to the running configuration; a linux device
whose reconcile fails (a port names a netdev the namespace does not have) is DEGRADED,
says why, and none of its ports was half-programmed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.drivers.linux.netns_lab import NetnsLab, require_root
from tests.integration.conftest import ADMIN_PASSWORD, AgentProcess, PygnmiWorker
from tools.linux_lab import linux_site

pytestmark = pytest.mark.integration


def test_a_device_whose_reconcile_fails_at_start_is_degraded_with_the_reason(
    tmp_path: Path, pygnmi: PygnmiWorker
) -> None:
    require_root()
    lab = NetnsLab()
    try:
        host, peer = lab.netns("host"), lab.netns("peer")
        lab.veths(host, peer, {"va0": "vb0"})
        site = tmp_path / "site.json"
        site.write_text(json.dumps(linux_site(host, ["va0", "gone0"], device="nic", mtu=2000)))
        agent = AgentProcess(tmp_path / "state", "--site", str(site)).start()
        try:
            pygnmi.connect("admin", agent, "admin", ADMIN_PASSWORD)
            got = pygnmi.call(
                "get", client="admin", path=["/platform/devices/device[name=nic]/state"]
            )
            (update,) = got["notification"][0]["update"]
            state = update["val"]
            assert state["oper-status"] == "DEGRADED"
            assert "netdev gone0 does not exist" in state["oper-status-reason"]
            assert lab.link(host, "va0")["mtu"] == 1500, "a refused reconcile changed va0"
        finally:
            pygnmi.call("close", client="admin")
            agent.stop()
    finally:
        lab.close()
