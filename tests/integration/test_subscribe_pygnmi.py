"""Subscribe on `edge-agent serve` driven by pygnmi: ONCE, POLL, STREAM sample and on_change.

The agent runs as a subprocess (TLS, username/password) and pygnmi runs in a worker
process of its own (it ships gNMI stubs under the same protobuf names as ours). This
module is that worker too: ``python -m tests.integration.test_subscribe_pygnmi --worker``
reads one JSON request per line and answers one JSON line, like pygnmi_worker.py, with
subscribe operations added.

Link changes are made the way an operator makes them from outside: disabling a port
with a Set takes its link down in the (mock) hardware, which raises the link event that
ON_CHANGE subscribers receive.
"""

from __future__ import annotations

import json
import logging
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import ADMIN_PASSWORD, AgentProcess, GnmiCallError

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
CALL_TIMEOUT = 60
UPDATE_TIMEOUT = 20
TOR = "tor-tf1/1"
SPARE = "tor-tf1/4"  # a port whose link the tests take down and up again
COUNTERS = f"/ports/port[name={TOR}]/state/counters"


# --- the worker side (pygnmi, no agent imports) ---------------------------------------------


def _worker() -> int:
    import grpc
    from pygnmi.client import gNMIclient, telemetryParser

    logging.disable(logging.CRITICAL)
    clients: dict[str, Any] = {}
    subscribers: dict[str, Any] = {}

    def error(exc: BaseException) -> dict[str, str]:
        cause: BaseException | None = exc
        while cause is not None:
            if isinstance(cause, grpc.RpcError) and hasattr(cause, "code"):
                return {"code": cause.code().name, "details": cause.details() or ""}
            cause = getattr(cause, "orig_exc", None) or cause.__cause__
        return {"code": "CLIENT", "details": f"{type(exc).__name__}: {exc}"}

    def failed(subscriber: Any) -> dict[str, str] | None:
        return error(subscriber.error) if subscriber.error is not None else None

    def next_update(subscriber: Any, timeout: float) -> Any:
        # pygnmi reports a failed stream only from its reader thread: look at it often
        deadline = time.monotonic() + timeout
        while True:
            try:
                return subscriber.get_update(timeout=0.05)
            except TimeoutError:
                problem = failed(subscriber)
                if problem is not None:
                    raise RuntimeError(json.dumps(problem)) from None
                if time.monotonic() > deadline:
                    raise

    def once(client: Any, subscribe: dict[str, Any]) -> list[Any]:
        request = client._build_subscriptionrequest(dict(subscribe, mode="once"))
        responses = client._gNMIclient__stub.Subscribe(
            iter([request]), metadata=client._gNMIclient__metadata, timeout=CALL_TIMEOUT
        )
        return [telemetryParser(r) for r in responses]  # the target ends the stream

    for line in sys.stdin:
        request = json.loads(line)
        reply: dict[str, Any] = {"id": request.pop("id", None)}
        op = request.pop("op")
        try:
            if op == "connect":
                name = request.pop("client")
                client = gNMIclient(target=tuple(request.pop("target")), **request)
                client.connect()
                clients[name] = client
                reply["result"] = None
            elif op == "once":
                reply["result"] = once(clients[request["client"]], request["subscribe"])
            elif op in ("stream", "poll"):
                client = clients[request["client"]]
                subscribe = dict(request["subscribe"], mode=op)
                made = client.subscribe2(subscribe=subscribe)
                subscribers[request["name"]] = made
                reply["result"] = next_update(made, UPDATE_TIMEOUT)
            elif op == "next":
                subscriber = subscribers[request["name"]]
                try:
                    reply["result"] = next_update(subscriber, request.get("timeout", 20))
                except TimeoutError:
                    reply["error"] = {"code": "TIMEOUT", "details": "no update in time"}
            elif op == "set":
                client = clients[request.pop("client")]
                request["update"] = [tuple(u) for u in request.get("update") or []] or None
                reply["result"] = client.set(**request)
            elif op == "unsubscribe":
                subscribers.pop(request["name"]).close()
                reply["result"] = None
            else:
                reply["error"] = {"code": "CLIENT", "details": f"unknown op {op!r}"}
        except RuntimeError as exc:
            reply["error"] = json.loads(str(exc)) if str(exc).startswith("{") else error(exc)
        except Exception as exc:
            reply["error"] = error(exc)
        sys.stdout.write(json.dumps(reply, default=str) + "\n")
        sys.stdout.flush()
    for subscriber in subscribers.values():
        subscriber.close()
    for client in clients.values():
        client.close()
    return 0


# --- the test side ----------------------------------------------------------------------------


class Collector:
    """pygnmi in a worker process (this module run with ``--worker``)."""

    def __init__(self) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "tests.integration.test_subscribe_pygnmi", "--worker"],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self._next = 0
        self._replies: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            self._replies.put(line)

    def call(self, op: str, **fields: Any) -> Any:
        assert self._process.stdin is not None
        self._next += 1
        self._process.stdin.write(json.dumps({"id": self._next, "op": op, **fields}) + "\n")
        self._process.stdin.flush()
        reply = json.loads(self._replies.get(timeout=CALL_TIMEOUT))
        assert reply["id"] == self._next
        if "error" in reply:
            raise GnmiCallError(reply["error"]["code"], reply["error"]["details"])
        return reply["result"]

    def close(self) -> None:
        if self._process.stdin is not None:
            self._process.stdin.close()
        try:
            self._process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


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


def wait_for(collector: Collector, name: str, wanted: str) -> tuple[Any, dict[str, Any]]:
    """Reads the subscription ``name`` until ``wanted`` shows up; its value and response."""
    for _ in range(50):
        result = collector.call("next", name=name, timeout=UPDATE_TIMEOUT)
        found = updates(result)
        if wanted in found:
            return found[wanted], result
    raise AssertionError(f"{wanted} never arrived")


@pytest.fixture(scope="module")
def gnmi(served: AgentProcess) -> Iterator[Collector]:
    collector = Collector()
    try:
        collector.call(
            "connect",
            client="admin",
            target=["127.0.0.1", served.port],
            username="admin",
            password=ADMIN_PASSWORD,
            path_root=str(served.ca_cert),
            gnmi_timeout=20,
        )
        collector.call("once", client="admin", subscribe=_list(COUNTERS))  # the service answers
        yield collector
    finally:
        collector.close()


def _list(*paths: str, mode: str = "on_change", **options: Any) -> dict[str, Any]:
    return {
        "subscription": [{"path": p, "mode": mode, **options} for p in paths],
        "encoding": "json",
    }


def test_once(gnmi: Collector) -> None:
    results = gnmi.call("once", client="admin", subscribe=_list(COUNTERS))
    assert results[-1] == {"sync_response": True}
    values: dict[str, Any] = {}
    for result in results[:-1]:
        assert stamp(result) > 0
        values.update(updates(result))
    assert {f"{COUNTERS}/in-octets", f"{COUNTERS}/out-discards"} <= set(values)
    assert len(values) == 12


def test_poll(gnmi: Collector) -> None:
    first = gnmi.call("poll", client="admin", name="poll", subscribe=_list(COUNTERS))
    assert first.get("sync_response") and len(updates(first)) == 12
    again = gnmi.call("next", name="poll")
    assert again.get("sync_response") and len(updates(again)) == 12
    assert stamp(again) >= stamp(first) > 0
    gnmi.call("unsubscribe", name="poll")


def test_stream_sample(gnmi: Collector) -> None:
    listing = _list(COUNTERS, mode="sample", sample_interval=1_000_000_000)
    initial = gnmi.call("stream", client="admin", name="sample", subscribe=listing)
    assert initial.get("sync_response") and len(updates(initial)) == 12
    samples = [gnmi.call("next", name="sample") for _ in range(2)]
    assert all(len(updates(s)) == 12 for s in samples)
    assert stamp(initial) < stamp(samples[0]) < stamp(samples[1])
    gnmi.call("unsubscribe", name="sample")


def test_sample_interval_below_the_minimum_is_refused(gnmi: Collector) -> None:
    listing = _list(COUNTERS, mode="sample", sample_interval=1_000)
    with pytest.raises(GnmiCallError) as refused:
        gnmi.call("stream", client="admin", name="fast", subscribe=listing)
    assert refused.value.code == "INVALID_ARGUMENT"
    assert "below the minimum" in refused.value.details


def test_link_down_arrives_on_change(gnmi: Collector) -> None:
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


def test_a_set_of_mtu_reaches_a_state_subscriber(gnmi: Collector) -> None:
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


def test_a_deleted_slice_arrives_as_a_delete(gnmi: Collector) -> None:
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


if __name__ == "__main__" and "--worker" in sys.argv:
    sys.exit(_worker())
