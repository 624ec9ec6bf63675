"""The change feed: committed changes, in version order, for telemetry and others."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from agent.datastore.diff import Change

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CommitEvent:
    """One committed version: its changes against the previous one, the new tree and
    the commit's meta as saved with it (``user``, ``tenant``, ``peer``, ``rpc``,
    ``session`` for writes of a principal; ``rollback`` for a rollback the server made)."""

    version: int
    timestamp_ns: int
    changes: tuple[Change, ...]
    tree: dict[str, Any]
    meta: Mapping[str, Any] = field(default_factory=dict)


Listener = Callable[[CommitEvent], None]


class ChangeFeed:
    """In-process publish/subscribe of commit events; listeners run synchronously in
    commit order and must be quick (hand off to a queue). A failing listener is logged
    and never affects the commit or other listeners."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Delivers every later commit to ``listener``; call the result to stop."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def publish(self, event: CommitEvent) -> None:
        """Hands ``event`` to every listener."""
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:
                log.exception("change feed listener failed on version %d", event.version)
