"""Streaming telemetry: one sampler -> one state cache -> a session per subscription.

``TelemetryService`` samples the drivers once per interval for every subscriber, keeps
the latest value of each leaf in a ``StateCache`` (configuration from the datastore's
change feed, driver events applied at once) and serves ``Session`` objects, each with a
bounded coalescing queue. The gNMI Subscribe handler (``agent.northbound.subscribe``)
turns a SubscriptionList into a ``SubscribeSpec`` and a session's batches into
SubscribeResponses; nothing here knows gRPC or protobuf.
"""

from __future__ import annotations

from agent.telemetry.limits import Bundling, TelemetryLimits
from agent.telemetry.model import (
    Batch,
    Delete,
    ErrorKind,
    ListMode,
    SessionEnded,
    Shared,
    StreamMode,
    SubscribeSpec,
    Subscription,
    TelemetryError,
    Update,
)
from agent.telemetry.service import ConfigSource, FairShare, TelemetryDriver, TelemetryService
from agent.telemetry.session import Session, ViewOf, Visibility
from agent.telemetry.timer import LoopTimer, ManualTimer, Timer

__all__ = [
    "Batch",
    "Bundling",
    "ConfigSource",
    "Delete",
    "ErrorKind",
    "FairShare",
    "ListMode",
    "LoopTimer",
    "ManualTimer",
    "Session",
    "SessionEnded",
    "Shared",
    "StreamMode",
    "SubscribeSpec",
    "Subscription",
    "TelemetryDriver",
    "TelemetryError",
    "TelemetryLimits",
    "TelemetryService",
    "Timer",
    "Update",
    "ViewOf",
    "Visibility",
]
