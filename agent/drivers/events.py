"""Events a driver raises (link and device up/down) and the listener hub that delivers them."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from agent.drivers.state import DownReason, OperStatus


@dataclass(frozen=True, slots=True)
class LinkEvent:
    """A port's link went up or down."""

    device: str
    port: str
    oper_status: OperStatus
    timestamp_ns: int
    reason: DownReason | None = None

    @property
    def up(self) -> bool:
        return self.oper_status is OperStatus.UP


@dataclass(frozen=True, slots=True)
class DeviceEvent:
    """A device went up, down or degraded."""

    device: str
    oper_status: OperStatus
    timestamp_ns: int
    reason: str = ""


Event = LinkEvent | DeviceEvent
EventListener = Callable[[Event], None]


class EventHub:
    """Delivers events synchronously to registered listeners, in registration order.

    A listener that raises is logged and does not stop delivery to the others.
    """

    def __init__(self) -> None:
        self._listeners: dict[int, EventListener] = {}
        self._next_id = 0

    def add_listener(self, listener: EventListener) -> Callable[[], None]:
        """Registers ``listener``; the returned callable unsubscribes it (idempotent)."""
        key = self._next_id
        self._next_id += 1
        self._listeners[key] = listener

        def unsubscribe() -> None:
            self._listeners.pop(key, None)

        return unsubscribe

    def publish(self, event: Event) -> None:
        """Hands ``event`` to every listener."""
        for listener in tuple(self._listeners.values()):
            try:
                listener(event)
            except Exception:
                logging.getLogger(__name__).exception("event listener failed on %s", event)

    def __len__(self) -> int:
        return len(self._listeners)
