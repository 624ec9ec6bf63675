"""The text writer writes what the codec builds, reuses only the text of subtrees that
did not change, and leaves refusals to the codec."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from lxml import etree

from agent.northbound.netconf.codec import XmlCodec
from agent.northbound.netconf.contracts import NS_BASE, EncodedData, RpcError
from agent.northbound.netconf.replies import data_reply
from agent.northbound.netconf.xml_text import XmlTextWriter
from agent.schema.engine import SchemaEngine
from agent.sitegen import scaled_site


@pytest.fixture(scope="module")
def codec(engine: SchemaEngine) -> XmlCodec:
    return XmlCodec(engine)


def by_codec(codec: XmlCodec, tree: dict[str, Any], tag: bool = False) -> bytes:
    data = etree.Element(f"{{{NS_BASE}}}data", nsmap={None: NS_BASE})
    codec.to_xml(tree, parent=data, tag_defaults=tag)
    return bytes(etree.tostring(data))


def by_writer(writer: XmlTextWriter, tree: dict[str, Any], tag: bool = False) -> bytes:
    text = writer.text(tree, tag_defaults=tag)
    return bytes(etree.tostring(etree.fromstring(f'<data xmlns="{NS_BASE}">{text}</data>')))


@pytest.mark.parametrize("tag", [False, True])
def test_the_site_as_the_codec_writes_it(codec: XmlCodec, site: dict[str, Any], tag: bool) -> None:
    writer = XmlTextWriter(codec)
    assert by_writer(writer, site, tag) == by_codec(codec, site, tag)
    assert by_writer(writer, site, tag) == by_codec(codec, site, tag)  # from its memory


def test_a_scaled_site_and_its_identities(codec: XmlCodec) -> None:
    tree = scaled_site(64, 20, tenants=4)
    written = by_writer(XmlTextWriter(codec), tree)
    assert written == by_codec(codec, tree)
    assert b"xmlns:et=" in written  # identityref prefixes declared on their leaf


def test_text_that_needs_escaping(codec: XmlCodec, site: dict[str, Any]) -> None:
    tree = copy.deepcopy(site)
    tree["edge-ports:ports"]["port"][0]["config"]["description"] = 'a & b < c > "d" \r\n]]>'
    writer = XmlTextWriter(codec)
    assert by_writer(writer, tree) == by_codec(codec, tree)
    parsed = etree.fromstring(f'<data xmlns="{NS_BASE}">{writer.text(tree)}</data>')
    described = parsed.findtext(".//{urn:edge-agent:yang:edge-ports}description")
    assert described == 'a & b < c > "d" \r\n]]>'


def test_a_changed_subtree_is_written_again_and_the_rest_reused(
    codec: XmlCodec, site: dict[str, Any]
) -> None:
    writer = XmlTextWriter(codec)
    first = writer.text(site)
    ports = site["edge-ports:ports"]["port"]
    changed = dict(ports[0], config=dict(ports[0]["config"], mtu=1600))
    tree = dict(site, **{"edge-ports:ports": {"port": [changed, *ports[1:]]}})
    second = writer.text(tree)
    assert "<mtu>1600</mtu>" in second and "<mtu>1600</mtu>" not in first
    assert by_writer(writer, tree) == by_codec(codec, tree)
    assert writer.text(site) == first


def test_a_small_memory_starts_afresh(codec: XmlCodec, site: dict[str, Any]) -> None:
    writer = XmlTextWriter(codec, cache_chars=1_000)
    assert by_writer(writer, site) == by_codec(codec, site)
    assert by_writer(writer, site) == by_codec(codec, site)


def test_data_the_schema_does_not_have_is_the_codecs_error(
    codec: XmlCodec, site: dict[str, Any]
) -> None:
    tree = copy.deepcopy(site)
    tree["edge-ports:ports"]["port"][0]["config"]["no-such-leaf"] = 1
    with pytest.raises(RpcError) as refused:
        XmlTextWriter(codec).text(tree)
    assert refused.value.tag == "operation-failed" and "no-such-leaf" in refused.value.message


@pytest.mark.parametrize("nsmap", [None, {"nc": NS_BASE}, {None: "urn:other", "x": NS_BASE}])
def test_encoded_data_is_spliced_into_the_reply(
    codec: XmlCodec, site: dict[str, Any], nsmap: dict[str | None, str] | None
) -> None:
    text = XmlTextWriter(codec).text(site)
    attributes = {"message-id": "<!--edge-agent: the data goes here-->"}
    reply = etree.fromstring(data_reply(attributes, nsmap, EncodedData(text)))
    assert (
        reply.tag == f"{{{NS_BASE}}}rpc-reply"
        and reply.get("message-id") == attributes["message-id"]
    )
    (data,) = reply
    assert data.tag == f"{{{NS_BASE}}}data"
    expected = etree.fromstring(by_codec(codec, site))
    assert codec.from_xml(list(data)) == codec.from_xml(list(expected))
