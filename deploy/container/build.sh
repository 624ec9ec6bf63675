#!/usr/bin/env bash
# Builds the edge-agent container image with podman from wheels made on this host, so the
# build itself needs no package index: the project's wheel, the wheels of everything it
# depends on, and pip's own wheel (for base images without pip).
#
#   deploy/container/build.sh [--tag NAME] [--base IMAGE] [--wheel FILE | --wheelhouse DIR]
#                             [--python PY] [--keep-context DIR] [-- EXTRA PODMAN BUILD ARGS]
#
#   --tag NAME       image name (default localhost/edge-agent:VERSION)
#   --base IMAGE     base image with Python 3.11 (default: the Containerfile's, UBI 9)
#   --wheel FILE     an edge-agent wheel built before (default: build one from this tree)
#   --wheelhouse DIR wheels made before: one edge-agent wheel, its dependencies and pip
#   --python PY      the Python that builds and fetches the wheels; it must be 3.11 on the
#                    image's architecture, because binary wheels match the interpreter
#                    (default .venv/bin/python, else python3)
#   --keep-context DIR  assemble the build context in DIR and keep it
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
tag="" base="" wheel="" wheelhouse="" context=""
python="$root/.venv/bin/python"
[ -x "$python" ] || python=python3
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --tag) tag=$2; shift 2 ;;
    --base) base=$2; shift 2 ;;
    --wheel) wheel=$2; shift 2 ;;
    --wheelhouse) wheelhouse=$2; shift 2 ;;
    --python) python=$2; shift 2 ;;
    --keep-context) context=$2; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    *) echo "build.sh: unknown argument $1 (see the header of $0)" >&2; exit 2 ;;
  esac
done

fail() { echo "build.sh: $*" >&2; exit 1; }
command -v podman >/dev/null || fail "podman is not installed (tools/system-deps.sh installs it)"
"$python" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)' \
  || fail "$python is not Python 3.11; the image's binary wheels must match its Python 3.11"

if [ -z "$context" ]; then
  context=$(mktemp -d)
  trap 'rm -rf "$context"' EXIT
fi
mkdir -p "$context/wheels"
if [ -n "$wheelhouse" ]; then
  [ -z "$wheel" ] || fail "give --wheel or --wheelhouse, not both"
  cp "$wheelhouse"/*.whl "$context/wheels/"
  wheel=$(ls "$context"/wheels/edge_agent-*.whl 2>/dev/null) || fail "no edge-agent wheel in $wheelhouse"
  ls "$context"/wheels/pip-*.whl >/dev/null 2>&1 || fail "no pip wheel in $wheelhouse"
elif [ -z "$wheel" ]; then
  echo "== the edge-agent wheel" >&2
  "$python" -m build --wheel --outdir "$context/wheels" "$root" >&2
  wheel=$(ls "$context"/wheels/edge_agent-*.whl)
else
  [ -f "$wheel" ] || fail "no wheel at $wheel"
  cp "$wheel" "$context/wheels/"
fi
if [ -z "$wheelhouse" ]; then
  echo "== wheels of the dependencies and of pip" >&2
  "$python" -m pip wheel --quiet --disable-pip-version-check --wheel-dir "$context/wheels" "$wheel"
  "$python" -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
    --dest "$context/wheels" pip
fi
cp "$here/Containerfile" "$here/agent.toml" "$context/"

version=$(basename "$wheel" | cut -d- -f2)
tag=${tag:-localhost/edge-agent:$version}
build=(podman build --format docker --tag "$tag" --build-arg "VERSION=$version")
[ -n "$base" ] && build+=(--build-arg "BASE=$base")
echo "== podman build $tag" >&2
"${build[@]}" "${extra[@]}" "$context" >&2
echo "$tag"
