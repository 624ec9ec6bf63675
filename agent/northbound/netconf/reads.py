"""``<get>`` and ``<get-config>`` (RFC 6241 7.1 and 7.7) with filters and with-defaults.

- get-config reads the running configuration, or the candidate of the session from the
  :class:`CandidateSource` in ``NetconfEnv.extras["candidate"]`` (without one,
  ``<candidate/>`` is invalid-value); get reads running plus the driver state of what
  the filter can select (one batched sample, as gNMI Get), plus the data of other
  modules a :data:`StateData` provider adds (ietf-netconf-monitoring, yang-library);
- the tree is projected by the caller's access (its view and the policy) before any
  filter runs, so nothing outside the view can be selected;
- with-defaults (RFC 6243): basic mode explicit (values as configured, defaults not
  filled in; state shows what the hardware runs); report-all fills in every schema
  default (``when`` conditions respected), trim drops leaves equal to their default,
  report-all-tagged is report-all with ``wd:default="true"`` on every leaf whose value
  is its default;
- the work runs in the service core's request workers within the per-request budget,
  like gNMI Get.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any, Final, Protocol

from lxml import etree
from yangson.enumerations import ContentType

from agent.cancellation import WorkCancelled, WorkScope, checkpoint
from agent.datastore.errors import DatastoreError
from agent.datastore.selection import EMPTY, selection_for
from agent.datastore.tree import key_text
from agent.mapping.state_tree import Selection
from agent.northbound.netconf.codec import XmlCodec
from agent.northbound.netconf.contracts import (
    NS_BASE,
    NS_WITH_DEFAULTS,
    Element,
    EncodedData,
    HandlerTable,
    NetconfEnv,
    RpcContext,
    RpcError,
    qname,
)
from agent.northbound.netconf.errors import rpc_error, work_error
from agent.northbound.netconf.filters import XPATH_CAPABILITY, Filter, ForeignKeys, parse_filter
from agent.northbound.netconf.xml_text import XmlTextWriter
from agent.schema.nav import NodeInfo, NodeKind
from agent.schema.path import DataPath, PathElem
from agent.service.admission import AdmissionRefused
from agent.service.errors import ServiceError
from agent.service.views import tenant_of

log = logging.getLogger(__name__)

WITH_DEFAULTS_CAPABILITY: Final = (
    "urn:ietf:params:netconf:capability:with-defaults:1.0"
    "?basic-mode=explicit&also-supported=report-all,report-all-tagged,trim"
)
READ_CAPABILITIES: Final = (XPATH_CAPABILITY, WITH_DEFAULTS_CAPABILITY)
"""What the hello announces for the read operations."""
CANDIDATE_KEY: Final = "candidate"
"""The key in NetconfEnv.extras of the CandidateSource."""

StateData = Callable[[NetconfEnv, RpcContext], list[Element]]
"""Data of modules outside our schema that ``<get>`` adds (fresh elements per call)."""


class CandidateSource(Protocol):
    """The candidate configuration a session reads (``NetconfEnv.extras["candidate"]``)."""

    def tree_for(self, context: RpcContext) -> dict[str, Any] | None:
        """The whole candidate tree (RFC 7951) as the session's get-config should see
        it before projection; None when it holds no change (running is read)."""
        ...


class WithDefaults(enum.StrEnum):
    """RFC 6243 retrieval modes."""

    EXPLICIT = "explicit"
    REPORT_ALL = "report-all"
    REPORT_ALL_TAGGED = "report-all-tagged"
    TRIM = "trim"


FOREIGN_KEYS: Final[ForeignKeys] = MappingProxyType(
    {
        "{urn:ietf:params:xml:ns:yang:ietf-netconf-monitoring}session": ("session-id",),
        "{urn:ietf:params:xml:ns:yang:ietf-netconf-monitoring}schema": (
            "identifier",
            "version",
            "format",
        ),
        "{urn:ietf:params:xml:ns:yang:ietf-netconf-monitoring}datastore": ("name",),
        "{urn:ietf:params:xml:ns:yang:ietf-yang-library}module-set": ("name",),
        "{urn:ietf:params:xml:ns:yang:ietf-yang-library}module": ("name",),
        "{urn:ietf:params:xml:ns:yang:ietf-yang-library}import-only-module": ("name", "revision"),
        "{urn:ietf:params:xml:ns:yang:ietf-yang-library}schema": ("name",),
        "{urn:ietf:params:xml:ns:yang:ietf-yang-library}datastore": ("name",),
        "{urn:ietf:params:xml:ns:netmod:notification}stream": ("name",),
    }
)
"""List keys of the monitoring data <get> adds, for filter output."""

_GET: Final = qname(NS_BASE, "get")
_GET_CONFIG: Final = qname(NS_BASE, "get-config")
_FILTER: Final = qname(NS_BASE, "filter")
_SOURCE: Final = qname(NS_BASE, "source")
_WITH_DEFAULTS: Final = qname(NS_WITH_DEFAULTS, "with-defaults")


def read_table(
    env: NetconfEnv, *, codec: XmlCodec | None = None, state_data: StateData | None = None
) -> HandlerTable:
    """The handlers of ``<get>`` and ``<get-config>``. ``state_data`` adds the data of
    other modules to ``<get>`` (e.g. ``monitoring.state_elements``)."""
    reads = Reads(env, codec or XmlCodec(env.engine), state_data)
    return {_GET: reads.get, _GET_CONFIG: reads.get_config}


class Reads:
    """Answers get and get-config."""

    def __init__(self, env: NetconfEnv, codec: XmlCodec, state_data: StateData | None) -> None:
        self._env = env
        self._codec = codec
        self._state_data = state_data
        self._text = XmlTextWriter(codec)

    async def get(self, context: RpcContext, rpc: Element) -> Element | EncodedData:
        request = rpc.find(_GET)
        params = self._params(request, "get", {_FILTER, _WITH_DEFAULTS})
        flt = self._filter(params.get(_FILTER))
        mode = _mode(params.get(_WITH_DEFAULTS))
        extra = self._state_data(self._env, context) if self._state_data is not None else []
        return await self._in_worker(
            context, "get", lambda: self._answer_get(context, flt, mode, extra)
        )

    async def get_config(self, context: RpcContext, rpc: Element) -> Element | EncodedData:
        request = rpc.find(_GET_CONFIG)
        params = self._params(request, "get-config", {_SOURCE, _FILTER, _WITH_DEFAULTS})
        source = params.get(_SOURCE)
        if source is None:
            raise RpcError(
                "missing-element",
                "get-config needs a <source> (<running/> or <candidate/>)",
                "protocol",
                info={"bad-element": "source"},
            )
        candidate = self._source(source, context)
        flt = self._filter(params.get(_FILTER))
        mode = _mode(params.get(_WITH_DEFAULTS))
        return await self._in_worker(
            context, "get-config", lambda: self._answer_config(context, candidate, flt, mode)
        )

    # --- parameters --------------------------------------------------------------------

    @staticmethod
    def _params(request: Element, operation: str, allowed: set[str]) -> dict[str, Element]:
        params: dict[str, Element] = {}
        for child in request:
            if not isinstance(child.tag, str):
                continue
            name = etree.QName(child).localname
            if child.tag not in allowed:
                raise RpcError(
                    "unknown-element",
                    f"{operation} takes no parameter <{name}> ({etree.QName(child).namespace})",
                    "protocol",
                    info={"bad-element": name},
                )
            if child.tag in params:
                raise RpcError(
                    "bad-element",
                    f"{operation} takes one <{name}>",
                    "protocol",
                    info={"bad-element": name},
                )
            params[child.tag] = child
        return params

    def _filter(self, element: Element | None) -> Filter | None:
        if element is None:
            return None
        return parse_filter(element, self._codec, FOREIGN_KEYS)

    def _source(self, source: Element, context: RpcContext) -> dict[str, Any] | None:
        """The candidate tree to read (None: running); RpcError for other sources."""
        chosen = [c for c in source if isinstance(c.tag, str)]
        if len(chosen) != 1:
            raise RpcError(
                "missing-element" if not chosen else "bad-element",
                "<source> names exactly one datastore (<running/> or <candidate/>)",
                "protocol",
                info={"bad-element": "source"},
            )
        name = etree.QName(chosen[0]).localname
        if chosen[0].tag == qname(NS_BASE, "running"):
            return None
        if chosen[0].tag == qname(NS_BASE, "candidate"):
            provider = self._env.extras.get(CANDIDATE_KEY)
            if provider is not None:
                return provider.tree_for(context)  # type: ignore[no-any-return]
        raise RpcError(
            "invalid-value",
            f"the {name} datastore is not supported here (use <running/>"
            f"{' or <candidate/>' if self._env.extras.get(CANDIDATE_KEY) else ''})",
            "protocol",
            info={"bad-element": name},
        )

    # --- answers (in a worker) ---------------------------------------------------------

    def _answer_get(
        self, context: RpcContext, flt: Filter | None, mode: WithDefaults, extra: list[Element]
    ) -> Element | EncodedData:
        access = self._env.core.access.of(context.user)
        running = self._env.core.datastore.running.tree
        paths = flt.paths() if flt is not None else None
        selection = _selection(paths)
        tree = self._env.state.read(running, selection) if selection is not EMPTY else {}
        tree = access.project(tree)
        return self._data(tree, flt, paths, mode, extra, config_only=False)

    def _answer_config(
        self,
        context: RpcContext,
        candidate: dict[str, Any] | None,
        flt: Filter | None,
        mode: WithDefaults,
    ) -> Element | EncodedData:
        running = self._env.core.datastore.running.tree
        tree = candidate if candidate is not None else running
        if candidate is not None:  # the caller's view of the candidate itself
            access = self._env.core.access.over(context.user, candidate)
        else:
            access = self._env.core.access.of(context.user)
        tree = access.project(tree)
        paths = flt.paths() if flt is not None else None
        return self._data(tree, flt, paths, mode, [], config_only=True)

    def _data(
        self,
        tree: Mapping[str, Any],
        flt: Filter | None,
        paths: list[DataPath] | None,
        mode: WithDefaults,
        extra: list[Element],
        *,
        config_only: bool,
    ) -> Element | EncodedData:
        if paths is not None:
            tree = narrow(tree, paths, self._codec)
        tree = self._defaults(tree, mode, config_only)
        text = self._text.text(tree, tag_defaults=mode is WithDefaults.REPORT_ALL_TAGGED)
        if flt is None and not extra:
            return EncodedData(text)  # spliced into the reply as it is
        elements = [*EncodedData(text).element(), *extra]
        data = etree.Element(qname(NS_BASE, "data"), nsmap={None: NS_BASE})
        selected = flt.apply(elements) if flt is not None else elements
        for element in selected:
            data.append(element)
        return data

    def _defaults(self, tree: Mapping[str, Any], mode: WithDefaults, config_only: bool) -> Any:
        if mode is WithDefaults.EXPLICIT or not tree:
            return tree
        if mode is WithDefaults.TRIM:
            return trim(tree, self._codec.nav.root, self._codec)
        return report_all(self._env.engine, tree, config_only=config_only)

    async def _in_worker(
        self, context: RpcContext, operation: str, work: Callable[[], Element | EncodedData]
    ) -> Element | EncodedData:
        core = self._env.core
        scope = WorkScope(self._env.clock, budget_s=core.limits.request_budget_s)
        tenant = tenant_of(context.user)
        share = context.user.name if tenant is None else f"tenant {tenant!r}"
        try:
            result: Element | EncodedData = await core.admission.run(
                share, scope, work, tenant=tenant is not None
            )
            return result
        except (AdmissionRefused, WorkCancelled) as err:
            raise work_error(err, operation) from None
        except (ServiceError, DatastoreError) as err:
            raise rpc_error(err, codec=self._codec, context=operation) from None
        except RpcError:
            raise
        except Exception:
            log.exception("NETCONF %s failed", operation)
            raise RpcError("operation-failed", f"{operation} failed; see the agent's log") from None


def _mode(element: Element | None) -> WithDefaults:
    if element is None:
        return WithDefaults.EXPLICIT
    text = (element.text or "").strip()
    try:
        return WithDefaults(text)
    except ValueError:
        modes = ", ".join(m.value for m in WithDefaults)
        raise RpcError(
            "invalid-value",
            f"with-defaults {text!r} is not a retrieval mode ({modes})",
            "protocol",
            info={"bad-element": "with-defaults"},
        ) from None


def _selection(paths: Sequence[DataPath] | None) -> Selection:
    """The driver state the paths need (None: everything)."""
    if paths is None:
        return Selection()
    result = EMPTY
    for path in paths:
        result = _union(result, selection_for(path))
    return result


def _union(a: Selection, b: Selection) -> Selection:
    def both(x: frozenset[str] | None, y: frozenset[str] | None) -> frozenset[str] | None:
        return None if x is None or y is None else x | y

    return Selection(
        both(a.devices, b.devices),
        both(a.ports, b.ports),
        both(a.slices, b.slices),
        both(a.tenants, b.tenants),
    )


# --- trees -------------------------------------------------------------------------------


def narrow(tree: Mapping[str, Any], paths: Sequence[DataPath], codec: XmlCodec) -> dict[str, Any]:
    """The part of ``tree`` under any of ``paths`` (list keys as path text), so that a
    filter naming one entry of a long list does not render the others."""
    return _narrow(tree, codec.nav.root, [p.elems for p in paths], codec)


def _narrow(
    value: Mapping[str, Any],
    info: NodeInfo,
    paths: list[tuple[PathElem, ...]],
    codec: XmlCodec,
) -> dict[str, Any]:
    if any(not p for p in paths):
        return dict(value)
    out: dict[str, Any] = {}
    for member, child in value.items():
        child_info = codec.nav.child_by_member(info, member)
        if child_info is None:
            continue
        wanted = [p for p in paths if p[0].name == child_info.name]
        if not wanted:
            continue
        if child_info.kind is NodeKind.LIST and isinstance(child, list):
            if any(not p[0].keys for p in wanted):
                out[member] = child
                continue
            entries = []
            for entry in child:
                keys = tuple((k, key_text(entry[k])) for k in sorted(child_info.keys) if k in entry)
                inner = [p[1:] for p in wanted if p[0].keys == keys]
                if inner:
                    entries.append(_narrow(entry, child_info, inner, codec))
            if entries:
                out[member] = entries
        elif child_info.kind is NodeKind.CONTAINER and isinstance(child, dict):
            out[member] = _narrow(child, child_info, [p[1:] for p in wanted], codec)
        else:
            out[member] = child
    return out


def trim(value: Mapping[str, Any], info: NodeInfo, codec: XmlCodec) -> dict[str, Any]:
    """``value`` without the leaves whose value is their schema default (RFC 6243 trim)."""
    checkpoint()
    out: dict[str, Any] = {}
    for member, child in value.items():
        child_info = codec.nav.child_by_member(info, member)
        if child_info is None:
            out[member] = child
        elif child_info.kind is NodeKind.LEAF:
            if child_info.default is None or child != child_info.default:
                out[member] = child
        elif child_info.kind is NodeKind.LIST and isinstance(child, list):
            out[member] = [
                trim(entry, child_info, codec) if isinstance(entry, dict) else entry
                for entry in child
            ]
        elif child_info.kind is NodeKind.CONTAINER and isinstance(child, dict):
            out[member] = trim(child, child_info, codec)
        else:
            out[member] = child
    return out


def report_all(engine: Any, tree: Mapping[str, Any], *, config_only: bool) -> dict[str, Any]:
    """``tree`` with every schema default filled in (RFC 6243 report-all): yangson's
    defaults, which respect ``when``; containers left empty are dropped again."""
    ctype = ContentType.config if config_only else ContentType.all
    filled = engine.model.from_raw(dict(tree)).add_defaults(ctype).raw_value()
    return _without_empty(filled)  # type: ignore[no-any-return]


def _without_empty(value: Any) -> Any:
    if isinstance(value, dict):
        kept = {}
        for member, child in value.items():
            shown = _without_empty(child)
            if shown != {}:
                kept[member] = shown
        return kept
    if isinstance(value, list):
        return [_without_empty(e) if isinstance(e, dict) else e for e in value]
    return value
