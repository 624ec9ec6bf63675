"""Data trees written straight to XML text, with the text of unchanged subtrees reused.

:meth:`XmlCodec.to_xml` builds an lxml element per node: about 2 us a leaf, 100 ms for the
configuration of 1,024 ports. Reads need the text in the end, and the datastore's trees
are immutable (a commit copies what it changes and shares the rest), so
:class:`XmlTextWriter` writes the same XML as text and remembers the text of every
container and list entry by the identity of its object: a read after a commit writes
only what the commit changed. The output is what :meth:`XmlCodec.to_xml` gives, node for
node (tests compare both): namespaces declared where the module changes, keys first,
identityref prefixes declared on their leaf, ``wd:default`` tags for report-all-tagged.

Data the codec would refuse (a member the schema does not have, a value that does not
fit its type) is left to the codec, which raises its RpcError naming the node.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final
from xml.sax.saxutils import escape, quoteattr

from agent.cancellation import checkpoint
from agent.northbound.netconf.codec import NS_DEFAULT_ATTR, XmlCodec
from agent.northbound.netconf.contracts import RpcError
from agent.schema.nav import NodeInfo, NodeKind
from agent.schema.path import DataPath

CACHE_CHARS: Final = 32 * 1024 * 1024
"""Text the writer keeps for reuse; past it, it starts afresh (old trees are let go)."""

_ROOT: Final = DataPath.root()
_CR: Final = MappingProxyType({"\r": "&#13;"})  # a bare CR reads back as LF (XML 1.0 2.11)


class _Refused(Exception):
    """The fast path met data the codec must report on."""


class XmlTextWriter:
    """XML text of RFC 7951 trees, reusing the text of subtrees seen before
    (thread-safe: the cache is shared by the request workers)."""

    def __init__(self, codec: XmlCodec, cache_chars: int = CACHE_CHARS) -> None:
        self._codec = codec
        self._nav = codec.nav
        self._names = codec.names
        self._limit = cache_chars
        self._lock = threading.Lock()
        self._texts: dict[tuple[int, int, str | None, bool], tuple[object, str]] = {}
        self._chars = 0

    def text(self, tree: Mapping[str, Any], *, tag_defaults: bool = False) -> str:
        """The XML text of the elements of a whole tree (no enclosing element)."""
        parts: list[str] = []
        try:
            for member, value in tree.items():
                info = self._info(self._nav.root, member)
                self._node(parts, info, value, None, tag_defaults)
        except _Refused:
            self._codec.to_xml(tree, tag_defaults=tag_defaults)  # raises the codec's error
            raise  # the codec took it: the writer and the codec disagree
        return "".join(parts)

    def forget(self) -> None:
        """Drops every remembered text."""
        with self._lock:
            self._texts = {}
            self._chars = 0

    # --- writing -------------------------------------------------------------------------

    def _info(self, parent: NodeInfo, member: str) -> NodeInfo:
        info = self._nav.child_by_member(parent, member)
        if info is None:
            raise _Refused(member)
        return info

    def _node(
        self, out: list[str], info: NodeInfo, value: Any, parent_module: str | None, tag: bool
    ) -> None:
        kind = info.kind
        if kind is NodeKind.LEAF:
            self._leaf(out, info, value, parent_module, tag)
        elif kind is NodeKind.LEAF_LIST:
            if not isinstance(value, list):
                raise _Refused(info.name)
            for item in value:
                self._leaf(out, info, item, parent_module, tag)
        elif kind is NodeKind.LIST:
            if not isinstance(value, list):
                raise _Refused(info.name)
            for entry in value:
                out.append(self._object(info, entry, parent_module, tag, info.keys))
        else:
            out.append(self._object(info, value, parent_module, tag, ()))

    def _object(
        self,
        info: NodeInfo,
        value: Any,
        parent_module: str | None,
        tag: bool,
        keys: tuple[str, ...],
    ) -> str:
        if not isinstance(value, dict):
            raise _Refused(info.name)
        key = (id(value), id(info), parent_module, tag)
        known = self._texts.get(key)
        if known is not None and known[0] is value:
            return known[1]
        checkpoint()  # once per container or entry: a huge answer stops when cancelled
        parts = [self._open(info, parent_module)]
        for name in keys:
            if name in value:
                self._node(parts, self._info(info, name), value[name], info.module, tag)
        for member, child in value.items():
            if keys and member in keys:
                continue
            self._node(parts, self._info(info, member), child, info.module, tag)
        parts.append(f"</{info.name}>")
        text = "".join(parts)
        self._remember(key, value, text)
        return text

    def _remember(self, key: tuple[int, int, str | None, bool], value: object, text: str) -> None:
        with self._lock:
            if self._chars + len(text) > self._limit:
                self._texts = {}
                self._chars = 0
            self._texts[key] = (value, text)
            self._chars += len(text)

    def _open(self, info: NodeInfo, parent_module: str | None, extra: str = "") -> str:
        module = info.module or ""
        if module != parent_module:
            return f"<{info.name} xmlns={quoteattr(self._names.namespace(module))}{extra}>"
        return f"<{info.name}{extra}>"

    def _leaf(
        self, out: list[str], info: NodeInfo, value: Any, parent_module: str | None, tag: bool
    ) -> None:
        try:
            text, namespace = self._codec.leaf_text(info, value, _ROOT)
        except RpcError:
            raise _Refused(info.name) from None
        extra = ""
        if namespace is not None:
            known = self._names.by_namespace(namespace)
            if known is None:
                raise _Refused(info.name)
            extra += f" xmlns:{known.prefix}={quoteattr(namespace)}"
        if tag and info.default is not None and value == info.default:
            extra += f' xmlns:wd="{NS_DEFAULT_ATTR}" wd:default="true"'
        if text is None:
            module = info.module or ""
            if module != parent_module:
                namespace_decl = f" xmlns={quoteattr(self._names.namespace(module))}"
                out.append(f"<{info.name}{namespace_decl}{extra}/>")
            else:
                out.append(f"<{info.name}{extra}/>")
            return
        out.append(f"{self._open(info, parent_module, extra)}{escape(text, _CR)}</{info.name}>")
