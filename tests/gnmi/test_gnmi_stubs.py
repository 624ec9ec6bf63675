"""The generated gNMI 0.10.0 stubs: importable, wire compatible, round-trip."""

from __future__ import annotations

from google.protobuf import descriptor

from agent.gnmi.encoding import Encoding
from agent.gnmi.pb import GNMI_VERSION, gnmi_ext_pb2, gnmi_pb2, gnmi_pb2_grpc

T = descriptor.FieldDescriptor

# (message, field) -> (number, type, repeated); the gNMI 0.10.0 wire format.
GNMI_FIELDS = {
    ("Notification", "timestamp"): (1, T.TYPE_INT64, False),
    ("Notification", "prefix"): (2, T.TYPE_MESSAGE, False),
    ("Notification", "update"): (4, T.TYPE_MESSAGE, True),
    ("Notification", "delete"): (5, T.TYPE_MESSAGE, True),
    ("Notification", "atomic"): (6, T.TYPE_BOOL, False),
    ("Update", "path"): (1, T.TYPE_MESSAGE, False),
    ("Update", "value"): (2, T.TYPE_MESSAGE, False),
    ("Update", "val"): (3, T.TYPE_MESSAGE, False),
    ("Update", "duplicates"): (4, T.TYPE_UINT32, False),
    ("TypedValue", "string_val"): (1, T.TYPE_STRING, False),
    ("TypedValue", "int_val"): (2, T.TYPE_INT64, False),
    ("TypedValue", "uint_val"): (3, T.TYPE_UINT64, False),
    ("TypedValue", "bool_val"): (4, T.TYPE_BOOL, False),
    ("TypedValue", "bytes_val"): (5, T.TYPE_BYTES, False),
    ("TypedValue", "float_val"): (6, T.TYPE_FLOAT, False),
    ("TypedValue", "decimal_val"): (7, T.TYPE_MESSAGE, False),
    ("TypedValue", "leaflist_val"): (8, T.TYPE_MESSAGE, False),
    ("TypedValue", "any_val"): (9, T.TYPE_MESSAGE, False),
    ("TypedValue", "json_val"): (10, T.TYPE_BYTES, False),
    ("TypedValue", "json_ietf_val"): (11, T.TYPE_BYTES, False),
    ("TypedValue", "ascii_val"): (12, T.TYPE_STRING, False),
    ("TypedValue", "proto_bytes"): (13, T.TYPE_BYTES, False),
    ("TypedValue", "double_val"): (14, T.TYPE_DOUBLE, False),
    ("Path", "element"): (1, T.TYPE_STRING, True),
    ("Path", "origin"): (2, T.TYPE_STRING, False),
    ("Path", "elem"): (3, T.TYPE_MESSAGE, True),
    ("Path", "target"): (4, T.TYPE_STRING, False),
    ("PathElem", "name"): (1, T.TYPE_STRING, False),
    ("PathElem", "key"): (2, T.TYPE_MESSAGE, True),
    ("Value", "value"): (1, T.TYPE_BYTES, False),
    ("Value", "type"): (2, T.TYPE_ENUM, False),
    ("Error", "code"): (1, T.TYPE_UINT32, False),
    ("Error", "message"): (2, T.TYPE_STRING, False),
    ("Error", "data"): (3, T.TYPE_MESSAGE, False),
    ("Decimal64", "digits"): (1, T.TYPE_INT64, False),
    ("Decimal64", "precision"): (2, T.TYPE_UINT32, False),
    ("ScalarArray", "element"): (1, T.TYPE_MESSAGE, True),
    ("SubscribeRequest", "subscribe"): (1, T.TYPE_MESSAGE, False),
    ("SubscribeRequest", "poll"): (3, T.TYPE_MESSAGE, False),
    ("SubscribeRequest", "extension"): (5, T.TYPE_MESSAGE, True),
    ("SubscribeResponse", "update"): (1, T.TYPE_MESSAGE, False),
    ("SubscribeResponse", "sync_response"): (3, T.TYPE_BOOL, False),
    ("SubscribeResponse", "error"): (4, T.TYPE_MESSAGE, False),
    ("SubscribeResponse", "extension"): (5, T.TYPE_MESSAGE, True),
    ("SubscriptionList", "prefix"): (1, T.TYPE_MESSAGE, False),
    ("SubscriptionList", "subscription"): (2, T.TYPE_MESSAGE, True),
    ("SubscriptionList", "qos"): (4, T.TYPE_MESSAGE, False),
    ("SubscriptionList", "mode"): (5, T.TYPE_ENUM, False),
    ("SubscriptionList", "allow_aggregation"): (6, T.TYPE_BOOL, False),
    ("SubscriptionList", "use_models"): (7, T.TYPE_MESSAGE, True),
    ("SubscriptionList", "encoding"): (8, T.TYPE_ENUM, False),
    ("SubscriptionList", "updates_only"): (9, T.TYPE_BOOL, False),
    ("Subscription", "path"): (1, T.TYPE_MESSAGE, False),
    ("Subscription", "mode"): (2, T.TYPE_ENUM, False),
    ("Subscription", "sample_interval"): (3, T.TYPE_UINT64, False),
    ("Subscription", "suppress_redundant"): (4, T.TYPE_BOOL, False),
    ("Subscription", "heartbeat_interval"): (5, T.TYPE_UINT64, False),
    ("QOSMarking", "marking"): (1, T.TYPE_UINT32, False),
    ("SetRequest", "prefix"): (1, T.TYPE_MESSAGE, False),
    ("SetRequest", "delete"): (2, T.TYPE_MESSAGE, True),
    ("SetRequest", "replace"): (3, T.TYPE_MESSAGE, True),
    ("SetRequest", "update"): (4, T.TYPE_MESSAGE, True),
    ("SetRequest", "extension"): (5, T.TYPE_MESSAGE, True),
    ("SetRequest", "union_replace"): (6, T.TYPE_MESSAGE, True),
    ("SetResponse", "prefix"): (1, T.TYPE_MESSAGE, False),
    ("SetResponse", "response"): (2, T.TYPE_MESSAGE, True),
    ("SetResponse", "message"): (3, T.TYPE_MESSAGE, False),
    ("SetResponse", "timestamp"): (4, T.TYPE_INT64, False),
    ("SetResponse", "extension"): (5, T.TYPE_MESSAGE, True),
    ("UpdateResult", "timestamp"): (1, T.TYPE_INT64, False),
    ("UpdateResult", "path"): (2, T.TYPE_MESSAGE, False),
    ("UpdateResult", "message"): (3, T.TYPE_MESSAGE, False),
    ("UpdateResult", "op"): (4, T.TYPE_ENUM, False),
    ("GetRequest", "prefix"): (1, T.TYPE_MESSAGE, False),
    ("GetRequest", "path"): (2, T.TYPE_MESSAGE, True),
    ("GetRequest", "type"): (3, T.TYPE_ENUM, False),
    ("GetRequest", "encoding"): (5, T.TYPE_ENUM, False),
    ("GetRequest", "use_models"): (6, T.TYPE_MESSAGE, True),
    ("GetRequest", "extension"): (7, T.TYPE_MESSAGE, True),
    ("GetResponse", "notification"): (1, T.TYPE_MESSAGE, True),
    ("GetResponse", "error"): (2, T.TYPE_MESSAGE, False),
    ("GetResponse", "extension"): (3, T.TYPE_MESSAGE, True),
    ("CapabilityRequest", "extension"): (1, T.TYPE_MESSAGE, True),
    ("CapabilityResponse", "supported_models"): (1, T.TYPE_MESSAGE, True),
    ("CapabilityResponse", "supported_encodings"): (2, T.TYPE_ENUM, True),
    ("CapabilityResponse", "gNMI_version"): (3, T.TYPE_STRING, False),
    ("CapabilityResponse", "extension"): (4, T.TYPE_MESSAGE, True),
    ("ModelData", "name"): (1, T.TYPE_STRING, False),
    ("ModelData", "organization"): (2, T.TYPE_STRING, False),
    ("ModelData", "version"): (3, T.TYPE_STRING, False),
}

EXT_FIELDS = {
    ("Extension", "registered_ext"): 1,
    ("Extension", "master_arbitration"): 2,
    ("Extension", "history"): 3,
    ("Extension", "commit"): 4,
    ("Extension", "depth"): 5,
    ("Extension", "config_subscription"): 6,
    ("RegisteredExtension", "id"): 1,
    ("RegisteredExtension", "msg"): 2,
    ("MasterArbitration", "role"): 1,
    ("MasterArbitration", "election_id"): 2,
    ("Uint128", "high"): 1,
    ("Uint128", "low"): 2,
    ("Role", "id"): 1,
    ("History", "snapshot_time"): 1,
    ("History", "range"): 2,
    ("TimeRange", "start"): 1,
    ("TimeRange", "end"): 2,
    ("Commit", "id"): 1,
    ("Commit", "commit"): 2,
    ("Commit", "confirm"): 3,
    ("Commit", "cancel"): 4,
    ("Commit", "set_rollback_duration"): 5,
    ("CommitRequest", "rollback_duration"): 1,
    ("CommitSetRollbackDuration", "rollback_duration"): 1,
    ("Depth", "level"): 1,
    ("ConfigSubscription", "start"): 1,
    ("ConfigSubscription", "sync_done"): 2,
    ("ConfigSubscriptionSyncDone", "commit_confirm_id"): 1,
    ("ConfigSubscriptionSyncDone", "server_commit_id"): 2,
    ("ConfigSubscriptionSyncDone", "done"): 3,
}


def _field(module, message: str, name: str) -> descriptor.FieldDescriptor:
    return module.DESCRIPTOR.message_types_by_name[message].fields_by_name[name]


def _is_repeated(field: descriptor.FieldDescriptor) -> bool:
    if hasattr(field, "is_repeated"):  # protobuf >= 5.28 (label is gone in 7)
        return bool(field.is_repeated)
    return bool(field.label == T.LABEL_REPEATED)


def test_key_field_numbers_match_gnmi_0_10_0() -> None:
    assert _field(gnmi_pb2, "TypedValue", "json_val").number == 10
    assert _field(gnmi_pb2, "TypedValue", "json_ietf_val").number == 11
    assert _field(gnmi_pb2, "Notification", "atomic").number == 6
    assert _field(gnmi_pb2, "SubscribeRequest", "extension").number == 5
    assert _field(gnmi_pb2, "GetRequest", "extension").number == 7


def test_gnmi_fields_match_the_0_10_0_wire_format() -> None:
    ours = {
        (message.name, field.name): (field.number, field.type, _is_repeated(field))
        for message in gnmi_pb2.DESCRIPTOR.message_types_by_name.values()
        for field in message.fields
    }
    assert ours == GNMI_FIELDS


def test_gnmi_ext_fields() -> None:
    ours = {
        (message.name, field.name): field.number
        for message in gnmi_ext_pb2.DESCRIPTOR.message_types_by_name.values()
        for field in message.fields
    }
    assert ours == EXT_FIELDS
    assert _field(gnmi_ext_pb2, "Uint128", "high").type == T.TYPE_UINT64
    assert _field(gnmi_ext_pb2, "History", "snapshot_time").type == T.TYPE_INT64
    assert gnmi_ext_pb2.ExtensionID.Value("EID_EXPERIMENTAL") == 999


def test_oneofs_and_removed_alias_fields() -> None:
    typed_value = gnmi_pb2.DESCRIPTOR.message_types_by_name["TypedValue"]
    assert {f.name for f in typed_value.oneofs_by_name["value"].fields} == {
        name for (message, name) in GNMI_FIELDS if message == "TypedValue"
    }
    request = gnmi_pb2.DESCRIPTOR.message_types_by_name["SubscribeRequest"]
    assert {f.name for f in request.oneofs_by_name["request"].fields} == {"subscribe", "poll"}
    # 0.10.0 removed aliases; their numbers stay reserved, never reused
    assert "alias" not in gnmi_pb2.DESCRIPTOR.message_types_by_name["Notification"].fields_by_name


def test_enums() -> None:
    assert dict(gnmi_pb2.Encoding.items()) == {e.name: e.value for e in Encoding}
    assert dict(gnmi_pb2.SubscriptionMode.items()) == {
        "TARGET_DEFINED": 0,
        "ON_CHANGE": 1,
        "SAMPLE": 2,
    }
    assert dict(gnmi_pb2.SubscriptionList.Mode.items()) == {"STREAM": 0, "ONCE": 1, "POLL": 2}
    assert dict(gnmi_pb2.UpdateResult.Operation.items()) == {
        "INVALID": 0,
        "DELETE": 1,
        "REPLACE": 2,
        "UPDATE": 3,
        "UNION_REPLACE": 4,
    }
    assert dict(gnmi_pb2.GetRequest.DataType.items()) == {
        "ALL": 0,
        "CONFIG": 1,
        "STATE": 2,
        "OPERATIONAL": 3,
    }


def test_package_names_and_service() -> None:
    assert gnmi_pb2.DESCRIPTOR.package == "gnmi"
    assert gnmi_ext_pb2.DESCRIPTOR.package == "gnmi_ext"
    service = gnmi_pb2.DESCRIPTOR.services_by_name["gNMI"]
    assert service.full_name == "gnmi.gNMI"
    methods = {m.name: m for m in service.methods}
    assert set(methods) == {"Capabilities", "Get", "Set", "Subscribe"}
    assert methods["Subscribe"].client_streaming and methods["Subscribe"].server_streaming
    assert not methods["Get"].client_streaming and not methods["Get"].server_streaming
    assert hasattr(gnmi_pb2_grpc, "gNMIServicer") and hasattr(gnmi_pb2_grpc, "gNMIStub")


def test_service_version_option() -> None:
    assert GNMI_VERSION == "0.10.0"
    assert gnmi_pb2.gnmi_service.number == 1001


def test_messages_round_trip_through_bytes() -> None:
    request = gnmi_pb2.SetRequest(
        prefix=gnmi_pb2.Path(target="edge-1", origin="edge-ports"),
        delete=[gnmi_pb2.Path(elem=[gnmi_pb2.PathElem(name="ports")])],
        update=[
            gnmi_pb2.Update(
                path=gnmi_pb2.Path(
                    elem=[
                        gnmi_pb2.PathElem(name="port", key={"name": "eth1/0"}),
                        gnmi_pb2.PathElem(name="mtu"),
                    ]
                ),
                val=gnmi_pb2.TypedValue(uint_val=9000),
                duplicates=3,
            )
        ],
        extension=[
            gnmi_ext_pb2.Extension(
                master_arbitration=gnmi_ext_pb2.MasterArbitration(
                    role=gnmi_ext_pb2.Role(id="ops"),
                    election_id=gnmi_ext_pb2.Uint128(high=1, low=2**64 - 1),
                )
            ),
            gnmi_ext_pb2.Extension(
                commit=gnmi_ext_pb2.Commit(
                    id="c1",
                    commit=gnmi_ext_pb2.CommitRequest(),
                )
            ),
        ],
    )
    request.extension[1].commit.commit.rollback_duration.FromSeconds(30)
    wire = request.SerializeToString()
    decoded = gnmi_pb2.SetRequest.FromString(wire)
    assert decoded == request
    assert decoded.update[0].path.elem[0].key["name"] == "eth1/0"
    assert decoded.extension[0].master_arbitration.election_id.low == 2**64 - 1
    assert decoded.extension[1].commit.commit.rollback_duration.seconds == 30
    assert decoded.extension[1].commit.WhichOneof("action") == "commit"


def test_typed_value_oneof_holds_one_member() -> None:
    value = gnmi_pb2.TypedValue(json_ietf_val=b"{}")
    value.decimal_val.digits = 25
    value.decimal_val.precision = 1
    assert value.WhichOneof("value") == "decimal_val"
    leaf_list = gnmi_pb2.TypedValue(
        leaflist_val=gnmi_pb2.ScalarArray(
            element=[gnmi_pb2.TypedValue(string_val="a"), gnmi_pb2.TypedValue(uint_val=1)]
        )
    )
    again = gnmi_pb2.TypedValue.FromString(leaf_list.SerializeToString())
    assert [e.WhichOneof("value") for e in again.leaflist_val.element] == [
        "string_val",
        "uint_val",
    ]


def test_subscribe_messages_round_trip() -> None:
    request = gnmi_pb2.SubscribeRequest(
        subscribe=gnmi_pb2.SubscriptionList(
            mode=gnmi_pb2.SubscriptionList.STREAM,
            encoding=gnmi_pb2.JSON_IETF,
            updates_only=True,
            allow_aggregation=True,
            qos=gnmi_pb2.QOSMarking(marking=46),
            use_models=[gnmi_pb2.ModelData(name="edge-ports", version="1.0.0")],
            subscription=[
                gnmi_pb2.Subscription(
                    path=gnmi_pb2.Path(elem=[gnmi_pb2.PathElem(name="ports")]),
                    mode=gnmi_pb2.SAMPLE,
                    sample_interval=10**9,
                    suppress_redundant=True,
                    heartbeat_interval=60 * 10**9,
                )
            ],
        ),
        extension=[gnmi_ext_pb2.Extension(depth=gnmi_ext_pb2.Depth(level=2))],
    )
    assert gnmi_pb2.SubscribeRequest.FromString(request.SerializeToString()) == request
    response = gnmi_pb2.SubscribeResponse(sync_response=True)
    assert gnmi_pb2.SubscribeResponse.FromString(response.SerializeToString()).sync_response
