"""XPath filters: selected nodes with their ancestors and keys; the root rewrite."""

from __future__ import annotations

from typing import Any

import pytest
from lxml import etree

from agent.northbound.netconf.codec import XmlCodec
from agent.northbound.netconf.contracts import RpcError
from agent.northbound.netconf.filters import parse_filter
from agent.northbound.netconf.xpath import XPathSyntaxError, rooted
from agent.schema.engine import SchemaEngine

NC = "urn:ietf:params:xml:ns:netconf:base:1.0"
PREFIXES = (
    'xmlns:p="urn:edge-agent:yang:edge-ports" xmlns:s="urn:edge-agent:yang:edge-slices" '
    'xmlns:d="urn:edge-agent:yang:edge-platform" xmlns:t="urn:edge-agent:yang:edge-types"'
)


@pytest.fixture(scope="module")
def codec(engine: SchemaEngine) -> XmlCodec:
    return XmlCodec(engine)


def select(codec: XmlCodec, site: dict[str, Any], expression: str) -> dict[str, Any]:
    element = etree.fromstring(f'<filter xmlns="{NC}" {PREFIXES} type="xpath" select=""/>')
    element.set("select", expression)
    chosen = parse_filter(element, codec).apply(codec.to_xml(site))
    return codec.from_xml([etree.fromstring(etree.tostring(e)) for e in chosen], config_only=False)


def test_a_leaf_with_its_ancestors_and_keys(codec: XmlCodec, site: dict) -> None:
    found = select(codec, site, "/p:ports/p:port[p:name='tor-tf1/1']/p:config/p:mtu")
    assert found == {"edge-ports:ports": {"port": [{"name": "tor-tf1/1", "config": {"mtu": 9000}}]}}


def test_predicates_on_values(codec: XmlCodec, site: dict) -> None:
    found = select(codec, site, "/p:ports/p:port[p:config/p:speed='25G' and p:config/p:mtu > 8999]")
    names = [p["name"] for p in found["edge-ports:ports"]["port"]]
    assert names == ["tor-tf1/2/0", "tor-tf1/2/1", "tor-tf1/2/2", "tor-tf1/2/3", "fpga-s10/2"]
    whole = {p["name"]: p for p in site["edge-ports:ports"]["port"]}
    assert found["edge-ports:ports"]["port"][0] == whole["tor-tf1/2/0"]


def test_identities_compare_as_text(codec: XmlCodec, site: dict) -> None:
    found = select(codec, site, "//d:device[d:config/d:chipset='et:bluefield-2']/d:name")
    assert found == {"edge-platform:platform": {"devices": {"device": [{"name": "dpu-bf2"}]}}}


def test_descendants_and_unions(codec: XmlCodec, site: dict) -> None:
    found = select(codec, site, "//s:tenant | /p:ports/p:port[1]/p:name")
    assert [p["name"] for p in found["edge-ports:ports"]["port"]] == ["tor-tf1/1"]
    tenants = [(s["name"], s["config"]["tenant"]) for s in found["edge-slices:slices"]["slice"]]
    assert tenants == [("embb", "operator-a"), ("urllc", "operator-a"), ("miot", "operator-b")]


def test_the_root_selects_everything(codec: XmlCodec, site: dict) -> None:
    assert select(codec, site, "/") == site
    assert select(codec, site, "/*") == site


def test_relative_paths_start_at_the_root(codec: XmlCodec, site: dict) -> None:
    assert select(codec, site, "s:slices") == {"edge-slices:slices": site["edge-slices:slices"]}


def test_text_results_select_their_element(codec: XmlCodec, site: dict) -> None:
    found = select(codec, site, "/p:ports/p:port[p:name='tor-tf1/1']/p:config/p:speed/text()")
    assert found == {
        "edge-ports:ports": {"port": [{"name": "tor-tf1/1", "config": {"speed": "100G"}}]}
    }


def test_a_selected_key_is_not_repeated(codec: XmlCodec, site: dict) -> None:
    found = select(codec, site, "/p:ports/p:port[p:name='tor-tf1/1']/p:name")
    assert found == {"edge-ports:ports": {"port": [{"name": "tor-tf1/1"}]}}


def test_nothing_selected(codec: XmlCodec, site: dict) -> None:
    assert select(codec, site, "/p:ports/p:port[p:name='none']") == {}


@pytest.mark.parametrize(
    ("expression", "says"),
    [
        ("/p:ports/p:port[", "cannot be used"),
        ("/x:ports", "cannot be used"),  # undeclared prefix
        ("count(/p:ports/p:port)", "not nodes"),
        ("/p:ports ~ 1", "unexpected"),
    ],
)
def test_bad_expressions_are_invalid_values(
    codec: XmlCodec, site: dict, expression: str, says: str
) -> None:
    with pytest.raises(RpcError) as caught:
        select(codec, site, expression)
    assert caught.value.tag == "invalid-value"
    assert says in caught.value.message
    assert caught.value.info == {"bad-attribute": "select", "bad-element": "filter"}


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("/a/b", "/r:root/ a / b"),
        ("/", "/r:root"),
        ("//a", "/r:root// a"),
        ("a/b", "a / b"),
        ("/a[b = /c]", "/r:root/ a [ b = /r:root/ c ]"),
        ("2 * /a", "2 * /r:root/ a"),
        ("/a div /b", "/r:root/ a div /r:root/ b"),
        ("/a[. = '/x']", "/r:root/ a [ . = '/x' ]"),
        ("(/a)[1]/b", "( /r:root/ a ) [ 1 ] / b"),
        ("count(/*)", "count ( /r:root/ * )"),
        ("/child::a", "/r:root/ child :: a"),
    ],
)
def test_rooted_rewrites_absolute_paths_only(expression: str, expected: str) -> None:
    assert rooted(expression, "r:root") == expected


def test_rooted_refuses_what_is_not_xpath() -> None:
    with pytest.raises(XPathSyntaxError):
        rooted("/a # b", "r:root")


def test_bare_names_and_module_prefixes_need_no_declarations(codec: XmlCodec, site: dict) -> None:
    expected = select(codec, site, "/p:ports/p:port[p:name='tor-tf1/1']/p:config/p:mtu")
    for typed in (
        "/ports/port[name='tor-tf1/1']/config/mtu",
        "/edge-ports:ports/edge-ports:port[edge-ports:name='tor-tf1/1']/edge-ports:config/mtu",
    ):
        assert select(codec, site, typed) == expected


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("/a/b", "/r:root/ *[local-name()='a'] / *[local-name()='b']"),
        ("//x[@y and z]", "/r:root// *[local-name()='x'] [ @ y and *[local-name()='z'] ]"),
        ("count(p:a) div 2", "count ( p:a ) div 2"),
        (
            "/a/attribute::b | /a/text()",
            "/r:root/ *[local-name()='a'] / attribute :: b | "
            "/r:root/ *[local-name()='a'] / text ( )",
        ),
    ],
)
def test_bare_names_become_local_name_tests(expression: str, expected: str) -> None:
    assert rooted(expression, "r:root", bare_names=True) == expected
