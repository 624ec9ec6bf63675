"""lock and unlock of running and the candidate, the service core's datastore locks."""

from __future__ import annotations

import pytest

from agent.datastore.edits import Edit
from agent.northbound.set import _code_name
from agent.security.users import Role, User
from agent.service.errors import Kind, ServiceError
from agent.service.views import FULL_VIEW
from agent.service.writes import WriteRequest
from tests.netconf.test_writes_harness import WritesHarness, edit, mtu_config

LOCK_RUNNING = "<lock><target><running/></target></lock>"
UNLOCK_RUNNING = "<unlock><target><running/></target></unlock>"
LOCK_CANDIDATE = "<lock><target><candidate/></target></lock>"
UNLOCK_CANDIDATE = "<unlock><target><candidate/></target></unlock>"


def gnmi_like_write(harness: WritesHarness, mtu: int) -> None:
    """A write as gNMI Set makes it: no session."""
    request = WriteRequest(
        principal=User("admin", Role.ADMIN),
        view=FULL_VIEW,
        edits=(Edit.update("/ports/port[name=tor-tf1/1]/config/mtu", mtu),),
        operations=(),
    )
    harness.run(harness.core.writes.write(request, _code_name))


def test_a_running_lock_blocks_every_other_writer(harness: WritesHarness) -> None:
    assert harness.call(LOCK_RUNNING, session=3) is None
    holder = harness.core.writes.locks.holder("running")
    assert holder.session == "netconf:3" and holder.describe == "NETCONF session 3 (user admin)"
    harness.call(edit(mtu_config(1600)), session=3)  # the holder writes
    assert harness.mtu() == 1600
    err = harness.error(edit(mtu_config(1700)), user="admin2", session=4)
    assert err.tag == "in-use" and err.info["session-id"] == "3"
    assert "NETCONF session 3" in err.message
    with pytest.raises(ServiceError) as refused:
        gnmi_like_write(harness, 1700)
    assert refused.value.kind is Kind.LOCKED and "NETCONF session 3" in refused.value.message
    harness.call(edit(mtu_config(1700), "candidate"), session=4)  # the candidate is free
    err = harness.error("<commit/>", session=4)
    assert err.tag == "in-use" and err.info["session-id"] == "3"
    assert harness.mtu() == 1600
    assert harness.call(UNLOCK_RUNNING, session=3) is None
    harness.call("<commit/>", session=4)
    assert harness.mtu() == 1700


def test_lock_denied_names_the_holder(harness: WritesHarness) -> None:
    harness.call(LOCK_RUNNING, session=3)
    err = harness.error(LOCK_RUNNING, session=4)
    assert err.tag == "lock-denied" and err.error_type == "protocol"
    assert err.info == {"session-id": "3"}
    err = harness.error(LOCK_RUNNING, session=3)  # held already, by itself
    assert err.tag == "lock-denied" and err.info == {"session-id": "3"}


def test_unlock_errors(harness: WritesHarness) -> None:
    err = harness.error(UNLOCK_RUNNING, session=3)
    assert err.tag == "operation-failed" and "not locked" in err.message
    harness.call(LOCK_RUNNING, session=3)
    err = harness.error(UNLOCK_RUNNING, session=4)
    assert err.tag == "lock-denied" and err.info["session-id"] == "3"


def test_a_session_end_releases_its_locks(harness: WritesHarness) -> None:
    harness.call(LOCK_RUNNING, session=3)
    harness.call(LOCK_CANDIDATE, session=3)
    harness.end_session(3)
    assert harness.call(LOCK_RUNNING, session=4) is None
    assert harness.call(LOCK_CANDIDATE, session=4) is None


def test_a_changed_candidate_cannot_be_locked_by_another_session(harness: WritesHarness) -> None:
    harness.call(edit(mtu_config(1600), "candidate"), session=3)
    err = harness.error(LOCK_CANDIDATE, session=4)
    assert err.tag == "lock-denied" and err.info == {"session-id": "3"}
    assert "discard-changes" in err.message
    assert harness.call(LOCK_CANDIDATE, session=3) is None  # its own changes do not stop it
    harness.call(UNLOCK_CANDIDATE, session=3)
    assert not harness.core.candidate.changed  # released: outstanding changes discarded


def test_a_candidate_lock_keeps_others_out_of_the_candidate(harness: WritesHarness) -> None:
    harness.call(LOCK_CANDIDATE, session=3)
    harness.call(edit(mtu_config(1600), "candidate"), session=3)
    for operation in (
        edit(mtu_config(1700), "candidate"),
        "<commit/>",
        "<discard-changes/>",
        "<delete-config><target><candidate/></target></delete-config>",
        "<copy-config><target><candidate/></target><source><running/></source></copy-config>",
    ):
        err = harness.error(operation, session=4)
        assert err.tag == "in-use" and err.info["session-id"] == "3", operation
    assert harness.candidate_mtu() == 1600
    harness.call(edit(mtu_config(1700)), session=4)  # running is not locked
    harness.call("<commit/>", session=3)
    assert harness.mtu() == 1600


def test_the_end_of_the_holder_discards_the_candidate(harness: WritesHarness) -> None:
    harness.call(LOCK_CANDIDATE, session=3)
    harness.call(edit(mtu_config(1600), "candidate"), session=3)
    harness.end_session(3)
    assert not harness.core.candidate.changed and harness.candidate_mtu() == 9000


def test_changes_outlive_an_unlocked_session(harness: WritesHarness) -> None:
    harness.call(edit(mtu_config(1600), "candidate"), session=3)
    harness.end_session(3)
    assert harness.candidate_mtu() == 1600  # no lock: nothing released, nothing discarded


def test_tenants_and_readers_may_not_lock(harness: WritesHarness) -> None:
    for user in ("tenant-a", "reader"):
        for operation in (LOCK_RUNNING, LOCK_CANDIDATE):
            err = harness.error(operation, user=user, session=5)
            assert err.tag == "access-denied", (user, operation)
    assert harness.core.writes.locks.holder("running") is None


def test_lock_targets(harness: WritesHarness) -> None:
    err = harness.error("<lock><target><startup/></target></lock>")
    assert err.tag == "invalid-value"
    assert harness.error("<lock/>").tag == "missing-element"
    assert harness.error("<lock><target/></lock>").tag == "missing-element"


def test_running_cannot_be_locked_during_another_sessions_confirmed_commit(
    harness: WritesHarness,
) -> None:
    harness.call(edit(mtu_config(1600), "candidate"), session=3)
    harness.call("<commit><confirmed/></commit>", session=3)
    err = harness.error(LOCK_RUNNING, session=4)
    assert err.tag == "lock-denied" and err.info == {"session-id": "3"}
    assert harness.call(LOCK_RUNNING, session=3) is None  # its own
