"""Reading configuration files (RFC 7951 JSON) and the default simulated site."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.package_data import PackageDataError, site_file
from agent.schema.json_text import JsonRefused, parse_json


class SiteFileError(ValueError):
    """A configuration file that cannot be read or is not a JSON object."""


@dataclass(frozen=True, slots=True)
class SiteSummary:
    """Counts of the main entities in a configuration tree."""

    devices: int
    ports: int
    slices: int
    tenants: int = 0

    def __str__(self) -> str:
        return (
            f"{self.devices} devices, {self.ports} ports, {self.slices} slices, "
            f"{self.tenants} tenants"
        )


def default_site_path() -> Path:
    """The simulated site the package carries (absolute; a copy of examples/site.json)."""
    try:
        return site_file()
    except PackageDataError as err:
        raise SiteFileError(str(err)) from None


def read_config_file(path: Path) -> dict[str, Any]:
    """Parses a JSON configuration file; errors name the file, line and column. JSON
    nested deeper than MAX_JSON_DEPTH or repeating a member name in an object is
    refused."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise SiteFileError(f"{path}: cannot read: {err.strerror or err}") from None
    except UnicodeDecodeError as err:
        raise SiteFileError(f"{path}: not UTF-8 text ({err.reason})") from None
    try:
        data = parse_json(text)
    except JsonRefused as err:
        raise SiteFileError(f"{path}: refused JSON: {err}") from None
    except json.JSONDecodeError as err:
        raise SiteFileError(
            f"{path}: invalid JSON at line {err.lineno} column {err.colno}: {err.msg}"
        ) from None
    if not isinstance(data, dict):
        raise SiteFileError(f"{path}: the top level must be a JSON object")
    return data


def summarise(tree: dict[str, Any]) -> SiteSummary:
    """How many devices, ports, slices and tenants a configuration tree holds."""

    def count(top: str, *names: str) -> int:
        node: Any = tree.get(top) or tree.get(top.split(":", 1)[1]) or {}
        for name in names:
            node = node.get(name, {}) if isinstance(node, dict) else {}
        return len(node) if isinstance(node, list) else 0

    return SiteSummary(
        devices=count("edge-platform:platform", "devices", "device"),
        ports=count("edge-ports:ports", "port"),
        slices=count("edge-slices:slices", "slice"),
        tenants=count("edge-tenants:tenants", "tenant"),
    )
