"""The ``<filter>`` of get, get-config and notification subscriptions.

Both kinds work on XML data elements (our modules' data rendered by the codec, and
data of other modules such as ietf-netconf-monitoring), so every data source is
filtered the same way. Callers hand in data their principal may read (the access has
already projected the tree), so a filter can never reach outside the caller's view.

Subtree filters (RFC 6241 section 6):

- a filter element matches a data element of the same local name in the same
  namespace; an element without a namespace (or in the NETCONF base namespace, which
  unqualified elements inside ``<rpc>`` inherit) matches that name in every namespace;
  attributes on a filter element must be present with the same value on the data;
- selection node (empty element): the data node and all below it; content match node
  (text only): the data leaf (or leaf-list elements) whose value equals the text, with
  values compared by the schema where it knows the leaf (``09000`` equals ``9000``, an
  identity with any prefix bound to its module), else as text with blanks trimmed;
  containment node (with elements): the data node, when something below it is selected;
- the content match nodes of one sibling set must all match, or the set selects
  nothing; when they do and the set has nothing else, the whole parent is selected;
- several filter elements selecting into the same data are merged; an empty filter
  selects nothing;
- list entries in the output always carry their keys.

XPath filters (the ``:xpath`` capability, ``<filter type="xpath" select="..."/>``):
the expression is evaluated by libxml2 over the data under one private root element
(absolute paths are rewritten to start there, so ``/eport:ports`` works as the NETCONF
XPath data model says) with the prefixes declared on the ``<filter>`` element; every
selected node comes with its ancestors and their list keys. An expression that does
not select nodes, or does not parse, is ``invalid-value``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final, Protocol

from lxml import etree

from agent.cancellation import checkpoint
from agent.datastore.tree import key_text
from agent.northbound.netconf.codec import XmlCodec
from agent.northbound.netconf.contracts import NS_BASE, Element, RpcError, qname
from agent.northbound.netconf.xpath import XPathSyntaxError, rooted
from agent.schema.nav import NodeInfo, NodeKind
from agent.schema.path import DataPath, PathElem

XPATH_CAPABILITY: Final = "urn:ietf:params:netconf:capability:xpath:1.0"
NS_ROOT: Final = "urn:edge-agent:netconf:xpath-root"
"""The namespace of the private element the XPath data hangs under (never sent)."""

ForeignKeys = Mapping[str, tuple[str, ...]]
"""Key leaf names of lists outside our schema, by the list's ``{namespace}name``."""

NO_KEYS: Final[ForeignKeys] = MappingProxyType({})


class Filter(Protocol):
    """A parsed ``<filter>``."""

    def apply(self, data: Sequence[Element]) -> list[Element]:
        """The selected part of ``data`` (new elements; ``data`` may be consumed)."""
        ...

    def paths(self) -> list[DataPath] | None:
        """The paths of our data the filter can select (None: anything); for reading
        only the driver state it needs."""
        ...


class _All:
    """Marks a data element selected with everything below it."""


ALL: Final = _All()
Chosen = dict[Element, Any]  # data element -> ALL or the Chosen of its children


def parse_filter(
    element: Element,
    codec: XmlCodec,
    foreign_keys: ForeignKeys = NO_KEYS,
    *,
    xpath: bool = True,
) -> Filter:
    """The Filter of a ``<filter>`` element (``type`` subtree by default; ``xpath``
    False refuses XPath filters). Raises RpcError for a bad type or missing select."""
    kind = element.get("type", element.get(qname(NS_BASE, "type"), "subtree"))
    if kind == "subtree":
        return SubtreeFilter(list(_children(element)), codec, foreign_keys)
    if kind == "xpath" and xpath:
        select = element.get("select", element.get(qname(NS_BASE, "select")))
        if select is None:
            raise RpcError(
                "missing-attribute",
                'an XPath filter needs its expression in the "select" attribute',
                "protocol",
                info={"bad-attribute": "select", "bad-element": "filter"},
            )
        return XPathFilter(select, element.nsmap, codec, foreign_keys)
    supported = "subtree or xpath" if xpath else "subtree"
    raise RpcError(
        "bad-attribute",
        f"filter type {kind!r} is not supported (the types: {supported})",
        "protocol",
        info={"bad-attribute": "type", "bad-element": "filter"},
    )


def content_filter(
    element: Element, codec: XmlCodec, foreign_keys: ForeignKeys = NO_KEYS
) -> Callable[[Element], Element | None]:
    """A notification subscription's filter (RFC 5277): the selected part of an event's
    content element, None when nothing of it is selected."""
    parsed = parse_filter(element, codec, foreign_keys)

    def select(content: Element) -> Element | None:
        found = parsed.apply([copy.deepcopy(content)])
        return found[0] if found else None

    return select


def _children(element: Element) -> Iterable[Element]:
    return (child for child in element if isinstance(child.tag, str))


@dataclass(frozen=True, slots=True)
class _Tree:
    """Schema knowledge for walking data elements: our schema, else ``foreign_keys``."""

    codec: XmlCodec
    foreign_keys: ForeignKeys

    def info(self, parent: NodeInfo | None, element: Element) -> NodeInfo | None:
        return self.codec.child_info(parent, element) if parent is not None else None

    def keys(self, element: Element, info: NodeInfo | None) -> list[Element]:
        """The key leaf elements of a list entry (none for other elements)."""
        if info is not None:
            if info.kind is not NodeKind.LIST:
                return []
            names = info.keys
        else:
            names = self.foreign_keys.get(element.tag, ())
        if not names:
            return []
        namespace = etree.QName(element).namespace
        found = (element.find(qname(namespace, k) if namespace else k) for k in names)
        return [key for key in found if key is not None]

    def copy_without_children(self, element: Element, parent: Element | None) -> Element:
        namespace = etree.QName(element).namespace
        inherited = parent is not None and etree.QName(parent).namespace == namespace
        nsmap = None if inherited or namespace is None else {None: namespace}
        made = (
            etree.Element(element.tag, nsmap=nsmap)
            if parent is None
            else etree.SubElement(parent, element.tag, nsmap=nsmap)
        )
        for name, value in element.attrib.items():
            made.set(name, value)
        return made


def _whole(element: Element, parent: Element | None) -> Element:
    made = copy.deepcopy(element)
    made.tail = None
    if parent is not None:
        parent.append(made)
    return made


class SubtreeFilter:
    """A subtree filter (RFC 6241 section 6) from the children of ``<filter>``."""

    def __init__(
        self, nodes: Sequence[Element], codec: XmlCodec, foreign_keys: ForeignKeys = NO_KEYS
    ) -> None:
        self._nodes = list(nodes)
        self._tree = _Tree(codec, foreign_keys)
        self._codec = codec

    @property
    def empty(self) -> bool:
        return not self._nodes

    def apply(self, data: Sequence[Element]) -> list[Element]:
        if not self._nodes:
            return []
        chosen = self._sibling_set(self._nodes, list(data), self._codec.nav.root)
        if not chosen:
            return []
        return self._render(list(data), chosen, self._codec.nav.root, None)

    def paths(self) -> list[DataPath] | None:
        """For each top-level filter element of our modules: its path, down to the one
        list entry its key content matches name (when they do)."""
        found: list[DataPath] = []
        for node in self._nodes:
            for info in self._top_infos(node):
                found.append(self._path_of(node, info, DataPath((PathElem(info.name),))))
        return found

    # --- matching ----------------------------------------------------------------------

    def _sibling_set(
        self, nodes: list[Element], data: list[Element], parent: NodeInfo | None
    ) -> Chosen | None:
        checkpoint()
        content = [n for n in nodes if _is_content_match(n)]
        chosen: Chosen = {}
        for node in content:
            hit = False
            for element in data:
                if _named(node, element) and self._same_value(node, element, parent):
                    chosen[element] = ALL
                    hit = True
            if not hit:
                return None
        if content and len(content) == len(nodes):
            return dict.fromkeys(data, ALL)
        for node in nodes:
            if _is_content_match(node):
                continue
            below = list(_children(node))
            for element in data:
                if not _named(node, element) or chosen.get(element) is ALL:
                    continue
                if not below:
                    chosen[element] = ALL
                    continue
                info = self._tree.info(parent, element)
                if info is not None and info.is_leafy:
                    continue  # a leaf holds nothing to contain
                nested = self._sibling_set(below, list(_children(element)), info)
                if nested:
                    chosen[element] = _merge(chosen.get(element), nested)
        return chosen

    def _same_value(self, node: Element, element: Element, parent: NodeInfo | None) -> bool:
        if any(isinstance(child.tag, str) for child in element):
            return False
        info = self._tree.info(parent, element)
        wanted = (node.text or "").strip()
        if info is None or not info.is_leafy:
            return wanted == (element.text or "").strip()
        where = DataPath((PathElem(info.name),))
        try:
            expected = self._codec.leaf_value(info, node, where)
        except RpcError:
            return False  # a value the leaf cannot hold matches nothing
        try:
            return bool(self._codec.leaf_value(info, element, where) == expected)
        except RpcError:
            return wanted == (element.text or "").strip()

    # --- output ------------------------------------------------------------------------

    def _render(
        self,
        data: list[Element],
        chosen: Chosen,
        parent_info: NodeInfo | None,
        parent: Element | None,
    ) -> list[Element]:
        made: list[Element] = []
        for element in data:
            selected = chosen.get(element)
            if selected is None:
                continue
            if selected is ALL:
                made.append(_whole(element, parent))
                continue
            info = self._tree.info(parent_info, element)
            out = self._tree.copy_without_children(element, parent)
            inner = dict(selected)
            for key in self._tree.keys(element, info):
                inner.setdefault(key, ALL)
            self._render(list(_children(element)), inner, info, out)
            made.append(out)
        return made

    # --- state selection ---------------------------------------------------------------

    def _top_infos(self, node: Element) -> list[NodeInfo]:
        nav = self._codec.nav
        q = etree.QName(node)
        if q.namespace in (None, NS_BASE):
            return [c for c in nav.children(nav.root) if c.name == q.localname]
        info = self._codec.child_info(nav.root, node)
        return [info] if info is not None else []

    def _path_of(self, node: Element, info: NodeInfo, path: DataPath) -> DataPath:
        """``path`` extended while the filter goes down one container or keyed entry."""
        below = list(_children(node))
        if info.kind is NodeKind.LIST:
            keys = {}
            for child in below:
                key = self._codec.nav.child(info, etree.QName(child).localname)
                if key is None or key.name not in info.keys or not _is_content_match(child):
                    continue
                try:  # the key as the data's path text ('09' is 9)
                    keys[key.name] = key_text(self._codec.leaf_value(key, child, path))
                except RpcError:
                    return path  # matches nothing; left to the filter itself
            if set(keys) != set(info.keys):
                return path
            last = path.elems[-1]
            path = DataPath((*path.elems[:-1], PathElem(last.name, tuple(sorted(keys.items())))))
        if len(below) != 1 or info.is_leafy:
            return path
        child = below[0]
        child_info = self._codec.nav.child(info, etree.QName(child).localname)
        if child_info is None or child_info.is_leafy:
            return path
        return self._path_of(child, child_info, path.child(child_info.name))


def _is_content_match(node: Element) -> bool:
    if any(isinstance(child.tag, str) for child in node):
        return False
    return bool((node.text or "").strip())


def _named(node: Element, element: Element) -> bool:
    """Whether filter ``node`` names data ``element`` (namespace wildcard, attributes)."""
    wanted, found = etree.QName(node), etree.QName(element)
    if wanted.localname != found.localname:
        return False
    if wanted.namespace not in (None, NS_BASE) and wanted.namespace != found.namespace:
        return False
    return all(element.get(name) == value for name, value in node.attrib.items())


def _merge(old: Any, new: Chosen) -> Any:
    if old is None:
        return new
    if old is ALL:
        return ALL
    merged = dict(old)
    for element, selected in new.items():
        if selected is ALL or element not in merged:
            merged[element] = selected
        elif merged[element] is not ALL:
            merged[element] = _merge(merged[element], selected)
    return merged


class XPathFilter:
    """An XPath 1.0 filter (RFC 6241 section 8.9) with the prefixes of ``nsmap``.

    Prefixes the request does not declare may be our modules' names or prefixes
    (``edge-ports:ports``, ``ports:ports``), and unprefixed element names match in any
    namespace, so ``/ports/port[name='x']`` works as typed on a command line."""

    def __init__(
        self,
        select: str,
        nsmap: Mapping[str | None, str],
        codec: XmlCodec,
        foreign_keys: ForeignKeys = NO_KEYS,
    ) -> None:
        namespaces = {
            name: module.namespace
            for module in codec.names
            for name in (module.name, module.prefix)
        }
        namespaces.update({p: ns for p, ns in nsmap.items() if p})
        prefix = "r"
        while prefix in namespaces:
            prefix += "r"
        namespaces[prefix] = NS_ROOT
        try:
            self._xpath = etree.XPath(
                rooted(select, f"{prefix}:root", bare_names=True), namespaces=namespaces
            )
        except (XPathSyntaxError, etree.XPathSyntaxError) as exc:
            raise _invalid(select, str(exc)) from None
        self._select = select
        self._tree = _Tree(codec, foreign_keys)
        self._codec = codec

    def paths(self) -> list[DataPath] | None:
        return None

    def apply(self, data: Sequence[Element]) -> list[Element]:
        """The selected nodes of ``data`` (moved under a private root to evaluate)."""
        root = etree.Element(qname(NS_ROOT, "root"))
        for element in data:
            root.append(element)
        try:
            result = self._xpath(root)
        except etree.XPathError as exc:
            raise _invalid(self._select, str(exc)) from None
        if not isinstance(result, list):
            raise _invalid(self._select, f"it yields a {type(result).__name__}, not nodes")
        return _Copier(self._tree, self._codec.nav.root, root).copy(result)


def _invalid(select: str, why: str) -> RpcError:
    return RpcError(
        "invalid-value",
        f"the XPath filter {select!r} cannot be used: {why}",
        "protocol",
        info={"bad-attribute": "select", "bad-element": "filter"},
    )


class _Copier:
    """Copies selected nodes with their ancestors (and the ancestors' list keys)."""

    def __init__(self, tree: _Tree, top: NodeInfo, root: Element) -> None:
        self._tree = tree
        self._top = top
        self._root = root
        self._copies: dict[Element, Element] = {}  # source element -> its copy
        self._infos: dict[Element, NodeInfo | None] = {}
        self._whole: set[Element] = set()  # sources copied with everything below
        self._made: list[Element] = []

    def copy(self, nodes: list[Any]) -> list[Element]:
        for node in nodes:
            checkpoint()
            element = node if isinstance(node, etree._Element) else getattr(node, "getparent", None)
            if callable(element):
                element = element()  # a text or attribute result: its element
            if element is None or not isinstance(element.tag, str):
                continue
            if element is self._root:
                return [_whole(child, None) for child in _children(self._root)]
            self._select(element)
        return self._made

    def _select(self, element: Element) -> None:
        chain: list[Element] = []
        up = element
        while up is not None and up is not self._root:
            if up in self._whole:
                return  # an ancestor (or the element) is already there whole
            chain.append(up)
            up = up.getparent()
        chain.reverse()
        parent: Element | None = None
        for ancestor in chain[:-1]:
            parent = self._copy_of(ancestor, parent)
        if element in self._whole:
            return  # a key its entry's copy already holds
        self._whole.add(element)
        made = _whole(element, parent)
        if parent is None:
            self._made.append(made)

    def _copy_of(self, element: Element, parent: Element | None) -> Element:
        found = self._copies.get(element)
        if found is not None:
            return found
        made = self._tree.copy_without_children(element, parent)
        if parent is None:
            self._made.append(made)
        self._copies[element] = made
        for key in self._tree.keys(element, self._info(element)):
            self._whole.add(key)
            _whole(key, made)
        return made

    def _info(self, element: Element) -> NodeInfo | None:
        if element in self._infos:
            return self._infos[element]
        parent = element.getparent()
        parent_info = self._top if parent is self._root else self._info(parent)
        info = self._tree.info(parent_info, element)
        self._infos[element] = info
        return info
