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
  strings and may contain ``/``, ``:``, ``=``, ``]`` and spaces.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from typing import Final

from agent.gnmi.errors import GnmiError
from agent.gnmi.pb import PathMsg, gnmi_pb2
from agent.schema.path import ANY_DEPTH, ANY_ONE, DataPath, PathElem, PathSyntaxError

EDGE_MODULES: Final = frozenset({"edge-types", "edge-platform", "edge-ports", "edge-slices"})
"""Our YANG modules: accepted as origin and as element-name qualifiers."""

DEFAULT_ORIGINS: Final = frozenset({"", "openconfig"})
"""Origins that mean 'the default schema' and qualify nothing."""

_IDENTIFIER: Final = r"[A-Za-z_][A-Za-z0-9_.\-]*"
_NAME: Final = re.compile(rf"(?:{_IDENTIFIER}:)?{_IDENTIFIER}")  # optional module prefix


def to_data_path(
    path: PathMsg | None,
    prefix: PathMsg | None = None,
    *,
    modules: Collection[str] = EDGE_MODULES,
) -> DataPath:
    """The absolute DataPath named by ``prefix`` + ``path``.

    Raises GnmiError: INVALID_ARGUMENT for a malformed path, a target outside the prefix
    or conflicting origins; UNIMPLEMENTED for an origin or element module that is not
    ``openconfig`` or one of ``modules``.
    """
    if path is not None and path.target:
        raise GnmiError.invalid_argument(
            f"target {path.target!r} is only allowed in the prefix, not in a path"
        )
    origin = _origin(prefix, path)
    elems = [*_elems(prefix, "prefix", modules), *_elems(path, "path", modules)]
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
    return DataPath(tuple(elems))


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
