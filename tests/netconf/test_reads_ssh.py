"""get and get-config over real SSH with netconf-client."""

from __future__ import annotations

import pytest
from lxml import etree
from netconf_client.error import RpcError as ClientRpcError

from agent.northbound.netconf.codec import XmlCodec
from agent.northbound.netconf.contracts import NS_BASE
from agent.northbound.netconf.reads import READ_CAPABILITIES
from agent.schema.engine import SchemaEngine
from tests.netconf.conftest import ServedNetconf

NS_PORTS = "urn:edge-agent:yang:edge-ports"


def test_reads_over_ssh(served: ServedNetconf, engine: SchemaEngine, site: dict) -> None:
    manager = served.manager()
    announced = set(manager.session.server_capabilities)
    assert set(READ_CAPABILITIES) <= announced
    codec = XmlCodec(engine)

    config = manager.get_config(source="running").data_ele
    assert codec.from_xml(list(config)) == site

    one = manager.get_config(
        source="running",
        filter=f'<filter><ports xmlns="{NS_PORTS}"><port><name>tor-tf1/1</name><config>'
        "<mtu/></config></port></ports></filter>",
    ).data_ele
    assert codec.from_xml(list(one)) == {
        "edge-ports:ports": {"port": [{"name": "tor-tf1/1", "config": {"mtu": 9000}}]}
    }

    state = manager.get(
        filter=f'<filter type="xpath" xmlns:p="{NS_PORTS}" '
        "select=\"/p:ports/p:port[p:name='tor-tf1/1']/p:state/p:oper-status\"/>"
    ).data_ele
    (port,) = codec.from_xml(list(state), config_only=False)["edge-ports:ports"]["port"]
    assert set(port["state"]) == {"oper-status"}

    tagged = manager.get_config(
        source="running",
        filter="<filter><tenants xmlns='urn:edge-agent:yang:edge-tenants'/></filter>",
        with_defaults="report-all-tagged",
    ).data_ele
    wd = "{urn:ietf:params:xml:ns:netconf:default:1.0}default"
    assert any(e.get(wd) == "true" for e in tagged.iter())


def test_a_tenant_over_ssh_sees_its_view(served: ServedNetconf, engine: SchemaEngine) -> None:
    data = served.manager("tenant-a").get().data_ele
    tops = {etree.QName(e).localname for e in data}
    assert "platform" not in tops
    slices = XmlCodec(engine).from_xml(
        [e for e in data if etree.QName(e).localname == "slices"], config_only=False
    )
    assert [s["name"] for s in slices["edge-slices:slices"]["slice"]] == ["embb", "urllc"]


def test_an_error_reply_over_ssh(served: ServedNetconf) -> None:
    manager = served.manager("reader")
    with pytest.raises(ClientRpcError) as caught:
        manager.get(filter='<filter type="regex"/>')
    error = caught.value.reply_ele.find(f".//{{{NS_BASE}}}rpc-error")
    assert error.findtext(f"{{{NS_BASE}}}error-tag") == "bad-attribute"
    assert error.findtext(f"{{{NS_BASE}}}error-info/{{{NS_BASE}}}bad-attribute") == "type"
