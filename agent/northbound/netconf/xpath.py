"""Names of our YANG modules in XML, and data paths written as XPath.

Every module has an XML namespace (its ``namespace`` statement) and a prefix (its
``prefix`` statement): ``edge-ports`` is ``urn:edge-agent:yang:edge-ports`` with prefix
``eport``. :class:`ModuleNames` holds them; :func:`instance_xpath` writes a DataPath as the
absolute XPath that RFC 6241 wants in ``error-path``::

    /eport:ports/eport:port[eport:name='tor-tf1/1']/eport:config/eport:mtu
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final

from agent.schema.nav import NodeInfo, SchemaNavigator
from agent.schema.path import DataPath


@dataclass(frozen=True, slots=True)
class ModuleName:
    """One module as XML names it."""

    name: str
    namespace: str
    prefix: str


class ModuleNames:
    """The namespace and prefix of each module, looked up either way.

    Prefixes are the modules' own; when two modules declare the same prefix, the later
    one (by name) gets a number appended so that every prefix names one namespace.
    """

    def __init__(self, modules: Iterable[ModuleName]) -> None:
        by_name: dict[str, ModuleName] = {}
        by_namespace: dict[str, ModuleName] = {}
        taken: set[str] = set()
        for module in sorted(modules, key=lambda m: m.name):
            prefix, suffix = module.prefix, 1
            while prefix in taken:
                suffix += 1
                prefix = f"{module.prefix}{suffix}"
            taken.add(prefix)
            unique = ModuleName(module.name, module.namespace, prefix)
            by_name[unique.name] = unique
            by_namespace[unique.namespace] = unique
        self._by_name: Mapping[str, ModuleName] = MappingProxyType(by_name)
        self._by_namespace: Mapping[str, ModuleName] = MappingProxyType(by_namespace)

    @classmethod
    def of(cls, engine: Any) -> ModuleNames:
        """The names of the modules a SchemaEngine loaded (``prefix`` and ``namespace``
        statements as yangson parsed them)."""
        found: list[ModuleName] = []
        for module_id, data in engine.model.schema_data.modules.items():
            namespace = data.statement.find1("namespace")
            prefix = data.statement.find1("prefix")
            if namespace is None or prefix is None:
                continue  # a submodule: its parent module names it
            found.append(ModuleName(module_id[0], namespace.argument, prefix.argument))
        return cls(found)

    def __iter__(self) -> Iterator[ModuleName]:
        return iter(self._by_name.values())

    def by_name(self, module: str) -> ModuleName | None:
        return self._by_name.get(module)

    def by_namespace(self, namespace: str | None) -> ModuleName | None:
        return self._by_namespace.get(namespace) if namespace else None

    def namespace(self, module: str) -> str:
        """The namespace of a module; KeyError for modules we do not have."""
        return self._by_name[module].namespace

    def prefix(self, module: str) -> str:
        """The prefix of a module; KeyError for modules we do not have."""
        return self._by_name[module].prefix

    @property
    def nsmap(self) -> dict[str, str]:
        """Every prefix and its namespace (a fresh dict)."""
        return {m.prefix: m.namespace for m in self._by_name.values()}


def literal(text: str) -> str:
    """``text`` as an XPath 1.0 string literal (``concat`` when it holds both quotes)."""
    if "'" not in text:
        return f"'{text}'"
    if '"' not in text:
        return f'"{text}"'
    parts = text.split("'")
    pieces = ', "\'", '.join(f"'{part}'" for part in parts)
    return f"concat({pieces})"


def instance_xpath(path: DataPath, names: ModuleNames, nav: SchemaNavigator) -> str:
    """``path`` as an absolute XPath with module prefixes and key predicates (in the
    list's key order). Steps the schema does not know keep their parent's module."""
    if not path.elems:
        return "/"
    steps: list[str] = []
    parent: NodeInfo | None = nav.root
    module: str | None = None
    for elem in path.elems:
        info = nav.child(parent, elem.name, elem.module) if parent is not None else None
        module = info.module if info is not None and info.module else (elem.module or module)
        prefix = _prefix(names, module)
        step = f"{prefix}{elem.name}"
        keys = dict(elem.keys)
        order = list(info.keys) if info is not None and info.keys else []
        order += sorted(k for k in keys if k not in order)
        for key in order:
            if key in keys:
                step += f"[{prefix}{key}={literal(keys[key])}]"
        steps.append(step)
        parent = info
    return "/" + "/".join(steps)


def _prefix(names: ModuleNames, module: str | None) -> str:
    known = names.by_name(module) if module else None
    return f"{known.prefix}:" if known is not None else ""


# --- XPath expressions over a data tree under one element ---------------------------------

_TOKEN: Final = re.compile(
    r"""\s+
    | (?P<literal>"[^"]*"|'[^']*')
    | (?P<number>\d+(?:\.\d*)?|\.\d+)
    | (?P<symbol>//|::|\.\.|!=|<=|>=|[/.@,()\[\]|=<>+\-*])
    | (?P<variable>\$[A-Za-z_][\w.\-]*(?::[A-Za-z_][\w.\-]*)?)
    | (?P<name>[A-Za-z_][\w.\-]*(?::(?:\*|[A-Za-z_][\w.\-]*))?)
    """,
    re.VERBOSE,
)
_OPERAND_END: Final = frozenset({")", "]", ".", ".."})
_OPERATOR_NAMES: Final = frozenset({"and", "or", "mod", "div"})


class XPathSyntaxError(ValueError):
    """Text that is not an XPath 1.0 expression."""


def rooted(expression: str, root: str, *, bare_names: bool = False) -> str:
    """``expression`` with every absolute location path starting at the element ``root``
    (a name test, e.g. ``r:root``) instead of the document root.

    NETCONF's XPath data model has all top-level data nodes as children of the root
    node; an XML document has one root element. Evaluating ``rooted(e, "r:root")`` with
    the data under an ``r:root`` element gives what ``e`` means over the data: ``/a/b``
    becomes ``/r:root/a/b``, ``//x`` becomes ``/r:root//x`` and ``/`` alone ``/r:root``.

    With ``bare_names``, an element name test without a prefix matches that local name in
    any namespace (``port`` becomes ``*[local-name()='port']``). Every data node has a
    module namespace, so in plain XPath 1.0 such a test could never match anything.
    """
    tokens: list[str] = []
    kinds: list[str] = []
    position = 0
    while position < len(expression):
        match = _TOKEN.match(expression, position)
        if match is None:
            raise XPathSyntaxError(f"unexpected {expression[position]!r} at offset {position}")
        position = match.end()
        if match.lastgroup is None:
            continue  # blanks
        tokens.append(match.group(match.lastgroup))
        kinds.append(match.lastgroup)
    out: list[str] = []
    ended = False  # whether the previous token ends an operand
    for index, (token, kind) in enumerate(zip(tokens, kinds, strict=True)):
        following = tokens[index + 1] if index + 1 < len(tokens) else None
        if token in ("/", "//") and not ended:
            starts_step = following is not None and (
                kinds[index + 1] == "name" or following in (".", "..", "@", "*")
            )
            if token == "//":
                out.append(f"/{root}//")
            else:
                out.append(f"/{root}/" if starts_step else f"/{root}")
            ended = False
            continue
        if bare_names and kind == "name" and _is_bare_element_test(tokens, index, ended):
            out.append(f"*[local-name()={literal(token)}]")
        else:
            out.append(token)
        if kind in ("literal", "number", "variable"):
            ended = True
        elif kind == "name":
            operator = ended and token in _OPERATOR_NAMES
            ended = not operator and following not in ("(", "::")
        elif token == "*":
            ended = not ended  # a name test after an operator, else multiplication
        else:
            ended = token in _OPERAND_END
    return " ".join(out)


def _is_bare_element_test(tokens: list[str], index: int, ended: bool) -> bool:
    """Whether the name token at ``index`` is an unprefixed element name test (not an
    operator, a function, a node type, an axis or an attribute)."""
    token = tokens[index]
    if ":" in token or (ended and token in _OPERATOR_NAMES):
        return False
    following = tokens[index + 1] if index + 1 < len(tokens) else None
    if following in ("(", "::"):
        return False
    previous = tokens[index - 1] if index else None
    if previous == "@":
        return False
    return not (previous == "::" and index >= 2 and tokens[index - 2] == "attribute")
