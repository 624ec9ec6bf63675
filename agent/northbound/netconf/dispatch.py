"""Routes each ``<rpc>`` to the handler of its operation.

The operation tables of the read operations, the write operations, notifications and
monitoring are joined into one; an operation nobody handles is
``operation-not-supported``, an ``<rpc>`` with no operation or several is
``malformed-message`` / ``bad-element``.
"""

from __future__ import annotations

from collections.abc import Iterable

from lxml import etree

from agent.northbound.netconf.contracts import (
    Element,
    HandlerTable,
    ReplyBody,
    RpcContext,
    RpcError,
    RpcHandler,
)


class Dispatcher:
    """One RpcHandler over several operation tables."""

    def __init__(self, tables: Iterable[HandlerTable]) -> None:
        joined: dict[str, RpcHandler] = {}
        for table in tables:
            for name, handler in table.items():
                if name in joined:
                    raise ValueError(f"two handlers for the operation {name}")
                joined[name] = handler
        self._handlers = joined

    @property
    def operations(self) -> frozenset[str]:
        """The qualified names of every operation served."""
        return frozenset(self._handlers)

    async def __call__(self, context: RpcContext, rpc: Element) -> ReplyBody:
        operations = [child for child in rpc if isinstance(child.tag, str)]
        if not operations:
            raise RpcError("missing-element", "the <rpc> carries no operation", "rpc")
        if len(operations) > 1:
            raise RpcError(
                "bad-element",
                "an <rpc> carries exactly one operation",
                "rpc",
                info={"bad-element": etree.QName(operations[1]).localname},
            )
        operation = operations[0]
        handler = self._handlers.get(operation.tag)
        if handler is None:
            name = etree.QName(operation)
            raise RpcError(
                "operation-not-supported",
                f"the operation {name.localname!r} ({name.namespace}) is not supported",
                "protocol",
            )
        return await handler(context, rpc)
