"""Which entries of the top-level lists a commit's changes touch."""

from __future__ import annotations

from collections.abc import Iterable

from agent.datastore.diff import Change
from agent.mapping.intents import Touched
from agent.mapping.registry import ModelRegistry


def touched_entries(changes: Iterable[Change], model: ModelRegistry) -> Touched | None:
    """The device, port and slice entries ``changes`` create, change or delete, by name;
    None when a change is not inside one entry (a whole list or container replaced or
    deleted), or reaches a list keyed other than by one leaf. Changes to other lists
    (tenants) touch no intent."""
    found: dict[str, set[str]] = {"device": set(), "port": set(), "slice": set()}
    for change in changes:
        elems = change.path.elems
        where = model.at(tuple(elem.name for elem in elems))
        if where is None:
            return None
        keys = dict(elems[len(where.names) - 1].keys)
        if len(where.keys) != 1 or where.keys[0] not in keys:
            return None
        names = found.get(where.kind)
        if names is not None:
            names.add(keys[where.keys[0]])
    return Touched(frozenset(found["device"]), frozenset(found["port"]), frozenset(found["slice"]))
