"""get and get-config through the Dispatcher, on an agent's real core and drivers."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest
from lxml import etree

from agent.northbound.netconf.codec import XmlCodec
from agent.northbound.netconf.contracts import NS_BASE, NetconfEnv, RpcContext, RpcError
from agent.northbound.netconf.reads import CANDIDATE_KEY
from agent.schema.engine import SchemaEngine
from tests.netconf.reads_harness import ReadsHarness

PORTS = 'xmlns="urn:edge-agent:yang:edge-ports"'
SLICES = 'xmlns="urn:edge-agent:yang:edge-slices"'
WD = 'xmlns="urn:ietf:params:xml:ns:yang:ietf-netconf-with-defaults"'
RUNNING = "<source><running/></source>"
NS_MON = "urn:ietf:params:xml:ns:yang:ietf-netconf-monitoring"


class Candidate:
    """A CandidateSource holding one tree for every session."""

    def __init__(self, tree: dict[str, Any] | None) -> None:
        self.tree = tree

    def tree_for(self, context: RpcContext) -> dict[str, Any] | None:
        return self.tree


def monitoring(env: NetconfEnv, context: RpcContext) -> list[Any]:
    return [
        etree.fromstring(
            f'<netconf-state xmlns="{NS_MON}"><sessions><session><session-id>7</session-id>'
            f"<username>{context.user.name}</username></session></sessions></netconf-state>"
        )
    ]


@pytest.fixture(scope="module")
def candidate() -> Candidate:
    return Candidate(None)


@pytest.fixture(scope="module")
def reads(
    tmp_path_factory: pytest.TempPathFactory,
    engine: SchemaEngine,
    _site_text: str,
    candidate: Candidate,
) -> Iterator[ReadsHarness]:
    harness = ReadsHarness(
        tmp_path_factory.mktemp("agent"),
        json.loads(_site_text),
        engine,
        extras={CANDIDATE_KEY: candidate},
        state_data=monitoring,
    )
    yield harness
    harness.close()


@pytest.fixture(scope="module")
def codec(engine: SchemaEngine) -> XmlCodec:
    return XmlCodec(engine)


def tree(codec: XmlCodec, data: Any) -> dict[str, Any]:
    """Our modules' part of a <data> reply as an RFC 7951 tree (as a client reads it)."""
    assert data.tag == f"{{{NS_BASE}}}data"
    wire = etree.fromstring(etree.tostring(data))
    ours = [e for e in wire if etree.QName(e).namespace != NS_MON]
    return codec.from_xml(ours, config_only=False)


def refusal(reads: ReadsHarness, body: str, user: str = "admin") -> RpcError:
    with pytest.raises(RpcError) as caught:
        reads.call(body, user)
    return caught.value


def test_get_config_returns_running(reads: ReadsHarness, codec: XmlCodec, site: dict) -> None:
    data = reads.call(f"<get-config>{RUNNING}</get-config>")
    assert tree(codec, data) == site


def test_get_config_with_a_subtree_filter(reads: ReadsHarness, codec: XmlCodec) -> None:
    data = reads.call(
        f"<get-config>{RUNNING}<filter type='subtree'><ports {PORTS}><port><name>tor-tf1/1"
        "</name><config><mtu/></config></port></ports></filter></get-config>"
    )
    assert tree(codec, data) == {
        "edge-ports:ports": {"port": [{"name": "tor-tf1/1", "config": {"mtu": 9000}}]}
    }


def test_an_empty_filter_selects_nothing(reads: ReadsHarness) -> None:
    data = reads.call(f"<get-config>{RUNNING}<filter/></get-config>")
    assert len(data) == 0
    assert len(reads.call("<get><filter type='subtree'></filter></get>")) == 0


def test_get_config_with_an_xpath_filter(reads: ReadsHarness, codec: XmlCodec) -> None:
    data = reads.call(
        f"<get-config>{RUNNING}<filter type='xpath' xmlns:s='urn:edge-agent:yang:edge-slices' "
        'select="/s:slices/s:slice[s:config/s:sst=3]/s:config/s:vlan-id"/></get-config>'
    )
    assert tree(codec, data) == {
        "edge-slices:slices": {"slice": [{"name": "miot", "config": {"vlan-id": 300}}]}
    }


def test_get_adds_state_for_what_the_filter_names(reads: ReadsHarness, codec: XmlCodec) -> None:
    data = reads.call(
        f"<get><filter><ports {PORTS}><port><name>tor-tf1/1</name><state><oper-status/>"
        "<counters><in-octets/></counters></state></port></ports></filter></get>"
    )
    (port,) = tree(codec, data)["edge-ports:ports"]["port"]
    assert port["name"] == "tor-tf1/1"
    assert port["state"]["oper-status"] in ("UP", "DOWN", "UNKNOWN")
    assert set(port["state"]) == {"oper-status", "counters"}
    assert int(port["state"]["counters"]["in-octets"]) >= 0


def test_get_without_filter_has_config_state_and_monitoring(
    reads: ReadsHarness, codec: XmlCodec, site: dict
) -> None:
    data = reads.call("<get/>")
    found = tree(codec, data)
    assert set(found) == set(site)
    assert all("state" in p for p in found["edge-ports:ports"]["port"])
    assert data.find(f"{{{NS_MON}}}netconf-state") is not None


def test_get_filters_monitoring_data_with_its_keys(reads: ReadsHarness) -> None:
    data = reads.call(
        f'<get><filter><netconf-state xmlns="{NS_MON}"><sessions><session><username/>'
        "</session></sessions></netconf-state></filter></get>",
        user="reader",
    )
    assert [etree.QName(e).localname for e in data] == ["netconf-state"]
    session = data.find(f".//{{{NS_MON}}}session")
    assert [(etree.QName(c).localname, c.text) for c in session] == [
        ("session-id", "7"),
        ("username", "reader"),
    ]


def test_a_tenant_reads_its_view_only(reads: ReadsHarness, codec: XmlCodec) -> None:
    found = tree(codec, reads.call("<get/>", user="tenant-a"))
    assert [s["name"] for s in found["edge-slices:slices"]["slice"]] == ["embb", "urllc"]
    assert "edge-platform:platform" not in found
    other = reads.call(
        f"<get><filter><slices {SLICES}><slice><name>miot</name></slice></slices></filter></get>",
        user="tenant-a",
    )
    assert len(other) == 0
    xpath = reads.call(
        "<get><filter type='xpath' xmlns:d='urn:edge-agent:yang:edge-platform' "
        'select=\'//d:device | //*[local-name()="slice"]/*[local-name()="name"]\'/></get>',
        user="tenant-a",
    )
    names = [s["name"] for s in tree(codec, xpath)["edge-slices:slices"]["slice"]]
    assert names == ["embb", "urllc"]
    assert "edge-platform:platform" not in tree(codec, xpath)


def test_with_defaults_explicit_is_the_default(reads: ReadsHarness, codec: XmlCodec) -> None:
    body = (
        f"<get-config>{RUNNING}<filter><ports {PORTS}><port><name>tor-tf1/1</name></port>"
        "</ports></filter>{}</get-config>"
    )
    plain = tree(codec, reads.call(body.format("")))
    explicit = tree(codec, reads.call(body.format(f"<with-defaults {WD}>explicit</with-defaults>")))
    assert plain == explicit
    assert "enabled" not in plain["edge-ports:ports"]["port"][0]["config"]


def test_with_defaults_report_all(reads: ReadsHarness, codec: XmlCodec) -> None:
    found = tree(
        codec,
        reads.call(
            f"<get-config>{RUNNING}<with-defaults {WD}>report-all</with-defaults></get-config>"
        ),
    )
    port = found["edge-ports:ports"]["port"][0]["config"]
    assert port["enabled"] is True and port["channel"] == 0 and port["mtu"] == 9000
    devices = {d["name"]: d["config"] for d in found["edge-platform:platform"]["devices"]["device"]}
    assert devices["dpu-bf3"]["dpu-mode"] == "nic"
    assert devices["dpu-bf2"]["dpu-mode"] == "dpu"
    assert "dpu-mode" not in devices["tor-tf1"]  # its when condition is false


def test_with_defaults_trim(reads: ReadsHarness, codec: XmlCodec) -> None:
    found = tree(
        codec,
        reads.call(f"<get-config>{RUNNING}<with-defaults {WD}>trim</with-defaults></get-config>"),
    )
    tenant = found["edge-tenants:tenants"]["tenant"][0]["config"]
    assert "max-subscriptions" not in tenant and "max-set-rate" not in tenant  # 32, 10
    assert tenant["max-slices"] == 8


def test_with_defaults_report_all_tagged(reads: ReadsHarness) -> None:
    data = reads.call(
        f"<get-config>{RUNNING}<filter><tenants xmlns='urn:edge-agent:yang:edge-tenants'/>"
        f"</filter><with-defaults {WD}>report-all-tagged</with-defaults></get-config>"
    )
    wire = etree.fromstring(etree.tostring(data))
    config = wire.find(".//{urn:edge-agent:yang:edge-tenants}config")
    wd = "{urn:ietf:params:xml:ns:netconf:default:1.0}default"
    tagged = {etree.QName(c).localname for c in config if c.get(wd) == "true"}
    assert tagged == {"max-subscriptions", "max-set-rate"}


def test_with_defaults_of_another_mode(reads: ReadsHarness) -> None:
    err = refusal(reads, f"<get><with-defaults {WD}>all-of-it</with-defaults></get>")
    assert (err.tag, err.info) == ("invalid-value", {"bad-element": "with-defaults"})


def test_get_config_from_the_candidate(
    reads: ReadsHarness, codec: XmlCodec, candidate: Candidate, site: dict
) -> None:
    body = "<get-config><source><candidate/></source></get-config>"
    assert tree(codec, reads.call(body)) == site  # no changes: running
    changed = copy.deepcopy(site)
    changed["edge-ports:ports"]["port"][0]["config"]["mtu"] = 1600
    candidate.tree = changed
    try:
        assert tree(codec, reads.call(body))["edge-ports:ports"]["port"][0]["config"]["mtu"] == 1600
        mine = tree(codec, reads.call(body, user="tenant-b"))
        assert [s["name"] for s in mine["edge-slices:slices"]["slice"]] == ["miot"]
    finally:
        candidate.tree = None


def test_without_a_candidate_source(engine: SchemaEngine, tmp_path: Any, site: dict) -> None:
    harness = ReadsHarness(tmp_path, site, engine)
    try:
        with pytest.raises(RpcError) as caught:
            harness.call("<get-config><source><candidate/></source></get-config>")
        assert caught.value.tag == "invalid-value"
        assert "candidate" in caught.value.message
    finally:
        harness.close()


@pytest.mark.parametrize(
    ("body", "tag"),
    [
        ("<get-config/>", "missing-element"),
        ("<get-config><source/></get-config>", "missing-element"),
        ("<get-config><source><startup/></source></get-config>", "invalid-value"),
        ("<get-config><source><running/><candidate/></source></get-config>", "bad-element"),
        ("<get><depth>3</depth></get>", "unknown-element"),
        ("<get><filter/><filter/></get>", "bad-element"),
        ("<get><filter type='json'/></get>", "bad-attribute"),
    ],
)
def test_bad_parameters(reads: ReadsHarness, body: str, tag: str) -> None:
    assert refusal(reads, body).tag == tag


def test_reads_run_in_the_request_workers(reads: ReadsHarness) -> None:
    seen: list[str] = []
    admission = reads.agent.core.admission
    original = admission.run

    async def spy(share: str, scope: Any, work: Any, *, tenant: bool = False) -> Any:
        seen.append(share)
        return await original(share, scope, work, tenant=tenant)

    admission.run = spy
    try:
        reads.call("<get/>", user="tenant-a")
        reads.call(f"<get-config>{RUNNING}</get-config>", user="reader")
    finally:
        del admission.run
    assert seen == ["tenant 'operator-a'", "reader"]
