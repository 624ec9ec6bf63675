"""The model registry: one ListModel per top-level list of the model (devices, ports,
slices, tenants), saying where its entries sit in an RFC 7951 tree, how they are keyed
and which defaults their ``config`` leaves take.

The registry is built from the schema (``agent.datastore.model_registry``), so that the
model's paths, keys and defaults are written once, in the YANG modules; the mapping and
the datastore read them here and hard-code none of them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from agent.mapping.model import Entry, MappingError


@dataclass(frozen=True, slots=True)
class ListModel:
    """One top-level list.

    ``kind`` is the list's name (``port``), which is also how drivers name the entity
    in their problems; ``members`` are the JSON members from the root to the list
    (``edge-ports:ports``, ``port``), ``names`` the schema node names (``ports``,
    ``port``), ``keys`` the key leaves in schema order. ``defaults`` are the defaults of
    the entry's ``config`` leaves in RFC 7951 form; ``conditional`` those of leaves that
    exist only when a ``when`` condition holds (the mapping knows when it does).
    """

    kind: str
    members: tuple[str, ...]
    names: tuple[str, ...]
    keys: tuple[str, ...]
    defaults: Mapping[str, Any]
    conditional: Mapping[str, Any]

    def entries(self, tree: Entry) -> Sequence[Entry]:
        """The list's entries in ``tree``; empty when absent."""
        node: Any = tree
        for member in self.members:
            if not isinstance(node, Mapping):
                return ()
            node = node.get(member)
        return node if isinstance(node, list | tuple) else ()

    def default(self, leaf: str) -> Any:
        """The default of a ``config`` leaf (conditional ones included); MappingError when
        the model gives it none."""
        if leaf in self.defaults:
            return self.defaults[leaf]
        if leaf in self.conditional:
            return self.conditional[leaf]
        raise MappingError(f"the model gives {self.kind} leaf {leaf!r} no default")

    def configured(self, config: Entry) -> dict[str, Any]:
        """``config`` (an entry's ``config`` container) with the unconditional defaults
        filled in, in the model's order followed by the configured leaves."""
        return {**self.defaults, **config}


@dataclass(frozen=True, slots=True)
class ModelRegistry:
    """Every top-level list of the model, by kind."""

    lists: tuple[ListModel, ...]

    def __iter__(self) -> Iterator[ListModel]:
        return iter(self.lists)

    def of(self, kind: str) -> ListModel:
        """The list named ``kind``; MappingError when the model has none."""
        for model in self.lists:
            if model.kind == kind:
                return model
        raise MappingError(f"the model has no top-level list {kind!r}")

    def at(self, names: Sequence[str]) -> ListModel | None:
        """The list whose schema path starts ``names`` (e.g. a change's path), or None."""
        for model in self.lists:
            depth = len(model.names)
            if len(names) >= depth and tuple(names[:depth]) == model.names:
                return model
        return None

    @property
    def device(self) -> ListModel:
        return self.of("device")

    @property
    def port(self) -> ListModel:
        return self.of("port")

    @property
    def slice(self) -> ListModel:
        return self.of("slice")

    @property
    def tenant(self) -> ListModel:
        return self.of("tenant")
