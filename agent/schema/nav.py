"""Schema navigation for code that walks RFC 7951 trees: what a path step is (container,
list, leaf, leaf-list), its member name in the JSON and its list keys."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from yangson.enumerations import ContentType
from yangson.schemanode import (
    InternalNode,
    LeafListNode,
    ListNode,
    SchemaNode,
    TerminalNode,
)

from agent.schema.leaf_info import leaf_type_of
from agent.schema.leaf_types import LeafType


class NodeKind(Enum):
    """The kind of data node a path step lands on."""

    ROOT = "root"
    CONTAINER = "container"
    LIST = "list"
    LEAF = "leaf"
    LEAF_LIST = "leaf-list"


@dataclass(frozen=True, eq=False)
class NodeInfo:
    """One schema node as tree-walking code needs it.

    ``member`` is the JSON member name under the parent (module-qualified where the
    module changes, as RFC 7951 wants); ``keys`` the list keys in schema order.
    """

    name: str
    module: str | None
    kind: NodeKind
    member: str
    keys: tuple[str, ...] = ()
    config: bool = True
    leaf_type: LeafType | None = None
    default: Any = None
    node: Any = field(default=None, repr=False)

    @property
    def is_leafy(self) -> bool:
        return self.kind in (NodeKind.LEAF, NodeKind.LEAF_LIST)


class SchemaNavigator:
    """Looks up child NodeInfos by name or by JSON member name, with caching."""

    def __init__(self, root: InternalNode) -> None:
        self.root = NodeInfo("", None, NodeKind.ROOT, "", node=root)
        self._by_name: dict[tuple[int, str, str | None], NodeInfo | None] = {}
        self._by_member: dict[tuple[int, str], NodeInfo | None] = {}

    def child(self, parent: NodeInfo, name: str, module: str | None = None) -> NodeInfo | None:
        """The child called ``name`` (``module`` picks among same-named children)."""
        key = (id(parent.node), name, module)
        if key not in self._by_name:
            self._by_name[key] = self._find(parent, name, module)
        return self._by_name[key]

    def child_by_member(self, parent: NodeInfo, member: str) -> NodeInfo | None:
        """The child whose JSON member name is ``member`` (qualified or not)."""
        key = (id(parent.node), member)
        if key not in self._by_member:
            module, _, name = member.rpartition(":")
            self._by_member[key] = self._find(parent, name, module or None)
        return self._by_member[key]

    def children(self, parent: NodeInfo) -> list[NodeInfo]:
        """Every data child of ``parent``."""
        node = parent.node
        if not isinstance(node, InternalNode):
            return []
        found = [self.child(parent, c.name, c.ns) for c in node.data_children()]
        return [c for c in found if c is not None]

    def _find(self, parent: NodeInfo, name: str, module: str | None) -> NodeInfo | None:
        node = parent.node
        if not isinstance(node, InternalNode):
            return None
        child: SchemaNode | None = None
        if module:
            child = node.get_data_child(name, module)
        else:
            if parent.module:
                child = node.get_data_child(name, parent.module)
            if child is None:
                matches = [c for c in node.data_children() if c.name == name]
                child = matches[0] if len(matches) == 1 else None
        if child is None:
            return None
        return _info(child, parent.module)


def _info(node: SchemaNode, parent_module: str | None) -> NodeInfo:
    module = str(node.ns)
    member = node.name if module == parent_module else f"{module}:{node.name}"
    config = node.content_type() != ContentType.nonconfig
    if isinstance(node, ListNode):
        keys = tuple(name for name, _ in node.keys)
        return NodeInfo(node.name, module, NodeKind.LIST, member, keys, config, node=node)
    if isinstance(node, LeafListNode):
        return NodeInfo(
            node.name, module, NodeKind.LEAF_LIST, member, (), config, leaf_type_of(node), node=node
        )
    if isinstance(node, TerminalNode):
        default = getattr(node, "default", None)
        return NodeInfo(
            node.name,
            module,
            NodeKind.LEAF,
            member,
            (),
            config,
            leaf_type_of(node),
            default=node.type.to_raw(default) if default is not None else None,
            node=node,
        )
    return NodeInfo(node.name, module, NodeKind.CONTAINER, member, (), config, node=node)
