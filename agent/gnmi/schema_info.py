"""What the gNMI codecs need to know about the schema, as a small protocol.

The schema engine implements it; tests use a fake. Paths handed to these methods are
absolute data paths: they may carry list keys (implementations ignore them) and module
qualifiers on elements (implementations may use them to tell apart nodes of the same name
from different modules, and must also resolve elements without one).
"""

from __future__ import annotations

from typing import Protocol, TypeAlias, TypeVar

from agent.schema.leaf_types import LeafType
from agent.schema.path import DataPath

_T = TypeVar("_T")


class SchemaInfo(Protocol):
    """Schema facts for encoding and decoding values."""

    def leaf_type(self, path: DataPath) -> LeafType | None:
        """The type of the leaf or leaf-list at ``path``; None for any other node or none."""
        ...

    def module_of(self, path: DataPath) -> str | None:
        """The name of the module that defines the node at ``path``; None if no such node."""
        ...

    def list_keys(self, path: DataPath) -> tuple[str, ...] | None:
        """The key leaf names of the list at ``path``, in schema order; None (or ()) if
        ``path`` is not a list."""
        ...


_SchemaKey: TypeAlias = tuple[tuple[str, str | None], ...]


class CachedSchema:
    """A SchemaInfo that remembers each answer per schema path (list keys left out).

    The codecs wrap the schema in one for each call, so that a list of ten thousand
    entries costs one lookup per schema node, not per data node. A long-lived instance is
    fine too: the schema does not change, and at ``max_entries`` the memory starts over.
    """

    def __init__(self, schema: SchemaInfo, max_entries: int = 65536) -> None:
        self._schema = schema
        self._max_entries = max_entries
        self._leaf_types: dict[_SchemaKey, LeafType | None] = {}
        self._modules: dict[_SchemaKey, str | None] = {}
        self._keys: dict[_SchemaKey, tuple[str, ...] | None] = {}

    def leaf_type(self, path: DataPath) -> LeafType | None:
        key = _key(path)
        if key not in self._leaf_types:
            self._make_room(self._leaf_types)
            self._leaf_types[key] = self._schema.leaf_type(path)
        return self._leaf_types[key]

    def module_of(self, path: DataPath) -> str | None:
        key = _key(path)
        if key not in self._modules:
            self._make_room(self._modules)
            self._modules[key] = self._schema.module_of(path)
        return self._modules[key]

    def list_keys(self, path: DataPath) -> tuple[str, ...] | None:
        key = _key(path)
        if key not in self._keys:
            self._make_room(self._keys)
            self._keys[key] = self._schema.list_keys(path)
        return self._keys[key]

    def _make_room(self, cache: dict[_SchemaKey, _T]) -> None:
        if len(cache) >= self._max_entries:
            cache.clear()


def cached(schema: SchemaInfo) -> SchemaInfo:
    """``schema`` wrapped in a CachedSchema unless it already is one."""
    return schema if isinstance(schema, CachedSchema) else CachedSchema(schema)


def _key(path: DataPath) -> _SchemaKey:
    return tuple((elem.name, elem.module) for elem in path.elems)
