"""Which entities a data path needs driver state for.

A path under ``/ports/port[name=X]`` needs port X only, ``/slices/slice[name=S]`` slice S
(its member ports and devices come with it), ``/platform/devices/device[name=D]`` device
D, ``/tenants/tenant[name=T]`` tenant T (rendered from configuration, no driver read); a
missing or wildcard key means every entry of that list; the root and top-level wildcards
mean everything.
"""

from __future__ import annotations

from typing import Final

from agent.mapping.state_tree import ALL, Selection
from agent.schema.path import ANY_DEPTH, ANY_ONE, DataPath, PathElem

NOTHING: Final = frozenset[str]()
EMPTY: Final = Selection(NOTHING, NOTHING, NOTHING, NOTHING)


def selection_for(path: DataPath) -> Selection:
    """The smallest Selection whose state covers the (possibly wildcard) ``path``."""
    elems = path.elems
    if not elems or elems[0].name in (ANY_ONE, ANY_DEPTH):
        return ALL
    top = elems[0].name
    if top == "ports":
        return Selection(NOTHING, _names(elems, 1, "port"), NOTHING, NOTHING)
    if top == "slices":
        return Selection(NOTHING, NOTHING, _names(elems, 1, "slice"), NOTHING)
    if top == "tenants":
        return Selection(NOTHING, NOTHING, NOTHING, _names(elems, 1, "tenant"))
    if top == "platform":
        devices = (
            _names(elems, 2, "device") if len(elems) > 1 and elems[1].name == "devices" else None
        )
        return Selection(devices, NOTHING, NOTHING, NOTHING)
    return EMPTY


def _names(elems: tuple[PathElem, ...], index: int, list_name: str) -> frozenset[str] | None:
    """The one entry named at ``elems[index]``, or None (all entries)."""
    if len(elems) <= index or elems[index].name != list_name:
        return None
    name = dict(elems[index].keys).get("name")
    if name is None or name == ANY_ONE:
        return None
    return frozenset((name,))
