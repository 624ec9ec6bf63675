"""Build hook (the metadata is in pyproject.toml).

The gNMI stubs in agent/gnmi/generated/ are not committed: a build that starts without
them (a fresh clone, ``pip install git+...``) compiles them first with tools/gen-proto.sh
and grpcio-tools from the build requirements, before setuptools looks for packages.
An sdist carries the stubs, so a build from it compiles nothing.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from setuptools import setup

ROOT = Path(__file__).resolve().parent
STUB = ROOT / "agent" / "gnmi" / "generated" / "gnmi_pb2.py"
GENERATOR = ROOT / "tools" / "gen-proto.sh"

if not STUB.exists():
    if not GENERATOR.exists():
        sys.exit(f"{STUB.relative_to(ROOT)} is missing and so is {GENERATOR.relative_to(ROOT)}")
    subprocess.run(["bash", str(GENERATOR), sys.executable], cwd=ROOT, check=True)

setup()
