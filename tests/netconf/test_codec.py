"""The XML codec: RFC 7951 trees <-> XML, names, values and the errors of bad input."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from agent.northbound.netconf.codec import XmlCodec
from agent.northbound.netconf.contracts import RpcError
from agent.schema.engine import SchemaEngine
from agent.schema.path import DataPath
from tests.netconf.codec_fixture import fixture_engine

NS_PORTS = "urn:edge-agent:yang:edge-ports"
NS_PLATFORM = "urn:edge-agent:yang:edge-platform"
NS_TYPES = "urn:edge-agent:yang:edge-types"
NS_DATA = "urn:test:ct-data"
NS_BASE = "urn:test:ct-base"


@pytest.fixture(scope="module")
def codec(engine: SchemaEngine) -> XmlCodec:
    return XmlCodec(engine)


@pytest.fixture(scope="module")
def typed(tmp_path_factory: pytest.TempPathFactory) -> XmlCodec:
    return XmlCodec(fixture_engine(tmp_path_factory.mktemp("yang")))


def xml(text: str) -> Any:
    return etree.fromstring(text)


def wire(elements: list[Any]) -> list[Any]:
    """The elements as a client receives them: serialised and parsed again."""
    return [etree.fromstring(etree.tostring(e)) for e in elements]


def refusal(call: Any, *args: Any) -> RpcError:
    with pytest.raises(RpcError) as caught:
        call(*args)
    return caught.value


def test_the_default_site_round_trips(codec: XmlCodec, site: dict[str, Any]) -> None:
    elements = codec.to_xml(site)
    assert [etree.QName(e).namespace for e in elements] == [
        NS_PLATFORM,
        NS_PORTS,
        "urn:edge-agent:yang:edge-tenants",
        "urn:edge-agent:yang:edge-slices",
    ]
    assert codec.from_xml(wire(elements)) == site


def test_modules_declare_their_namespace_once(codec: XmlCodec, site: dict[str, Any]) -> None:
    ports = codec.to_xml({"edge-ports:ports": site["edge-ports:ports"]})[0]
    text = etree.tostring(ports).decode()
    assert text.startswith(f'<ports xmlns="{NS_PORTS}"><port><name>tor-tf1/1</name>')
    assert text.count("xmlns=") == 1


def test_identityref_carries_its_module_prefix(codec: XmlCodec, site: dict[str, Any]) -> None:
    platform = wire(codec.to_xml({"edge-platform:platform": site["edge-platform:platform"]}))[0]
    chipset = platform.find(f".//{{{NS_PLATFORM}}}chipset")
    assert chipset.text == "et:tofino1"
    assert chipset.nsmap["et"] == NS_TYPES


@pytest.mark.parametrize(
    "chipset",
    [
        f'<chipset xmlns:t="{NS_TYPES}">t:tofino2</chipset>',  # any prefix bound to the module
        f'<chipset xmlns:et="{NS_TYPES}">et:tofino2</chipset>',
        "<chipset>tofino2</chipset>",  # no prefix: the one identity of that name
    ],
)
def test_identityref_prefixes_are_read_by_namespace(codec: XmlCodec, chipset: str) -> None:
    tree = codec.from_xml(
        [
            xml(
                f'<platform xmlns="{NS_PLATFORM}"><devices><device><name>d</name>'
                f"<config>{chipset}</config></device></devices></platform>"
            )
        ]
    )
    device = tree["edge-platform:platform"]["devices"]["device"][0]
    assert device["config"]["chipset"] == "edge-types:tofino2"


@pytest.mark.parametrize(
    ("chipset", "says"),
    [
        ("<chipset>nope:tofino2</chipset>", "prefix 'nope'"),
        ('<chipset xmlns:x="urn:other">x:tofino2</chipset>', "no module has"),
        (f'<chipset xmlns:et="{NS_TYPES}">et:tofino9</chipset>', "not one of the identities"),
    ],
)
def test_bad_identities_are_invalid_values(codec: XmlCodec, chipset: str, says: str) -> None:
    err = refusal(
        codec.from_xml,
        [
            xml(
                f'<platform xmlns="{NS_PLATFORM}"><devices><device><name>d</name>'
                f"<config>{chipset}</config></device></devices></platform>"
            )
        ],
    )
    assert err.tag == "invalid-value"
    assert (
        err.path
        == "/eplat:platform/eplat:devices/eplat:device[eplat:name='d']/eplat:config/eplat:chipset"
    )
    assert says in err.message


def test_every_type_round_trips_in_canonical_form(typed: XmlCodec) -> None:
    given = xml(
        f'<things xmlns="{NS_DATA}" xmlns:b="{NS_BASE}"><thing>'
        "<note>n</note><id>007</id><zone>z</zone><flag/><ratio>2.50</ratio>"
        "<big>-9000000000</big><huge>18446744073709551615</huge><blob>aGVs\nbG8=</blob>"
        "<on>false</on><mode>manual</mode><perms>read  write</perms><tier>b:gold</tier>"
        "<any>5</any><levels>-1</levels><levels>3</levels></thing>"
        "<thing><id>1</id><zone>y</zone><tier>bronze</tier><any>auto</any></thing>"
        "<thing><id>2</id><zone>y</zone><any>b:silver</any></thing>"
        "<thing><id>3</id><zone>y</zone><tag> 5 </tag></thing>"
        "<thing><id>4</id><zone>y</zone><tag> hello </tag></thing></things>"
    )
    tree = typed.from_xml([given])
    first, second, third, fourth, fifth = tree["ct-data:things"]["thing"]
    assert first == {
        "zone": "z",
        "id": 7,
        "note": "n",
        "flag": [None],
        "ratio": "2.5",
        "big": "-9000000000",
        "huge": "18446744073709551615",
        "blob": "aGVsbG8=",
        "on": False,
        "mode": "manual",
        "perms": "read write",
        "tier": "ct-base:gold",
        "any": 5,
        "levels": [-1, 3],
    }
    assert second["tier"] == "ct-data:bronze"  # the default namespace's identity
    assert second["any"] == "auto"  # the enumeration member, tried before string
    assert third["any"] == "ct-base:silver"  # the identityref member
    assert fourth["tag"] == 5  # the int8 member comes first
    assert fifth["tag"] == " hello "  # the string member keeps its blanks
    out = wire(typed.to_xml(tree))
    assert typed.from_xml(out) == tree
    entry = out[0][0]
    assert [etree.QName(c).localname for c in entry][:2] == ["zone", "id"]  # key order
    texts = {
        etree.QName(c).localname: c.text for c in entry if etree.QName(c).localname != "levels"
    }
    assert texts["flag"] is None and texts["ratio"] == "2.5" and texts["on"] == "false"
    assert texts["tier"] == "ctb:gold"
    assert [c.text for c in entry.findall(f"{{{NS_DATA}}}levels")] == ["-1", "3"]
    assert out[0][1].find(f"{{{NS_DATA}}}tier").text == "bronze"  # own module: no prefix


@pytest.mark.parametrize(
    ("leaf", "says"),
    [
        ("<id>256</id>", "out of range"),
        ("<ratio>1.234</ratio>", "fraction digits"),
        ("<on>yes</on>", "not a boolean"),
        ("<mode>fast</mode>", "enumeration"),
        ("<flag>x</flag>", "type empty"),
        ("<blob>***</blob>", "base64"),
        ("<big>1e3</big>", "int64"),
        ("<levels>300</levels>", "out of range"),
        ("<any>hello</any>", "matches no member"),
    ],
)
def test_values_their_type_refuses_are_invalid(typed: XmlCodec, leaf: str, says: str) -> None:
    keys = "" if leaf.startswith("<id>") else "<id>1</id>"
    err = refusal(
        typed.from_xml,
        [xml(f'<things xmlns="{NS_DATA}"><thing>{keys}<zone>z</zone>{leaf}</thing></things>')],
    )
    assert err.tag == "invalid-value"
    assert err.error_type == "application"
    assert says in err.message


def test_keys_come_first_in_key_order(typed: XmlCodec) -> None:
    tree = {"ct-data:things": {"thing": [{"note": "x", "id": 4, "zone": "a"}]}}
    entry = typed.to_xml(tree)[0][0]
    assert [etree.QName(c).localname for c in entry] == ["zone", "id", "note"]


def test_list_and_leaf_list_order_is_kept(codec: XmlCodec, site: dict[str, Any]) -> None:
    ports = site["edge-ports:ports"]["port"]
    site["edge-ports:ports"]["port"] = list(reversed(ports))
    tenant = site["edge-tenants:tenants"]["tenant"][0]
    tenant["config"]["ports"] = list(reversed(tenant["config"]["ports"]))
    again = codec.from_xml(wire(codec.to_xml(site)))
    assert [p["name"] for p in again["edge-ports:ports"]["port"]] == [
        p["name"] for p in reversed(ports)
    ]
    assert (
        again["edge-tenants:tenants"]["tenant"][0]["config"]["ports"] == tenant["config"]["ports"]
    )


def test_unknown_namespace(codec: XmlCodec) -> None:
    err = refusal(codec.from_xml, [xml('<ports xmlns="urn:nobody"/>')])
    assert (err.tag, err.error_type, err.path) == ("unknown-namespace", "application", "/")
    assert err.info == {"bad-element": "ports", "bad-namespace": "urn:nobody"}


def test_element_without_namespace(codec: XmlCodec) -> None:
    err = refusal(codec.from_xml, [xml("<ports/>")])
    assert err.tag == "unknown-namespace"
    assert "no namespace" in err.message


def test_unknown_element(codec: XmlCodec) -> None:
    err = refusal(
        codec.from_xml,
        [
            xml(
                f'<ports xmlns="{NS_PORTS}"><port><name>p</name><config><speeed/></config>'
                "</port></ports>"
            )
        ],
    )
    assert err.tag == "unknown-element"
    assert err.path == "/eport:ports/eport:port[eport:name='p']/eport:config/eport:speeed"
    assert err.info == {"bad-element": "speeed"}


def test_element_of_another_module_is_unknown_there(codec: XmlCodec) -> None:
    err = refusal(
        codec.from_xml, [xml(f'<ports xmlns="{NS_PORTS}"><devices xmlns="{NS_PLATFORM}"/></ports>')]
    )
    assert err.tag == "unknown-element"
    assert err.path == "/eport:ports/eplat:devices"


def test_entry_without_its_key(codec: XmlCodec) -> None:
    err = refusal(
        codec.from_xml, [xml(f'<ports xmlns="{NS_PORTS}"><port><config/></port></ports>')]
    )
    assert (err.tag, err.path, err.info) == (
        "missing-element",
        "/eport:ports/eport:port",
        {"bad-element": "name"},
    )


def test_a_leaf_given_twice(codec: XmlCodec) -> None:
    err = refusal(
        codec.from_xml,
        [
            xml(
                f'<ports xmlns="{NS_PORTS}"><port><name>p</name><config><mtu>1</mtu>'
                "<mtu>2</mtu></config></port></ports>"
            )
        ],
    )
    assert err.tag == "bad-element"


def test_state_is_not_configuration(codec: XmlCodec) -> None:
    given = [xml(f'<ports xmlns="{NS_PORTS}"><port><name>p</name><state/></port></ports>')]
    err = refusal(codec.from_xml, given)
    assert err.tag == "invalid-value"
    assert "config false" in err.message
    assert codec.from_xml(given, config_only=False) == {
        "edge-ports:ports": {"port": [{"name": "p", "state": {}}]}
    }


def test_whitespace_comments_and_text_in_containers(codec: XmlCodec) -> None:
    tree = codec.from_xml(
        [
            xml(
                f'<ports xmlns="{NS_PORTS}">\n  <!-- note -->\n'
                "  <port><name>p<!-- x --></name></port>\n</ports>"
            )
        ]
    )
    assert tree == {"edge-ports:ports": {"port": [{"name": "p"}]}}
    err = refusal(codec.from_xml, [xml(f'<ports xmlns="{NS_PORTS}">text</ports>')])
    assert err.tag == "invalid-value"


def test_node_to_xml_wraps_the_ancestors(codec: XmlCodec) -> None:
    mtu = codec.node_to_xml(DataPath.parse("/ports/port[name=tor-tf1/1]/config/mtu"), 9000)
    assert etree.tostring(mtu).decode() == (
        f'<ports xmlns="{NS_PORTS}"><port><name>tor-tf1/1</name><config><mtu>9000</mtu>'
        "</config></port></ports>"
    )
    entry = codec.node_to_xml(
        DataPath.parse("/platform/devices/device[name=d]"), {"config": {"enabled": True}}
    )
    assert etree.tostring(entry).decode() == (
        f'<platform xmlns="{NS_PLATFORM}"><devices><device><name>d</name><config>'
        "<enabled>true</enabled></config></device></devices></platform>"
    )
    whole = codec.node_to_xml(DataPath.parse("/edge-ports:ports"), {"port": []})
    assert etree.tostring(whole).decode() == f'<ports xmlns="{NS_PORTS}"/>'


def test_node_to_xml_of_an_unknown_node(codec: XmlCodec) -> None:
    err = refusal(codec.node_to_xml, DataPath.parse("/ports/nothing"), 1)
    assert err.tag == "invalid-value"


def test_stored_data_the_schema_lacks_fails_the_operation(codec: XmlCodec) -> None:
    err = refusal(codec.to_xml, {"edge-ports:ports": {"gadget": 1}})
    assert err.tag == "operation-failed"


def test_tagged_defaults(codec: XmlCodec) -> None:
    tree = {"edge-ports:ports": {"port": [{"name": "p", "config": {"mtu": 1514, "fec": "rs528"}}]}}
    config = wire(codec.to_xml(tree, tag_defaults=True))[0][0][1]
    wd = "{urn:ietf:params:xml:ns:netconf:default:1.0}default"
    assert [(etree.QName(c).localname, c.get(wd)) for c in config] == [
        ("mtu", "true"),
        ("fec", None),
    ]


def test_the_fixture_model_loads(tmp_path: Path) -> None:
    assert {m.name for m in fixture_engine(tmp_path).modules} == {"ct-base", "ct-data"}
