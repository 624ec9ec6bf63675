"""Internal data path: the one path type every layer above the drivers speaks.

A path is a tuple of elements; each element has a node name, optional list keys and an
optional module qualifier (as in RFC 7951 member names, ``edge-ports:ports``). Two special
names stand for wildcards: ``*`` (exactly one level) and ``...`` (any number of levels,
including none). A key whose value is ``*`` matches every entry.

The string form follows the gNMI path conventions: ``/ports/port[name=eth 1/0]/config/mtu``;
inside a key value ``]`` and ``\\`` are escaped with a backslash.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

ANY_ONE = "*"
ANY_DEPTH = "..."


class PathSyntaxError(ValueError):
    """A path string that does not follow the gNMI path conventions."""


@dataclass(frozen=True, slots=True)
class PathElem:
    """One step of a path: a node name, its list keys (sorted by key name) and module."""

    name: str
    keys: tuple[tuple[str, str], ...] = ()
    module: str | None = None

    @classmethod
    def of(cls, name: str, keys: Mapping[str, str] | None = None) -> PathElem:
        """Builds an element from ``name`` (``module:name`` allowed) and a key mapping."""
        module, _, local = name.rpartition(":")
        return cls(local, tuple(sorted((keys or {}).items())), module or None)

    @property
    def key_map(self) -> dict[str, str]:
        return dict(self.keys)

    @property
    def is_wildcard(self) -> bool:
        return self.name in (ANY_ONE, ANY_DEPTH) or any(v == ANY_ONE for _, v in self.keys)

    def without_module(self) -> PathElem:
        return PathElem(self.name, self.keys) if self.module else self

    def __str__(self) -> str:
        text = f"{self.module}:{self.name}" if self.module else self.name
        for key, value in self.keys:
            text += f"[{key}={_escape(value)}]"
        return text


@dataclass(frozen=True, slots=True)
class DataPath:
    """An absolute path into the data tree (the root is the empty path)."""

    elems: tuple[PathElem, ...] = field(default=())

    @classmethod
    def parse(cls, text: str) -> DataPath:
        """Parses ``/a/b[k=v]/c``; a leading slash is optional, ``/`` alone is the root."""
        return cls(tuple(_parse_elems(text)))

    @classmethod
    def root(cls) -> DataPath:
        return cls(())

    def child(self, node: str, /, **keys: str) -> DataPath:
        """This path extended by one element (``module:name`` allowed)."""
        return DataPath((*self.elems, PathElem.of(node, keys)))

    def join(self, other: DataPath) -> DataPath:
        return DataPath(self.elems + other.elems)

    @property
    def parent(self) -> DataPath:
        return DataPath(self.elems[:-1])

    @property
    def is_wildcard(self) -> bool:
        return any(e.is_wildcard for e in self.elems)

    def without_modules(self) -> DataPath:
        """The same path with every module qualifier dropped."""
        return DataPath(tuple(e.without_module() for e in self.elems))

    def startswith(self, prefix: DataPath) -> bool:
        """True when ``prefix`` (module qualifiers ignored) is an ancestor-or-self."""
        if len(prefix.elems) > len(self.elems):
            return False
        return all(
            a.name == b.name and a.keys == b.keys
            for a, b in zip(self.elems, prefix.elems, strict=False)
        )

    def __len__(self) -> int:
        return len(self.elems)

    def __iter__(self) -> Iterator[PathElem]:
        return iter(self.elems)

    def __str__(self) -> str:
        return "/" + "/".join(str(e) for e in self.elems)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("]", "\\]")


def _parse_elems(text: str) -> Iterator[PathElem]:
    i, n = 0, len(text)
    if text.startswith("/"):
        i = 1
    while i < n:
        name_start = i
        while i < n and text[i] not in "/[":
            i += 1
        name = text[name_start:i]
        if not name:
            raise PathSyntaxError(f"empty element at offset {name_start} in {text!r}")
        keys: dict[str, str] = {}
        while i < n and text[i] == "[":
            i, key, value = _parse_key(text, i + 1)
            if key in keys:
                raise PathSyntaxError(f"key {key!r} given twice in {text!r}")
            keys[key] = value
        if i < n and text[i] != "/":
            raise PathSyntaxError(f"unexpected {text[i]!r} at offset {i} in {text!r}")
        i += 1
        yield PathElem.of(name, keys)


def _parse_key(text: str, i: int) -> tuple[int, str, str]:
    eq = text.find("=", i)
    close = text.find("]", i)
    if eq < 0 or (0 <= close < eq):
        raise PathSyntaxError(f"key without '=' at offset {i} in {text!r}")
    key = text[i:eq]
    if not key:
        raise PathSyntaxError(f"empty key name at offset {i} in {text!r}")
    value: list[str] = []
    j = eq + 1
    while j < len(text):
        ch = text[j]
        if ch == "\\" and j + 1 < len(text):
            value.append(text[j + 1])
            j += 2
            continue
        if ch == "]":
            return j + 1, key, "".join(value)
        value.append(ch)
        j += 1
    raise PathSyntaxError(f"unterminated key {key!r} in {text!r}")
