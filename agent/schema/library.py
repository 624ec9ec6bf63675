"""Finds our YANG modules on disk and describes them as a YANG library."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from agent.package_data import PackageDataError, yang_dir

_MODULE = re.compile(r"^\s*module\s+([A-Za-z_][\w.-]*)\s*\{", re.MULTILINE)
_NAMESPACE = re.compile(r"^\s*namespace\s+\"([^\"]+)\"\s*;", re.MULTILINE)
_YANG_VERSION = re.compile(r"^\s*yang-version\s+\"?([\d.]+)\"?\s*;", re.MULTILINE)
_REVISION = re.compile(r"^\s*revision\s+\"?(\d{4}-\d{2}-\d{2})\"?", re.MULTILINE)
_ORGANIZATION = re.compile(r"^\s*organization\s+\"([^\"]*)\"\s*;", re.MULTILINE)


class ModuleLoadError(RuntimeError):
    """A YANG module that cannot be found or read."""


@dataclass(frozen=True, slots=True)
class ModuleInfo:
    """What Capabilities reports for one module."""

    name: str
    revision: str
    namespace: str
    organization: str
    path: Path
    yang_version: str = "1"


def default_yang_dir() -> Path:
    """The YANG modules the package carries (absolute; see agent.package_data)."""
    try:
        return yang_dir()
    except PackageDataError as err:
        raise ModuleLoadError(str(err)) from None


def discover_modules(yang_dir: Path) -> tuple[ModuleInfo, ...]:
    """Reads every ``*.yang`` file in ``yang_dir`` (newest revision first in each file)."""
    files = sorted(yang_dir.glob("*.yang"))
    if not files:
        raise ModuleLoadError(f"no YANG modules in {yang_dir}")
    return tuple(_describe(path) for path in files)


def _describe(path: Path) -> ModuleInfo:
    text = path.read_text(encoding="utf-8")
    name = _MODULE.search(text)
    namespace = _NAMESPACE.search(text)
    revision = _REVISION.search(text)
    if not (name and namespace and revision):
        raise ModuleLoadError(f"{path.name}: needs module, namespace and revision statements")
    organization = _ORGANIZATION.search(text)
    return ModuleInfo(
        name=name.group(1),
        revision=revision.group(1),
        namespace=namespace.group(1),
        organization=" ".join(organization.group(1).split()) if organization else "",
        path=path,
        yang_version=version.group(1) if (version := _YANG_VERSION.search(text)) else "1",
    )


def yang_library_json(modules: tuple[ModuleInfo, ...]) -> str:
    """RFC 7895 module-state data that yangson's DataModel takes."""
    entries = [
        {
            "name": m.name,
            "revision": m.revision,
            "namespace": m.namespace,
            "conformance-type": "implement",
        }
        for m in modules
    ]
    set_id = "-".join(f"{m.name}@{m.revision}" for m in modules)
    return json.dumps(
        {"ietf-yang-library:modules-state": {"module-set-id": set_id, "module": entries}}
    )
