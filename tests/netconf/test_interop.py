"""Interoperability: ncclient (another common NETCONF client) against the agent, and a
NETCONF commit reaching a gNMI ON_CHANGE subscriber on the same datastore."""

from __future__ import annotations

import threading
import time

from ncclient import manager as ncclient_manager

from agent.gnmi.pb import gnmi_pb2
from tests.netconf.test_writes_harness import NS_PORTS
from tests.northbound.harness import USERS, AgentThread, Client, path

MTU = "/ports/port[name=tor-tf1/1]/config/mtu"


def _ncclient(agent: AgentThread, user: str = "admin"):
    netconf = agent.agent.netconf
    assert netconf is not None
    return ncclient_manager.connect(
        host="127.0.0.1",
        port=netconf.port,
        username=user,
        password=USERS[user][0],
        hostkey_verify=False,
        allow_agent=False,
        look_for_keys=False,
        timeout=20,
    )


def _edit(mtu: int) -> str:
    return (
        '<config xmlns="urn:ietf:params:xml:ns:netconf:base:1.0">'
        f'<ports xmlns="{NS_PORTS}"><port><name>tor-tf1/1</name>'
        f"<config><mtu>{mtu}</mtu></config></port></ports></config>"
    )


def test_ncclient_reads_edits_locks_and_commits(agent: AgentThread) -> None:
    with _ncclient(agent) as session:
        assert ":candidate" in " ".join(session.server_capabilities)
        data = session.get_config(source="running").data_xml
        assert "tor-tf1/1" in data
        with session.locked(target="candidate"):
            session.edit_config(target="candidate", config=_edit(1600))
            session.commit()
        answer = Client(agent.target, "admin").get(MTU).notification[0].update[0].val.json_val
        assert answer == b"1600"
        reply = session.get(filter=("subtree", f'<ports xmlns="{NS_PORTS}"/>'))
        assert "oper-status" in reply.data_xml


def test_a_netconf_commit_reaches_a_gnmi_on_change_subscriber(agent: AgentThread) -> None:
    client = Client(agent.target, "admin")
    request = gnmi_pb2.SubscribeRequest(
        subscribe=gnmi_pb2.SubscriptionList(
            subscription=[gnmi_pb2.Subscription(path=path(MTU), mode=gnmi_pb2.ON_CHANGE)],
            mode=gnmi_pb2.SubscriptionList.STREAM,
        )
    )
    stream = client.stub.Subscribe(iter([request]), metadata=client.metadata, timeout=30)
    seen: list[bytes] = []
    synced = threading.Event()

    def read() -> None:
        try:
            for response in stream:
                if response.sync_response:
                    synced.set()
                for update in response.update.update:
                    seen.append(update.val.json_val or update.val.json_ietf_val)
        except Exception:  # the stream is cancelled at the end
            return

    threading.Thread(target=read, daemon=True).start()
    try:
        assert synced.wait(10)
        with _ncclient(agent) as session:
            session.edit_config(target="candidate", config=_edit(1700))
            session.commit()
        deadline = time.monotonic() + 10
        while b"1700" not in seen and time.monotonic() < deadline:
            time.sleep(0.05)
        assert b"1700" in seen
    finally:
        stream.cancel()
        client.close()
