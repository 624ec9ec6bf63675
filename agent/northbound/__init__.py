"""The northbound interfaces: the gNMI servicer and its gRPC server.

The servicer is thin: it decodes requests with ``agent.gnmi``, reads or changes the
datastore (and driver state through a StateSource), and encodes the answer. Nothing here
constructs concrete classes; ``agent.app`` wires them together.

Modules:
    server        grpc.aio server: gNMI, health, reflection, auth, limits, keepalive
    servicer      the gNMI service: Capabilities, Get, Set (Subscribe is delegated)
    capabilities  the CapabilityResponse
    get           Get: paths -> data from running config and driver state -> Notifications
    set           Set: operations -> one datastore commit -> SetResponse
    extensions    gnmi_ext parsing: master arbitration, commit-confirmed, depth
    arbitration   per-role election ids (master arbitration)
    view          what a path reaches in the schema; type (CONFIG/STATE/...) and depth filters
    authz         what each role may do
    status        datastore errors -> gRPC status codes
"""
