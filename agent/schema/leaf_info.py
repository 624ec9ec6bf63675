"""Maps yangson's data types onto our LeafType descriptions."""

from __future__ import annotations

from typing import Any

from yangson import datatype as yt
from yangson.schemanode import LeafListNode, TerminalNode

from agent.schema.leaf_types import BaseType, LeafType

_BASES: tuple[tuple[type[Any], BaseType], ...] = (
    (yt.BooleanType, BaseType.BOOLEAN),
    (yt.EmptyType, BaseType.EMPTY),
    (yt.Int8Type, BaseType.INT8),
    (yt.Int16Type, BaseType.INT16),
    (yt.Int32Type, BaseType.INT32),
    (yt.Int64Type, BaseType.INT64),
    (yt.Uint8Type, BaseType.UINT8),
    (yt.Uint16Type, BaseType.UINT16),
    (yt.Uint32Type, BaseType.UINT32),
    (yt.Uint64Type, BaseType.UINT64),
    (yt.Decimal64Type, BaseType.DECIMAL64),
    (yt.EnumerationType, BaseType.ENUMERATION),
    (yt.IdentityrefType, BaseType.IDENTITYREF),
    (yt.BinaryType, BaseType.BINARY),
    (yt.BitsType, BaseType.BITS),
    (yt.UnionType, BaseType.UNION),
    (yt.StringType, BaseType.STRING),
)


def leaf_type_of(node: TerminalNode) -> LeafType:
    """The LeafType of a leaf or leaf-list schema node."""
    return _convert(node.type, str(node.ns), isinstance(node, LeafListNode))


def _convert(typ: Any, module: str, is_list: bool) -> LeafType:
    if isinstance(typ, yt.LeafrefType):
        typ = typ.ref_type
    # instance-identifier and anything unusual travel as text
    base = next((b for cls, b in _BASES if isinstance(typ, cls)), BaseType.STRING)
    members: tuple[LeafType, ...] = ()
    if base is BaseType.UNION:
        members = tuple(_convert(t, module, False) for t in typ.types)
    return LeafType(
        base=base,
        module=module,
        fraction_digits=getattr(typ, "fraction_digits", None)
        if base is BaseType.DECIMAL64
        else None,
        enum_names=_names(typ, base),
        members=members,
        is_list=is_list,
    )


def _names(typ: Any, base: BaseType) -> tuple[str, ...]:
    """Enum names, or for identityrefs every derived identity as ``module:name``."""
    if base is BaseType.ENUMERATION:
        return tuple(typ.enum)
    if base is not BaseType.IDENTITYREF:
        return ()
    adjacency = typ.sctx.schema_data.identity_adjs
    derived: set[tuple[str, str]] | None = None
    for root in typ.bases:
        seen: set[tuple[str, str]] = set()
        todo = list(adjacency[root].derivs) if root in adjacency else []
        while todo:
            ident = todo.pop()
            if ident not in seen:
                seen.add(ident)
                todo.extend(adjacency[ident].derivs if ident in adjacency else ())
        derived = seen if derived is None else derived & seen
    return tuple(sorted(f"{module}:{name}" for name, module in derived or ()))
