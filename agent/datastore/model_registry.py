"""The mapping's model registry, read from the schema: every top-level list (a list not
inside another list), its keys, and the defaults of its ``config`` leaves."""

from __future__ import annotations

from collections.abc import Iterator
from types import MappingProxyType
from typing import Any

from agent.mapping.registry import ListModel, ModelRegistry
from agent.schema.nav import NodeInfo, NodeKind, SchemaNavigator


def model_registry(nav: SchemaNavigator) -> ModelRegistry:
    """The registry of the schema behind ``nav``, lists in schema order."""
    return ModelRegistry(tuple(_lists(nav)))


def top_lists(nav: SchemaNavigator) -> Iterator[tuple[tuple[str, ...], tuple[str, ...], NodeInfo]]:
    """(JSON members, schema names, schema node) of every top-level list."""
    todo: list[tuple[NodeInfo, tuple[str, ...], tuple[str, ...]]] = [(nav.root, (), ())]
    while todo:
        info, members, names = todo.pop(0)
        for child in nav.children(info):
            here = ((*members, child.member), (*names, child.name))
            if child.kind is NodeKind.LIST:
                yield (*here, child)
            elif child.kind is NodeKind.CONTAINER:
                todo.append((child, *here))


def _lists(nav: SchemaNavigator) -> Iterator[ListModel]:
    for list_members, list_names, node in top_lists(nav):
        defaults, conditional = _config_defaults(nav, node)
        yield ListModel(
            kind=node.name,
            members=list_members,
            names=list_names,
            keys=node.keys,
            defaults=MappingProxyType(defaults),
            conditional=MappingProxyType(conditional),
        )


def _config_defaults(
    nav: SchemaNavigator, entry: NodeInfo
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(unconditional, conditional) defaults of the leaves of the entry's ``config``."""
    config = nav.child(entry, "config")
    plain: dict[str, Any] = {}
    conditional: dict[str, Any] = {}
    for leaf in nav.children(config) if config is not None else ():
        if leaf.kind is not NodeKind.LEAF or leaf.default is None:
            continue
        when = getattr(leaf.node, "when", None)
        (conditional if when is not None else plain)[leaf.name] = leaf.default
    return plain, conditional
