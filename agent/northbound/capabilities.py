"""The CapabilityResponse (our YANG modules, the encodings we speak, the gNMI version),
and the check of a request's ``use_models`` against it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from agent.gnmi.encoding import SUPPORTED_ENCODINGS
from agent.gnmi.errors import GnmiError
from agent.gnmi.pb import GNMI_VERSION, gnmi_pb2
from agent.mapping.model import TYPES_MODULE
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


def allowed_modules(
    use_models: Sequence[Any], modules: Mapping[str, ModuleInfo]
) -> frozenset[str] | None:
    """The modules a request's ``use_models`` lets it see (None: every module).

    ``modules`` maps names to the modules Capabilities lists; a model that is not one of
    them (or names another organization or version) is UNIMPLEMENTED. The types module
    defines identities and types only and is always in use (chipset values refer to it).
    """
    if not use_models:
        return None
    names = {TYPES_MODULE}
    for model in use_models:
        ours = modules.get(model.name)
        if (
            ours is None
            or (model.organization and model.organization != ours.organization)
            or (model.version and model.version != ours.revision)
        ):
            listed = ", ".join(f"{m.name} {m.revision}" for m in modules.values())
            raise GnmiError.unimplemented(
                f"model {model.name!r} {model.version or ''} is not supported; "
                f"Capabilities lists: {listed}".replace("  ", " ")
            )
        names.add(ours.name)
    return frozenset(names)
