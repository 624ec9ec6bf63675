"""Keeps the module tree in yang/README.md in sync with yang/*.yang.

python -m tools.yang_tree          rewrite the tree section
python -m tools.yang_tree --check  exit 1 when it is out of date
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "yang" / "README.md"
BEGIN = "<!-- tree:begin (python -m tools.yang_tree) -->"
END = "<!-- tree:end -->"


def tree_text(yang_dir: Path = ROOT / "yang") -> str:
    """`pyang -f tree` of every module, in file name order."""
    modules = sorted(str(p) for p in yang_dir.glob("*.yang"))
    result = subprocess.run(
        [sys.executable, "-m", "pyang", "-f", "tree", "-p", str(yang_dir), *modules],
        check=True,
        capture_output=True,
        text=True,
    )
    return result.stdout


def render(readme: str, tree: str) -> str:
    """The README text with its tree section replaced by ``tree``."""
    head, sep, rest = readme.partition(BEGIN)
    if not sep or END not in rest:
        raise SystemExit(f"{README}: tree markers missing")
    tail = rest.split(END, 1)[1]
    return f"{head}{BEGIN}\n```\n{tree}```\n{END}{tail}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    current = README.read_text(encoding="utf-8")
    wanted = render(current, tree_text())
    if args.check:
        if current != wanted:
            print(
                "yang/README.md tree is out of date: run python -m tools.yang_tree", file=sys.stderr
            )
            return 1
        return 0
    README.write_text(wanted, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
