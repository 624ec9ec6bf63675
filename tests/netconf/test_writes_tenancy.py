"""A tenant's NETCONF writes are evaluated in its view: of running and of the shared
candidate, it changes only its own slices."""

from __future__ import annotations

from typing import Any

from tests.netconf.test_writes_harness import NS_SLICES, WritesHarness, edit, mtu_config


def description(name: str, text: str, operation: str = "") -> str:
    op = f' nc:operation="{operation}"' if operation else ""
    return (
        f'<slices xmlns="{NS_SLICES}"><slice{op}><name>{name}</name>'
        f"<config><description>{text}</description></config></slice></slices>"
    )


def slices(tree: dict[str, Any]) -> dict[str, Any]:
    return {s["name"]: s for s in tree["edge-slices:slices"]["slice"]}


def test_a_tenant_changes_its_own_slice(harness: WritesHarness) -> None:
    harness.call(edit(description("embb", "mine")), user="tenant-a")
    assert slices(harness.datastore.running.tree)["embb"]["config"]["description"] == "mine"


def test_read_only_parts_of_its_view_are_access_denied(harness: WritesHarness) -> None:
    running = harness.datastore.running
    err = harness.error(edit(mtu_config(1600)), user="tenant-a")  # a delegated port
    assert err.tag == "access-denied" and "read-only" in err.message
    assert harness.datastore.running is running


def test_other_tenants_slices_do_not_exist(harness: WritesHarness) -> None:
    err = harness.error(edit(description("miot", "x", "delete")), user="tenant-a")
    assert err.tag == "data-missing"
    err = harness.error(edit(description("miot", "taken")), user="tenant-a")
    assert err.tag == "access-denied" and "miot" not in err.message.split(": ", 1)[1]
    assert slices(harness.datastore.running.tree)["miot"]["config"]["tenant"] == "operator-b"


def test_a_tenants_replace_replaces_only_its_slices(harness: WritesHarness) -> None:
    harness.call(
        edit(
            f'<slices xmlns="{NS_SLICES}"><slice><name>embb</name>'
            "<config><name>embb</name><sst>1</sst><vlan-id>100</vlan-id></config>"
            "</slice></slices>",
            default_operation="replace",
        ),
        user="tenant-a",
    )
    after = slices(harness.datastore.running.tree)
    assert sorted(after) == ["embb", "miot"]  # urllc gone, operator-b's miot kept
    assert after["embb"]["config"]["tenant"] == "operator-a"


def test_a_tenants_commit_takes_only_its_part_of_the_candidate(harness: WritesHarness) -> None:
    harness.call(edit(mtu_config(1600), "candidate"), user="admin", session=1)
    harness.call(edit(description("embb", "next"), "candidate"), user="tenant-a", session=2)
    seen = harness.get_config("candidate", user="tenant-a", session=2)
    assert "next" in _text(seen) and "miot" not in _text(seen)
    harness.call("<commit/>", user="tenant-a", session=2)
    running = harness.datastore.running.tree
    assert slices(running)["embb"]["config"]["description"] == "next"
    assert harness.mtu() == 9000  # the admin's change stays in the candidate
    assert harness.candidate_mtu() == 1600 and harness.core.candidate.changed
    harness.call("<commit/>", user="admin", session=1)
    assert harness.mtu() == 1600 and not harness.core.candidate.changed


def test_a_tenants_discard_reverts_only_its_part(harness: WritesHarness) -> None:
    harness.call(edit(mtu_config(1600), "candidate"), user="admin", session=1)
    harness.call(edit(description("embb", "next"), "candidate"), user="tenant-a", session=2)
    harness.call("<discard-changes/>", user="tenant-a", session=2)
    candidate = harness.core.candidate.tree
    assert slices(candidate)["embb"]["config"]["description"] != "next"
    assert harness.candidate_mtu() == 1600


def test_a_tenant_cannot_touch_the_candidates_read_only_parts(harness: WritesHarness) -> None:
    err = harness.error(edit(mtu_config(1600), "candidate"), user="tenant-a")
    assert err.tag == "access-denied"
    assert not harness.core.candidate.changed


def test_a_tenants_copy_config_replaces_its_slices(harness: WritesHarness) -> None:
    harness.call(
        "<copy-config><target><running/></target><source><config>"
        f'<slices xmlns="{NS_SLICES}"><slice><name>video</name><config><name>video</name>'
        "<sst>5</sst><vlan-id>500</vlan-id></config></slice></slices>"
        "</config></source></copy-config>",
        user="tenant-a",
    )
    after = slices(harness.datastore.running.tree)
    assert sorted(after) == ["miot", "video"]
    assert after["video"]["config"]["tenant"] == "operator-a"


def test_a_tenants_validate_and_test_only(harness: WritesHarness) -> None:
    running = harness.datastore.running
    harness.call(edit(description("embb", "x"), test_option="test-only"), user="tenant-a")
    harness.call("<validate><source><candidate/></source></validate>", user="tenant-a")
    assert harness.datastore.running is running


def _text(element: Any) -> str:
    from lxml import etree

    return etree.tostring(element).decode()


def test_a_tenant_reads_its_new_slice_in_the_candidate(harness: WritesHarness) -> None:
    harness.call(
        edit(
            f'<slices xmlns="{NS_SLICES}"><slice><name>video</name><config><name>video</name>'
            "<sst>5</sst><vlan-id>500</vlan-id></config></slice></slices>",
            "candidate",
        ),
        user="tenant-a",
    )
    assert "video" in _text(harness.get_config("candidate", user="tenant-a"))
