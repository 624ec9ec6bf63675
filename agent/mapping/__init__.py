"""Between the datastore and the drivers: configuration trees -> driver values and plans,
driver reads -> state trees.

Works on plain RFC 7951 dicts (module-qualified top-level members, identities as
``edge-types:name``, uint64 as strings, defaults not filled in) and on the driver value
types; it never imports a concrete driver family, the wire layer or YANG tooling.

- ``ModelRegistry`` (``registry``): the model's top-level lists, their keys and config
  defaults, as the schema gives them (built by ``agent.datastore.model_registry``).
- ``intents_from_tree``: the running tree as one DeviceIntent per device; ``derive``:
  the same for a changed tree, from the previous intents and the touched entries.
- ``plan_changes``: per-device ops and driver lifecycle between two sets of intents.
- ``StateReader`` / ``render_state``: batched driver reads rendered as ``state``
  containers of the model (see ``oper_status`` for the status mapping).

One module per subtree (``platform``, ``ports``, ``slices``, ``tenants``) holds both
directions; ``tenants`` also computes what tenants use of their quotas.
"""

from __future__ import annotations

from agent.mapping.intents import intents_from_tree
from agent.mapping.model import MappingError
from agent.mapping.oper_status import DeviceOperStatus, PortOperStatus
from agent.mapping.plan import ChangePlan, DeviceAction, DevicePlan, plan_changes
from agent.mapping.state_tree import (
    ALL,
    DeviceReading,
    ReadableDriver,
    Selection,
    StateReader,
    render_state,
)

__all__ = [
    "ALL",
    "ChangePlan",
    "DeviceAction",
    "DeviceOperStatus",
    "DevicePlan",
    "DeviceReading",
    "MappingError",
    "PortOperStatus",
    "ReadableDriver",
    "Selection",
    "StateReader",
    "intents_from_tree",
    "plan_changes",
    "render_state",
]
