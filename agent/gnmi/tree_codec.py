"""Walks data trees: RFC 7951 -> JSON / JSON_IETF text form, -> leaves, and client JSON ->
RFC 7951.

A value at a path is a leaf value, a container or list entry (JSON object), or a whole
list (JSON array of entries). Which one is decided by the value's shape and the schema:
``leaf_type`` says whether a path is a leaf, ``list_keys`` names list keys, ``module_of``
gives the module of nodes whose member names carry no module.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from agent.cancellation import checkpoint
from agent.gnmi.errors import GnmiError, path_text
from agent.gnmi.json_value import JsonValue
from agent.gnmi.leaf_values import json_form, key_text, leaf_elements, normalise_leaf, resolve
from agent.gnmi.schema_info import SchemaInfo, cached
from agent.schema.leaf_types import LeafType
from agent.schema.path import DataPath, PathElem


def encode_tree(path: DataPath, value: JsonValue, schema: SchemaInfo, *, ietf: bool) -> JsonValue:
    """The value at ``path`` (RFC 7951 form) in the JSON (``ietf`` False) or JSON_IETF form.

    JSON_IETF: members of the outermost object(s) and members whose module differs from
    their parent's are ``module:name``; 64-bit numbers and decimal64 are strings;
    identities are ``module:identity``. JSON: no member or identity carries a module
    (unless two members would collide); 64-bit numbers and decimal64 are numbers.
    Leaves the schema does not know are passed through unchanged.
    """
    schema = cached(schema)
    module = schema.module_of(path) if path.elems else None
    return encode_node(path, value, module, schema, ietf=ietf, outermost=True)


def encode_node(
    path: DataPath,
    value: JsonValue,
    module: str | None,
    schema: SchemaInfo,
    *,
    ietf: bool,
    outermost: bool = False,
) -> JsonValue:
    """``encode_tree`` for a node whose module is known (``module``): below the top
    (``outermost`` False) members are qualified only where their module changes."""
    return _Encoder(schema, ietf).node(path, value, module, outermost=outermost)


def iter_leaves(
    path: DataPath, value: JsonValue, schema: SchemaInfo
) -> Iterator[tuple[DataPath, LeafType | None, JsonValue]]:
    """Every leaf and leaf-list below ``path`` as (full path with list keys, type, value).

    The type is None for leaves the schema does not know.
    """
    schema = cached(schema)
    if isinstance(value, dict):
        for name, child in value.items():
            module, _, local = name.rpartition(":")
            yield from iter_leaves(_child(path, local, module or None), child, schema)
        return
    leaf = schema.leaf_type(path)
    if leaf is not None or not isinstance(value, list):
        yield path, leaf, value
        return
    keys = schema.list_keys(path) or ()
    for entry in value:
        if not isinstance(entry, dict):
            raise GnmiError.internal(f"{path_text(path)}: list entry {entry!r} is not an object")
        yield from iter_leaves(_entry_path(path, entry, keys), entry, schema)


def decode_tree(path: DataPath, value: JsonValue, schema: SchemaInfo) -> JsonValue:
    """Client JSON or JSON_IETF for the node at ``path`` -> its RFC 7951 form.

    Member names may carry a module or not; in the result they carry one exactly where
    RFC 7951 wants it inside a whole data tree (at the root and where the module
    changes). A list path takes an array of entries (or one entry object); a keyed list
    entry path takes the entry, whose key leaves must agree with the path's keys.
    """
    schema = cached(schema)
    module = schema.module_of(path) if path.elems else None
    if path.elems and module is None:
        raise GnmiError.not_found(f"{path_text(path)}: no such schema node")
    decoder = _Decoder(schema)
    if not path.elems and not isinstance(value, dict):
        raise _bad(path, "the root needs a JSON object")
    keys = (schema.list_keys(path) or ()) if path.elems else ()
    if keys and not path.elems[-1].keys and isinstance(value, dict):
        value = [value]
    result = decoder.node(path, value, module)
    if isinstance(result, dict) and path.elems and path.elems[-1].keys:
        decoder.check_keys(path, result)
    return result


@dataclass(frozen=True, slots=True)
class _Encoder:
    schema: SchemaInfo
    ietf: bool

    def node(
        self, path: DataPath, value: JsonValue, module: str | None, *, outermost: bool = False
    ) -> JsonValue:
        if isinstance(value, dict):
            return self.members(path, value, module, outermost)
        leaf = self.schema.leaf_type(path)
        if leaf is not None:
            return self.leaf(path, value, leaf)
        if isinstance(value, list):
            entries: list[JsonValue] = []
            for entry in value:
                if not isinstance(entry, dict):
                    raise GnmiError.internal(
                        f"{path_text(path)}: list entry {entry!r} is not an object"
                    )
                entries.append(self.members(path, entry, module, outermost))
            return entries
        return value

    def members(
        self, path: DataPath, members: dict[str, JsonValue], module: str | None, outermost: bool
    ) -> dict[str, JsonValue]:
        checkpoint()  # once per container or list entry: a big answer stops when cancelled
        encoded: dict[str, JsonValue] = {}
        for name, child in members.items():
            explicit, _, local = name.rpartition(":")
            child_module = explicit or module
            if child_module is None:
                child_module = self.schema.module_of(_child(path, local, None))
            if not child_module:
                out_name = local
            elif self.ietf:
                qualify = outermost or child_module != module
                out_name = f"{child_module}:{local}" if qualify else local
            else:
                out_name = f"{child_module}:{local}"  # modules dropped below
            child_path = _child(path, local, child_module if child_module != module else None)
            encoded[out_name] = self.node(child_path, child, child_module)
        if not self.ietf:
            return _drop_modules(encoded)
        return encoded

    def leaf(self, path: DataPath, value: JsonValue, leaf: LeafType) -> JsonValue:
        return json_leaf(value, leaf, path, ietf=self.ietf)


def json_leaf(value: JsonValue, leaf: LeafType, path: DataPath, *, ietf: bool) -> JsonValue:
    """A stored leaf value in the JSON_IETF (``ietf``) or JSON form; a stored value that
    does not fit its type is INTERNAL."""
    try:
        if ietf:
            return normalise_leaf(value, leaf, path)
        if leaf.is_list:
            return [json_form(*resolve(e, leaf, path)) for e in leaf_elements(value, path)]
        return json_form(*resolve(value, leaf, path))
    except GnmiError as exc:
        raise GnmiError.internal(f"cannot encode stored value: {exc.message}") from exc


def _drop_modules(members: dict[str, JsonValue]) -> dict[str, JsonValue]:
    """JSON form: member names without module, except where two would collide."""
    locals_seen: dict[str, int] = {}
    for name in members:
        local = name.rpartition(":")[2]
        locals_seen[local] = locals_seen.get(local, 0) + 1
    return {
        (name.rpartition(":")[2] if locals_seen[name.rpartition(":")[2]] == 1 else name): child
        for name, child in members.items()
    }


@dataclass(frozen=True, slots=True)
class _Decoder:
    schema: SchemaInfo

    def node(self, path: DataPath, value: JsonValue, module: str | None) -> JsonValue:
        leaf = self.schema.leaf_type(path)
        if leaf is not None:
            return normalise_leaf(value, leaf, path)
        if isinstance(value, dict):
            return self.members(path, value, module)
        if isinstance(value, list):
            keys = self.schema.list_keys(path) or ()
            if not keys:
                raise _bad(path, "is not a list; a JSON object is needed")
            entries: list[JsonValue] = []
            for entry in value:
                if not isinstance(entry, dict):
                    raise _bad(path, f"list entry {_show(entry)} is not a JSON object")
                entry_path = _entry_path(path, entry, keys, partial=True)
                entries.append(self.members(entry_path, entry, module))
            return entries
        raise _bad(path, f"{_show(value)} given for a container or list")

    def members(
        self, path: DataPath, members: dict[str, JsonValue], module: str | None
    ) -> dict[str, JsonValue]:
        checkpoint()  # a huge Set payload stops decoding when its request is over
        decoded: dict[str, JsonValue] = {}
        for name, child in members.items():
            explicit, _, local = name.rpartition(":")
            if not local:
                raise _bad(path, f"malformed member name {name!r}")
            child_path = _child(path, local, explicit or None)
            actual = self.schema.module_of(child_path)
            if actual is None:
                raise _bad(child_path, "no such schema node")
            if explicit and explicit != actual:
                raise _bad(child_path, f"is defined by module {actual!r}, not {explicit!r}")
            out_name = local if actual == module else f"{actual}:{local}"
            if out_name in decoded:
                raise _bad(child_path, "given twice")
            child_path = _child(path, local, actual if actual != module else None)
            decoded[out_name] = self.node(child_path, child, actual)
        return decoded

    def check_keys(self, path: DataPath, entry: dict[str, JsonValue]) -> None:
        """A payload key leaf must not contradict the key in the path."""
        for key, path_value in path.elems[-1].keys:
            if key not in entry or path_value == "*":
                continue
            key_leaf = self.schema.leaf_type(_child(path, key, None))
            expected = normalise_leaf(path_value, key_leaf, path) if key_leaf else path_value
            if entry[key] != expected:
                raise _bad(
                    path,
                    f"payload key {key}={key_text(entry[key])} contradicts the path key "
                    f"{key}={path_value}",
                )


def _child(path: DataPath, name: str, module: str | None) -> DataPath:
    """``path`` extended by ``name``; ``module`` is given where the module changes."""
    return DataPath((*path.elems, PathElem(name, (), module)))


def _entry_path(
    list_path: DataPath, entry: dict[str, JsonValue], keys: tuple[str, ...], partial: bool = False
) -> DataPath:
    """``list_path`` with its last element keyed by the entry's key leaves."""
    if not keys:
        raise GnmiError.internal(f"{path_text(list_path)}: no list keys known for this list")
    values: list[tuple[str, str]] = []
    for key in keys:
        if key in entry:
            values.append((key, key_text(entry[key])))
        elif not partial:
            raise GnmiError.internal(f"{path_text(list_path)}: list entry without key {key!r}")
    last = list_path.elems[-1]
    keyed = PathElem(last.name, tuple(sorted(values)), last.module)
    return DataPath((*list_path.elems[:-1], keyed))


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _bad(path: DataPath, message: str) -> GnmiError:
    return GnmiError.invalid_argument(f"{path_text(path)}: {message}")
