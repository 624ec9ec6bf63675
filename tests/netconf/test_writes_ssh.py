"""The write operations over real SSH with netconf-client, in the agent as
``edge-agent serve`` builds it, next to real gNMI clients: locks and confirmed commits
seen from both protocols."""

from __future__ import annotations

import time
from collections.abc import Callable

import grpc
import pytest
from netconf_client.error import RpcError as ClientRpcError

from agent.northbound.netconf.writes import WRITE_CAPABILITIES
from tests.netconf.conftest import ServedNetconf
from tests.netconf.test_writes_harness import NS_PORTS, NS_SLICES, mtu_config
from tests.northbound.harness import code_of

MTU = "/ports/port[name=tor-tf1/1]/config/mtu"


def mtu_of(served: ServedNetconf) -> int:
    value = served.gnmi().get(MTU).notification[0].update[0].val.json_val
    return int(value)


def config(body: str) -> str:
    return f'<config xmlns="urn:ietf:params:xml:ns:netconf:base:1.0">{body}</config>'


def wait_for(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the condition was not reached")
        time.sleep(0.05)


def test_writes_over_ssh(served: ServedNetconf) -> None:
    manager = served.manager()
    assert set(WRITE_CAPABILITIES) <= set(manager.session.server_capabilities)
    manager.edit_config(config(mtu_config(1600)), target="running")
    assert mtu_of(served) == 1600
    manager.edit_config(config(mtu_config(1700)), target="candidate")
    data = manager.get_config(source="candidate").data_ele
    assert "1700" in [e.text for e in data.iter(f"{{{NS_PORTS}}}mtu")]
    assert mtu_of(served) == 1600
    manager.validate(source="candidate")
    manager.commit()
    assert mtu_of(served) == 1700
    with pytest.raises(ClientRpcError) as refused:
        manager.edit_config(
            config(
                f'<slices xmlns="{NS_SLICES}"><slice nc:operation="create" '
                'xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0"><name>embb</name>'
                "</slice></slices>"
            ),
            target="running",
        )
    assert refused.value.tag == "data-exists"
    manager.edit_config(config(mtu_config(1800)), target="running", test_option="test-only")
    assert mtu_of(served) == 1700


def test_a_netconf_running_lock_blocks_gnmi_sets(served: ServedNetconf) -> None:
    holder = served.manager()
    holder.lock("running")
    code, details = code_of(lambda: served.gnmi().set(update=[(MTU, b"1600")]))
    assert code is grpc.StatusCode.FAILED_PRECONDITION
    assert f"NETCONF session {holder.session_id}" in details
    other = served.manager()
    with pytest.raises(ClientRpcError) as refused:
        other.edit_config(config(mtu_config(1600)), target="running")
    assert refused.value.tag == "in-use"
    with pytest.raises(ClientRpcError) as denied:
        other.lock("running")
    assert denied.value.tag == "lock-denied"
    assert f"<session-id>{holder.session_id}</session-id>" in denied.value.info.decode()
    holder.edit_config(config(mtu_config(1500)), target="running")  # the holder writes
    assert mtu_of(served) == 1500
    holder.close_session()  # its end releases the lock
    wait_for(lambda: served.thread.agent.core.writes.locks.holder("running") is None)
    served.gnmi().set(update=[(MTU, b"1600")])
    assert mtu_of(served) == 1600


def test_a_netconf_confirmed_commit_blocks_gnmi_and_rolls_back(served: ServedNetconf) -> None:
    manager = served.manager()
    manager.edit_config(config(mtu_config(1600)), target="candidate")
    manager.commit(confirmed=True, confirm_timeout=1)
    assert mtu_of(served) == 1600
    code, details = code_of(lambda: served.gnmi().set(update=[(MTU, b"1700")]))
    assert code is grpc.StatusCode.FAILED_PRECONDITION and "awaits confirmation" in details
    wait_for(lambda: served.thread.agent.datastore.pending is None)
    assert mtu_of(served) == 9000
    served.gnmi().set(update=[(MTU, b"1700")])


def test_the_end_of_the_session_rolls_back_its_confirmed_commit(served: ServedNetconf) -> None:
    manager = served.manager()
    manager.edit_config(config(mtu_config(1600)), target="candidate")
    manager.commit(confirmed=True)
    assert mtu_of(served) == 1600
    manager.session.close()
    wait_for(lambda: served.thread.agent.datastore.pending is None)
    assert mtu_of(served) == 9000


def test_a_persisted_confirmed_commit_is_confirmed_from_another_session(
    served: ServedNetconf,
) -> None:
    first = served.manager()
    first.edit_config(config(mtu_config(1600)), target="candidate")
    first.commit(confirmed=True, persist="change-7")
    first.session.close()
    time.sleep(0.3)
    assert served.thread.agent.datastore.pending is not None
    second = served.manager()
    with pytest.raises(ClientRpcError) as refused:
        second.commit(persist_id="change-8")
    assert refused.value.tag == "invalid-value"
    second.commit(persist_id="change-7")
    assert served.thread.agent.datastore.pending is None and mtu_of(served) == 1600


def test_a_tenant_over_ssh(served: ServedNetconf) -> None:
    manager = served.manager("tenant-a")
    with pytest.raises(ClientRpcError) as refused:
        manager.edit_config(config(mtu_config(1600)), target="running")
    assert refused.value.tag == "access-denied"
    with pytest.raises(ClientRpcError) as denied:
        manager.lock("running")
    assert denied.value.tag == "access-denied"
    manager.edit_config(
        config(
            f'<slices xmlns="{NS_SLICES}"><slice><name>embb</name>'
            "<config><description>over ssh</description></config></slice></slices>"
        ),
        target="candidate",
    )
    manager.commit()
    tree = served.thread.agent.datastore.running.tree
    embb = next(s for s in tree["edge-slices:slices"]["slice"] if s["name"] == "embb")
    assert embb["config"]["description"] == "over ssh"
