"""Leaf value rules on their own: types the fake schema does not cover."""

from __future__ import annotations

import grpc
import pytest
from gnmi_fake_schema import FakeSchema

from agent.gnmi.encoding import Encoding, encode_value
from agent.gnmi.errors import GnmiError, path_text
from agent.gnmi.leaf_values import float32_text, is_string_like, normalise_leaf, resolve
from agent.gnmi.schema_info import CachedSchema, cached
from agent.schema.leaf_types import BaseType, LeafType
from agent.schema.path import DataPath, PathElem

WHERE = DataPath.parse("/a/b")


def test_identity_without_module_takes_the_leaf_module_when_no_identities_are_listed() -> None:
    leaf = LeafType(BaseType.IDENTITYREF, module="edge-types")
    assert normalise_leaf("tofino1", leaf, WHERE) == "edge-types:tofino1"
    assert normalise_leaf("other:tofino1", leaf, WHERE) == "other:tofino1"
    assert normalise_leaf("x", LeafType(BaseType.IDENTITYREF), WHERE) == "x"


def test_identity_lists_may_be_qualified_or_not() -> None:
    leaf = LeafType(BaseType.IDENTITYREF, module="m", enum_names=("a", "t:b"))
    assert normalise_leaf("a", leaf, WHERE) == "m:a"
    assert normalise_leaf("b", leaf, WHERE) == "t:b"
    assert normalise_leaf("t:b", leaf, WHERE) == "t:b"
    for bad in ("u:b", "c", ":b", "t:", "a b"):
        with pytest.raises(GnmiError) as excinfo:
            normalise_leaf(bad, leaf, WHERE)
        assert excinfo.value.code == grpc.StatusCode.INVALID_ARGUMENT


def test_enumeration_without_known_names_accepts_any_text() -> None:
    assert normalise_leaf("anything", LeafType(BaseType.ENUMERATION), WHERE) == "anything"


def test_decimal64_without_known_fraction_digits() -> None:
    leaf = LeafType(BaseType.DECIMAL64)
    assert normalise_leaf("1.23456789", leaf, WHERE) == "1.23456789"
    assert normalise_leaf("100", leaf, WHERE) == "100.0"
    assert normalise_leaf("+.5", leaf, WHERE) == "0.5"


def test_union_member_that_accepted_the_value_is_reported() -> None:
    union = LeafType(
        BaseType.UNION,
        members=(LeafType(BaseType.INT32), LeafType(BaseType.ENUMERATION, enum_names=("auto",))),
    )
    kind, value = resolve("auto", union, WHERE)
    assert (kind.base, value) == (BaseType.ENUMERATION, "auto")
    kind, value = resolve("-4", union, WHERE)  # no strict match, lenient int32
    assert (kind.base, value) == (BaseType.INT32, -4)
    with pytest.raises(GnmiError) as excinfo:
        resolve("manual", union, WHERE)
    assert "int32, enumeration" in excinfo.value.message
    assert is_string_like(union) and not is_string_like(LeafType(BaseType.UINT8))


def test_bits_are_normalised_to_single_spaces() -> None:
    assert normalise_leaf(" a   b ", LeafType(BaseType.BITS), WHERE) == "a b"


def test_float32_text_is_the_shortest_that_reads_back() -> None:
    assert float32_text(0.10000000149011612) == "0.1"
    assert float32_text(2.5) == "2.5"
    assert float32_text(16777216.0) == "16777216"


def test_messages_show_modules_only_where_they_change() -> None:
    path = DataPath(
        (
            PathElem("ports", (), "edge-ports"),
            PathElem("port", (("name", "a"),), "edge-ports"),
            PathElem("slices", (), "edge-slices"),
        )
    )
    assert path_text(path) == "/edge-ports:ports/port[name=a]/edge-slices:slices"
    assert path_text(DataPath.root()) == "/"


class CountingSchema:
    """Answers like FakeSchema and counts the questions."""

    def __init__(self) -> None:
        self.inner = FakeSchema()
        self.calls = 0

    def leaf_type(self, path: DataPath) -> LeafType | None:
        self.calls += 1
        return self.inner.leaf_type(path)

    def module_of(self, path: DataPath) -> str | None:
        self.calls += 1
        return self.inner.module_of(path)

    def list_keys(self, path: DataPath) -> tuple[str, ...] | None:
        self.calls += 1
        return self.inner.list_keys(path)


def test_codecs_ask_the_schema_once_per_schema_node() -> None:
    schema = CountingSchema()
    ports = {"port": [{"name": f"eth{i}", "config": {"mtu": i}} for i in range(200)]}
    encode_value(DataPath.parse("/ports"), ports, Encoding.JSON_IETF, schema)
    assert 0 < schema.calls < 20


def test_cached_schema_answers_like_the_schema_and_stays_bounded() -> None:
    schema = CountingSchema()
    memo = CachedSchema(schema, max_entries=2)
    mtu = DataPath.parse("/ports/port[name=a]/config/mtu")
    other_key = DataPath.parse("/ports/port[name=b]/config/mtu")
    assert memo.leaf_type(mtu) == schema.inner.leaf_type(mtu)
    assert memo.leaf_type(other_key) == schema.inner.leaf_type(mtu)
    assert schema.calls == 1  # list keys do not matter
    assert memo.module_of(mtu) == "edge-ports"
    assert memo.list_keys(DataPath.parse("/ports/port")) == ("name",)
    for index in range(5):
        memo.leaf_type(DataPath.parse(f"/unknown{index}"))
    assert len(memo._leaf_types) <= 2
    assert cached(memo) is memo and isinstance(cached(schema), CachedSchema)
