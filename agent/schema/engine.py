"""The schema engine: our YANG modules loaded with yangson, validation that reports every
refusal with its path and rule, canonical RFC 7951 input and per-leaf type information."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from yangson import DataModel
from yangson.enumerations import ContentType
from yangson.instance import RootNode
from yangson.schemanode import InternalNode, ListNode, SchemaNode, TerminalNode

from agent.schema.collect import collect_refusals
from agent.schema.leaf_info import leaf_type_of
from agent.schema.leaf_types import LeafType
from agent.schema.library import (
    ModuleInfo,
    default_yang_dir,
    discover_modules,
    yang_library_json,
)
from agent.schema.nav import SchemaNavigator
from agent.schema.normalise import Normaliser
from agent.schema.path import ANY_DEPTH, ANY_ONE, DataPath
from agent.schema.raw_check import clean_raw
from agent.schema.refusal import Refusal, ValidationFailed

RawTree = dict[str, Any]


class SchemaEngine:
    """Our data model: validation, normalisation and type lookup.

    Build one per process (loading takes a fraction of a second) and share it.
    """

    def __init__(self, yang_dir: Path | None = None) -> None:
        directory = yang_dir or default_yang_dir()
        self.modules: tuple[ModuleInfo, ...] = discover_modules(directory)
        self.model = DataModel(yang_library_json(self.modules), [str(directory)])
        self._root: InternalNode = self.model.schema
        identities: dict[str, list[str]] = {}
        for name, module in self.model.schema_data.identity_adjs:
            identities.setdefault(name, []).append(module)
        self.nav = SchemaNavigator(self._root)
        self._normaliser = Normaliser(
            self._root, {k: tuple(sorted(v)) for k, v in identities.items()}
        )

    @property
    def module_names(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.modules)

    # --- whole trees -------------------------------------------------------------------

    def normalise(self, raw: Mapping[str, Any]) -> RawTree:
        """Canonical RFC 7951 form of a lenient top-level JSON object."""
        return self._normaliser.object(dict(raw), self._root, None)

    def refusals(self, raw: Mapping[str, Any], *, config_only: bool = True) -> tuple[Refusal, ...]:
        """Every reason ``raw`` (RFC 7951, leniencies allowed) is not valid data."""
        return self._check(raw, config_only)[1]

    def parse(self, raw: Mapping[str, Any], *, config_only: bool = True) -> RootNode:
        """A validated yangson instance of ``raw``; raises ValidationFailed otherwise."""
        inst, refusals = self._check(raw, config_only)
        if refusals:
            raise ValidationFailed(refusals)
        return inst

    def validate_instance(self, inst: Any, *, config_only: bool = True) -> tuple[Refusal, ...]:
        """Every violation under an already parsed instance node (any depth)."""
        ctype = ContentType.config if config_only else ContentType.all
        return tuple(collect_refusals(inst, ctype))

    def _check(
        self, raw: Mapping[str, Any], config_only: bool
    ) -> tuple[RootNode, tuple[Refusal, ...]]:
        found: list[Refusal] = []
        canonical = self.normalise(raw) if isinstance(raw, Mapping) else raw
        cleaned = clean_raw(canonical, self._root, config_only=config_only, refusals=found)
        inst = self.model.from_raw(cleaned)
        ctype = ContentType.config if config_only else ContentType.all
        dropped = frozenset(r.path for r in found)
        found.extend(collect_refusals(inst, ctype, dropped))
        return inst, tuple(found)

    # --- schema lookup -----------------------------------------------------------------

    def schema_node(self, path: DataPath) -> SchemaNode | None:
        """The schema node a path (keys ignored, no wildcards) addresses, or None."""
        node: SchemaNode = self._root
        parent_ns: str | None = None
        for elem in path:
            if elem.name in (ANY_ONE, ANY_DEPTH) or not isinstance(node, InternalNode):
                return None
            module = elem.module or parent_ns
            child = node.get_data_child(elem.name, module) if module else None
            if child is None and not elem.module:
                matches = [c for c in node.data_children() if c.name == elem.name]
                child = matches[0] if len(matches) == 1 else None
            if child is None:
                return None
            node, parent_ns = child, child.ns
        return node

    def leaf_type(self, path: DataPath) -> LeafType | None:
        """Type of the leaf or leaf-list at ``path``; None for other nodes."""
        node = self.schema_node(path)
        return leaf_type_of(node) if isinstance(node, TerminalNode) else None

    def module_of(self, path: DataPath) -> str | None:
        """The module that defines the node at ``path``."""
        node = self.schema_node(path)
        return None if node is None or node is self._root else str(node.ns)

    def list_keys(self, path: DataPath) -> tuple[str, ...] | None:
        """Key leaf names of the list at ``path``; None when it is not a list."""
        node = self.schema_node(path)
        if isinstance(node, ListNode):
            return tuple(name for name, _ in node.keys)
        return None

    def is_config(self, path: DataPath) -> bool:
        """True when the node at ``path`` is configuration (not config false)."""
        node = self.schema_node(path)
        return node is not None and node.content_type() != ContentType.nonconfig
