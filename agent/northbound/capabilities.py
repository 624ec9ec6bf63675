"""The CapabilityResponse: our YANG modules, the encodings we speak, the gNMI version."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from agent.gnmi.encoding import SUPPORTED_ENCODINGS
from agent.gnmi.pb import GNMI_VERSION, gnmi_pb2
from agent.schema.library import ModuleInfo


def capability_response(modules: Iterable[ModuleInfo]) -> Any:
    """The answer to every Capabilities call (built once: the schema does not change).

    Each model carries its name, organization and revision date as its version.
    """
    return gnmi_pb2.CapabilityResponse(
        supported_models=[
            gnmi_pb2.ModelData(name=m.name, organization=m.organization, version=m.revision)
            for m in modules
        ],
        supported_encodings=[int(e) for e in SUPPORTED_ENCODINGS],
        gNMI_version=GNMI_VERSION,
    )
