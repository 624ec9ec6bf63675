"""gNMI wire layer: protocol stubs, gNMI Path <-> DataPath, TypedValue encoding.

Modules:
    pb           the generated gNMI 0.10.0 protobuf/gRPC modules (built by ``make proto``)
    errors       GnmiError, a canonical gRPC status code plus message
    paths        gnmi.Path (prefix + path) <-> agent.schema.path.DataPath
    schema_info  the SchemaInfo protocol the codecs need from the schema engine
    encoding     RFC 7951 data <-> TypedValue for JSON, JSON_IETF and PROTO (entry points)
    tree_codec   walks over data trees used by ``encoding``
    leaf_values  per-leaf value rules (RFC 7951 form, lenient reading, JSON form)
    scalars      leaf values <-> scalar TypedValues
    json_value   JSON text <-> Python values with exact decimals
    timestamps   notification timestamps from an injected clock
"""
