"""Parsing received NETCONF messages safely.

Every message goes through a fresh lxml parser that loads no DTD, expands no entity,
never touches the network and keeps lxml's limits on depth and text size; a document
with a DOCTYPE is refused outright. Nothing from a client is parsed any other way.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from agent.northbound.netconf.contracts import Element


class MalformedMessage(ValueError):
    """The message is not a well-formed XML document we accept."""


def safe_parser(**options: Any) -> etree.XMLParser:
    """An XMLParser with every external and expanding feature off."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        collect_ids=False,
        **options,
    )


def parse_message(data: bytes) -> Element:
    """The root element of ``data``; raises MalformedMessage naming the problem."""
    try:
        root = etree.fromstring(data, safe_parser())
    except etree.XMLSyntaxError as exc:
        raise MalformedMessage(f"not well-formed XML: {_one_line(str(exc))}") from None
    except ValueError as exc:  # e.g. an encoding declaration lxml refuses
        raise MalformedMessage(f"not well-formed XML: {_one_line(str(exc))}") from None
    if root.getroottree().docinfo.doctype:
        raise MalformedMessage("a document type declaration (DOCTYPE) is not allowed")
    return root


def start_tag(prefix: bytes) -> tuple[str, dict[str, str], dict[str | None, str]] | None:
    """The qualified name, attributes and namespaces of the first element in the start
    of a document (e.g. of a message too big to parse whole); None if unreadable."""
    parser = etree.XMLPullParser(
        events=("start",),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
    )
    try:
        parser.feed(prefix)
        for _event, found in parser.read_events():
            if found.getroottree().docinfo.doctype:
                return None
            return str(found.tag), dict(found.attrib), dict(found.nsmap)
    except etree.XMLSyntaxError:
        return None
    return None


def _one_line(text: str) -> str:
    return " ".join(text.split())[:300]
