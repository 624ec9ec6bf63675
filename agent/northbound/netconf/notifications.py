"""NETCONF event notifications (RFC 5277 with :interleave) carrying RFC 6470 events.

One stream, ``NETCONF``. ``<create-subscription>`` subscribes the session to it (once per
session: a second one is ``in-use``), optionally with a subtree or XPath ``<filter>``
applied to each event's content; replay is not supported, so ``startTime`` (and
``stopTime``, which needs it) is refused. With :interleave the session keeps serving
RPCs while notifications flow.

Events:

- every commit of the running configuration (gNMI Set, NETCONF commit, commit-confirmed
  rollback) is one ``<netconf-config-change>`` (see :mod:`.config_change`). The
  datastore publishes commits on the committing thread; the listener here only hands
  the event to the event loop (``call_soon_threadsafe``), so a commit never waits for a
  subscriber. On the loop each subscriber gets the edits its access can see (deletes
  judged on the tree before the commit, everything else on the tree after it); a
  notification with no edit left is not sent;
- every NETCONF session start and end is a ``<netconf-session-start>`` /
  ``<netconf-session-end>``; a tenant hears only of its own user's sessions.

Each subscription has a bounded queue (:mod:`.subscription`): a slow client loses the
oldest notifications, counted, and never holds up a commit or another session.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from lxml import etree

from agent.datastore.changes import CommitEvent
from agent.northbound.netconf.codec import XmlCodec
from agent.northbound.netconf.config_change import (
    ChangedBy,
    ConfigEdit,
    EditOperation,
    config_change_element,
    config_edits,
)
from agent.northbound.netconf.contracts import (
    NS_NOTIFICATION,
    Element,
    HandlerTable,
    NetconfEnv,
    RpcContext,
    RpcError,
    qname,
)
from agent.northbound.netconf.filters import content_filter
from agent.northbound.netconf.registry import date_and_time
from agent.northbound.netconf.session_events import session_event_element
from agent.northbound.netconf.subscription import ContentFilter, Subscription

STREAM: Final = "NETCONF"
NOTIFICATION_CAPABILITY: Final = "urn:ietf:params:netconf:capability:notification:1.0"
INTERLEAVE_CAPABILITY: Final = "urn:ietf:params:netconf:capability:interleave:1.0"
NOTIFICATIONS_MODULE_CAPABILITY: Final = (
    "urn:ietf:params:xml:ns:yang:ietf-netconf-notifications"
    "?module=ietf-netconf-notifications&revision=2012-02-06"
)
CAPABILITIES: Final = (
    NOTIFICATION_CAPABILITY,
    INTERLEAVE_CAPABILITY,
    NOTIFICATIONS_MODULE_CAPABILITY,
)
"""What the hello announces for notifications."""
DEFAULT_QUEUE_LIMIT: Final = 256
SUBSCRIPTION_KEY: Final = "notifications.subscription"
"""Where a session's Subscription lives in RpcContext.extra."""
NS_NETMOD_NOTIFICATION: Final = "urn:ietf:params:xml:ns:netmod:notification"
_CREATE: Final = qname(NS_NOTIFICATION, "create-subscription")


def notification_element(timestamp_ns: int, content: Element) -> Element:
    """A ``<notification>`` with its ``<eventTime>`` around ``content``."""
    made = etree.Element(qname(NS_NOTIFICATION, "notification"), nsmap={None: NS_NOTIFICATION})
    etree.SubElement(made, qname(NS_NOTIFICATION, "eventTime")).text = date_and_time(timestamp_ns)
    made.append(content)
    return made


def streams_data() -> Element:
    """RFC 5277 ``/netconf/streams``: the one stream, without replay."""
    ns = NS_NETMOD_NOTIFICATION
    root = etree.Element(qname(ns, "netconf"), nsmap={None: ns})
    stream = etree.SubElement(etree.SubElement(root, qname(ns, "streams")), qname(ns, "stream"))
    etree.SubElement(stream, qname(ns, "name")).text = STREAM
    description = etree.SubElement(stream, qname(ns, "description"))
    description.text = "Changes of the running configuration and NETCONF session starts and ends"
    etree.SubElement(stream, qname(ns, "replaySupport")).text = "false"
    return root


class NotificationService:
    """The NETCONF stream: create-subscription and the bridges from the change feed and
    the session registry to the subscriptions."""

    def __init__(
        self,
        env: NetconfEnv,
        *,
        queue_limit: int = DEFAULT_QUEUE_LIMIT,
        codec: XmlCodec | None = None,
    ) -> None:
        self._env = env
        self._datastore = env.core.datastore
        self._access = env.core.access
        self._queue_limit = queue_limit
        self._codec = codec or XmlCodec(env.engine)
        self._subscriptions: list[Subscription] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._version = 0
        self._tree: Mapping[str, Any] = {}
        listen = getattr(env.sessions, "listen", None)
        self._stop_listening: Callable[[], None] | None = (
            listen(self._session_event) if listen is not None else None
        )

    @property
    def table(self) -> HandlerTable:
        """The ``<create-subscription>`` operation."""
        return {_CREATE: self.create_subscription}

    @property
    def capabilities(self) -> tuple[str, ...]:
        return CAPABILITIES

    @property
    def subscriptions(self) -> tuple[Subscription, ...]:
        return tuple(self._subscriptions)

    async def create_subscription(self, context: RpcContext, rpc: Element) -> None:
        """``<create-subscription>``: subscribes the session to the NETCONF stream."""
        params = _params(rpc.find(_CREATE))
        stream = _text(params.get("stream")) or STREAM
        if stream != STREAM:
            raise RpcError(
                "invalid-value",
                f"no notification stream {stream!r}: the only stream is {STREAM!r}",
                "protocol",
                info={"bad-element": "stream"},
            )
        if "stopTime" in params and "startTime" not in params:
            raise RpcError(
                "missing-element",
                "stopTime needs a startTime",
                "protocol",
                info={"bad-element": "startTime"},
            )
        if "startTime" in params:
            raise RpcError(
                "operation-failed",
                f"the {STREAM} stream does not support replay: leave out startTime",
                "protocol",
            )
        given = params.get("filter")
        selects = content_filter(given, self._codec) if given is not None else None
        current = context.extra.get(SUBSCRIPTION_KEY)
        if isinstance(current, Subscription) and current.active:
            raise RpcError(
                "in-use",
                f"session {context.session_id} already has a notification subscription",
                "protocol",
            )
        if context.send is None:
            raise RpcError(
                "operation-not-supported", "this session cannot receive notifications", "protocol"
            )
        self._attach()
        subscription = Subscription(
            context,
            context.send,
            limit=self._queue_limit,
            content_filter=selects,
            on_end=self._ended,
        )
        context.extra[SUBSCRIPTION_KEY] = subscription
        self._subscriptions.append(subscription)

    def session_ended(self, context: RpcContext) -> None:
        """Ends the subscription of a session that closed (the registry's end event
        does this; a transport without a registry calls it)."""
        subscription = context.extra.pop(SUBSCRIPTION_KEY, None)
        if isinstance(subscription, Subscription):
            subscription.end()

    def stop(self) -> None:
        """Ends every subscription and leaves the change feed and the registry."""
        for subscription in list(self._subscriptions):
            subscription.end()
        self._detach()
        if self._stop_listening is not None:
            self._stop_listening()
            self._stop_listening = None

    # --- the change feed ---------------------------------------------------------------

    def _attach(self) -> None:
        """Listens to the change feed while there are subscriptions."""
        if self._unsubscribe is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._unsubscribe = self._datastore.subscribe(self._commit_threadsafe)
        running = self._datastore.running
        self._version, self._tree = running.version, running.tree

    def _detach(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def _ended(self, subscription: Subscription) -> None:
        if subscription in self._subscriptions:
            self._subscriptions.remove(subscription)
        if not self._subscriptions:
            self._detach()

    def _commit_threadsafe(self, event: CommitEvent) -> None:
        """Runs on the committing thread: hands over, never waits."""
        loop = self._loop
        if loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop closed: the agent stops
                loop.call_soon_threadsafe(self._on_commit, event)

    def _on_commit(self, event: CommitEvent) -> None:
        if event.version <= self._version:
            return  # committed before the feed was joined
        before = self._tree if event.version == self._version + 1 else event.tree
        self._version, self._tree = event.version, event.tree
        if not self._subscriptions:
            return
        edits = config_edits(before, event.changes, self._env.engine.nav)
        if not edits:
            return
        changed_by = ChangedBy.of(event.meta)
        built: dict[tuple[str, str | None], Element | None] = {}

        def content_for(user: Any) -> Element | None:
            key = (str(getattr(user, "name", "")), getattr(user, "tenant", None))
            if key not in built:
                visible = self._visible(user, before, event.tree, edits)
                built[key] = (
                    config_change_element(changed_by, visible, self._codec.names, self._codec.nav)
                    if visible
                    else None
                )
            return built[key]

        self._offer(event.timestamp_ns, content_for)

    def _visible(
        self,
        user: Any,
        before: Mapping[str, Any],
        after: Mapping[str, Any],
        edits: Sequence[ConfigEdit],
    ) -> list[ConfigEdit]:
        """The edits ``user``'s access can see."""
        then = self._access.over(user, before)
        now = self._access.over(user, after)
        return [
            edit
            for edit in edits
            if (then if edit.operation is EditOperation.DELETE else now).visible(edit.path)
        ]

    # --- sessions ----------------------------------------------------------------------

    def _session_event(self, event: Any) -> None:
        """A registry SessionEvent (on the loop): the session's own subscription ends
        with it; the subscribers hear of the start or end."""
        context = getattr(event.session, "context", None)
        if event.reason is not None and context is not None:
            self.session_ended(context)
        if not self._subscriptions:
            return
        content = session_event_element(event)
        name = event.session.user.name

        def content_for(user: Any) -> Element | None:
            shown = getattr(user, "tenant", None) is None or user.name == name
            return content if shown else None

        self._offer(self._env.clock.now_ns(), content_for)

    # --- delivery ----------------------------------------------------------------------

    def _offer(self, timestamp_ns: int, content_for: Callable[[Any], Element | None]) -> None:
        """Queues the content each subscriber may see (filtered by its filter)."""
        for subscription in list(self._subscriptions):
            content = content_for(subscription.user)
            if content is None:
                continue
            content = copy.deepcopy(content)
            if subscription.content_filter is not None:
                content = subscription.content_filter(content)
                if content is None:
                    continue
            subscription.offer(notification_element(timestamp_ns, content))


def _params(operation: Element) -> dict[str, Element]:
    return {etree.QName(c).localname: c for c in operation if isinstance(c.tag, str)}


def _text(given: Element | None) -> str | None:
    if given is None:
        return None
    return (given.text or "").strip() or None


__all__ = ["CAPABILITIES", "STREAM", "ContentFilter", "NotificationService", "Subscription"]
