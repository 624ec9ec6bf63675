"""Typed entity states (``agent.mapping.state_tree.entity_states``) -> cache containers.

No tree is rendered and nothing is parsed back: each container of an EntityState becomes
a ``Flat`` with the path, key, schema node, owner and entity the state cache needs (the
same ones ``Flattener`` gives configuration), its leaves kept as they are (counters as
ints). Paths, keys and schema nodes are worked out once per kind of container and
reused; only leaves the schema has under that container are kept.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from agent.mapping.state_tree import EntityKind, EntityState, Location
from agent.schema.nav import NodeInfo, NodeKind, SchemaNavigator
from agent.schema.path import DataPath, PathElem
from agent.telemetry.flatten import Flat, StateSample, elems_key

_LISTS: Final = (
    (EntityKind.DEVICE, ("platform", "devices", "device")),
    (EntityKind.PORT, ("ports", "port")),
    (EntityKind.SLICE, ("slices", "slice")),
    (EntityKind.TENANT, ("tenants", "tenant")),
)
_CACHE_LIMIT: Final = 1 << 16
_RECENT_LIMIT: Final = 256


class _Place:
    """Where containers of one location below an entity's entry go."""

    __slots__ = ("elems", "info", "key", "leaves", "owned")

    def __init__(
        self,
        elems: tuple[PathElem, ...],
        key: str,
        info: NodeInfo,
        leaves: frozenset[str],
        owned: int,
    ) -> None:
        self.elems = elems  # below the entry
        self.key = key  # below the entry's key
        self.info = info
        self.leaves = leaves  # the state leaves the schema has there
        self.owned = owned  # elements of ``elems`` up to the deepest configured entry


class StateIngest:
    """Turns entity states into a ``StateSample`` (on the event loop, one at a time)."""

    def __init__(self, nav: SchemaNavigator) -> None:
        self._nav = nav
        self._lists: dict[str, tuple[tuple[PathElem, ...], NodeInfo, str]] = {}
        for kind, names in _LISTS:
            info: NodeInfo | None = nav.root
            elems: list[PathElem] = []
            for name in names:
                assert info is not None
                info = nav.child(info, name)
                if info is None:
                    break
                elems.append(PathElem(name))
            if info is not None and info.keys:
                self._lists[kind] = (tuple(elems[:-1]), info, info.keys[0])
        self._entities: dict[tuple[str, str], tuple[tuple[PathElem, ...], str, DataPath]] = {}
        self._places: dict[tuple[str, Location], _Place | None] = {}
        self._recent: dict[tuple[str, int], tuple[Location, _Place | None]] = {}

    def sample(self, states: Iterable[EntityState], *, counters_only: bool = False) -> StateSample:
        """The containers of ``states`` and the entities they report on."""
        sample = StateSample(counters_only=counters_only)
        flats = sample.flats
        entities = sample.entities
        for state in states:
            entity = self._entity(state.kind, state.name)
            if entity is None:
                continue
            elems, key, path = entity
            entities[key] = path
            for location, values in state.containers:
                place = self._place(state.kind, location)
                if place is None or not values:
                    continue
                if not values.keys() <= place.leaves:
                    values = {k: v for k, v in values.items() if k in place.leaves}
                    if not values:
                        continue
                here = elems + place.elems
                owner = key
                if place.owned:
                    owner = key + elems_key(place.elems[: place.owned])
                flats.append(Flat(key + place.key, here, place.info, values, owner, key))
        return sample

    def _entity(self, kind: str, name: str) -> tuple[tuple[PathElem, ...], str, DataPath] | None:
        found = self._entities.get((kind, name))
        if found is None:
            known = self._lists.get(kind)
            if known is None:
                return None
            above, info, key_name = known
            elems = (*above, PathElem(info.name, ((key_name, str(name)),)))
            found = (elems, elems_key(elems), DataPath(elems))
            if len(self._entities) >= _CACHE_LIMIT:
                self._entities.clear()
            self._entities[(kind, name)] = found
        return found

    def _place(self, kind: str, location: Location) -> _Place | None:
        recent = self._recent.get((kind, id(location)))  # the same location object again
        if recent is not None and recent[0] is location:
            return recent[1]
        key = (kind, location)
        if key in self._places:
            found = self._places[key]
        else:
            found = self._resolve(kind, location)
            if len(self._places) >= _CACHE_LIMIT:
                self._places.clear()
            self._places[key] = found
        if len(self._recent) >= _RECENT_LIMIT:
            self._recent.clear()
        self._recent[(kind, id(location))] = (location, found)
        return found

    def _resolve(self, kind: str, location: Location) -> _Place | None:
        known = self._lists.get(kind)
        if known is None:
            return None
        info: NodeInfo | None = known[1]
        elems: list[PathElem] = []
        owned = 0
        for name, keys in location:
            assert info is not None
            info = self._nav.child(info, name)
            if info is None or info.is_leafy:
                return None
            elems.append(PathElem(name, tuple(sorted(keys))))
            if info.kind is NodeKind.LIST and info.config:
                owned = len(elems)
        assert info is not None
        leaves = frozenset(
            child.name for child in self._nav.children(info) if child.is_leafy and not child.config
        )
        return _Place(tuple(elems), elems_key(elems), info, leaves, owned)
