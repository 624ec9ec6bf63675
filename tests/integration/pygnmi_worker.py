"""Runs pygnmi clients on behalf of the integration tests, one JSON request per line.

pygnmi ships its own gNMI stubs under the same protobuf names as ours, and the two cannot
live in one process. The test process imports ours (through other test modules), so
pygnmi runs here, in a process of its own, and the tests talk to it over stdin/stdout:

    {"id": 1, "op": "connect", "client": "admin", "target": ["127.0.0.1", 9339], ...}
    {"id": 1, "result": {...}}   or   {"id": 1, "error": {"code": "NOT_FOUND", "details": ...}}

Operations: connect (gNMIclient keyword arguments), capabilities, get, set, close.
"""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

import grpc
from pygnmi.client import gNMIclient, gNMIException


def _error(exc: BaseException) -> dict[str, Any]:
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, grpc.RpcError) and hasattr(cause, "code"):
            return {"code": cause.code().name, "details": cause.details() or ""}
        cause = getattr(cause, "orig_exc", None) or cause.__cause__
    return {"code": "CLIENT", "details": f"{type(exc).__name__}: {exc}"}


def main() -> int:
    logging.disable(logging.CRITICAL)  # pygnmi logs every failure; the tests read results
    clients: dict[str, gNMIclient] = {}
    for line in sys.stdin:
        request = json.loads(line)
        reply: dict[str, Any] = {"id": request.get("id")}
        op = request.pop("op")
        name = request.pop("client", "default")
        request.pop("id", None)
        try:
            if op == "connect":
                target = tuple(request.pop("target"))
                client = gNMIclient(target=target, **request)
                clients[name] = client
                client.connect()
                reply["result"] = None
            elif op == "close":
                client = clients.pop(name)
                client.close()
                reply["result"] = None
            elif op == "capabilities":
                reply["result"] = clients[name].capabilities()
            elif op == "get":
                reply["result"] = clients[name].get(**request)
            elif op == "set":
                request["update"] = [tuple(u) for u in request.get("update") or []] or None
                request["replace"] = [tuple(u) for u in request.get("replace") or []] or None
                reply["result"] = clients[name].set(**request)
            else:
                reply["error"] = {"code": "CLIENT", "details": f"unknown op {op!r}"}
        except (gNMIException, grpc.RpcError, Exception) as exc:
            reply["error"] = _error(exc)
        sys.stdout.write(json.dumps(reply, default=str) + "\n")
        sys.stdout.flush()
    for client in clients.values():
        client.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
