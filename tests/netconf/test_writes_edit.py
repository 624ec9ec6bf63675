"""edit-config on running: operations, default-operation, test-option, error-option and
the errors that name the node and the rule."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agent.security.audit import read_audit_log
from tests.netconf.test_writes_harness import (
    NS_PORTS,
    NS_SLICES,
    NS_TENANTS,
    PORT,
    WritesHarness,
    edit,
    mtu_config,
)


def slice_xml(name: str, vlan: int, operation: str = "", body: str = "") -> str:
    op = f' nc:operation="{operation}"' if operation else ""
    return (
        f'<slices xmlns="{NS_SLICES}"><slice{op}><name>{name}</name>'
        f"<config><name>{name}</name><sst>9</sst><vlan-id>{vlan}</vlan-id></config>{body}"
        "</slice></slices>"
    )


def slice_names(harness: WritesHarness) -> list[str]:
    return [s["name"] for s in harness.datastore.running.tree["edge-slices:slices"]["slice"]]


def test_merge_changes_one_leaf(harness: WritesHarness) -> None:
    before = harness.port_config()
    harness.call(edit(mtu_config(1600)))
    after = harness.port_config()
    assert after["mtu"] == 1600
    assert {k: v for k, v in after.items() if k != "mtu"} == {
        k: v for k, v in before.items() if k != "mtu"
    }


def test_replace_replaces_the_node(harness: WritesHarness) -> None:
    harness.call(
        edit(
            f'<ports xmlns="{NS_PORTS}"><port><name>{PORT}</name>'
            f'<config nc:operation="replace"><name>{PORT}</name><device>tor-tf1</device>'
            "<index>1</index><speed>100G</speed></config></port></ports>"
        )
    )
    assert harness.port_config() == {
        "name": PORT,
        "device": "tor-tf1",
        "index": 1,
        "speed": "100G",
    }


def test_create_of_an_existing_node_is_data_exists(harness: WritesHarness) -> None:
    before = harness.datastore.running
    err = harness.error(edit(slice_xml("embb", 100, "create")))
    assert err.tag == "data-exists"
    assert err.path == "/eslice:slices/eslice:slice[eslice:name='embb']"
    assert "create" in err.message and "/slices/slice[name=embb]" in err.message
    assert harness.datastore.running is before


def test_create_of_a_new_node(harness: WritesHarness) -> None:
    harness.call(edit(slice_xml("video", 400, "create")))
    assert "video" in slice_names(harness)


def test_delete_of_a_missing_node_is_data_missing(harness: WritesHarness) -> None:
    err = harness.error(edit(slice_xml("nope", 1, "delete")))
    assert err.tag == "data-missing"
    assert err.path == "/eslice:slices/eslice:slice[eslice:name='nope']"


def test_delete_and_remove(harness: WritesHarness) -> None:
    harness.call(edit(slice_xml("miot", 300, "delete")))
    assert "miot" not in slice_names(harness)
    harness.call(edit(slice_xml("miot", 300, "remove")))  # absent: no error
    harness.call(edit(mtu_config(9000, operation="remove")))
    assert "mtu" not in harness.port_config()


def test_default_operation_none_creates_nothing(harness: WritesHarness) -> None:
    harness.call(
        edit(
            f'<ports xmlns="{NS_PORTS}"><port><name>{PORT}</name>'
            '<config><mtu>1234</mtu><description nc:operation="delete"/></config>'
            "</port></ports>",
            default_operation="none",
        )
    )
    config = harness.port_config()
    assert config["mtu"] == 9000 and "description" not in config  # mtu untouched
    err = harness.error(
        edit(
            f'<ports xmlns="{NS_PORTS}"><port><name>ghost</name>'
            '<config><mtu nc:operation="remove"/></config></port></ports>',
            default_operation="none",
        )
    )
    assert err.tag == "data-missing" and "default-operation none" in err.message
    assert "ghost" not in [
        p["name"] for p in harness.datastore.running.tree["edge-ports:ports"]["port"]
    ]


def test_default_operation_replace_replaces_each_top_level_node(harness: WritesHarness) -> None:
    ports_before = harness.datastore.running.tree["edge-ports:ports"]
    harness.call(edit(slice_xml("solo", 500), default_operation="replace"))
    assert slice_names(harness) == ["solo"]
    assert harness.datastore.running.tree["edge-ports:ports"] == ports_before


def test_regions_apply_in_document_order(harness: WritesHarness) -> None:
    harness.call(
        edit(
            f'<slices xmlns="{NS_SLICES}">'
            '<slice nc:operation="delete"><name>miot</name></slice>'
            '<slice nc:operation="create"><name>miot</name>'
            "<config><name>miot</name><sst>7</sst><vlan-id>301</vlan-id></config></slice>"
            "</slices>"
        )
    )
    entry = next(
        s
        for s in harness.datastore.running.tree["edge-slices:slices"]["slice"]
        if s["name"] == "miot"
    )
    assert entry["config"]["vlan-id"] == 301 and "members" not in entry


def test_merge_adds_leaf_list_values(harness: WritesHarness) -> None:
    harness.call(
        edit(
            f'<tenants xmlns="{NS_TENANTS}"><tenant><name>operator-b</name>'
            "<config><ports>tor-tf1/3</ports></config></tenant></tenants>"
        )
    )
    ports = next(
        t
        for t in harness.datastore.running.tree["edge-tenants:tenants"]["tenant"]
        if t["name"] == "operator-b"
    )["config"]["ports"]
    assert "tor-tf1/3" in ports and "ipu-e2k/1" in ports
    harness.call(
        edit(
            f'<tenants xmlns="{NS_TENANTS}"><tenant><name>operator-b</name>'
            '<config><ports nc:operation="delete">tor-tf1/3</ports></config></tenant></tenants>'
        )
    )
    err = harness.error(
        edit(
            f'<tenants xmlns="{NS_TENANTS}"><tenant><name>operator-b</name>'
            '<config><ports nc:operation="delete">tor-tf1/3</ports></config></tenant></tenants>'
        )
    )
    assert err.tag == "data-missing"


def test_a_schema_violation_names_the_node(harness: WritesHarness) -> None:
    before = harness.datastore.running
    err = harness.error(edit(slice_xml("dup", 100, "create")))  # vlan-id 100 is embb's
    assert err.tag == "invalid-value"
    assert "vlan-id" in err.message and "[unique]" in err.message
    assert err.path in (  # the validator names either end of the clash
        "/eslice:slices/eslice:slice[eslice:name='dup']",
        "/eslice:slices/eslice:slice[eslice:name='embb']",
    )
    assert harness.datastore.running is before


def test_a_driver_refusal_is_operation_failed(harness: WritesHarness) -> None:
    hw = harness.hw()
    err = harness.error(edit(mtu_config(16000)))  # above every chip's MTU
    assert err.tag == "operation-failed"
    assert err.path == "/eport:ports/eport:port[eport:name='tor-tf1/1']/eport:config/eport:mtu"
    assert harness.hw() == hw


def test_test_only_validates_and_changes_nothing(harness: WritesHarness) -> None:
    before, hw = harness.datastore.running, harness.hw()
    harness.call(edit(mtu_config(1600), test_option="test-only"))
    assert harness.datastore.running is before and harness.hw() == hw
    err = harness.error(edit(mtu_config(16000), test_option="test-only"))
    assert err.tag == "operation-failed"  # the driver's validation ran
    err = harness.error(edit(slice_xml("dup", 100, "create"), test_option="test-only"))
    assert err.tag == "invalid-value"
    assert harness.datastore.running is before and harness.hw() == hw


def test_test_only_runs_quota_checks(harness: WritesHarness) -> None:
    harness.call(
        edit(
            f'<tenants xmlns="{NS_TENANTS}"><tenant><name>operator-b</name>'
            "<config><max-slices>1</max-slices></config></tenant></tenants>",
            test_option="set",
        )
    )
    before = harness.datastore.running
    err = harness.error(
        edit(
            f'<slices xmlns="{NS_SLICES}"><slice><name>more</name><config><name>more</name>'
            "<tenant>operator-b</tenant><sst>9</sst><vlan-id>900</vlan-id></config></slice>"
            "</slices>",
            test_option="test-only",
        )
    )
    assert err.tag == "invalid-value" and "operator-b" in err.message
    assert harness.datastore.running is before


def test_continue_on_error_reports_every_error(harness: WritesHarness) -> None:
    before = harness.datastore.running
    errors = harness.errors(
        edit(
            f'<slices xmlns="{NS_SLICES}">'
            '<slice nc:operation="create"><name>embb</name></slice>'
            '<slice nc:operation="delete"><name>nope</name></slice>'
            "</slices>",
            error_option="continue-on-error",
        )
    )
    assert [e.tag for e in errors] == ["data-exists", "data-missing"]
    assert harness.datastore.running is before
    stop = harness.errors(
        edit(
            f'<slices xmlns="{NS_SLICES}">'
            '<slice nc:operation="create"><name>embb</name></slice>'
            '<slice nc:operation="delete"><name>nope</name></slice>'
            "</slices>",
            error_option="stop-on-error",
        )
    )
    assert [e.tag for e in stop] == ["data-exists"]


def test_rollback_on_error_sets_nothing_of_a_failing_request(harness: WritesHarness) -> None:
    before = harness.datastore.running
    err = harness.error(
        edit(
            f'<ports xmlns="{NS_PORTS}"><port><name>{PORT}</name><config><mtu>1600</mtu>'
            "</config></port></ports>" + slice_xml("nope", 1, "delete"),
            error_option="rollback-on-error",
        )
    )
    assert err.tag == "data-missing"
    assert harness.datastore.running is before and harness.mtu() == 9000


@pytest.mark.parametrize(
    ("options", "tag"),
    [
        ({"default_operation": "overwrite"}, "invalid-value"),
        ({"test_option": "maybe"}, "invalid-value"),
        ({"error_option": "ignore"}, "invalid-value"),
    ],
)
def test_bad_options(harness: WritesHarness, options: dict[str, str], tag: str) -> None:
    assert harness.error(edit(mtu_config(1600), **options)).tag == tag


def test_bad_requests(harness: WritesHarness) -> None:
    assert harness.error("<edit-config><config/></edit-config>").tag == "missing-element"
    err = harness.error(edit(mtu_config(1600), target="startup"))
    assert err.tag == "invalid-value" and err.info["bad-element"] == "startup"
    err = harness.error(
        "<edit-config><target><running/></target><url>file:///x</url></edit-config>"
    )
    assert err.tag == "operation-not-supported"
    err = harness.error("<edit-config><target><running/></target><bogus/><config/></edit-config>")
    assert err.tag == "unknown-element"
    err = harness.error("<edit-config><target><running/></target></edit-config>")
    assert err.tag == "missing-element" and err.info["bad-element"] == "config"
    err = harness.error(edit(mtu_config(1600).replace("1600", "x")))
    assert err.tag == "invalid-value"


def test_a_read_only_user_is_access_denied(harness: WritesHarness) -> None:
    err = harness.error(edit(mtu_config(1600)), user="reader")
    assert err.tag == "access-denied"
    assert harness.mtu() == 9000


def test_writes_are_audited(harness: WritesHarness, tmp_path: Path) -> None:
    harness.call(edit(mtu_config(1600)))
    harness.error(edit(slice_xml("embb", 1, "create")))
    records = [
        r for r in read_audit_log(tmp_path / "state" / "audit") if r.rpc == "netconf:edit-config"
    ]
    assert [r.outcome.value for r in records] == ["ok", "failed"]
    assert records[1].code == "in-use"  # data-exists is CONFLICT for the service core
    assert [(o.action, o.path) for o in records[0].operations] == [("merge", "/ports")]


def test_commits_name_the_netconf_session(harness: WritesHarness) -> None:
    seen: list[Any] = []
    harness.datastore.subscribe(seen.append)
    harness.call(edit(mtu_config(1600)), session=7)
    assert seen[-1].meta["session"] == "netconf:7" and seen[-1].meta["user"] == "admin"


@pytest.mark.parametrize(
    ("body", "app_tag", "named"),
    [
        (  # vlan-id 100 is embb's: unique "config/vlan-id"
            slice_xml("extra", 100),
            "data-not-unique",
            "vlan-id",
        ),
        (  # max-rate-bps must not be below min-rate-bps
            f'<slices xmlns="{NS_SLICES}"><slice><name>embb</name><config>'
            "<max-rate-bps>1</max-rate-bps></config></slice></slices>",
            "must-violation",
            "max-rate-bps",
        ),
        (  # a member port that does not exist
            slice_xml(
                "extra",
                901,
                body="<members><member><port>no-such-port</port>"
                "<config><port>no-such-port</port></config></member></members>",
            ),
            "instance-required",
            "no-such-port",
        ),
    ],
)
def test_schema_refusals_carry_their_error_app_tag(
    harness: WritesHarness, body: str, app_tag: str, named: str
) -> None:
    before = harness.datastore.running
    err = harness.error(edit(body))
    assert (err.tag, err.app_tag) == ("invalid-value", app_tag), err.message
    assert named in err.message
    assert harness.datastore.running is before
