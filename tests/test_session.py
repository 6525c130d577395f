"""Per-link session: two sessions joined in memory; malformed or out-of-order input ends only that one."""

from __future__ import annotations

import msgpack
import pytest
from hypothesis import given
from hypothesis import strategies as st

from meshcare import wire
from meshcare.sync import frames
from meshcare.sync.session import QueueLane, PeerClosed, Session, State, SyncFrame, TopicsChanged, topic_tag
from meshcare.errors import LocalProtocolError, RemoteProtocolError, UnsupportedVersion

from .helpers import make_envelope

HH = b"h" * 64
A_TOPICS = frozenset({b"A" * 16, b"S" * 16})
B_TOPICS = frozenset({b"B" * 16, b"S" * 16})


def pair():
    a, b = Session(HH, A_TOPICS), Session(HH, B_TOPICS)
    ea = a.receive_data(b.take_output())
    eb = b.receive_data(a.take_output())
    return a, b, ea, eb


def test_handshake_reaches_live_with_only_shared_topics():
    a, b, ea, eb = pair()
    assert a.state is b.state is State.LIVE
    assert ea == [TopicsChanged(frozenset({b"S" * 16}), frozenset({b"S" * 16}))]
    assert a.shared == b.shared == frozenset({b"S" * 16})


def test_tags_are_bound_to_the_link():
    assert topic_tag(HH, b"S" * 16) != topic_tag(b"x" * 64, b"S" * 16)
    a = Session(HH, A_TOPICS)
    sent = frames.CODEC.decoder().feed(a.take_output())
    tags = next(f for f in sent if isinstance(f, frames.Topics)).tags
    assert b"A" * 16 not in tags and len(tags) == 2  # topics never travel in the clear


def test_topic_change_while_live():
    a, b, _, _ = pair()
    change = a.set_topics(A_TOPICS | {b"B" * 16})
    assert change is not None and change.added == frozenset({b"B" * 16})  # a already knows b's tags
    events = b.receive_data(a.take_output())
    assert events == [TopicsChanged(frozenset({b"S" * 16, b"B" * 16}), frozenset({b"B" * 16}))]


def test_sync_frames_flow_and_ping_is_answered():
    a, b, _, _ = pair()
    a.send(frames.IHave(b"S" * 16, [b"i" * 32]))
    a.send(frames.Ping(7), QueueLane.URGENT)
    events = b.receive_data(a.take_output())
    assert events == [SyncFrame(frames.IHave(b"S" * 16, [b"i" * 32]))]
    assert frames.CODEC.decoder().feed(b.take_output()) == [frames.Pong(7)]


def test_close_is_orderly():
    a, b, _, _ = pair()
    a.close(0, "bye")
    assert b.receive_data(a.take_output()) == [PeerClosed(0, "bye")]
    assert b.state is State.CLOSED
    with pytest.raises(LocalProtocolError):
        b.receive_data(b"")


def encoded(frame):
    return frames.CODEC.encode(frame)


@pytest.mark.parametrize("data, error", [
    (encoded(frames.IHave(b"S" * 16, [])), "unexpected IHave"),              # before Hello
    (encoded(frames.Topics([])), "unexpected Topics"),                       # before Hello
    (encoded(frames.Hello(2, [], 1000)), "version"),
    (wire.HEADER.pack(1 << 30), "cap"),
    (wire.encode_frame(msgpack.packb([99])), "unknown frame type"),
    (wire.encode_frame(b"\xc1"), "malformed"),
])
def test_bad_first_frames_raise_remote_errors(data, error):
    s = Session(HH, A_TOPICS)
    with pytest.raises(RemoteProtocolError, match=error):
        s.receive_data(data)
    assert s.state is State.AWAIT_HELLO  # unchanged


def test_unshared_topic_and_bad_tags_are_errors():
    a, b, _, _ = pair()
    with pytest.raises(RemoteProtocolError, match="not shared"):
        b.receive_data(encoded(frames.IHave(b"A" * 16, [])))
    a2, b2, _, _ = pair()
    with pytest.raises(RemoteProtocolError, match="malformed Topics"):
        b2.receive_data(encoded(frames.Topics([b"short"])))
    with pytest.raises(RemoteProtocolError, match="unexpected Hello"):
        pair()[1].receive_data(encoded(frames.Hello(1, [], 1000)))


def test_unsupported_version_is_typed():
    with pytest.raises(UnsupportedVersion):
        Session(HH, A_TOPICS).receive_data(encoded(frames.Hello(9, [], 1000)))


@given(st.binary(max_size=300), st.integers(0, 300))
def test_garbage_after_handshake_ends_only_that_session(garbage, cut):
    a, b, _, _ = pair()
    c, d, _, _ = pair()
    try:
        b.receive_data(garbage[:cut])
        b.receive_data(garbage[cut:])
    except RemoteProtocolError:
        pass
    c.send(frames.Prune(b"S" * 16))
    assert d.receive_data(c.take_output()) == [SyncFrame(frames.Prune(b"S" * 16))]


def test_queue_bound_drops_bulk_first_and_counts():
    a = Session(HH, A_TOPICS, queue_limit=2000)
    a.take_output()
    big = frames.Want(b"S" * 16, [b"x" * 32] * 20)  # ~700 bytes
    assert a.send(big, QueueLane.BULK) and a.send(big, QueueLane.BULK)
    assert a.send(big, QueueLane.URGENT)                   # evicts one bulk frame
    assert a.dropped_frames == 1
    assert not a.send(frames.Want(b"S" * 16, [b"x" * 32] * 40), QueueLane.BULK)  # nothing less urgent to evict
    assert a.dropped_frames == 2 and a.queued_bytes <= 2000
    out = frames.CODEC.decoder().feed(a.take_output(max_bytes=1))
    assert len(out) == 1  # at least one frame even under a tiny max_bytes; urgent first
    assert a.queued_bytes > 0


def test_consecutive_pushes_merge_into_one_frame_in_order():
    a, b, _, _ = pair()
    topic = b"S" * 16
    e = [make_envelope(topic=topic, seq=i + 1).encoded for i in range(5)]
    a.send(frames.Push(topic, [e[0]]))
    a.send(frames.Push(topic, [e[1], e[2]]))
    a.send(frames.Prune(topic))                  # a different frame ends the merge
    a.send(frames.Push(topic, [e[3]]))
    a.send(frames.Push(topic, [e[4]], True))       # catch-up pushes do not merge with gossip
    events = b.receive_data(a.take_output())
    assert [ev.frame for ev in events] == [frames.Push(topic, e[0:3]), frames.Prune(topic),
                                           frames.Push(topic, [e[3]]), frames.Push(topic, [e[4]], True)]
    assert a.queued_bytes == 0


def test_pushes_travel_compact_and_arrive_canonical():
    """Envelopes on the wire lose the topic, headers and repeated authors; the receiver rebuilds them."""
    import nacl.signing
    a, b, _, _ = pair()
    topic = b"S" * 16
    authors = [nacl.signing.SigningKey(bytes([k + 1]) * 32) for k in range(3)]
    sent = [make_envelope(authors[i % 3], topic=topic, seq=i + 1, plaintext=b"x" * 200).encoded for i in range(30)]
    for raw in sent:
        a.send(frames.Push(topic, [raw]))
        b.receive_data(a.take_output()) if raw is sent[0] else None
    data = a.take_output()
    (event,) = b.receive_data(data)
    assert event.frame.envelopes == sent[1:]
    assert len(data) < sum(len(r) for r in sent[1:]) - 50 * 29  # ~55 bytes saved per envelope


@given(st.binary(max_size=200))
def test_malformed_compact_records_are_remote_errors(record):
    from meshcare.sync.compact import AuthorTable, expand
    try:
        expand(record, b"S" * 16, AuthorTable())
    except RemoteProtocolError:
        pass


def test_out_of_range_and_unknown_author_records_are_remote_errors():
    from meshcare.sync.compact import LITERAL, AuthorTable, expand
    huge = b"\xff" * 9 + b"\x7f"  # a 70-bit varint
    with pytest.raises(RemoteProtocolError):
        expand(bytes([LITERAL]) + b"A" * 32 + huge + b"\x00" * 200, b"S" * 16, AuthorTable())
    with pytest.raises(RemoteProtocolError, match="never introduced"):
        expand(b"\x03" + b"\x00" * 200, b"S" * 16, AuthorTable())
