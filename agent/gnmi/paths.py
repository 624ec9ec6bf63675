"""gnmi.Path (prefix + path) <-> DataPath.

Rules (gNMI spec 2.2.2, path conventions):

- prefix + path is one absolute path; an absent prefix or path counts as empty.
- ``target`` is only allowed in the prefix; the servicer echoes it (see
  :func:`response_prefix`) and never invents one.
- ``origin`` may be empty, ``openconfig`` or one of our module names. A module-name origin
  qualifies the first element, as in ``/edge-ports:ports/...`` (which pygnmi sends as
  origin ``edge-ports`` with element ``ports``). Element names may also carry the module
  themselves (``edge-ports:ports``). Any other origin is UNIMPLEMENTED.
- The deprecated ``element`` strings are read when ``elem`` is empty; each string is one
  element in path-string form (``port[name=eth1/0]``).
- Wildcards pass through: name ``*`` or ``...``, key value ``*``. Key values are opaque
  strings and may contain ``/``, ``:``, ``=``, ``]`` and spaces. Consecutive ``...``
  elements mean the same as one and are collapsed.
- Size limits (:class:`PathLimits`): element count, name length, keys per element and
  key value size are checked before anything else looks at the path; a path over a
  limit is INVALID_ARGUMENT naming the limit.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import Final

from agent.gnmi.errors import GnmiError
from agent.gnmi.pb import PathMsg, gnmi_pb2
from agent.schema.characters import character_problem, visible
from agent.schema.path import ANY_DEPTH, ANY_ONE, DataPath, PathElem, PathSyntaxError

EDGE_MODULES: Final = frozenset(
    {"edge-types", "edge-platform", "edge-ports", "edge-slices", "edge-tenants"}
)
"""Our YANG modules: accepted as origin and as element-name qualifiers."""

DEFAULT_ORIGINS: Final = frozenset({"", "openconfig"})
"""Origins that mean 'the default schema' and qualify nothing."""


@dataclass(frozen=True, slots=True)
class PathLimits:
    """How big a client's path may be (prefix and path together)."""

    max_elems: int = 64
    """Elements in prefix + path; our schema is about 10 levels deep."""
    max_name_chars: int = 256
    """Characters in one element or key name (module qualifier included)."""
    max_keys: int = 8
    """Keys on one element."""
    max_key_bytes: int = 1024
    """UTF-8 bytes of one key value."""


DEFAULT_PATH_LIMITS: Final = PathLimits()

_IDENTIFIER: Final = r"[A-Za-z_][A-Za-z0-9_.\-]*"
_NAME: Final = re.compile(rf"(?:{_IDENTIFIER}:)?{_IDENTIFIER}")  # optional module prefix


def to_data_path(
    path: PathMsg | None,
    prefix: PathMsg | None = None,
    *,
    modules: Collection[str] = EDGE_MODULES,
    limits: PathLimits = DEFAULT_PATH_LIMITS,
) -> DataPath:
    """The absolute DataPath named by ``prefix`` + ``path``.

    Raises GnmiError: INVALID_ARGUMENT for a malformed path, a path over ``limits``, a
    target outside the prefix or conflicting origins; UNIMPLEMENTED for an origin or
    element module that is not ``openconfig`` or one of ``modules``.
    """
    check_size(prefix, path, limits)
    if path is not None and path.target:
        raise GnmiError.invalid_argument(
            f"target {path.target!r} is only allowed in the prefix, not in a path"
        )
    origin = _origin(prefix, path)
    elems = [*_elems(prefix, "prefix", modules), *_elems(path, "path", modules)]
    if len(elems) > limits.max_elems:  # element strings may hold several elements
        raise _too_big("prefix + path", f"{limits.max_elems} elements")
    if origin not in DEFAULT_ORIGINS:
        if origin not in modules:
            allowed = ", ".join(sorted(modules))
            raise GnmiError.unimplemented(
                f"origin {origin!r} is not supported; use '', 'openconfig' or one of: {allowed}"
            )
        if elems:
            first = elems[0]
            if first.module not in (None, origin):
                raise GnmiError.invalid_argument(
                    f"origin {origin!r} contradicts the first element {str(first)!r}"
                )
            elems[0] = PathElem(first.name, first.keys, origin)
    return DataPath(tuple(_collapse_any_depth(elems)))


def check_size(prefix: PathMsg | None, path: PathMsg | None, limits: PathLimits) -> None:
    """Refuses (INVALID_ARGUMENT) a prefix + path over ``limits``, before any parsing."""
    count = 0
    for role, message in (("prefix", prefix), ("path", path)):
        if message is None:
            continue
        if len(message.origin) > limits.max_name_chars:
            raise _too_big(f"{role} origin", f"{limits.max_name_chars} characters")
        if len(message.target) > limits.max_key_bytes:
            raise _too_big(f"{role} target", f"{limits.max_key_bytes} characters")
        elems = message.elem or message.element
        count += len(elems)
        if count > limits.max_elems:
            raise _too_big("prefix + path", f"{limits.max_elems} elements")
        for index, elem in enumerate(message.elem):
            _check_elem(elem.name, elem.key, f"{role} element {index}", limits)
        for index, text in enumerate(message.element):
            budget = limits.max_name_chars + limits.max_keys * (limits.max_key_bytes + 64)
            if len(text) > budget:
                raise _too_big(f"{role} element {index}", f"{budget} characters")
            try:
                parsed = DataPath.parse(text).elems
            except PathSyntaxError:
                continue  # reported with its position when the path is converted
            for elem in parsed:
                _check_elem(elem.name, elem.key_map, f"{role} element {index}", limits)


def _check_elem(name: str, keys: Mapping[str, str], where: str, limits: PathLimits) -> None:
    if len(name) > limits.max_name_chars:
        raise _too_big(f"{where} name", f"{limits.max_name_chars} characters")
    if len(keys) > limits.max_keys:
        raise _too_big(f"{where} ({name[:64]!r})", f"{limits.max_keys} keys")
    for key, value in keys.items():
        if len(key) > limits.max_name_chars:
            raise _too_big(f"{where} key name", f"{limits.max_name_chars} characters")
        if len(value) > limits.max_key_bytes or len(value.encode()) > limits.max_key_bytes:
            raise _too_big(f"{where} key {key[:64]!r}", f"{limits.max_key_bytes} bytes")
        problem = character_problem(value)
        if problem is not None:
            raise GnmiError.invalid_argument(f"{where} key {visible(key[:64])!r}: {problem}")


def _too_big(what: str, limit: str) -> GnmiError:
    return GnmiError.invalid_argument(f"{what} is over the limit of {limit}")


def _collapse_any_depth(elems: list[PathElem]) -> Iterator[PathElem]:
    """``elems`` with runs of ``...`` reduced to one (they match the same nodes)."""
    previous: str | None = None
    for elem in elems:
        if elem.name == ANY_DEPTH and previous == ANY_DEPTH:
            continue
        previous = elem.name
        yield elem


def to_gnmi_path(
    path: DataPath,
    *,
    relative_to: DataPath | None = None,
    origin: str = "",
    target: str = "",
    qualified: bool = False,
) -> PathMsg:
    """A gnmi.Path for ``path``, holding only the elements below ``relative_to``.

    ``relative_to`` must be an ancestor-or-self of ``path`` (ValueError otherwise).
    Element names are plain unless ``qualified`` asks for ``module:name`` where the
    DataPath knows the module.
    """
    elems = path.elems
    if relative_to is not None:
        if not path.startswith(relative_to):
            raise ValueError(f"{path} is not below {relative_to}")
        elems = elems[len(relative_to.elems) :]
    message = gnmi_pb2.Path(origin=origin, target=target)
    for elem in elems:
        name = f"{elem.module}:{elem.name}" if qualified and elem.module else elem.name
        message.elem.add(name=name, key=dict(elem.keys))
    return message


def response_prefix(request_prefix: PathMsg | None) -> PathMsg | None:
    """The prefix for a response: a copy of the request's prefix (target included).

    None when the request had no prefix, so that no target is ever invented.
    """
    if request_prefix is None:
        return None
    echo = gnmi_pb2.Path()
    echo.CopyFrom(request_prefix)
    return echo


def _origin(prefix: PathMsg | None, path: PathMsg | None) -> str:
    outer = prefix.origin if prefix is not None else ""
    inner = path.origin if path is not None else ""
    if outer and inner and outer != inner:
        raise GnmiError.invalid_argument(
            f"prefix origin {outer!r} and path origin {inner!r} differ"
        )
    return str(outer or inner)


def _elems(message: PathMsg | None, role: str, modules: Collection[str]) -> Iterator[PathElem]:
    if message is None:
        return
    if message.elem:
        for index, elem in enumerate(message.elem):
            yield _convert_elem(elem.name, dict(elem.key), f"{role} element {index}", modules)
    else:
        for index, text in enumerate(message.element):
            where = f"{role} element {index}"
            try:
                parsed = DataPath.parse(text)
            except PathSyntaxError as exc:
                raise GnmiError.invalid_argument(f"{where}: {exc}") from exc
            if not parsed.elems:
                raise GnmiError.invalid_argument(f"{where}: empty element")
            for elem in parsed.elems:
                name = f"{elem.module}:{elem.name}" if elem.module else elem.name
                yield _convert_elem(name, elem.key_map, where, modules)


def _convert_elem(
    name: str, keys: dict[str, str], where: str, modules: Collection[str]
) -> PathElem:
    if name in (ANY_ONE, ANY_DEPTH):
        if keys and name == ANY_DEPTH:
            raise GnmiError.invalid_argument(f"{where}: '...' cannot carry keys")
    elif not _NAME.fullmatch(name):
        raise GnmiError.invalid_argument(f"{where}: malformed element name {name!r}")
    for key in keys:
        if not _NAME.fullmatch(key):
            raise GnmiError.invalid_argument(f"{where}: malformed key name {key!r} in {name!r}")
    elem = PathElem.of(name, keys)
    if elem.module is not None and elem.module not in modules:
        raise GnmiError.unimplemented(f"{where}: unknown module {elem.module!r} in {name!r}")
    return elem
