"""Framing and the strict frame codec."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import msgpack
import pytest
from hypothesis import given
from hypothesis import strategies as st

from meshcare import wire
from meshcare.sync.frames import Close, Ping, Pong, Push
from meshcare.errors import FrameTooLarge, LocalProtocolError, RemoteProtocolError

CODEC = wire.FrameCodec((Ping, Pong, Close, Push))

frames = st.one_of(
    st.builds(Ping, st.integers(wire.INT_MIN, wire.INT_MAX)),
    st.builds(Pong, st.integers(0, 2**32)),
    st.builds(Close, st.integers(0, 100), st.text(max_size=50)),
    st.builds(Push, st.binary(min_size=16, max_size=16), st.lists(st.binary(max_size=300), max_size=5),
              st.booleans()),
)


def chunked(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)])]


@given(st.lists(frames, max_size=8), st.lists(st.integers(0, 10_000), max_size=20))
def test_any_chunking_yields_the_same_frames(items, cuts):
    data = b"".join(CODEC.encode(f) for f in items)
    dec = CODEC.decoder()
    out = []
    for chunk in chunked(data, cuts):
        out += dec.feed(chunk)
    assert out == items
    assert dec.at_boundary()


@given(st.binary(max_size=2000), st.lists(st.integers(0, 5000), max_size=10))
def test_arbitrary_bytes_never_hang_or_grow_past_cap(data, cuts):
    cap = 64
    dec = CODEC.decoder(max_size=cap)
    try:
        for chunk in chunked(data, cuts):
            dec.feed(chunk)
            assert dec.buffered <= cap + 4
    except RemoteProtocolError:
        with pytest.raises(RemoteProtocolError):  # a failed stream stays failed
            dec.feed(b"")


def test_oversize_announcement_fails_before_buffering():
    dec = CODEC.decoder(max_size=1000)
    with pytest.raises(FrameTooLarge):
        dec.feed(wire.HEADER.pack(1001))
    assert dec.buffered == 0


def test_huge_feed_buffers_at_most_one_frame():
    body = msgpack.packb([1, 7])
    stream = wire.encode_frame(body) * 10_000 + wire.HEADER.pack(len(body)) + body[:1]
    dec = CODEC.decoder(max_size=16)
    out = dec.feed(stream)
    assert len(out) == 10_000 and dec.buffered == 1 and not dec.at_boundary()


def test_encode_over_cap_is_local_error():
    with pytest.raises(LocalProtocolError):
        wire.encode_frame(b"x" * 11, max_size=10)


@pytest.mark.parametrize("body, match", [
    (msgpack.packb([99, 1]), "unknown frame type"),
    (msgpack.packb([1]), "fields"),
    (msgpack.packb([1, 1, 2]), "fields"),
    (msgpack.packb([1, "1"]), "bad field"),
    (msgpack.packb([1, True]), "bad field"),
    (msgpack.packb([1, 2**64 - 1]), "signed 64-bit"),
    (msgpack.packb([3, 1, b"bytes-not-str"]), "bad field"),
    (msgpack.packb([4, b"t" * 16, ["str"], False]), "bad field"),
    (msgpack.packb([4, b"t" * 16, [], 0]), "bad field"),  # an int is not a bool
    (msgpack.packb({"t": 1}), "expected"),
    (msgpack.packb([]), "expected"),
    (msgpack.packb({1: 2}), "not a single valid"),            # int map key
    (msgpack.packb(msgpack.ExtType(5, b"x")), "not a single valid"),
    (msgpack.packb([1, 1]) + b"\x00", "not a single valid"),  # trailing data
    (b"\xc1", "not a single valid"),
])
def test_strict_decoding(body, match):
    with pytest.raises(RemoteProtocolError, match=match):
        CODEC.decode(body)


def test_string_keyed_maps_and_optionals():
    @dataclasses.dataclass(frozen=True, slots=True)
    class Hello(wire.Frame):
        TYPE: ClassVar[int] = 50
        features: dict[str, int]
        note: str | None

    codec = wire.FrameCodec([Hello])
    frame = Hello({"a": 1}, None)
    assert codec.decoder().feed(codec.encode(frame)) == [frame]
    with pytest.raises(RemoteProtocolError):
        codec.decode(msgpack.packb([50, {"a": "x"}, None]))


def test_codec_rejects_duplicate_types():
    with pytest.raises(LocalProtocolError):
        wire.FrameCodec([Ping, Ping])
