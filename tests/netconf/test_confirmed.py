"""Confirmed commits (:confirmed-commit:1.1) on the service core's commit-confirmed."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.datastore.edits import Edit
from agent.northbound.set import _code_name
from agent.security.audit import read_audit_log
from agent.security.users import Role, User
from agent.service.errors import Kind, ServiceError
from agent.service.views import FULL_VIEW
from agent.service.writes import WriteRequest
from tests.netconf.test_writes_harness import WritesHarness, edit, mtu_config

CONFIRMED = "<commit><confirmed/></commit>"


def confirmed(
    timeout: int | None = None, persist: str | None = None, persist_id: str | None = None
) -> str:
    body = "<confirmed/>"
    if timeout is not None:
        body += f"<confirm-timeout>{timeout}</confirm-timeout>"
    if persist is not None:
        body += f"<persist>{persist}</persist>"
    if persist_id is not None:
        body += f"<persist-id>{persist_id}</persist-id>"
    return f"<commit>{body}</commit>"


def stage(harness: WritesHarness, mtu: int, session: int = 1, port: str = "tor-tf1/1") -> None:
    harness.call(edit(mtu_config(mtu, port), "candidate"), session=session)


def gnmi_set(harness: WritesHarness, mtu: int) -> None:
    request = WriteRequest(
        principal=User("admin", Role.ADMIN),
        view=FULL_VIEW,
        edits=(Edit.update("/ports/port[name=tor-tf1/1]/config/mtu", mtu),),
        operations=(),
    )
    harness.run(harness.core.writes.write(request, _code_name))


def test_a_confirming_commit_keeps_it(harness: WritesHarness) -> None:
    stage(harness, 1600)
    harness.call(CONFIRMED)
    pending = harness.datastore.pending
    assert pending is not None and harness.mtu() == 1600
    assert pending.deadline_ns - harness.clock.now_ns() == 600 * 10**9  # the default
    harness.call("<commit/>")
    assert harness.datastore.pending is None
    harness.advance(700)
    assert harness.mtu() == 1600


def test_it_rolls_back_when_the_timeout_passes(harness: WritesHarness) -> None:
    hw = harness.hw()
    stage(harness, 1600)
    harness.call(confirmed(timeout=30))
    assert harness.mtu() == 1600 and harness.hw() != hw
    harness.advance(29)
    assert harness.datastore.pending is not None
    harness.advance(2)
    assert harness.datastore.pending is None
    assert harness.mtu() == 9000 and harness.hw() == hw
    assert harness.candidate_mtu() == 9000  # the candidate followed running


def test_gnmi_writes_wait_for_the_confirmation(harness: WritesHarness) -> None:
    stage(harness, 1600)
    harness.call(CONFIRMED)
    with pytest.raises(ServiceError) as refused:
        gnmi_set(harness, 1700)
    assert refused.value.kind is Kind.CONFLICT and "awaits confirmation" in refused.value.message
    harness.call("<commit/>")
    gnmi_set(harness, 1700)
    assert harness.mtu() == 1700


def test_a_confirming_commit_takes_the_candidate_too(harness: WritesHarness) -> None:
    stage(harness, 1600)
    harness.call(CONFIRMED)
    stage(harness, 1700, port="tor-tf1/3")
    harness.call("<commit/>")
    assert harness.datastore.pending is None
    assert harness.mtu() == 1600 and harness.mtu("tor-tf1/3") == 1700


def test_a_follow_up_confirmed_commit_extends_it_and_keeps_the_target(
    harness: WritesHarness,
) -> None:
    hw = harness.hw()
    stage(harness, 1600)
    harness.call(confirmed(timeout=30))
    stage(harness, 1700, port="tor-tf1/3")
    harness.advance(20)
    harness.call(confirmed(timeout=30))
    assert harness.mtu("tor-tf1/3") == 1700
    harness.advance(20)  # 40 s after the first: the follow-up's timeout holds
    assert harness.datastore.pending is not None
    harness.advance(11)
    assert harness.datastore.pending is None
    assert harness.mtu() == 9000 and harness.mtu("tor-tf1/3") == 9000  # before the first
    assert harness.hw() == hw


def test_only_its_session_confirms_a_commit_without_persist(harness: WritesHarness) -> None:
    stage(harness, 1600, session=3)
    harness.call(CONFIRMED, session=3)
    err = harness.error("<commit/>", session=4)
    assert err.tag == "in-use" and "NETCONF session 3" in err.message
    err = harness.error("<cancel-commit/>", session=4)
    assert err.tag == "in-use"
    err = harness.error(confirmed(persist_id="guess"), session=4)
    assert err.tag == "invalid-value"
    assert harness.datastore.pending is not None
    harness.call("<commit/>", session=3)
    assert harness.datastore.pending is None and harness.mtu() == 1600


def test_the_end_of_its_session_rolls_it_back(harness: WritesHarness, tmp_path: Path) -> None:
    hw = harness.hw()
    stage(harness, 1600, session=3)
    harness.call(CONFIRMED, session=3)
    harness.end_session(4)  # another session: nothing happens
    assert harness.datastore.pending is not None
    harness.end_session(3)
    assert harness.datastore.pending is None
    assert harness.mtu() == 9000 and harness.hw() == hw
    records = [
        r for r in read_audit_log(tmp_path / "state" / "audit") if r.rpc == "netconf:session-end"
    ]
    assert records and records[-1].outcome.value == "ok" and "session 3" in records[-1].message


def test_a_persisted_commit_outlives_its_session(harness: WritesHarness) -> None:
    stage(harness, 1600, session=3)
    harness.call(confirmed(persist="change-42"), session=3)
    harness.end_session(3)
    assert harness.datastore.pending is not None and harness.mtu() == 1600
    err = harness.error("<commit/>", session=4)
    assert err.tag == "missing-element" and err.info["bad-element"] == "persist-id"
    err = harness.error("<commit><persist-id>change-43</persist-id></commit>", session=4)
    assert err.tag == "invalid-value"
    harness.call("<commit><persist-id>change-42</persist-id></commit>", session=4)
    assert harness.datastore.pending is None and harness.mtu() == 1600


def test_cancel_commit(harness: WritesHarness) -> None:
    hw = harness.hw()
    stage(harness, 1600)
    harness.call(CONFIRMED)
    assert harness.call("<cancel-commit/>") is None
    assert harness.datastore.pending is None and harness.mtu() == 9000 and harness.hw() == hw
    err = harness.error("<cancel-commit/>")
    assert err.tag == "invalid-value" and "no confirmed commit" in err.message


def test_cancel_commit_of_a_persisted_commit(harness: WritesHarness) -> None:
    stage(harness, 1600, session=3)
    harness.call(confirmed(persist="p1"), session=3)
    err = harness.error("<cancel-commit><persist-id>p2</persist-id></cancel-commit>", session=4)
    assert err.tag == "invalid-value"
    harness.call("<cancel-commit><persist-id>p1</persist-id></cancel-commit>", session=4)
    assert harness.datastore.pending is None and harness.mtu() == 9000


def test_a_gnmi_commit_confirmed_blocks_netconf_commits(harness: WritesHarness) -> None:
    from agent.service.writes import CommitAction, CommitRequest

    request = WriteRequest(
        principal=User("admin", Role.ADMIN),
        view=FULL_VIEW,
        edits=(Edit.update("/ports/port[name=tor-tf1/1]/config/mtu", 1600),),
        operations=(),
        commit=CommitRequest("gnmi-1", CommitAction.COMMIT),
    )
    harness.run(harness.core.writes.write(request, _code_name))
    stage(harness, 1700, port="tor-tf1/3")
    err = harness.error("<commit/>")
    assert err.tag == "in-use" and "gnmi-1" in err.message
    harness.call("<commit><persist-id>gnmi-1</persist-id></commit>")  # its id confirms it
    assert harness.datastore.pending is None and harness.mtu("tor-tf1/3") == 1700


@pytest.mark.parametrize(
    "body",
    [
        "<confirm-timeout>10</confirm-timeout>",
        "<persist>x</persist>",
        "<confirmed/><confirm-timeout>0</confirm-timeout>",
        "<confirmed/><confirm-timeout>soon</confirm-timeout>",
        "<confirmed/><persist/>",
    ],
)
def test_bad_commit_parameters(harness: WritesHarness, body: str) -> None:
    err = harness.error(f"<commit>{body}</commit>")
    assert err.tag == "invalid-value"
    assert harness.datastore.pending is None


def test_a_failing_confirmed_commit_leaves_everything(harness: WritesHarness) -> None:
    harness.call(edit(mtu_config(16000), "candidate", test_option="set"))
    running, hw = harness.datastore.running, harness.hw()
    err = harness.error(CONFIRMED)
    assert err.tag == "operation-failed"
    assert harness.datastore.pending is None and harness.datastore.running is running
    assert harness.hw() == hw and harness.candidate_mtu() == 16000
