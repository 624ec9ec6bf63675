"""RFC 6242 framing: end-of-message and chunks, limits, and what cannot be resynced."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.northbound.netconf.framing import (
    PREFIX_BYTES,
    Deframer,
    Framing,
    FramingError,
    TooBig,
    encode,
)


def drain(deframer: Deframer) -> list[bytes | TooBig]:
    found = []
    while (item := deframer.next()) is not None:
        found.append(item)
    return found


def feed_in_pieces(deframer: Deframer, data: bytes, cuts: list[int]) -> list[bytes | TooBig]:
    found: list[bytes | TooBig] = []
    start = 0
    for cut in [*sorted({c % (len(data) + 1) for c in cuts}), len(data)]:
        deframer.feed(data[start:cut])
        found += drain(deframer)
        start = cut
    return found


def chunked(deframer: Deframer) -> Deframer:
    deframer.switch(Framing.CHUNKED)
    return deframer


def test_end_of_message() -> None:
    deframer = Deframer(1000)
    deframer.feed(b"<a/>]]>]]><b/>]]>")
    assert drain(deframer) == [b"<a/>"]
    deframer.feed(b"]]>")
    assert drain(deframer) == [b"<b/>"]
    assert deframer.idle and deframer.buffered == 0


def test_chunks() -> None:
    deframer = chunked(Deframer(1000))
    deframer.feed(b'\n#4\n<rpc\n#17\n message-id="102"\n#3\n/>\n\n##\n\n#1\nx\n##\n')
    assert drain(deframer) == [b'<rpc message-id="102"/>\n', b"x"]


@given(
    st.lists(st.binary(min_size=1, max_size=300), min_size=1, max_size=5),
    st.lists(st.integers(min_value=0, max_value=5000), max_size=20),
    st.sampled_from(list(Framing)),
)
def test_any_split_of_the_stream_gives_the_same_messages(
    messages: list[bytes], cuts: list[int], framing: Framing
) -> None:
    if framing is Framing.END_OF_MESSAGE:
        # base:1.0 messages cannot hold the delimiter (nor end in a part of it)
        messages = [m.replace(b"]", b"") or b"x" for m in messages]
    stream = b"".join(encode(m, framing) for m in messages)
    deframer = Deframer(10_000)
    deframer.switch(framing)
    assert feed_in_pieces(deframer, stream, cuts) == messages


def test_large_messages_in_many_chunks_and_one() -> None:
    body = bytes(range(256)) * 4096
    for stream in (
        encode(body, Framing.CHUNKED),
        b"".join(
            b"\n#%d\n" % len(body[i : i + 999]) + body[i : i + 999]
            for i in range(0, len(body), 999)
        )
        + b"\n##\n",
    ):
        deframer = chunked(Deframer(len(body)))
        assert feed_in_pieces(deframer, stream, list(range(0, len(stream), 65536))) == [body]


@pytest.mark.parametrize(
    "stream",
    [
        b"<rpc/>",  # no chunk header at all
        b"\n#0\n",  # chunk sizes start at 1
        b"\n#007\nabcdefg\n##\n",  # no leading zeros
        b"\n#12a\n",
        b"\n#\n",
        b"\n#99999999999\n",  # more digits than any valid size
        b"\n#4294967296\n",  # above 2^32 - 1
        b"\n##\n",  # end of chunks before any chunk
        b"\n#3\nabc\n#\n",
        b"\n#3\nabcX",  # no header after the chunk
        b"\n#3\nabc\n##X",
    ],
)
def test_broken_chunk_framing_raises(stream: bytes) -> None:
    deframer = chunked(Deframer(1000))
    deframer.feed(stream)
    with pytest.raises(FramingError):
        drain(deframer)


def test_incomplete_headers_wait_for_more() -> None:
    deframer = chunked(Deframer(1000))
    for piece in (b"\n", b"#", b"1", b"2", b"\n", b"x" * 12, b"\n#", b"#", b"\n"):
        assert drain(deframer) == []
        deframer.feed(piece)
    assert drain(deframer) == [b"x" * 12]


@pytest.mark.parametrize("framing", list(Framing))
def test_an_oversized_message_is_dropped_and_the_next_one_served(framing: Framing) -> None:
    big = b'<rpc message-id="9">' + b"y" * 50_000 + b"</rpc>"
    stream = encode(big, framing) + encode(b"<next/>", framing)
    deframer = Deframer(1000)
    deframer.switch(framing)
    found = feed_in_pieces(deframer, stream, list(range(0, len(stream), 700)))
    assert len(found) == 2 and found[1] == b"<next/>"
    too_big = found[0]
    assert isinstance(too_big, TooBig) and too_big.size == len(big)
    assert too_big.prefix == big[:PREFIX_BYTES]
    assert deframer.buffered < 1000 + 8  # never held the whole message


def test_the_framing_switches_only_between_messages() -> None:
    deframer = Deframer(1000)
    deframer.feed(b"<hello/>]]>]]>\n#3\nabc\n##\n")
    assert deframer.next() == b"<hello/>"
    deframer.switch(Framing.CHUNKED)  # the bytes already received follow the new framing
    assert deframer.next() == b"abc"
    deframer.feed(b"\n#3\nab")
    assert deframer.next() is None
    with pytest.raises(FramingError):
        deframer.switch(Framing.END_OF_MESSAGE)


def test_encode() -> None:
    assert encode(b"<a/>", Framing.END_OF_MESSAGE) == b"<a/>]]>]]>"
    assert encode(b"<a/>", Framing.CHUNKED) == b"\n#4\n<a/>\n##\n"
    with pytest.raises(ValueError):
        encode(b"", Framing.CHUNKED)
