"""The RFC 6470 content of a commit: edits derived from the diff, targets, changed-by."""

from __future__ import annotations

import copy
from typing import Any

from lxml import etree

from agent.datastore.diff import diff_trees
from agent.northbound.netconf.config_change import (
    ChangedBy,
    ConfigEdit,
    EditOperation,
    config_change_element,
    config_edits,
    source_host,
)
from agent.northbound.netconf.notifications import notification_element
from agent.northbound.netconf.xpath import ModuleNames
from agent.schema.engine import SchemaEngine
from agent.schema.path import DataPath

NC = "urn:ietf:params:xml:ns:yang:ietf-netconf-notifications"


def derived(engine: SchemaEngine, before: Any, after: Any) -> list[tuple[str, str]]:
    changes = diff_trees(before, after, engine.nav)
    return [(str(e.path), e.operation.value) for e in config_edits(before, changes, engine.nav)]


def test_changed_leaf_is_merge(engine: SchemaEngine, site: dict[str, Any]) -> None:
    after = copy.deepcopy(site)
    after["edge-ports:ports"]["port"][0]["config"]["mtu"] = 1500
    assert derived(engine, site, after) == [("/ports/port[name=tor-tf1/1]/config/mtu", "merge")]


def test_a_new_entry_is_one_create(engine: SchemaEngine, site: dict[str, Any]) -> None:
    after = copy.deepcopy(site)
    after["edge-slices:slices"]["slice"].append(
        {
            "name": "video",
            "config": {"name": "video", "tenant": "operator-a", "sst": 1, "vlan-id": 3001},
            "members": {"member": [{"port": "tor-tf1/1", "config": {"port": "tor-tf1/1"}}]},
        }
    )
    assert derived(engine, site, after) == [("/slices/slice[name=video]", "create")]


def test_a_new_leaf_of_an_entry_is_created_there(
    engine: SchemaEngine, site: dict[str, Any]
) -> None:
    assert "loopback" not in site["edge-ports:ports"]["port"][0]["config"]
    after = copy.deepcopy(site)
    after["edge-ports:ports"]["port"][0]["config"]["loopback"] = "none"
    found = derived(engine, site, after)
    assert found == [("/ports/port[name=tor-tf1/1]/config/loopback", "create")]


def test_leaf_list_values_are_replaced(engine: SchemaEngine, site: dict[str, Any]) -> None:
    after = copy.deepcopy(site)
    tenant = after["edge-tenants:tenants"]["tenant"][0]["config"]
    tenant["ports"] = [*tenant["ports"], "nic-e810/3"]
    assert derived(engine, site, after) == [
        ("/tenants/tenant[name=operator-a]/config/ports", "replace")
    ]


def test_deletes_come_first(engine: SchemaEngine, site: dict[str, Any]) -> None:
    after = copy.deepcopy(site)
    after["edge-slices:slices"]["slice"] = [
        s for s in after["edge-slices:slices"]["slice"] if s["name"] != "miot"
    ]
    after["edge-ports:ports"]["port"][0]["config"]["mtu"] = 1500
    assert derived(engine, site, after) == [
        ("/slices/slice[name=miot]", "delete"),
        ("/ports/port[name=tor-tf1/1]/config/mtu", "merge"),
    ]


def test_a_whole_new_top_container_is_one_create(
    engine: SchemaEngine, site: dict[str, Any]
) -> None:
    before = {k: v for k, v in site.items() if k != "edge-slices:slices"}
    assert derived(engine, before, site) == [("/slices", "create")]


def test_changed_by() -> None:
    assert ChangedBy.of({"user": "alice", "session": "netconf:7", "peer": "10.0.0.9:40000"}) == (
        ChangedBy("alice", 7, "10.0.0.9")
    )
    assert ChangedBy.of({"user": "bob", "peer": "ipv4:127.0.0.1:5000", "rpc": "Set"}) == (
        ChangedBy("bob", 0, "127.0.0.1")
    )
    assert ChangedBy.of({"rollback": "not confirmed in time"}) == ChangedBy(None)


def test_source_host() -> None:
    assert source_host("ipv6:[::1]:5000") == "::1"
    assert source_host("ipv6:%5B2001:db8::1%5D:5000") == "2001:db8::1"
    assert source_host("192.0.2.1") == "192.0.2.1"
    assert source_host("unix:/run/sock") is None
    assert source_host(None) is None


def test_the_element_follows_rfc_6470(engine: SchemaEngine) -> None:
    names = ModuleNames.of(engine)
    edit = ConfigEdit(DataPath.parse("/ports/port[name=tor-tf1/1]/config/mtu"), EditOperation.MERGE)
    content = config_change_element(ChangedBy(None), [edit], names, engine.nav)
    notification = notification_element(1_700_000_000_123_456_789, content)
    text = etree.tostring(notification, encoding="unicode")
    parsed = etree.fromstring(text)
    assert parsed.findtext("{urn:ietf:params:xml:ns:netconf:notification:1.0}eventTime") == (
        "2023-11-14T22:13:20.123456Z"
    )
    change = parsed.find(f"{{{NC}}}netconf-config-change")
    assert [etree.QName(c).localname for c in change] == ["changed-by", "datastore", "edit"]
    assert change.find(f"{{{NC}}}changed-by/{{{NC}}}server") is not None
    target = change.find(f"{{{NC}}}edit/{{{NC}}}target")
    assert target.text == "/eport:ports/eport:port[eport:name='tor-tf1/1']/eport:config/eport:mtu"
    assert target.nsmap["eport"] == "urn:edge-agent:yang:edge-ports"
