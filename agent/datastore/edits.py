"""The edit operations a transaction stages, in gNMI terms."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from agent.schema.path import DataPath


class EditKind(Enum):
    """gNMI Set operation kinds, in the order a transaction applies them."""

    DELETE = "delete"
    REPLACE = "replace"
    UPDATE = "update"


@dataclass(frozen=True)
class Edit:
    """One operation: ``value`` is RFC 7951 JSON for the node at ``path`` (None for delete)."""

    kind: EditKind
    path: DataPath
    value: Any = None

    @classmethod
    def delete(cls, path: DataPath | str) -> Edit:
        return cls(EditKind.DELETE, _path(path))

    @classmethod
    def replace(cls, path: DataPath | str, value: Any) -> Edit:
        return cls(EditKind.REPLACE, _path(path), value)

    @classmethod
    def update(cls, path: DataPath | str, value: Any) -> Edit:
        return cls(EditKind.UPDATE, _path(path), value)


def gnmi_order(edits: list[Edit] | tuple[Edit, ...]) -> list[tuple[int, Edit]]:
    """Edits with their request index, deletes first, then replaces, then updates."""
    rank = {EditKind.DELETE: 0, EditKind.REPLACE: 1, EditKind.UPDATE: 2}
    return sorted(enumerate(edits), key=lambda item: (rank[item[1].kind], item[0]))


def _path(path: DataPath | str) -> DataPath:
    return DataPath.parse(path) if isinstance(path, str) else path
