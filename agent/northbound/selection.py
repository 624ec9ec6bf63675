"""Which entities a Get path needs driver state for.

A path under ``/ports/port[name=X]`` needs port X only, ``/slices/slice[name=S]`` slice S
(its member ports and devices come with it), ``/platform/devices/device[name=D]`` device
D; a missing or wildcard key means every entry of that list; the root and top-level
wildcards mean everything.
"""

from __future__ import annotations

from agent.mapping.state_tree import ALL, Selection
from agent.schema.path import ANY_DEPTH, ANY_ONE, DataPath, PathElem

NOTHING = frozenset[str]()


def selection_for(path: DataPath) -> Selection:
    """The smallest Selection whose state covers ``path``."""
    elems = path.elems
    if not elems or elems[0].name in (ANY_ONE, ANY_DEPTH):
        return ALL
    top = elems[0].name
    if top == "ports":
        return Selection(NOTHING, _names(elems, 1, "port"), NOTHING)
    if top == "slices":
        return Selection(NOTHING, NOTHING, _names(elems, 1, "slice"))
    if top == "platform":
        devices = (
            _names(elems, 2, "device") if len(elems) > 1 and elems[1].name == "devices" else None
        )
        return Selection(devices, NOTHING, NOTHING)
    return Selection(NOTHING, NOTHING, NOTHING)


def _names(elems: tuple[PathElem, ...], index: int, list_name: str) -> frozenset[str] | None:
    """The one entry named at ``elems[index]``, or None (all entries)."""
    if len(elems) <= index:
        return None
    elem = elems[index]
    if elem.name != list_name:
        return None
    name = dict(elem.keys).get("name")
    if name is None or name == ANY_ONE:
        return None
    return frozenset((name,))
