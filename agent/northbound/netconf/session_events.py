"""RFC 6470 ``<netconf-session-start>`` and ``<netconf-session-end>`` content."""

from __future__ import annotations

from typing import Any

from lxml import etree

from agent.northbound.netconf.contracts import NS_NOTIFICATIONS_6470, Element, qname


def session_event_element(event: Any) -> Element:
    """The content for a registry SessionEvent (``session``: its SessionInfo; ``reason``:
    None when it started, else the termination reason; ``killed_by``)."""
    ns = NS_NOTIFICATIONS_6470
    name = "netconf-session-start" if event.reason is None else "netconf-session-end"
    root = etree.Element(qname(ns, name), nsmap={None: ns})
    session = event.session
    etree.SubElement(root, qname(ns, "username")).text = session.user.name
    etree.SubElement(root, qname(ns, "session-id")).text = str(session.session_id)
    if session.host:
        etree.SubElement(root, qname(ns, "source-host")).text = session.host
    if event.reason is not None:
        if event.killed_by is not None:
            etree.SubElement(root, qname(ns, "killed-by")).text = str(event.killed_by)
        reason = getattr(event.reason, "value", event.reason)
        etree.SubElement(root, qname(ns, "termination-reason")).text = str(reason)
    return root
