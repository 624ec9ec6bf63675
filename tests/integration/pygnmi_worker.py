"""Runs pygnmi clients on behalf of the integration tests, one JSON request per line.

pygnmi ships its own gNMI stubs under the same protobuf names as ours, and the two cannot
live in one process. The test process imports ours (through other test modules), so
pygnmi runs here, in a process of its own, and the tests talk to it over stdin/stdout:

    {"id": 1, "op": "connect", "client": "admin", "target": ["127.0.0.1", 9339], ...}
    {"id": 1, "result": {...}}   or   {"id": 1, "error": {"code": "NOT_FOUND", "details": ...}}

Operations: connect (gNMIclient keyword arguments), capabilities, get, set, close; and
for Subscribe: once (every response of a ONCE subscription), stream and poll (open a
subscription called ``name``, answer its first response), next (its next response, or
the error TIMEOUT) and unsubscribe.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

import grpc
from pygnmi.client import gNMIclient, gNMIException, telemetryParser

CALL_TIMEOUT = 60
UPDATE_TIMEOUT = 20


class StreamFailed(Exception):
    """A subscription's stream ended with an error (``error`` as in a reply)."""

    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(error["details"])
        self.error = error


def _error(exc: BaseException) -> dict[str, Any]:
    if isinstance(exc, StreamFailed):
        return exc.error
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, grpc.RpcError) and hasattr(cause, "code"):
            return {"code": cause.code().name, "details": cause.details() or ""}
        cause = getattr(cause, "orig_exc", None) or cause.__cause__
    return {"code": "CLIENT", "details": f"{type(exc).__name__}: {exc}"}


def _next_update(subscriber: Any, timeout: float) -> Any:
    """The subscription's next response; pygnmi reports a failed stream only from its
    reader thread, so that is looked at often."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return subscriber.get_update(timeout=0.05)
        except TimeoutError:
            if subscriber.error is not None:
                raise StreamFailed(_error(subscriber.error)) from None
            if time.monotonic() > deadline:
                raise


def _once(client: Any, subscribe: dict[str, Any]) -> list[Any]:
    request = client._build_subscriptionrequest(dict(subscribe, mode="once"))
    responses = client._gNMIclient__stub.Subscribe(
        iter([request]), metadata=client._gNMIclient__metadata, timeout=CALL_TIMEOUT
    )
    return [telemetryParser(r) for r in responses]  # the target ends the stream


def main() -> int:
    logging.disable(logging.CRITICAL)  # pygnmi logs every failure; the tests read results
    clients: dict[str, gNMIclient] = {}
    subscribers: dict[str, Any] = {}
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
            elif op == "once":
                reply["result"] = _once(clients[name], request["subscribe"])
            elif op in ("stream", "poll"):
                subscribe = dict(request["subscribe"], mode=op)
                made = clients[name].subscribe2(subscribe=subscribe)
                subscribers[request["name"]] = made
                reply["result"] = _next_update(made, UPDATE_TIMEOUT)
            elif op == "next":
                subscriber = subscribers[request["name"]]
                try:
                    reply["result"] = _next_update(subscriber, request.get("timeout", 20))
                except TimeoutError:
                    reply["error"] = {"code": "TIMEOUT", "details": "no update in time"}
            elif op == "unsubscribe":
                subscribers.pop(request["name"]).close()
                reply["result"] = None
            else:
                reply["error"] = {"code": "CLIENT", "details": f"unknown op {op!r}"}
        except (gNMIException, grpc.RpcError, Exception) as exc:
            reply["error"] = _error(exc)
        sys.stdout.write(json.dumps(reply, default=str) + "\n")
        sys.stdout.flush()
    for subscriber in subscribers.values():
        subscriber.close()
    for client in clients.values():
        client.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
