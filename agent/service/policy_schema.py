"""Checking rule paths against the schema, so a misspelt path is an error, not a rule
that never matches."""

from __future__ import annotations

from agent.schema.nav import NodeInfo, NodeKind, SchemaNavigator
from agent.schema.path import ANY_DEPTH, ANY_ONE, DataPath
from agent.service.policy_file import PathCheck


def schema_path_check(nav: SchemaNavigator) -> PathCheck:
    """A PathCheck naming the first element of a path that no schema node can match,
    and keys given to something that is not a list or that the list does not have."""

    def check(path: DataPath) -> str | None:
        nodes: list[NodeInfo] = [nav.root]
        for depth, elem in enumerate(path.elems):
            if elem.name == ANY_DEPTH:
                nodes = _descendants_or_self(nav, nodes)
                continue
            found: dict[int, NodeInfo] = {}
            for node in nodes:
                if elem.name == ANY_ONE:
                    found.update((id(c.node), c) for c in nav.children(node))
                else:
                    child = nav.child(node, elem.name, elem.module)
                    if child is not None:
                        found[id(child.node)] = child
            where = DataPath(path.elems[:depth]).without_modules()
            if not found:
                return f"no schema node {elem.name!r} under {where}"
            if elem.keys:
                lists = [n for n in found.values() if n.kind is NodeKind.LIST]
                if not lists:
                    return f"{elem.name!r} under {where} is not a list and takes no keys"
                names = {k for k, _ in elem.keys}
                keyed = [n for n in lists if names <= set(n.keys)]
                if not keyed:
                    unknown = sorted(names - set(lists[0].keys))[0]
                    return f"the list {elem.name!r} has no key {unknown!r}"
                nodes = keyed
            else:
                nodes = list(found.values())
        return None

    return check


def _descendants_or_self(nav: SchemaNavigator, nodes: list[NodeInfo]) -> list[NodeInfo]:
    out: dict[int, NodeInfo] = {}
    todo = list(nodes)
    while todo:
        node = todo.pop()
        if id(node.node) not in out:
            out[id(node.node)] = node
            todo.extend(nav.children(node))
    return list(out.values())
