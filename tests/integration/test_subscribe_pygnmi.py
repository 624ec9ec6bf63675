"""Subscribe on `edge-agent serve` driven by pygnmi: ONCE, POLL, STREAM sample and on_change.

The agent runs as a subprocess (TLS, username/password) and pygnmi runs in the shared
worker process (it ships gNMI stubs under the same protobuf names as ours).

Link changes are made the way an operator makes them from outside: disabling a port
with a Set takes its link down in the (mock) hardware, which raises the link event that
ON_CHANGE subscribers receive.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.conftest import ADMIN_PASSWORD, AgentProcess, GnmiCallError, PygnmiWorker

pytestmark = pytest.mark.integration

UPDATE_TIMEOUT = 20
TOR = "tor-tf1/1"
SPARE = "tor-tf1/4"  # a port whose link the tests take down and up again
COUNTERS = f"/ports/port[name={TOR}]/state/counters"


def updates(result: dict[str, Any]) -> dict[str, Any]:
    """``{'/full/path': value}`` of one parsed response (prefix joined with each path)."""
    body = result.get("update") or {}
    prefix = body.get("prefix", "")
    out = {}
    for update in body.get("update", []):
        full = "/".join(p for p in (prefix, update["path"]) if p)
        out["/" + full.strip("/")] = update["val"]
    return out


def deleted(result: dict[str, Any]) -> list[str]:
    return ["/" + d["path"].strip("/") for d in (result.get("update") or {}).get("delete", [])]


def stamp(result: dict[str, Any]) -> int:
    return int((result.get("update") or {}).get("timestamp", 0))


def wait_for(gnmi: PygnmiWorker, name: str, wanted: str) -> tuple[Any, dict[str, Any]]:
    """Reads the subscription ``name`` until ``wanted`` shows up; its value and response."""
    for _ in range(50):
        result = gnmi.call("next", name=name, timeout=UPDATE_TIMEOUT)
        found = updates(result)
        if wanted in found:
            return found[wanted], result
    raise AssertionError(f"{wanted} never arrived")


@pytest.fixture(scope="module")
def gnmi(pygnmi: PygnmiWorker, served: AgentProcess) -> PygnmiWorker:
    pygnmi.connect("admin", served, "admin", ADMIN_PASSWORD)
    pygnmi.call("once", client="admin", subscribe=_list(COUNTERS))  # the service answers
    return pygnmi


def _list(*paths: str, mode: str = "on_change", **options: Any) -> dict[str, Any]:
    return {
        "subscription": [{"path": p, "mode": mode, **options} for p in paths],
        "encoding": "json",
    }


def test_once(gnmi: PygnmiWorker) -> None:
    results = gnmi.call("once", client="admin", subscribe=_list(COUNTERS))
    assert results[-1] == {"sync_response": True}
    values: dict[str, Any] = {}
    for result in results[:-1]:
        assert stamp(result) > 0
        values.update(updates(result))
    assert {f"{COUNTERS}/in-octets", f"{COUNTERS}/out-discards"} <= set(values)
    assert len(values) == 12


def test_poll(gnmi: PygnmiWorker) -> None:
    first = gnmi.call("poll", client="admin", name="poll", subscribe=_list(COUNTERS))
    assert first.get("sync_response") and len(updates(first)) == 12
    again = gnmi.call("next", name="poll")
    assert again.get("sync_response") and len(updates(again)) == 12
    assert stamp(again) >= stamp(first) > 0
    gnmi.call("unsubscribe", name="poll")


def test_stream_sample(gnmi: PygnmiWorker) -> None:
    listing = _list(COUNTERS, mode="sample", sample_interval=1_000_000_000)
    initial = gnmi.call("stream", client="admin", name="sample", subscribe=listing)
    assert initial.get("sync_response") and len(updates(initial)) == 12
    samples = [gnmi.call("next", name="sample") for _ in range(2)]
    assert all(len(updates(s)) == 12 for s in samples)
    assert stamp(initial) < stamp(samples[0]) < stamp(samples[1])
    gnmi.call("unsubscribe", name="sample")


def test_sample_interval_below_the_minimum_is_refused(gnmi: PygnmiWorker) -> None:
    listing = _list(COUNTERS, mode="sample", sample_interval=1_000)
    with pytest.raises(GnmiCallError) as refused:
        gnmi.call("stream", client="admin", name="fast", subscribe=listing)
    assert refused.value.code == "INVALID_ARGUMENT"
    assert "below the minimum" in refused.value.details


def test_link_down_arrives_on_change(gnmi: PygnmiWorker) -> None:
    status = f"/ports/port[name={SPARE}]/state/oper-status"
    enabled = f"/ports/port[name={SPARE}]/config/enabled"
    initial = gnmi.call("stream", client="admin", name="link", subscribe=_list(status))
    assert updates(initial) == {status: "UP"}
    try:
        gnmi.call("set", client="admin", update=[[enabled, False]], encoding="json")
        value, result = wait_for(gnmi, "link", status)
        assert value == "DOWN" and stamp(result) > stamp(initial)
    finally:
        gnmi.call("set", client="admin", update=[[enabled, True]], encoding="json")
    value, _ = wait_for(gnmi, "link", status)
    assert value == "UP"
    gnmi.call("unsubscribe", name="link")


def test_a_set_of_mtu_reaches_a_state_subscriber(gnmi: PygnmiWorker) -> None:
    state = f"/ports/port[name={SPARE}]/state/mtu"
    initial = gnmi.call("stream", client="admin", name="mtu", subscribe=_list(state))
    before = updates(initial)[state]
    wanted = 1600 if before != 1600 else 1700
    gnmi.call(
        "set",
        client="admin",
        update=[[f"/ports/port[name={SPARE}]/config/mtu", wanted]],
        encoding="json",
    )
    value, _ = wait_for(gnmi, "mtu", state)
    assert value == wanted
    gnmi.call("unsubscribe", name="mtu")


def test_a_deleted_slice_arrives_as_a_delete(gnmi: PygnmiWorker) -> None:
    initial = gnmi.call(
        "stream", client="admin", name="slice", subscribe=_list("/slices/slice[name=miot]")
    )
    assert updates(initial)["/slices/slice[name=miot]/config/name"] == "miot"
    gnmi.call("set", client="admin", delete=["/slices/slice[name=miot]"], encoding="json")
    for _ in range(20):
        result = gnmi.call("next", name="slice")
        if deleted(result):
            assert deleted(result) == ["/slices/slice[name=miot]"]
            break
    else:
        raise AssertionError("the delete never arrived")
    gnmi.call("unsubscribe", name="slice")
