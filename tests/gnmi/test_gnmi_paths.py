"""gnmi.Path <-> DataPath conversion."""

from __future__ import annotations

import grpc
import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.gnmi.errors import GnmiError
from agent.gnmi.paths import response_prefix, to_data_path, to_gnmi_path
from agent.gnmi.pb import gnmi_pb2
from agent.schema.characters import character_problem
from agent.schema.path import DataPath, PathElem


def gpath(*elems: str | tuple[str, dict[str, str]], **fields: object):
    """A gnmi.Path from element names or (name, keys) pairs."""
    message = gnmi_pb2.Path(**fields)
    for elem in elems:
        name, keys = (elem, {}) if isinstance(elem, str) else elem
        message.elem.add(name=name, key=keys)
    return message


def code_of(excinfo: pytest.ExceptionInfo[GnmiError]) -> grpc.StatusCode:
    return excinfo.value.code


def test_prefix_and_path_join_into_one_absolute_path() -> None:
    prefix = gpath("ports", ("port", {"name": "eth1/0"}))
    path = gpath("config", "mtu")
    assert to_data_path(path, prefix) == DataPath.parse("/ports/port[name=eth1/0]/config/mtu")


def test_missing_parts_are_empty() -> None:
    assert to_data_path(None) == DataPath.root()
    assert to_data_path(gnmi_pb2.Path()) == DataPath.root()
    assert to_data_path(None, gpath("ports")) == DataPath.parse("/ports")
    assert to_data_path(gpath("ports"), None) == DataPath.parse("/ports")


def test_target_is_allowed_in_the_prefix_only() -> None:
    prefix = gpath("ports", target="edge-1")
    assert to_data_path(gpath("port"), prefix) == DataPath.parse("/ports/port")
    with pytest.raises(GnmiError) as excinfo:
        to_data_path(gpath("ports", target="edge-1"))
    assert code_of(excinfo) == grpc.StatusCode.INVALID_ARGUMENT
    assert "target" in excinfo.value.message


@pytest.mark.parametrize("origin", ["", "openconfig"])
def test_default_origins_qualify_nothing(origin: str) -> None:
    result = to_data_path(gpath("ports", "port", origin=origin))
    assert [e.module for e in result.elems] == [None, None]


def test_module_origin_qualifies_the_first_element() -> None:
    # what pygnmi sends for /edge-ports:ports/port[name=Ethernet1/0]
    message = gpath("ports", ("port", {"name": "Ethernet1/0"}), origin="edge-ports")
    result = to_data_path(message)
    assert result.elems[0] == PathElem("ports", (), "edge-ports")
    assert result.elems[1] == PathElem("port", (("name", "Ethernet1/0"),), None)


def test_module_origin_in_the_prefix_qualifies_the_prefix_first_element() -> None:
    result = to_data_path(gpath("mtu"), gpath("slices", origin="edge-slices"))
    assert result.elems[0].module == "edge-slices"
    assert result.elems[1].module is None


def test_module_origin_on_the_path_with_an_empty_prefix() -> None:
    result = to_data_path(gpath("slices", origin="edge-slices"), gnmi_pb2.Path(target="t"))
    assert result.elems[0].module == "edge-slices"


def test_module_origin_with_the_root_path_is_the_root() -> None:
    assert to_data_path(gnmi_pb2.Path(origin="edge-ports")) == DataPath.root()


def test_element_names_may_carry_the_module() -> None:
    result = to_data_path(gpath("edge-ports:ports", "port"))
    assert result.elems[0] == PathElem("ports", (), "edge-ports")
    same = to_data_path(gpath("edge-ports:ports", origin="edge-ports"))
    assert same.elems[0].module == "edge-ports"


def test_origin_contradicting_the_element_module_is_refused() -> None:
    with pytest.raises(GnmiError) as excinfo:
        to_data_path(gpath("edge-slices:ports", origin="edge-ports"))
    assert code_of(excinfo) == grpc.StatusCode.INVALID_ARGUMENT


def test_unknown_origin_is_unimplemented_with_a_helpful_message() -> None:
    with pytest.raises(GnmiError) as excinfo:
        to_data_path(gpath("interfaces", origin="cli"))
    assert code_of(excinfo) == grpc.StatusCode.UNIMPLEMENTED
    assert "'cli'" in excinfo.value.message and "edge-ports" in excinfo.value.message


def test_unknown_module_in_an_element_is_unimplemented() -> None:
    with pytest.raises(GnmiError) as excinfo:
        to_data_path(gpath("openconfig-interfaces:interfaces"))
    assert code_of(excinfo) == grpc.StatusCode.UNIMPLEMENTED


def test_the_accepted_modules_can_be_supplied() -> None:
    result = to_data_path(gpath("system", origin="other"), modules={"other"})
    assert result.elems[0].module == "other"
    with pytest.raises(GnmiError):
        to_data_path(gpath("ports", origin="edge-ports"), modules={"other"})


def test_prefix_and_path_origins_must_agree() -> None:
    agreed = to_data_path(gpath("port", origin="edge-ports"), gpath("ports", origin="edge-ports"))
    assert agreed.elems[0].module == "edge-ports"
    with pytest.raises(GnmiError) as excinfo:
        to_data_path(gpath("port", origin="edge-slices"), gpath("ports", origin="edge-ports"))
    assert code_of(excinfo) == grpc.StatusCode.INVALID_ARGUMENT


@pytest.mark.parametrize(
    "value",
    ["eth1/0", "a:b", "with space", "k=v", "x]y", "[", "\\", "*x", "", "ü/ß"],
)
def test_key_values_are_opaque(value: str) -> None:
    result = to_data_path(gpath("ports", ("port", {"name": value})))
    assert result.elems[1].key_map == {"name": value}
    back = to_gnmi_path(result)
    assert dict(back.elem[1].key) == {"name": value}


def test_multiple_keys_are_kept() -> None:
    result = to_data_path(gpath(("member", {"slice": "s 1", "port": "eth1/0"})))
    assert result.elems[0].keys == (("port", "eth1/0"), ("slice", "s 1"))


def test_wildcards_pass_through() -> None:
    result = to_data_path(gpath("ports", ("port", {"name": "*"}), "...", "*", "mtu"))
    assert result == DataPath.parse("/ports/port[name=*]/.../*/mtu")
    assert result.is_wildcard
    assert result.elems[1].is_wildcard and not result.elems[0].is_wildcard


def test_list_without_keys_stays_keyless() -> None:
    assert to_data_path(gpath("ports", "port", "config")).elems[1].keys == ()


def test_deprecated_element_form_is_read_when_elem_is_empty() -> None:
    message = gnmi_pb2.Path(element=["ports", "port[name=eth1/0]", "config", "mtu"])
    assert to_data_path(message) == DataPath.parse("/ports/port[name=eth1/0]/config/mtu")
    escaped = gnmi_pb2.Path(element=["port[name=a\\]b]"])
    assert to_data_path(escaped).elems[0].key_map == {"name": "a]b"}
    qualified = gnmi_pb2.Path(element=["edge-ports:ports"])
    assert to_data_path(qualified).elems[0].module == "edge-ports"


def test_deprecated_element_form_in_prefix_and_with_origin() -> None:
    prefix = gnmi_pb2.Path(element=["ports"], origin="edge-ports")
    result = to_data_path(gnmi_pb2.Path(element=["port[name=x]"]), prefix)
    assert result.elems[0] == PathElem("ports", (), "edge-ports")
    assert result.elems[1].key_map == {"name": "x"}


def test_elem_wins_over_element() -> None:
    message = gpath("slices", element=["ports"])
    assert to_data_path(message) == DataPath.parse("/slices")


@pytest.mark.parametrize(
    "message",
    [
        gnmi_pb2.Path(elem=[gnmi_pb2.PathElem(name="")]),
        gnmi_pb2.Path(elem=[gnmi_pb2.PathElem(name="a/b")]),
        gnmi_pb2.Path(elem=[gnmi_pb2.PathElem(name="port[name=x]")]),
        gnmi_pb2.Path(elem=[gnmi_pb2.PathElem(name=":ports")]),
        gnmi_pb2.Path(elem=[gnmi_pb2.PathElem(name="port", key={"": "x"})]),
        gnmi_pb2.Path(elem=[gnmi_pb2.PathElem(name="port", key={"na me": "x"})]),
        gnmi_pb2.Path(elem=[gnmi_pb2.PathElem(name="...", key={"name": "x"})]),
        gnmi_pb2.Path(element=["port[name=x"]),
        gnmi_pb2.Path(element=[""]),
        gnmi_pb2.Path(element=["port[=x]"]),
    ],
    ids=lambda m: str(list(m.elem) or list(m.element)).replace("\n", " "),
)
def test_malformed_paths_are_invalid_argument(message) -> None:
    with pytest.raises(GnmiError) as excinfo:
        to_data_path(message)
    assert code_of(excinfo) == grpc.StatusCode.INVALID_ARGUMENT


def test_to_gnmi_path_builds_elems_with_keys() -> None:
    message = to_gnmi_path(DataPath.parse("/ports/port[name=eth1/0]/config/mtu"))
    assert [e.name for e in message.elem] == ["ports", "port", "config", "mtu"]
    assert dict(message.elem[1].key) == {"name": "eth1/0"}
    assert message.origin == "" and message.target == ""


def test_to_gnmi_path_relative_to_a_prefix() -> None:
    full = DataPath.parse("/ports/port[name=eth1/0]/state/counters/in-octets")
    message = to_gnmi_path(full, relative_to=DataPath.parse("/ports/port[name=eth1/0]"))
    assert [e.name for e in message.elem] == ["state", "counters", "in-octets"]
    assert list(to_gnmi_path(full, relative_to=full).elem) == []
    with pytest.raises(ValueError):
        to_gnmi_path(full, relative_to=DataPath.parse("/ports/port[name=eth2/0]"))


def test_to_gnmi_path_module_names_only_when_asked() -> None:
    path = DataPath((PathElem("ports", (), "edge-ports"), PathElem("port")))
    assert to_gnmi_path(path).elem[0].name == "ports"
    assert to_gnmi_path(path, qualified=True).elem[0].name == "edge-ports:ports"
    assert to_gnmi_path(path, qualified=True).elem[1].name == "port"
    marked = to_gnmi_path(path, origin="edge-ports", target="edge-1")
    assert (marked.origin, marked.target) == ("edge-ports", "edge-1")


def test_response_prefix_echoes_the_request_prefix() -> None:
    request = gpath("ports", target="edge-1", origin="edge-ports")
    echo = response_prefix(request)
    assert echo == request and echo is not request
    request.target = "changed"
    assert echo.target == "edge-1"
    assert response_prefix(None) is None
    assert response_prefix(gnmi_pb2.Path()).target == ""


_names = st.from_regex(r"[a-z][a-z0-9\-]{0,8}", fullmatch=True)
_key_values = st.text(max_size=12).filter(lambda text: character_problem(text) is None)
_keys = st.dictionaries(_names, _key_values, max_size=3)


def test_key_values_with_characters_yang_forbids_are_refused() -> None:
    message = gnmi_pb2.Path(elem=[gnmi_pb2.PathElem(name="port", key={"name": "a\x00b"})])
    with pytest.raises(GnmiError) as refused:
        to_data_path(message)
    assert (
        refused.value.code is grpc.StatusCode.INVALID_ARGUMENT and "U+0000" in refused.value.message
    )


@given(st.lists(st.tuples(_names, _keys), max_size=6))
def test_data_path_survives_a_round_trip(elems: list[tuple[str, dict[str, str]]]) -> None:
    path = DataPath(tuple(PathElem.of(name, keys) for name, keys in elems))
    message = gnmi_pb2.Path.FromString(to_gnmi_path(path).SerializeToString())
    assert to_data_path(message) == path


def test_gnmi_error_carries_code_and_message() -> None:
    error = GnmiError.not_found("/ports/port[name=x]: absent")
    assert error.code == grpc.StatusCode.NOT_FOUND
    assert error.message == "/ports/port[name=x]: absent"
    assert str(error) == "NOT_FOUND: /ports/port[name=x]: absent"
    wrapped = error.with_context("update 2")
    assert wrapped.code == grpc.StatusCode.NOT_FOUND
    assert wrapped.message == "update 2: /ports/port[name=x]: absent"
    assert GnmiError.unimplemented("x").code == grpc.StatusCode.UNIMPLEMENTED
    assert GnmiError.internal("x").code == grpc.StatusCode.INTERNAL
    assert GnmiError.invalid_argument("x").code == grpc.StatusCode.INVALID_ARGUMENT
