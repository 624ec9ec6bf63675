#!/usr/bin/env bash
# Compiles agent/gnmi/proto/*.proto into agent/gnmi/generated/ with grpcio-tools.
set -euo pipefail
py=${1:-python3}
out=agent/gnmi/generated
rm -rf "$out"
mkdir -p "$out"
touch "$out/__init__.py"
shopt -s nullglob
protos=(agent/gnmi/proto/*.proto)
[ ${#protos[@]} -eq 0 ] && exit 0
"$py" -m grpc_tools.protoc -I agent/gnmi/proto --python_out="$out" --pyi_out="$out" \
  --grpc_python_out="$out" "${protos[@]}"
# protoc emits absolute imports between generated modules; make them package-relative.
sed -i -E 's/^import (gnmi[a-z_]*_pb2)/from . import \1/' "$out"/*_pb2*.py
