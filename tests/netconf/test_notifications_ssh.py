"""Notifications and monitoring over real SSH: netconf-client subscribes, a gNMI Set
commits, the notification arrives while the session keeps answering RPCs."""

from __future__ import annotations

from typing import Any

from lxml import etree

from agent.northbound.netconf.contracts import NS_MONITORING
from tests.netconf.conftest import ServedNetconf
from tests.northbound.harness import TIMEOUT

NC = "urn:ietf:params:xml:ns:yang:ietf-netconf-notifications"


def edits(notification: Any) -> list[tuple[str, str]]:
    element = notification.notification_ele
    return [
        (e.findtext(f"{{{NC}}}target"), e.findtext(f"{{{NC}}}operation"))
        for e in element.iter(f"{{{NC}}}edit")
    ]


def test_a_gnmi_set_reaches_a_netconf_subscriber(served: ServedNetconf) -> None:
    manager = served.manager()
    announced = manager.session.server_capabilities
    assert "urn:ietf:params:netconf:capability:notification:1.0" in announced
    assert "urn:ietf:params:netconf:capability:interleave:1.0" in announced
    assert any(
        c.startswith("urn:ietf:params:netconf:capability:yang-library:1.1?") for c in announced
    )
    manager.create_subscription()
    served.gnmi().set(update=[("/ports/port[name=tor-tf1/1]/config/mtu", b"1500")])
    notification = manager.take_notification(timeout=TIMEOUT)
    assert notification is not None
    assert edits(notification) == [
        ("/eport:ports/eport:port[eport:name='tor-tf1/1']/eport:config/eport:mtu", "merge")
    ]
    who = notification.notification_ele.find(f".//{{{NC}}}changed-by")
    assert who.findtext(f"{{{NC}}}username") == "admin"
    assert who.findtext(f"{{{NC}}}session-id") == "0"
    # interleave: the session still answers RPCs, and monitoring counted what it sent
    sessions = f'<netconf-state xmlns="{NS_MONITORING}"><sessions/></netconf-state>'
    reply = manager.get(filter=f"<filter>{sessions}</filter>")
    data = reply.data_ele
    [mine] = [
        s
        for s in data.iter(f"{{{NS_MONITORING}}}session")
        if s.findtext(f"{{{NS_MONITORING}}}session-id") == str(manager.session_id)
    ]
    assert mine.findtext(f"{{{NS_MONITORING}}}username") == "admin"
    assert mine.findtext(f"{{{NS_MONITORING}}}out-notifications") == "1"
    assert int(mine.findtext(f"{{{NS_MONITORING}}}in-rpcs") or 0) >= 2


def test_a_tenant_hears_only_of_its_slices(served: ServedNetconf) -> None:
    tenant_b = served.manager("tenant-b")
    tenant_b.create_subscription()
    served.gnmi().set(update=[("/slices/slice[name=embb]/config/description", b'"a"')])
    served.gnmi().set(update=[("/slices/slice[name=miot]/config/description", b'"b"')])
    notification = tenant_b.take_notification(timeout=TIMEOUT)
    assert [t for t, _ in edits(notification)] == [
        "/eslice:slices/eslice:slice[eslice:name='miot']/eslice:config/eslice:description"
    ]


def test_get_schema_over_ssh(served: ServedNetconf) -> None:
    manager = served.manager("reader")
    reply = manager.dispatch(
        f'<get-schema xmlns="{NS_MONITORING}"><identifier>edge-slices</identifier></get-schema>'
    )
    data = etree.fromstring(reply.xml).find(f"{{{NS_MONITORING}}}data")
    assert data is not None
    assert data.text.lstrip().startswith("module edge-slices")
