"""The shared candidate: edit-config, commit, discard-changes, copy-config,
delete-config, validate, and get-config of the candidate."""

from __future__ import annotations

from typing import Any

from lxml import etree

from agent.northbound.netconf.contracts import NS_BASE
from agent.northbound.netconf.write_support import INLINE_EDIT_MAX_ELEMENTS, is_small
from tests.netconf.test_writes_harness import (
    NS_PORTS,
    NS_SLICES,
    PORT,
    WritesHarness,
    edit,
    mtu_config,
)


def mtu_in(data: Any, port: str = PORT) -> str | None:
    for entry in data.iter(f"{{{NS_PORTS}}}port"):
        if entry.findtext(f"{{{NS_PORTS}}}name") == port:
            return entry.findtext(f"{{{NS_PORTS}}}config/{{{NS_PORTS}}}mtu")
    return None


def test_edits_change_the_candidate_not_running(harness: WritesHarness) -> None:
    running, hw = harness.datastore.running, harness.hw()
    harness.call(edit(mtu_config(1600), "candidate"))
    assert harness.candidate_mtu() == 1600
    assert harness.datastore.running is running and harness.hw() == hw
    assert mtu_in(harness.get_config("candidate")) == "1600"
    assert mtu_in(harness.get_config("running")) == "9000"
    assert harness.core.candidate.changed_by == {"netconf:1"}


def test_commit_applies_the_candidate(harness: WritesHarness) -> None:
    harness.call(edit(mtu_config(1600), "candidate"))
    harness.call(edit(mtu_config(1700, "tor-tf1/3"), "candidate"), session=2)
    assert harness.call("<commit/>") is None
    assert harness.mtu() == 1600 and harness.mtu("tor-tf1/3") == 1700
    assert not harness.core.candidate.changed  # it follows running again
    assert harness.datastore.running.tree is harness.core.candidate.tree


def test_an_unchanged_candidate_follows_running(harness: WritesHarness) -> None:
    harness.call(edit(mtu_config(1600)))  # running
    assert harness.candidate_mtu() == 1600
    assert harness.get_config("candidate") is not None


def test_a_changed_candidate_keeps_its_tree_until_commit(harness: WritesHarness) -> None:
    harness.call(edit(mtu_config(1600), "candidate"))
    harness.call(edit(mtu_config(1800, "tor-tf1/3")))  # running changes under it
    assert harness.candidate_mtu("tor-tf1/3") == 9000
    harness.call("<commit/>")  # the candidate becomes running (RFC 6241 8.3.4.1)
    assert harness.mtu("tor-tf1/3") == 9000 and harness.mtu() == 1600


def test_discard_changes(harness: WritesHarness) -> None:
    harness.call(edit(mtu_config(1600), "candidate"))
    assert harness.call("<discard-changes/>") is None
    assert harness.candidate_mtu() == 9000 and not harness.core.candidate.changed


def test_a_failing_commit_leaves_everything_untouched(harness: WritesHarness) -> None:
    harness.call(edit(mtu_config(16000), "candidate", test_option="set"))
    candidate = harness.core.candidate.tree
    running, hw = harness.datastore.running, harness.hw()
    err = harness.error("<commit/>")
    assert err.tag == "operation-failed" and "16000" in err.message
    # the driver's refusal names the operation it refused: the port's MTU
    assert err.path == "/eport:ports/eport:port[eport:name='tor-tf1/1']/eport:config/eport:mtu"
    assert harness.datastore.running is running and harness.hw() == hw
    assert harness.core.candidate.tree is candidate


def test_candidate_edits_are_validated_at_commit(harness: WritesHarness) -> None:
    harness.call(edit(mtu_config(16000), "candidate"))  # test-then-set: the edit is fine
    assert harness.candidate_mtu() == 16000
    assert harness.error("<commit/>").tag == "operation-failed"  # the driver's rule
    harness.call("<discard-changes/>")
    err = harness.error(edit(mtu_config(16000), "candidate", test_option="test-only"))
    assert err.tag == "operation-failed" and not harness.core.candidate.changed
    harness.call(edit(mtu_config(1600), "candidate", test_option="test-only"))
    assert not harness.core.candidate.changed
    err = harness.error(edit(mtu_config(1600).replace("1600", "big"), "candidate"))
    assert err.tag == "invalid-value" and not harness.core.candidate.changed


def test_a_candidate_passes_through_states_that_are_not_valid_yet(
    harness: WritesHarness,
) -> None:
    member = (
        f'<slices xmlns="{NS_SLICES}"><slice><name>lab</name><config><name>lab</name>'
        "<sst>9</sst><vlan-id>700</vlan-id></config><members><member>"
        "<port>new/1</port><config><port>new/1</port></config></member></members>"
        "</slice></slices>"
    )
    harness.call(edit(member, "candidate"))  # the port does not exist yet
    assert harness.error("<validate><source><candidate/></source></validate>").tag == (
        "invalid-value"
    )
    harness.call(
        edit(
            f'<ports xmlns="{NS_PORTS}"><port><name>new/1</name><config><name>new/1</name>'
            "<device>tor-tf1</device><index>9</index><speed>100G</speed></config>"
            "</port></ports>",
            "candidate",
        )
    )
    harness.call("<validate><source><candidate/></source></validate>")


def region(name: str, operation: str) -> str:
    return (
        f'<slices xmlns="{NS_SLICES}"><slice nc:operation="{operation}">'
        f"<name>{name}</name></slice></slices>"
    )


def test_create_and_delete_test_the_candidate(harness: WritesHarness) -> None:
    harness.call(edit(region("miot", "delete"), "candidate"))
    err = harness.error(edit(region("miot", "delete"), "candidate"))
    assert err.tag == "data-missing"
    err = harness.error(edit(region("embb", "create"), "candidate"))
    assert err.tag == "data-exists"


def test_copy_config(harness: WritesHarness) -> None:
    harness.call(edit(mtu_config(1600), "candidate"))
    harness.call(
        "<copy-config><target><candidate/></target><source><running/></source></copy-config>"
    )
    assert not harness.core.candidate.changed
    harness.call(edit(mtu_config(1600), "candidate"))
    harness.call(
        "<copy-config><target><running/></target><source><candidate/></source></copy-config>"
    )
    assert harness.mtu() == 1600
    tree = harness.datastore.running.tree
    harness.call(
        "<copy-config><target><candidate/></target><source><config>"
        f'<ports xmlns="{NS_PORTS}"><port><name>{PORT}</name><config><name>{PORT}</name>'
        "<device>tor-tf1</device><index>1</index></config></port></ports>"
        "</config></source></copy-config>"
    )
    candidate = harness.core.candidate.tree
    assert set(candidate) == {"edge-ports:ports"}  # the whole datastore is replaced
    assert harness.datastore.running.tree is tree
    err = harness.error(
        "<copy-config><target><running/></target><source><running/></source></copy-config>"
    )
    assert err.tag == "invalid-value"
    err = harness.error(
        "<copy-config><target><running/></target><source><url>file:///x</url></source></copy-config>"
    )
    assert err.tag == "operation-not-supported"


def test_copy_config_inline_to_running_is_validated(harness: WritesHarness) -> None:
    running = harness.datastore.running
    err = harness.error(
        "<copy-config><target><running/></target><source><config>"
        f'<ports xmlns="{NS_PORTS}"><port><name>{PORT}</name><config><name>{PORT}</name>'
        "<device>nowhere</device><index>1</index></config></port></ports>"
        "</config></source></copy-config>"
    )
    assert err.tag == "invalid-value"
    assert harness.datastore.running is running


def test_delete_config(harness: WritesHarness) -> None:
    harness.call(edit(mtu_config(1600), "candidate"))
    assert harness.call("<delete-config><target><candidate/></target></delete-config>") is None
    assert not harness.core.candidate.changed
    err = harness.error("<delete-config><target><running/></target></delete-config>")
    assert err.tag == "invalid-value" and "cannot be deleted" in err.message
    err = harness.error("<delete-config><target><startup/></target></delete-config>")
    assert err.tag == "invalid-value"


def test_validate(harness: WritesHarness) -> None:
    assert harness.call("<validate><source><running/></source></validate>") is None
    assert harness.call("<validate><source><candidate/></source></validate>") is None
    harness.call(edit(mtu_config(16000), "candidate", test_option="set"))
    hw, running = harness.hw(), harness.datastore.running
    err = harness.error("<validate><source><candidate/></source></validate>")
    assert err.tag == "operation-failed" and "16000" in err.message
    err = harness.error(
        "<validate><source><config>"
        f'<ports xmlns="{NS_PORTS}"><port><name>{PORT}</name><config><name>{PORT}</name>'
        "<device>tor-tf1</device><index>1</index></config></port></ports>"
        "</config></source></validate>"
    )
    assert err.tag == "invalid-value"  # a complete configuration: slices lose their ports
    config = running_config(harness).replace("<mtu>9000</mtu>", "<mtu>16000</mtu>", 1)
    err = harness.error(f"<validate><source><config>{config}</config></source></validate>")
    assert err.tag == "operation-failed"  # the driver's rule
    assert harness.hw() == hw and harness.datastore.running is running
    assert harness.error("<validate/>").tag == "missing-element"


def test_validate_of_an_inline_config(harness: WritesHarness) -> None:
    tree = harness.datastore.running.tree
    config = running_config(harness)
    assert harness.call(f"<validate><source><config>{config}</config></source></validate>") is None
    assert harness.datastore.running.tree is tree


def running_config(harness: WritesHarness) -> str:
    """The running configuration as the content of a ``<config>``."""
    return "".join(etree.tostring(child).decode() for child in harness.get_config("running"))


def test_the_candidate_capabilities_are_announced() -> None:
    from agent.northbound.netconf.writes import WRITE_CAPABILITIES

    assert "urn:ietf:params:netconf:capability:candidate:1.0" in WRITE_CAPABILITIES
    assert "urn:ietf:params:netconf:capability:confirmed-commit:1.1" in WRITE_CAPABILITIES
    assert "urn:ietf:params:netconf:capability:rollback-on-error:1.0" in WRITE_CAPABILITIES
    assert "urn:ietf:params:netconf:capability:validate:1.1" in WRITE_CAPABILITIES
    assert "urn:ietf:params:netconf:capability:writable-running:1.0" in WRITE_CAPABILITIES
    assert NS_BASE


def _all_ports_config(harness: WritesHarness, mtu: str) -> str:
    names = [entry["name"] for entry in harness.datastore.running.tree["edge-ports:ports"]["port"]]
    ports = "".join(
        f"<port><name>{name}</name><config><mtu>{mtu}</mtu></config></port>" for name in names
    )
    return f'<ports xmlns="{NS_PORTS}">{ports}</ports>'


def test_a_large_edit_stages_what_small_edits_stage(harness: WritesHarness) -> None:
    """A <config> past the inline limit is staged in a worker, a small one on the event
    loop: the candidate they make is the same, and so is a refusal."""
    body = _all_ports_config(harness, "1600")
    assert not is_small(etree.fromstring(f'<config xmlns="{NS_BASE}">{body}</config>'))
    harness.call(edit(body, "candidate"))
    large = harness.core.candidate.tree
    harness.call("<discard-changes/>")
    for entry in harness.datastore.running.tree["edge-ports:ports"]["port"]:
        small = mtu_config(1600, entry["name"])
        assert is_small(etree.fromstring(f'<config xmlns="{NS_BASE}">{small}</config>'))
        harness.call(edit(small, "candidate"))
    assert harness.core.candidate.tree == large
    harness.call("<discard-changes/>")
    refused_large = harness.error(edit(_all_ports_config(harness, "many"), "candidate"))
    refused_small = harness.error(edit(mtu_config("many", PORT), "candidate"))  # type: ignore[arg-type]
    assert (refused_large.tag, refused_large.path) == (refused_small.tag, refused_small.path)
    assert refused_large.tag == "invalid-value" and not harness.core.candidate.changed


def test_is_small_counts_elements_up_to_the_limit() -> None:
    def config(elements: int) -> Any:
        inner = "".join("<a/>" for _ in range(elements - 1))
        return etree.fromstring(f"<config>{inner}</config>")

    assert is_small(config(INLINE_EDIT_MAX_ELEMENTS))
    assert not is_small(config(INLINE_EDIT_MAX_ELEMENTS + 1))
