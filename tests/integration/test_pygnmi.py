"""`edge-agent serve` driven by pygnmi over TLS with username/password metadata."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from agent.security.tls import ensure_tls_material
from tests.integration.conftest import (
    ADMIN_PASSWORD,
    READER_PASSWORD,
    AgentProcess,
    GnmiCallError,
    PygnmiWorker,
)

pytestmark = pytest.mark.integration

PORT = "/ports/port[name=tor-tf1/1]"
MTU = f"{PORT}/config/mtu"


@pytest.fixture(scope="module")
def gnmi(pygnmi: PygnmiWorker, served: AgentProcess) -> PygnmiWorker:
    pygnmi.connect("admin", served, "admin", ADMIN_PASSWORD)
    pygnmi.connect("reader", served, "reader", READER_PASSWORD)
    return pygnmi


def value_of(result: dict, index: int = 0) -> object:
    notification = result["notification"][index]
    assert notification["timestamp"] > 0
    (update,) = notification["update"]
    return update["val"]


def status(call: Callable[[], object]) -> GnmiCallError:
    with pytest.raises(GnmiCallError) as caught:
        call()
    return caught.value


def test_capabilities(gnmi: PygnmiWorker) -> None:
    caps = gnmi.call("capabilities", client="admin")
    assert caps["gnmi_version"] == "0.10.0"
    assert {"json", "json_ietf", "proto"} <= set(caps["supported_encodings"])
    names = {m["name"] for m in caps["supported_models"]}
    assert {"edge-platform", "edge-ports", "edge-slices"} <= names


@pytest.mark.parametrize("encoding", ["json", "json_ietf"])
def test_get_and_set(gnmi: PygnmiWorker, encoding: str) -> None:
    mtu = 1500 if encoding == "json" else 1600
    result = gnmi.call("set", client="admin", update=[[MTU, mtu]], encoding=encoding)
    assert result["response"] == [{"path": MTU.lstrip("/"), "op": "UPDATE"}]
    got = gnmi.call("get", client="admin", path=[MTU], encoding=encoding)
    assert value_of(got) == mtu
    state = gnmi.call("get", client="admin", path=[f"{PORT}/state/mtu"], encoding=encoding)
    assert value_of(state) == mtu  # the hardware runs it


def test_module_qualified_path_as_pygnmi_sends_it(gnmi: PygnmiWorker) -> None:
    gnmi.call("set", client="admin", update=[[f"{PORT}/config/description", "to the spine"]])
    got = gnmi.call("get", client="admin", path=["edge-ports:ports/port[name=tor-tf1/1]/config"])
    assert value_of(got)["description"] == "to the spine"


def test_counters_and_datatype(gnmi: PygnmiWorker) -> None:
    got = gnmi.call("get", client="admin", path=[f"{PORT}/state/counters"])
    counters = value_of(got)
    assert {"in-octets", "out-pkts", "in-errors"} <= set(counters)
    config_only = gnmi.call("get", client="admin", path=[PORT], datatype="config")
    assert "state" not in value_of(config_only)


def test_bad_path_is_not_found(gnmi: PygnmiWorker) -> None:
    error = status(lambda: gnmi.call("get", client="admin", path=[f"{PORT}/config/warp"]))
    assert error.code == "NOT_FOUND"
    error = status(lambda: gnmi.call("get", client="admin", path=["/ports/port[name=nope]"]))
    assert error.code == "NOT_FOUND"


def test_bad_value_is_invalid_argument_naming_the_leaf(gnmi: PygnmiWorker) -> None:
    error = status(lambda: gnmi.call("set", client="admin", update=[[MTU, 99999]]))
    assert error.code == "INVALID_ARGUMENT"
    assert MTU in error.details


def test_driver_failure_aborts_the_whole_set(gnmi: PygnmiWorker) -> None:
    before = value_of(gnmi.call("get", client="admin", path=[MTU]))
    error = status(
        lambda: gnmi.call(
            "set",
            client="admin",
            update=[[MTU, 1400], ["/ports/port[name=tor-tf1/3]/config/speed", "400G"]],
        )
    )
    assert error.code == "ABORTED"
    assert "operation 1" in error.details and "tor-tf1/3" in error.details
    assert "400G" in error.details
    assert value_of(gnmi.call("get", client="admin", path=[MTU])) == before != 1400


def test_read_only_user(gnmi: PygnmiWorker) -> None:
    assert value_of(gnmi.call("get", client="reader", path=[MTU]))
    error = status(lambda: gnmi.call("set", client="reader", update=[[MTU, 1300]]))
    assert error.code == "PERMISSION_DENIED"


def test_unauthenticated(pygnmi: PygnmiWorker, served: AgentProcess) -> None:
    error = status(lambda: pygnmi.connect("intruder", served, "admin", "not-the-password"))
    assert error.code == "UNAUTHENTICATED"
    error = status(lambda: pygnmi.connect("nobody", served, "", ""))
    assert error.code == "UNAUTHENTICATED"


def test_tls_is_verified_against_the_agents_ca(
    pygnmi: PygnmiWorker, served: AgentProcess, tmp_path
) -> None:
    pygnmi.connect("verified", served, "admin", ADMIN_PASSWORD, path_cert=str(served.ca_cert))
    assert pygnmi.call("capabilities", client="verified")["gnmi_version"] == "0.10.0"
    pygnmi.call("close", client="verified")
    stranger = tmp_path / "stranger"
    ensure_tls_material(stranger)  # a CA the agent's certificate does not come from
    error = status(
        lambda: pygnmi.connect(
            "fooled",
            served,
            "admin",
            ADMIN_PASSWORD,
            path_cert=str(stranger / "tls" / "ca.crt"),
            gnmi_timeout=1,
        )
    )
    assert "FutureTimeoutError" in error.details  # the handshake fails: never ready
