"""Subtree filters: the examples of RFC 6241 section 6.4 adapted to our model."""

from __future__ import annotations

from typing import Any

import pytest
from lxml import etree

from agent.northbound.netconf.codec import XmlCodec
from agent.northbound.netconf.contracts import RpcError
from agent.northbound.netconf.filters import content_filter, parse_filter
from agent.schema.engine import SchemaEngine
from agent.schema.path import DataPath

NC = "urn:ietf:params:xml:ns:netconf:base:1.0"
PORTS = 'xmlns="urn:edge-agent:yang:edge-ports"'
SLICES = 'xmlns="urn:edge-agent:yang:edge-slices"'
PLATFORM = 'xmlns="urn:edge-agent:yang:edge-platform"'


@pytest.fixture(scope="module")
def codec(engine: SchemaEngine) -> XmlCodec:
    return XmlCodec(engine)


def run(codec: XmlCodec, site: dict[str, Any], body: str, **attrs: str) -> dict[str, Any]:
    """The filter's output on the site, read back as an RFC 7951 tree."""
    attributes = "".join(f' {k}="{v}"' for k, v in attrs.items())
    flt = parse_filter(etree.fromstring(f'<filter xmlns="{NC}"{attributes}>{body}</filter>'), codec)
    selected = flt.apply(codec.to_xml(site))
    text = [etree.tostring(e) for e in selected]
    return codec.from_xml([etree.fromstring(t) for t in text], config_only=False)


def ports(tree: dict[str, Any]) -> dict[str, Any]:
    return {p["name"]: p for p in tree.get("edge-ports:ports", {}).get("port", [])}


def test_no_filter_element_children_selects_nothing(codec: XmlCodec, site: dict) -> None:
    """6.4.2: an empty filter."""
    assert run(codec, site, "") == {}


def test_a_whole_subtree(codec: XmlCodec, site: dict) -> None:
    """6.4.3: a selection node for the top container."""
    assert run(codec, site, f"<ports {PORTS}/>") == {"edge-ports:ports": site["edge-ports:ports"]}


def test_all_names_of_a_list(codec: XmlCodec, site: dict) -> None:
    """6.4.4: the name of every entry, and nothing else."""
    found = run(codec, site, f"<ports {PORTS}><port><name/></port></ports>")
    assert found["edge-ports:ports"]["port"] == [
        {"name": p["name"]} for p in site["edge-ports:ports"]["port"]
    ]


def test_one_entry(codec: XmlCodec, site: dict) -> None:
    """6.4.5: a content match on the key selects the whole entry."""
    found = run(codec, site, f"<ports {PORTS}><port><name>tor-tf1/1</name></port></ports>")
    assert list(ports(found)) == ["tor-tf1/1"]
    assert ports(found)["tor-tf1/1"] == ports(site)["tor-tf1/1"]


def test_some_leaves_of_one_entry(codec: XmlCodec, site: dict) -> None:
    """6.4.6: the content match plus the selection nodes beside it."""
    found = run(
        codec,
        site,
        f"<ports {PORTS}><port><name>tor-tf1/1</name><config><mtu/><speed/></config>"
        "</port></ports>",
    )
    assert found == {
        "edge-ports:ports": {
            "port": [{"name": "tor-tf1/1", "config": {"speed": "100G", "mtu": 9000}}]
        }
    }


def test_multiple_subtrees(codec: XmlCodec, site: dict) -> None:
    """6.4.7: three entries, each with its own selection. A content match inside a
    containment node that fails selects nothing there; the entry's own content match
    (its key) is still part of the output, as section 6.2.5 says."""
    found = run(
        codec,
        site,
        f"<ports {PORTS}>"
        "<port><name>tor-tf1/1</name><config/></port>"
        "<port><name>tor-tf1/2/0</name><config><speed/></config></port>"
        "<port><name>tor-tf1/3</name><config><speed>400G</speed></config></port>"
        "<port><name>tor-tf1/4</name><config><speed>100G</speed><mtu/></config></port>"
        "</ports>",
    )
    assert found["edge-ports:ports"]["port"] == [
        ports(site)["tor-tf1/1"],
        {"name": "tor-tf1/2/0", "config": {"speed": "25G"}},
        {"name": "tor-tf1/3"},
        {"name": "tor-tf1/4", "config": {"speed": "100G", "mtu": 9000}},
    ]


def test_content_match_alone_selects_all_its_siblings(codec: XmlCodec, site: dict) -> None:
    found = run(
        codec,
        site,
        f"<slices {SLICES}><slice><config><tenant>operator-a</tenant></config></slice></slices>",
    )
    slices = found["edge-slices:slices"]["slice"]
    assert [s["name"] for s in slices] == ["embb", "urllc"]
    expected = {s["name"]: s["config"] for s in site["edge-slices:slices"]["slice"]}
    assert all(s["config"] == expected[s["name"]] for s in slices)
    assert all(set(s) == {"name", "config"} for s in slices)  # keys, then what matched


def test_content_matches_are_anded(codec: XmlCodec, site: dict) -> None:
    found = run(
        codec,
        site,
        f"<ports {PORTS}><port><config><speed>25G</speed><mtu>9000</mtu><device>tor-tf1</device>"
        "</config></port></ports>",
    )
    assert sorted(ports(found)) == ["tor-tf1/2/0", "tor-tf1/2/1", "tor-tf1/2/2", "tor-tf1/2/3"]
    assert (
        run(
            codec,
            site,
            f"<ports {PORTS}><port><config><speed>25G</speed><mtu>1</mtu></config></port></ports>",
        )
        == {}
    )


def test_values_compare_by_type(codec: XmlCodec, site: dict) -> None:
    numbers = run(
        codec, site, f"<ports {PORTS}><port><config><mtu> 09000 </mtu></config></port></ports>"
    )
    assert ports(numbers)
    identities = run(
        codec,
        site,
        f'<platform {PLATFORM} xmlns:t="urn:edge-agent:yang:edge-types"><devices><device>'
        "<config><chipset>t:tofino2</chipset></config></device></devices></platform>",
    )
    devices = identities["edge-platform:platform"]["devices"]["device"]
    assert [d["name"] for d in devices] == ["spine-tf2"]


def test_content_match_on_a_leaf_list(codec: XmlCodec, site: dict) -> None:
    """The leaf-list element that matches; alone in its set, all its siblings too."""
    body = (
        '<tenants xmlns="urn:edge-agent:yang:edge-tenants"><tenant><config>{}<ports>tor-tf1/1'
        "</ports></config></tenant></tenants>"
    )
    alone = run(codec, site, body.format(""))["edge-tenants:tenants"]["tenant"]
    assert [t["name"] for t in alone] == ["operator-a"]
    assert alone[0]["config"] == site["edge-tenants:tenants"]["tenant"][0]["config"]
    beside = run(codec, site, body.format("<name/>"))["edge-tenants:tenants"]["tenant"]
    assert beside == [
        {"name": "operator-a", "config": {"name": "operator-a", "ports": ["tor-tf1/1"]}}
    ]


def test_namespace_wildcard(codec: XmlCodec, site: dict) -> None:
    """6.2.1: an element without namespace matches in every namespace."""
    found = run(codec, site, '<ports xmlns=""><port><name>tor-tf1/1</name></port></ports>')
    assert list(ports(found)) == ["tor-tf1/1"]
    inherited = run(codec, site, "<ports><port><name>tor-tf1/1</name></port></ports>")
    assert inherited == found


def test_other_namespaces_and_unknown_names_select_nothing(codec: XmlCodec, site: dict) -> None:
    assert run(codec, site, '<ports xmlns="urn:other"/>') == {}
    assert run(codec, site, f"<ports {PORTS}><gadget/></ports>") == {}
    assert run(codec, site, f"<ports {PORTS}><port><name>nope</name></port></ports>") == {}


def test_attribute_match(codec: XmlCodec, site: dict) -> None:
    """6.4.8 adapted: our data carries no attributes, so an attribute match fails."""
    assert run(codec, site, f'<ports {PORTS}><port kind="x"><name/></port></ports>') == {}


def test_overlapping_filters_merge(codec: XmlCodec, site: dict) -> None:
    found = run(
        codec,
        site,
        f"<ports {PORTS}><port><name>tor-tf1/1</name><config><mtu/></config></port>"
        "<port><name>tor-tf1/1</name><config><fec/></config></port></ports>",
    )
    assert found == {
        "edge-ports:ports": {
            "port": [{"name": "tor-tf1/1", "config": {"fec": "rs528", "mtu": 9000}}]
        }
    }


def test_paths_for_state_selection(codec: XmlCodec) -> None:
    flt = parse_filter(
        etree.fromstring(
            f'<filter xmlns="{NC}"><ports {PORTS}><port><name>tor-tf1/1</name><state/></port>'
            f'</ports><slices {SLICES}/><netconf-state xmlns="urn:other"/></filter>'
        ),
        codec,
    )
    assert flt.paths() == [DataPath.parse("/ports/port[name=tor-tf1/1]"), DataPath.parse("/slices")]


def test_filter_types(codec: XmlCodec) -> None:
    with pytest.raises(RpcError) as bad:
        parse_filter(etree.fromstring(f'<filter xmlns="{NC}" type="regex"/>'), codec)
    assert (bad.value.tag, bad.value.info["bad-attribute"]) == ("bad-attribute", "type")
    with pytest.raises(RpcError) as missing:
        parse_filter(etree.fromstring(f'<filter xmlns="{NC}" type="xpath"/>'), codec)
    assert missing.value.tag == "missing-attribute"


def test_data_outside_our_schema_with_foreign_keys(codec: XmlCodec) -> None:
    ns = "urn:ietf:params:xml:ns:yang:ietf-netconf-monitoring"
    data = etree.fromstring(
        f'<netconf-state xmlns="{ns}"><sessions>'
        "<session><session-id>1</session-id><username>a</username></session>"
        "<session><session-id>2</session-id><username>b</username></session>"
        "</sessions></netconf-state>"
    )
    flt = parse_filter(
        etree.fromstring(
            f'<filter xmlns="{NC}"><netconf-state xmlns="{ns}"><sessions><session>'
            "<username>b</username></session></sessions></netconf-state></filter>"
        ),
        codec,
        {f"{{{ns}}}session": ("session-id",)},
    )
    (out,) = flt.apply([data])
    assert etree.tostring(out).decode() == (
        f'<netconf-state xmlns="{ns}"><sessions><session><session-id>2</session-id>'
        "<username>b</username></session></sessions></netconf-state>"
    )


def test_notification_content_filter(codec: XmlCodec) -> None:
    ns = "urn:ietf:params:xml:ns:yang:ietf-netconf-notifications"
    select = content_filter(
        etree.fromstring(
            f'<filter xmlns="{NC}"><netconf-config-change xmlns="{ns}"><changed-by/>'
            "</netconf-config-change></filter>"
        ),
        codec,
    )
    event = etree.fromstring(
        f'<netconf-config-change xmlns="{ns}"><changed-by><username>a</username></changed-by>'
        "<datastore>running</datastore></netconf-config-change>"
    )
    chosen = select(event)
    assert chosen is not None
    assert [etree.QName(c).localname for c in chosen] == ["changed-by"]
    assert select(etree.fromstring(f'<other xmlns="{ns}"/>')) is None
    assert len(event) == 2  # the event itself is left alone


def test_output_is_valid_xml_for_the_wire(codec: XmlCodec, site: dict) -> None:
    flt = parse_filter(
        etree.fromstring(
            f'<filter xmlns="{NC}"><platform {PLATFORM}><devices><device><config><chipset/>'
            "</config></device></devices></platform></filter>"
        ),
        codec,
    )
    (platform,) = flt.apply(codec.to_xml(site))
    again = etree.fromstring(etree.tostring(platform))
    chipsets = again.findall(".//{urn:edge-agent:yang:edge-platform}chipset")
    assert chipsets[0].text == "et:tofino1"
    assert chipsets[0].nsmap["et"] == "urn:edge-agent:yang:edge-types"
    assert etree.QName(again).namespace == "urn:edge-agent:yang:edge-platform"
