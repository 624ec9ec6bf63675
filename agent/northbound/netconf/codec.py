"""XML (RFC 7950 section 7) <-> RFC 7951 JSON trees, driven by our YANG modules.

The datastore holds RFC 7951 trees; NETCONF speaks XML. :class:`XmlCodec` turns one into
the other:

- every data node is an element in its module's namespace (the module's ``namespace``
  statement); the outermost element of each module declares it as the default namespace;
- list entries are repeated elements, keys first in key order (RFC 7950 7.8.5), the
  other members and the entries in the order the tree holds them; leaf-lists are
  repeated elements;
- leaf values: numbers (64-bit ones and decimal64 too: strings in RFC 7951) and
  booleans as their canonical text; ``empty`` is ``<x/>`` (``[null]`` in RFC 7951);
  identityref is ``prefix:identity`` with the prefix of the identity's module declared
  on the leaf element, or the bare name when the identity is of the leaf's own module
  (whose namespace is the default one there); ``module:identity`` in RFC 7951; unions
  are read by trying the member types in order (RFC 7950 9.12);
- reading checks every name against the schema (``unknown-namespace``,
  ``unknown-element``), every list entry for its keys (``missing-element``) and every
  value against its type with the same checks as gNMI input (``invalid-value``);
  ranges, lengths, patterns and references are left to validation, as for gNMI.

Identityref values without a prefix take the default namespace in scope (RFC 7950
9.10.3); when that module has no such identity, the one identity of that name in any
module is taken (the leniency gNMI JSON has).

Elements produced here declare the prefixes their identityref values use. Callers must
not strip "unused" namespace declarations (``etree.cleanup_namespaces``): a prefix used
only in text would be lost.

For ``<edit-config>``, :meth:`XmlCodec.edit_nodes` cuts the ``<config>`` content into
:class:`EditNode` regions at every ``nc:operation`` attribute (RFC 6241 7.2).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from lxml import etree

from agent.cancellation import checkpoint
from agent.datastore.tree import key_text
from agent.gnmi.errors import GnmiError
from agent.gnmi.leaf_values import resolve
from agent.northbound.netconf.contracts import NS_BASE, Element, RpcError, qname
from agent.northbound.netconf.xpath import ModuleNames, instance_xpath
from agent.schema.characters import visible
from agent.schema.leaf_types import BaseType, LeafType
from agent.schema.nav import NodeInfo, NodeKind, SchemaNavigator
from agent.schema.path import DataPath, PathElem

NS_YANG: Final = "urn:ietf:params:xml:ns:yang:1"
"""The YANG namespace of the ``insert``/``value``/``key`` attributes (RFC 7950 7.8.6)."""
NS_DEFAULT_ATTR: Final = "urn:ietf:params:xml:ns:netconf:default:1.0"
"""The namespace of the ``wd:default`` attribute (RFC 6243 section 6)."""
DEFAULT_ATTR: Final = qname(NS_DEFAULT_ATTR, "default")
OPERATION_ATTR: Final = qname(NS_BASE, "operation")

_TEXT_AS_IS: Final = frozenset({BaseType.STRING, BaseType.ENUMERATION, BaseType.BITS})


class Operation(enum.StrEnum):
    """The values of the ``nc:operation`` attribute (RFC 6241 section 7.2)."""

    MERGE = "merge"
    REPLACE = "replace"
    CREATE = "create"
    DELETE = "delete"
    REMOVE = "remove"


@dataclass(frozen=True, slots=True)
class EditNode:
    """One region of an ``<edit-config>``'s ``<config>`` with one operation.

    - ``path``: the node, list entries keyed (modules on the first element and where the
      module changes, as in RFC 7951 member names);
    - ``operation``: the element's ``nc:operation``; None for a top-level element
      without one (it takes the ``default-operation``);
    - ``value``: the RFC 7951 value of the node without the regions cut out below it
      (a container or list entry: its members, keys included; a leaf: its value; a
      leaf-list element: ``[value]``); None for ``delete``/``remove`` except of a
      leaf-list element, whose value says which element goes;
    - ``element``: the XML element, for error reports.

    Regions come in document order, so an enclosing region comes before the regions
    cut out of it.
    """

    path: DataPath
    operation: Operation | None
    value: Any
    element: Element


class XmlCodec:
    """Our YANG modules' data as XML elements and back (see the module docstring)."""

    def __init__(self, engine: Any) -> None:
        """``engine``: the SchemaEngine (its navigator and modules are used)."""
        self._nav: SchemaNavigator = engine.nav
        self.names = ModuleNames.of(engine)

    @property
    def nav(self) -> SchemaNavigator:
        return self._nav

    def xpath(self, path: DataPath) -> str:
        """``path`` as an XPath with our prefixes, for ``error-path``."""
        return instance_xpath(path, self.names, self._nav)

    # --- RFC 7951 -> XML ---------------------------------------------------------------

    def to_xml(
        self,
        tree: Mapping[str, Any],
        *,
        parent: Element | None = None,
        tag_defaults: bool = False,
    ) -> list[Element]:
        """The elements of a whole RFC 7951 tree (members ``module:name``), appended to
        ``parent`` when given. ``tag_defaults`` marks every leaf whose value is its
        schema default with ``wd:default="true"`` (RFC 6243 report-all-tagged).

        Data the schema does not know, or a stored value that does not fit its type,
        raises RpcError operation-failed (the tree was not what the datastore holds)."""
        writer = _Writer(self, tag_defaults)
        made: list[Element] = []
        root = self._nav.root
        for member, value in tree.items():
            info = self._member_info(root, member, DataPath.root())
            made.extend(writer.node(parent, info, value, DataPath.root(), None))
        return made

    def node_to_xml(self, path: DataPath, value: Any, *, tag_defaults: bool = False) -> Element:
        """The outermost element of the data at a concrete ``path`` (``value`` in RFC
        7951 form), wrapped in its ancestors (list entries with their keys), ready to go
        under ``<data>``. A list path takes the list's entries, a leaf-list path its
        values. Raises RpcError for paths the schema does not know."""
        if not path.elems:
            raise ValueError("the root has no element: use to_xml")
        writer = _Writer(self, tag_defaults)
        infos = self._infos(path)
        top: Element | None = None
        parent: Element | None = None
        parent_module: str | None = None
        for depth, (elem, info) in enumerate(zip(path.elems[:-1], infos[:-1], strict=True)):
            made = writer.start(parent, info, parent_module)
            if info.kind is NodeKind.LIST:
                writer.keys_of_path(made, info, elem, DataPath(path.elems[: depth + 1]))
            top = made if top is None else top
            parent, parent_module = made, info.module
        last, info = path.elems[-1], infos[-1]
        parent_path = path.parent
        if info.kind is NodeKind.LIST and last.keys:
            entry = dict(value) if isinstance(value, dict) else {}
            for key, text in last.keys:
                if key not in entry:
                    entry[key] = writer.key_value(info, key, text, path)
            made_list = writer.node(parent, info, [entry], parent_path, parent_module)
        else:
            made_list = writer.node(parent, info, value, parent_path, parent_module)
        if top is not None:
            return top
        if len(made_list) != 1:
            raise ValueError(f"{path} yields {len(made_list)} elements: wrap it in its parent")
        return made_list[0]

    # --- XML -> RFC 7951 ---------------------------------------------------------------

    def from_xml(self, elements: Iterable[Element], *, config_only: bool = True) -> dict[str, Any]:
        """An RFC 7951 tree of data elements (e.g. the children of ``<config>``).

        Raises RpcError: unknown-namespace / unknown-element for names the schema does
        not have, missing-element for a list entry without a key, bad-element for a leaf
        or container given twice, invalid-value for a value its type refuses (and, with
        ``config_only``, for state data)."""
        reader = _Reader(self, config_only, None)
        return reader.members_of(_elements(elements), self._nav.root, DataPath.root(), None)

    def edit_nodes(
        self, elements: Iterable[Element], *, config_only: bool = True
    ) -> list[EditNode]:
        """The regions of an ``<edit-config>``'s ``<config>`` content, in document order.

        Besides what :meth:`from_xml` raises: an ``operation`` attribute outside the
        NETCONF base namespace, or another attribute of that namespace, or a YANG
        ``insert``/``value``/``key`` attribute (no list of ours is ordered by the user) is
        unknown-attribute; an operation value other than the five, an operation on a key
        leaf differing from its entry's, or an operation inside a delete/remove region is
        bad-attribute."""
        edits: list[EditNode | None] = []
        reader = _Reader(self, config_only, edits)
        root = self._nav.root
        for element in _elements(elements):
            info = reader.resolve(root, element, DataPath.root())
            reader.check(info, element, DataPath.root())
            operation = reader.operation(element, DataPath.root())
            reader.region(element, info, DataPath.root(), None, operation)
        return [edit for edit in edits if edit is not None]

    def child_info(self, parent: NodeInfo, element: Element) -> NodeInfo | None:
        """The schema node of a data element under ``parent``; None when unknown."""
        q = etree.QName(element)
        module = self.names.by_namespace(q.namespace)
        if module is None:
            return None
        return self._nav.child(parent, q.localname, module.name)

    def leaf_value(self, info: NodeInfo, element: Element, path: DataPath) -> Any:
        """The RFC 7951 value of one leaf or leaf-list element; RpcError invalid-value."""
        return _Reader(self, False, None).leaf(element, info, path)

    def leaf_text(
        self, info: NodeInfo, value: Any, path: DataPath
    ) -> tuple[str | None, str | None]:
        """One leaf value as XML text, and the namespace its prefix needs (identityref)."""
        return _Writer(self, False).text(info, value, path)

    # --- schema -----------------------------------------------------------------------

    def _member_info(self, parent: NodeInfo, member: str, path: DataPath) -> NodeInfo:
        info = self._nav.child_by_member(parent, member)
        if info is None:
            raise RpcError(
                "operation-failed",
                f"{_plain(path)}: the data holds {member!r}, which the schema does not have",
                path=self.xpath(path),
            )
        return info

    def _infos(self, path: DataPath) -> list[NodeInfo]:
        infos: list[NodeInfo] = []
        parent = self._nav.root
        for depth, elem in enumerate(path.elems):
            info = self._nav.child(parent, elem.name, elem.module)
            if info is None:
                where = DataPath(path.elems[:depth])
                raise RpcError(
                    "invalid-value",
                    f"no schema node {elem.name!r} under {_plain(where)}",
                    path=self.xpath(where),
                )
            infos.append(info)
            parent = info
        return infos


def _elements(elements: Iterable[Element]) -> list[Element]:
    """Element nodes only (comments and processing instructions are skipped)."""
    return [e for e in elements if isinstance(e.tag, str)]


def _step(path: DataPath, info: NodeInfo, parent_module: str | None, keys: Any = ()) -> DataPath:
    module = info.module if info.module != parent_module else None
    return DataPath((*path.elems, PathElem(info.name, tuple(sorted(keys)), module)))


@dataclass(frozen=True, slots=True)
class _Writer:
    codec: XmlCodec
    tag_defaults: bool

    def start(self, parent: Element | None, info: NodeInfo, parent_module: str | None) -> Element:
        """A new element for ``info`` (declaring its namespace where the module changes)."""
        module = info.module or ""
        namespace = self.codec.names.namespace(module)
        tag = qname(namespace, info.name)
        nsmap = {None: namespace} if module != parent_module else None
        if parent is None:
            return etree.Element(tag, nsmap=nsmap)
        return etree.SubElement(parent, tag, nsmap=nsmap)

    def node(
        self,
        parent: Element | None,
        info: NodeInfo,
        value: Any,
        parent_path: DataPath,
        parent_module: str | None,
    ) -> list[Element]:
        """The elements of one member (several for lists and leaf-lists)."""
        path = _step(parent_path, info, parent_module)
        kind = info.kind
        if kind is NodeKind.LEAF:
            return [self.leaf(parent, info, value, path, parent_module)]
        if kind is NodeKind.LEAF_LIST:
            if not isinstance(value, list):
                raise self._bad(path, f"a leaf-list holds {value!r}, not a list")
            return [self.leaf(parent, info, v, path, parent_module) for v in value]
        if kind is NodeKind.LIST:
            if not isinstance(value, list):
                raise self._bad(path, "a list holds no JSON array")
            made = []
            for entry in value:
                if not isinstance(entry, dict):
                    raise self._bad(path, f"list entry {entry!r} is not an object")
                element = self.start(parent, info, parent_module)
                keys = [(k, key_text(entry[k])) for k in info.keys if k in entry]
                entry_path = _step(parent_path, info, parent_module, keys)
                self.members(element, info, entry, entry_path, keys=info.keys)
                made.append(element)
            return made
        if not isinstance(value, dict):
            raise self._bad(path, f"a container holds {value!r}, not an object")
        element = self.start(parent, info, parent_module)
        self.members(element, info, value, path)
        return [element]

    def members(
        self,
        element: Element,
        info: NodeInfo,
        value: Mapping[str, Any],
        path: DataPath,
        keys: tuple[str, ...] = (),
    ) -> None:
        checkpoint()  # once per container or entry: a huge answer stops when cancelled
        for key in keys:
            if key in value:
                child = self.codec._member_info(info, key, path)
                self.node(element, child, value[key], path, info.module)
        for member, child_value in value.items():
            if keys and member in keys:
                continue
            child = self.codec._member_info(info, member, path)
            self.node(element, child, child_value, path, info.module)

    def keys_of_path(
        self, element: Element, info: NodeInfo, elem: PathElem, path: DataPath
    ) -> None:
        """The key leaves of an ancestor entry, from the path's keys."""
        given = dict(elem.keys)
        for key in info.keys:
            if key in given:
                child = self.codec._member_info(info, key, path)
                value = self.key_value(info, key, given[key], path)
                self.leaf(element, child, value, path.join(DataPath((PathElem(key),))), info.module)

    def key_value(self, info: NodeInfo, key: str, text: str, path: DataPath) -> Any:
        """A key's RFC 7951 value from its path text."""
        child = self.codec._member_info(info, key, path)
        if child.leaf_type is None:
            return text
        try:
            return resolve(text, child.leaf_type, path)[1]
        except GnmiError as exc:
            raise RpcError("invalid-value", exc.message, path=self.codec.xpath(path)) from None

    def leaf(
        self,
        parent: Element | None,
        info: NodeInfo,
        value: Any,
        path: DataPath,
        parent_module: str | None,
    ) -> Element:
        text, namespace = self.text(info, value, path)
        module = info.module or ""
        own = self.codec.names.namespace(module)
        nsmap: dict[str | None, str] = {}
        if module != parent_module:
            nsmap[None] = own
        if namespace is not None:
            nsmap[self.codec.names.by_namespace(namespace).prefix] = namespace  # type: ignore[union-attr]
        tagged = self.tag_defaults and info.default is not None and value == info.default
        if tagged:
            nsmap["wd"] = NS_DEFAULT_ATTR
        tag = qname(own, info.name)
        if parent is None:
            element = etree.Element(tag, nsmap=nsmap or None)
        else:
            element = etree.SubElement(parent, tag, nsmap=nsmap or None)
        if text is not None:
            element.text = text
        if tagged:
            element.set(DEFAULT_ATTR, "true")
        return element

    def text(self, info: NodeInfo, value: Any, path: DataPath) -> tuple[str | None, str | None]:
        leaf = info.leaf_type
        if leaf is None:
            raise self._bad(path, "is not a leaf")
        base = leaf.base
        if base in _TEXT_AS_IS and isinstance(value, str):
            return value, None
        if leaf.is_integer and type(value) is int:
            return str(value), None
        try:
            kind, resolved = resolve(value, leaf, path)
        except GnmiError as exc:
            raise self._bad(path, f"cannot encode the stored value: {exc.message}") from None
        return self._text_of(kind, resolved, info.module)

    def _text_of(
        self, kind: LeafType, value: Any, own: str | None
    ) -> tuple[str | None, str | None]:
        if kind.base is BaseType.EMPTY:
            return None, None
        if isinstance(value, bool):
            return ("true" if value else "false"), None
        if kind.base is BaseType.IDENTITYREF and isinstance(value, str):
            module, _, name = value.rpartition(":")
            known = self.codec.names.by_name(module)
            if module == own:  # the element's own namespace is the default one
                return name, None
            if known is not None:
                return f"{known.prefix}:{name}", known.namespace
            return name, None
        return str(value), None

    def _bad(self, path: DataPath, message: str) -> RpcError:
        return RpcError(
            "operation-failed", f"{_plain(path)}: {message}", path=self.codec.xpath(path)
        )


@dataclass(frozen=True, slots=True)
class _Reader:
    codec: XmlCodec
    config_only: bool
    edits: list[EditNode | None] | None  # None: plain data, operations not looked at

    # --- names -------------------------------------------------------------------------

    def resolve(self, parent: NodeInfo, element: Element, path: DataPath) -> NodeInfo:
        """The schema node of ``element`` under ``parent``; RpcError when unknown."""
        q = etree.QName(element)
        module = self.codec.names.by_namespace(q.namespace)
        if module is None:
            where = "no namespace" if not q.namespace else f"the namespace {q.namespace!r}"
            raise RpcError(
                "unknown-namespace",
                f"<{q.localname}> under {_plain(path)} is in {where}, which no module of "
                "this server has",
                path=self.codec.xpath(path),
                info={"bad-element": q.localname, "bad-namespace": q.namespace or ""},
            )
        info = self.codec.nav.child(parent, q.localname, module.name)
        if info is None:
            xpath = self.codec.xpath(path).rstrip("/")
            raise RpcError(
                "unknown-element",
                f"{_plain(path)} has no schema node {q.localname!r} of module {module.name}",
                path=f"{xpath}/{module.prefix}:{q.localname}",
                info={"bad-element": q.localname},
            )
        return info

    def check(self, info: NodeInfo, element: Element, path: DataPath) -> None:
        if self.config_only and not info.config:
            where = _step(path, info, None)
            raise RpcError(
                "invalid-value",
                f"{_plain(where)} is state data (config false); it cannot be configured",
                path=self.codec.xpath(where),
                info={"bad-element": info.name},
            )

    # --- operations --------------------------------------------------------------------

    def operation(self, element: Element, parent_path: DataPath) -> Operation | None:
        """The element's ``nc:operation`` (edit mode only)."""
        if self.edits is None:
            return None
        name = etree.QName(element).localname
        where = self._element_xpath(element, parent_path)
        for attribute in element.attrib:
            q = etree.QName(attribute)
            if q.namespace == NS_YANG or (q.namespace == NS_BASE and q.localname != "operation"):
                raise RpcError(
                    "unknown-attribute",
                    f"<{name}> carries the attribute {q.localname!r}, which this server "
                    "does not take here (no list of its model is ordered by the user)",
                    error_type="protocol",
                    path=where,
                    info={"bad-attribute": q.localname, "bad-element": name},
                )
            if q.namespace is None and q.localname == "operation":
                raise RpcError(
                    "unknown-attribute",
                    f"<{name}> carries 'operation' without a namespace; the operation "
                    f"attribute is in the NETCONF base namespace ({NS_BASE}), e.g. "
                    "nc:operation",
                    error_type="protocol",
                    path=where,
                    info={"bad-attribute": "operation", "bad-element": name},
                )
        raw = element.get(OPERATION_ATTR)
        if raw is None:
            return None
        try:
            return Operation(raw.strip())
        except ValueError:
            allowed = ", ".join(o.value for o in Operation)
            raise RpcError(
                "bad-attribute",
                f"<{name}> has operation {raw!r}; the operations are {allowed}",
                error_type="protocol",
                path=where,
                info={"bad-attribute": "operation", "bad-element": name},
            ) from None

    def _element_xpath(self, element: Element, parent_path: DataPath) -> str:
        """The XPath of an element under ``parent_path`` (without its keys)."""
        q = etree.QName(element)
        module = self.codec.names.by_namespace(q.namespace)
        prefix = f"{module.prefix}:" if module is not None else ""
        return f"{self.codec.xpath(parent_path).rstrip('/')}/{prefix}{q.localname}"

    def region(
        self,
        element: Element,
        info: NodeInfo,
        parent_path: DataPath,
        parent_module: str | None,
        operation: Operation | None,
    ) -> None:
        """Adds the EditNode of ``element`` (and, after it, those cut out below it)."""
        assert self.edits is not None
        index = len(self.edits)
        self.edits.append(None)  # the place of this region, before those below it
        removing = operation in (Operation.DELETE, Operation.REMOVE)
        path = self.path_of(element, info, parent_path, parent_module)
        if removing:
            self._no_operations_below(element, operation, path)
            value = self.value(element, info, path) if info.kind is NodeKind.LEAF_LIST else None
        else:
            value = self.value(element, info, path)
        self.edits[index] = EditNode(path, operation, value, element)

    def _no_operations_below(
        self, element: Element, operation: Operation | None, path: DataPath
    ) -> None:
        for below in element.iterdescendants():
            if isinstance(below.tag, str) and below.get(OPERATION_ATTR) is not None:
                name = etree.QName(below).localname
                raise RpcError(
                    "bad-attribute",
                    f"<{name}> has an operation inside a {operation} of its ancestor "
                    f"{_plain(path)}",
                    error_type="protocol",
                    path=self.codec.xpath(path),
                    info={"bad-attribute": "operation", "bad-element": name},
                )

    # --- values ------------------------------------------------------------------------

    def path_of(
        self, element: Element, info: NodeInfo, parent_path: DataPath, parent_module: str | None
    ) -> DataPath:
        """The path of ``element``: a list entry keyed by its key leaves."""
        if info.kind is not NodeKind.LIST:
            return _step(parent_path, info, parent_module)
        list_path = _step(parent_path, info, parent_module)
        found = self._key_elements(element, info, list_path)
        keys = [(k, key_text(self.leaf(e, c, list_path))) for k, (e, c) in found.items()]
        return _step(parent_path, info, parent_module, keys)

    def _key_elements(
        self, element: Element, info: NodeInfo, list_path: DataPath
    ) -> dict[str, tuple[Element, NodeInfo]]:
        namespace = self.codec.names.namespace(info.module or "")
        found: dict[str, tuple[Element, NodeInfo]] = {}
        for key in info.keys:
            matches = element.findall(qname(namespace, key))
            if not matches:
                raise RpcError(
                    "missing-element",
                    f"a {info.name!r} entry under {_plain(list_path.parent)} lacks its key {key!r}",
                    path=self.codec.xpath(list_path),
                    info={"bad-element": key},
                )
            if len(matches) > 1:
                raise RpcError(
                    "bad-element",
                    f"a {info.name!r} entry under {_plain(list_path.parent)} gives its key "
                    f"{key!r} twice",
                    path=self.codec.xpath(list_path),
                    info={"bad-element": key},
                )
            child = self.codec.nav.child(info, key, info.module)
            assert child is not None
            found[key] = (matches[0], child)
        return found

    def value(self, element: Element, info: NodeInfo, path: DataPath) -> Any:
        """The RFC 7951 value of one element at ``path`` (a leaf-list element: [v])."""
        if info.is_leafy:
            leaf = self.leaf(element, info, path)
            return [leaf] if info.kind is NodeKind.LEAF_LIST else leaf
        self._no_text(element, path)
        return self.members_of(_elements(element), info, path, element)

    def members_of(
        self,
        children: list[Element],
        info: NodeInfo,
        path: DataPath,
        owner: Element | None,
    ) -> dict[str, Any]:
        """The members of a container, list entry (keys first) or the root."""
        checkpoint()  # a huge <config> stops when its request is over
        out: dict[str, Any] = {}
        keys = info.keys if info.kind is NodeKind.LIST else ()
        entry_op = owner.get(OPERATION_ATTR) if owner is not None and keys else None
        for key in keys:  # key leaves first; path_of has checked they are there once
            key_info = self.codec.nav.child(info, key, info.module)
            assert key_info is not None
            namespace = self.codec.names.namespace(info.module or "")
            key_element = owner.find(qname(namespace, key)) if owner is not None else None
            if key_element is None:
                continue
            key_op = key_element.get(OPERATION_ATTR) if self.edits is not None else None
            if key_op is not None and key_op != entry_op:
                raise RpcError(
                    "bad-attribute",
                    f"the key {key!r} of {_plain(path)} has operation {key_op!r}; a key takes its "
                    "entry's operation",
                    error_type="protocol",
                    info={"bad-attribute": "operation", "bad-element": key},
                )
            out[key_info.member] = self.leaf(key_element, key_info, path.child(key))
        for child in children:
            child_info = self.resolve(info, child, path)
            if keys and child_info.name in keys and child_info.module == info.module:
                continue
            self.check(child_info, child, path)
            operation = self.operation(child, path)
            if operation is not None:
                self.region(child, child_info, path, info.module, operation)
                continue
            child_path = self.path_of(child, child_info, path, info.module)
            value = self.value(child, child_info, child_path)
            member = child_info.member
            if child_info.kind is NodeKind.LIST:
                out.setdefault(member, []).append(value)
            elif child_info.kind is NodeKind.LEAF_LIST:
                out.setdefault(member, []).extend(value)
            elif member in out:
                raise RpcError(
                    "bad-element",
                    f"{_plain(child_path)} is given twice",
                    path=self.codec.xpath(child_path),
                    info={"bad-element": child_info.name},
                )
            else:
                out[member] = value
        return out

    def _no_text(self, element: Element, path: DataPath) -> None:
        texts = [element.text, *(child.tail for child in element)]
        if any(text and text.strip() for text in texts):
            raise RpcError(
                "invalid-value",
                f"{_plain(path)} holds text; a container or list entry holds elements only",
                path=self.codec.xpath(path),
                info={"bad-element": etree.QName(element).localname},
            )

    def leaf(self, element: Element, info: NodeInfo, path: DataPath) -> Any:
        """The RFC 7951 value of one leaf (or one leaf-list element)."""
        if len(element) and any(isinstance(child.tag, str) for child in element):
            raise self._invalid(path, "holds elements; a leaf holds a value only")
        leaf = info.leaf_type
        assert leaf is not None
        text = "".join([element.text or "", *(child.tail or "" for child in element)])
        return self._parse(leaf, text, element, path)

    def _parse(self, leaf: LeafType, text: str, element: Element, path: DataPath) -> Any:
        if leaf.base is BaseType.UNION:
            for member in leaf.members:
                try:
                    return self._parse(member, text, element, path)
                except RpcError:
                    continue
            kinds = ", ".join(m.base.value for m in leaf.members)
            raise self._invalid(path, f"{_show(text)} matches no member of the union ({kinds})")
        base = leaf.base
        raw: Any
        if base is BaseType.STRING or base is BaseType.BITS:
            raw = text
        elif base is BaseType.BINARY:
            raw = "".join(text.split())
        elif base is BaseType.EMPTY:
            if text.strip():
                raise self._invalid(path, f"is of type empty and holds {_show(text)}")
            raw = [None]
        else:
            raw = text.strip()
            if base is BaseType.IDENTITYREF:
                raw = self._identity(raw, leaf, element, path)
        try:
            return resolve(raw, leaf, path.without_modules())[1]
        except GnmiError as exc:
            raise RpcError(
                "invalid-value",
                exc.message,
                path=self.codec.xpath(path),
                info={"bad-element": path.elems[-1].name if path.elems else ""},
            ) from None

    def _identity(self, text: str, leaf: LeafType, element: Element, path: DataPath) -> str:
        prefix, colon, name = text.rpartition(":")
        names = self.codec.names
        if colon:
            namespace = element.nsmap.get(prefix)
            if namespace is None:
                raise self._invalid(path, f"the prefix {prefix!r} of {_show(text)} is not declared")
            module = names.by_namespace(namespace)
            if module is None:
                raise self._invalid(
                    path, f"the prefix {prefix!r} names {namespace!r}, which no module has"
                )
            return f"{module.name}:{name}"
        default = names.by_namespace(element.nsmap.get(None))
        if default is not None and f"{default.name}:{name}" in leaf.enum_names:
            return f"{default.name}:{name}"
        return name

    def _invalid(self, path: DataPath, message: str) -> RpcError:
        return RpcError(
            "invalid-value",
            f"{_plain(path)}: {message}",
            path=self.codec.xpath(path),
            info={"bad-element": path.elems[-1].name if path.elems else ""},
        )


def _plain(path: DataPath) -> str:
    """A path for messages: names and keys, no modules."""
    return visible(str(path.without_modules()))


def _show(text: str) -> str:
    shown = repr(text)
    return shown if len(shown) <= 60 else shown[:57] + "..."
