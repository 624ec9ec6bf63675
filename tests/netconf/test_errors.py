"""Service refusals as <rpc-error>: the Kind map, error paths and rendering."""

from __future__ import annotations

import pytest
from lxml import etree

from agent.cancellation import CancelReason, WorkCancelled
from agent.datastore.errors import DatastoreError, ErrorKind
from agent.northbound.netconf.codec import XmlCodec
from agent.northbound.netconf.contracts import NS_BASE, RpcError
from agent.northbound.netconf.errors import (
    ERROR_OF_KIND,
    MAX_MESSAGE_CHARS,
    app_tag_of,
    render,
    renderer,
    rpc_error,
    work_error,
)
from agent.northbound.netconf.xpath import literal
from agent.schema.engine import SchemaEngine
from agent.schema.path import DataPath
from agent.service.admission import AdmissionRefused
from agent.service.errors import Kind, ServiceError

TAGS = frozenset(
    {
        "in-use",
        "invalid-value",
        "too-big",
        "missing-attribute",
        "bad-attribute",
        "unknown-attribute",
        "missing-element",
        "bad-element",
        "unknown-element",
        "unknown-namespace",
        "access-denied",
        "lock-denied",
        "resource-denied",
        "rollback-failed",
        "data-exists",
        "data-missing",
        "operation-not-supported",
        "operation-failed",
        "partial-operation",
        "malformed-message",
    }
)
"""The error-tags of RFC 6241 appendix A."""


@pytest.fixture(scope="module")
def codec(engine: SchemaEngine) -> XmlCodec:
    return XmlCodec(engine)


def test_every_kind_maps_onto_an_rfc_6241_tag() -> None:
    assert set(ERROR_OF_KIND) == set(Kind)
    for tag, error_type in ERROR_OF_KIND.values():
        assert tag in TAGS
        assert error_type in ("transport", "rpc", "protocol", "application")


@pytest.mark.parametrize(
    ("kind", "tag"),
    [
        (Kind.INVALID, "invalid-value"),
        (Kind.NOT_FOUND, "data-missing"),
        (Kind.UNSUPPORTED, "operation-not-supported"),
        (Kind.DENIED, "access-denied"),
        (Kind.LOCKED, "lock-denied"),
        (Kind.CONFLICT, "in-use"),
        (Kind.ABORTED, "operation-failed"),
        (Kind.EXHAUSTED, "resource-denied"),
        (Kind.DEADLINE, "operation-failed"),
        (Kind.CANCELLED, "operation-failed"),
        (Kind.UNAVAILABLE, "resource-denied"),
        (Kind.INTERNAL, "operation-failed"),
    ],
)
def test_the_map(kind: Kind, tag: str) -> None:
    assert rpc_error(ServiceError(kind, "why")).tag == tag


def test_an_unknown_schema_node_is_an_invalid_value() -> None:
    err = rpc_error(ServiceError(Kind.NOT_FOUND, "no schema node 'x' under /ports"))
    assert err.tag == "invalid-value"


def test_error_path_with_module_prefixes(codec: XmlCodec) -> None:
    err = rpc_error(
        ServiceError(Kind.INVALID, "/ports/port[name=tor-tf1/1]/config/mtu: 20000 is above 16000"),
        path=DataPath.parse("/ports/port[name=tor-tf1/1]/config/mtu"),
        codec=codec,
        context="edit-config",
    )
    assert err.path == "/eport:ports/eport:port[eport:name='tor-tf1/1']/eport:config/eport:mtu"
    assert (
        err.message == "edit-config: /ports/port[name=tor-tf1/1]/config/mtu: 20000 is above 16000"
    )
    assert err.error_type == "application"


def test_lock_denied_names_the_session() -> None:
    held = ServiceError(
        Kind.LOCKED, "the running datastore is locked by NETCONF session 7 (user a)"
    )
    assert rpc_error(held).info == {"session-id": "7"}
    gnmi = ServiceError(Kind.LOCKED, "the running datastore is locked by gNMI Set of b")
    assert rpc_error(gnmi).info == {"session-id": "0"}
    assert rpc_error(gnmi, session_id=3).info == {"session-id": "3"}
    assert rpc_error(gnmi).error_type == "protocol"


def test_datastore_errors_and_overrides() -> None:
    err = rpc_error(DatastoreError(ErrorKind.HARDWARE, "tofino: speed 1G not supported"))
    assert err.tag == "operation-failed"
    unlocked = rpc_error(ServiceError(Kind.CONFLICT, "not locked"), tag="operation-failed")
    assert unlocked.tag == "operation-failed"


def test_work_that_could_not_run() -> None:
    assert work_error(AdmissionRefused("a", 16), "get").tag == "resource-denied"
    budget = work_error(WorkCancelled(CancelReason.BUDGET, 30.0), "get")
    assert budget.tag == "resource-denied" and "30 s" in budget.message
    assert work_error(WorkCancelled(CancelReason.CANCELLED), "get").tag == "operation-failed"


def test_render(codec: XmlCodec) -> None:
    error = RpcError(
        "invalid-value",
        "mtu 20000 is above 16000",
        path="/eport:ports/eport:port[eport:name='a:b']/eport:config/eport:mtu",
        info={"bad-element": "mtu"},
        app_tag="must-violation",
    )
    element = etree.fromstring(etree.tostring(renderer(codec.names)(error)))
    assert element.tag == f"{{{NS_BASE}}}rpc-error"
    children = [(etree.QName(c).localname, c.text) for c in element]
    assert children[:6] == [
        ("error-type", "application"),
        ("error-tag", "invalid-value"),
        ("error-severity", "error"),
        ("error-app-tag", "must-violation"),
        ("error-path", error.path),
        ("error-message", error.message),
    ]
    path = element.find(f"{{{NS_BASE}}}error-path")
    assert path.nsmap["eport"] == "urn:edge-agent:yang:edge-ports"
    assert "a" not in path.nsmap  # prefixes inside literals are not prefixes
    assert (
        element.find(f"{{{NS_BASE}}}error-message").get(
            "{http://www.w3.org/XML/1998/namespace}lang"
        )
        == "en"
    )
    info = element.find(f"{{{NS_BASE}}}error-info")
    assert [(etree.QName(c).localname, c.text) for c in info] == [("bad-element", "mtu")]


def test_render_without_path_or_info() -> None:
    element = render(RpcError("operation-failed", "x" * (MAX_MESSAGE_CHARS + 10)))
    names = [etree.QName(c).localname for c in element]
    assert names == ["error-type", "error-tag", "error-severity", "error-message"]
    assert element[-1].text.endswith("(10 more characters)")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("a", "'a'"), ("it's", '"it\'s"'), ("a'b\"c", "concat('a', \"'\", 'b\"c')")],
)
def test_xpath_literals(text: str, expected: str) -> None:
    assert literal(text) == expected


@pytest.mark.parametrize(
    ("message", "app_tag"),
    [
        ("/slices/slice[name=a]: config/vlan-id = 1 is already used [unique]", "data-not-unique"),
        ("/a[name=x]: max-rate below min-rate [must] (and 2 more)", "must-violation"),
        ("/a/b: no port 'p' [leafref]", "instance-required"),
        ("/a: too many elements [cardinality]", "too-many-elements"),
        ("/a: too few elements [cardinality]", "too-few-elements"),
        ("/a: 'x' is not an integer [type]", None),
        ("a message that ends [must] but differently.", None),
    ],
)
def test_app_tags_of_schema_rules(message: str, app_tag: str | None) -> None:
    assert app_tag_of(message) == app_tag
    assert rpc_error(ServiceError(Kind.INVALID, message)).app_tag == app_tag
