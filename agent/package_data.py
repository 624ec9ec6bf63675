"""Files the package carries as data: the YANG modules and the simulated site.

They live in ``agent/data/`` and are found through importlib.resources, so an installed
wheel finds its own copies from any working directory. In a source checkout
``agent/data/yang`` and ``agent/data/site.json`` are links to the top-level ``yang/`` and
``examples/site.json`` (the sources of truth), which the wheel and the sdist copy in.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

PACKAGE = "agent"
DATA_DIR = "data"
YANG_DIR = "yang"
SITE_FILE = "site.json"


class PackageDataError(RuntimeError):
    """A data file the package should carry but does not (a broken installation)."""


def packaged(*parts: str) -> Path:
    """The absolute path of ``agent/data/<parts>``; raises PackageDataError when the
    package is not installed as files (the schema engine needs real paths) or lacks it."""
    found = resources.files(PACKAGE).joinpath(DATA_DIR, *parts)
    if not isinstance(found, Path):
        raise PackageDataError(
            f"{PACKAGE}/{DATA_DIR}/{'/'.join(parts)}: the package is not installed as "
            "files on disk (install the wheel with pip rather than running it zipped)"
        )
    if not found.exists():
        raise PackageDataError(
            f"{found}: missing from the installed package (reinstall edge-agent)"
        )
    return found.resolve()


def yang_dir() -> Path:
    """The directory of our YANG modules."""
    return packaged(YANG_DIR)


def site_file() -> Path:
    """The simulated site used when no other initial configuration is given."""
    return packaged(SITE_FILE)
