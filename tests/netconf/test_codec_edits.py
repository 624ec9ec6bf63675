"""edit_nodes: an <edit-config>'s <config> cut into regions at nc:operation attributes."""

from __future__ import annotations

from typing import Any

import pytest
from lxml import etree

from agent.northbound.netconf.codec import Operation, XmlCodec
from agent.northbound.netconf.contracts import RpcError
from agent.schema.engine import SchemaEngine
from agent.schema.path import DataPath

NC = "urn:ietf:params:xml:ns:netconf:base:1.0"
NS_PORTS = "urn:edge-agent:yang:edge-ports"
NS_TENANTS = "urn:edge-agent:yang:edge-tenants"


@pytest.fixture(scope="module")
def codec(engine: SchemaEngine) -> XmlCodec:
    return XmlCodec(engine)


def config(body: str) -> Any:
    return etree.fromstring(f'<config xmlns="{NC}" xmlns:nc="{NC}">{body}</config>')


def edits(codec: XmlCodec, body: str) -> list[tuple[str, Operation | None, Any]]:
    return [(str(n.path), n.operation, n.value) for n in codec.edit_nodes(config(body))]


def refusal(codec: XmlCodec, body: str) -> RpcError:
    with pytest.raises(RpcError) as caught:
        codec.edit_nodes(config(body))
    return caught.value


def test_a_config_without_operations_is_one_region_per_module(codec: XmlCodec) -> None:
    assert edits(
        codec,
        f'<ports xmlns="{NS_PORTS}"><port><name>p</name><config><mtu>9000</mtu></config>'
        "</port></ports>",
    ) == [("/edge-ports:ports", None, {"port": [{"name": "p", "config": {"mtu": 9000}}]})]


def test_operations_cut_regions_in_document_order(codec: XmlCodec) -> None:
    found = edits(
        codec,
        f'<ports xmlns="{NS_PORTS}">'
        "<port><name>a</name><config><mtu>9100</mtu>"
        '<description nc:operation="delete"/></config></port>'
        '<port nc:operation="remove"><name>b</name><config><mtu>1</mtu></config></port>'
        '<port nc:operation="replace"><name>c</name><config><name>c</name>'
        '<fec nc:operation="merge">none</fec></config></port>'
        "</ports>",
    )
    assert found == [
        ("/edge-ports:ports", None, {"port": [{"name": "a", "config": {"mtu": 9100}}]}),
        ("/edge-ports:ports/port[name=a]/config/description", Operation.DELETE, None),
        ("/edge-ports:ports/port[name=b]", Operation.REMOVE, None),
        (
            "/edge-ports:ports/port[name=c]",
            Operation.REPLACE,
            {"name": "c", "config": {"name": "c"}},
        ),
        ("/edge-ports:ports/port[name=c]/config/fec", Operation.MERGE, "none"),
    ]


def test_a_top_level_operation(codec: XmlCodec) -> None:
    assert edits(codec, f'<ports xmlns="{NS_PORTS}" nc:operation="create"/>') == [
        ("/edge-ports:ports", Operation.CREATE, {})
    ]


def test_paths_carry_typed_keys_and_modules(codec: XmlCodec) -> None:
    (node,) = codec.edit_nodes(
        config(
            f'<ports xmlns="{NS_PORTS}" nc:operation="merge"><port><name>x</name></port></ports>'
        )
    )
    assert node.path == DataPath.parse("/edge-ports:ports")
    assert node.path.elems[0].module == "edge-ports"
    inner = codec.edit_nodes(
        config(
            f'<ports xmlns="{NS_PORTS}"><port nc:operation="delete"><name>x y</name></port></ports>'
        )
    )[1]
    assert inner.path == DataPath.parse("/edge-ports:ports/port[name=x y]")
    assert etree.QName(inner.element).localname == "port"


def test_leaf_list_elements(codec: XmlCodec) -> None:
    found = edits(
        codec,
        f'<tenants xmlns="{NS_TENANTS}"><tenant><name>t</name><config>'
        '<ports>p1</ports><ports nc:operation="delete">p2</ports><ports>p3</ports>'
        '<ports nc:operation="create">p4</ports></config></tenant></tenants>',
    )
    assert found == [
        (
            "/edge-tenants:tenants",
            None,
            {"tenant": [{"name": "t", "config": {"ports": ["p1", "p3"]}}]},
        ),
        ("/edge-tenants:tenants/tenant[name=t]/config/ports", Operation.DELETE, ["p2"]),
        ("/edge-tenants:tenants/tenant[name=t]/config/ports", Operation.CREATE, ["p4"]),
    ]


def test_an_operation_outside_the_five_is_a_bad_attribute(codec: XmlCodec) -> None:
    err = refusal(
        codec,
        f'<ports xmlns="{NS_PORTS}"><port nc:operation="upsert"><name>a</name></port></ports>',
    )
    assert (err.tag, err.error_type) == ("bad-attribute", "protocol")
    assert err.info == {"bad-attribute": "operation", "bad-element": "port"}
    assert err.path == "/eport:ports/eport:port"


def test_operation_without_namespace_is_refused(codec: XmlCodec) -> None:
    err = refusal(
        codec, f'<ports xmlns="{NS_PORTS}"><port operation="delete"><name>a</name></port></ports>'
    )
    assert err.tag == "unknown-attribute"
    assert "nc:operation" in err.message


def test_yang_insert_is_an_unknown_attribute(codec: XmlCodec) -> None:
    err = refusal(
        codec,
        f'<ports xmlns="{NS_PORTS}" xmlns:yang="urn:ietf:params:xml:ns:yang:1">'
        '<port yang:insert="first"><name>a</name></port></ports>',
    )
    assert err.tag == "unknown-attribute"
    assert err.info["bad-attribute"] == "insert"


def test_deleting_an_entry_needs_its_key(codec: XmlCodec) -> None:
    err = refusal(codec, f'<ports xmlns="{NS_PORTS}"><port nc:operation="delete"/></ports>')
    assert (err.tag, err.info) == ("missing-element", {"bad-element": "name"})


def test_no_operation_inside_a_delete(codec: XmlCodec) -> None:
    err = refusal(
        codec,
        f'<ports xmlns="{NS_PORTS}"><port nc:operation="delete"><name>a</name>'
        '<config nc:operation="create"/></port></ports>',
    )
    assert err.tag == "bad-attribute"


def test_a_key_takes_its_entrys_operation(codec: XmlCodec) -> None:
    body = (
        f'<ports xmlns="{NS_PORTS}"><port nc:operation="merge"><name nc:operation="{{op}}">a'
        "</name></port></ports>"
    )
    assert edits(codec, body.format(op="merge"))[1][:2] == (
        "/edge-ports:ports/port[name=a]",
        Operation.MERGE,
    )
    assert refusal(codec, body.format(op="delete")).tag == "bad-attribute"


def test_values_are_checked_inside_regions(codec: XmlCodec) -> None:
    err = refusal(
        codec,
        f'<ports xmlns="{NS_PORTS}"><port nc:operation="create"><name>a</name>'
        "<config><mtu>big</mtu></config></port></ports>",
    )
    assert err.tag == "invalid-value"
    assert err.path == "/eport:ports/eport:port[eport:name='a']/eport:config/eport:mtu"
