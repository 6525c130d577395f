"""The fuzz targets: plain functions from bytes to nothing, shared by atheris and the replay tests.

A target *passes* an input when the code under test returns or raises ``RemoteProtocolError`` (the
peer's fault: the node closes that link and keeps running). Any other exception is a crash: the
daemon would treat it as its own bug. Targets also check a few invariants the rest of the node relies
on (a decoded frame or envelope re-encodes to itself); a broken one raises ``InvariantBroken``.

Inputs are raw bytes with a small header read by the target itself (no atheris data provider), so a
crasher file replays without atheris: byte 0 picks a mode, byte 1 (where used) the chunk size in which
the rest is fed (0: all at once), to exercise stream reassembly.

Randomness: the Noise ephemeral keys are drawn from a fixed sequence while a target runs, so recorded
handshake transcripts (the seed corpus) stay valid across runs and the fuzzer can mutate the third
handshake message and the first transport messages, not only the first.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Final

from meshcare import envelope as env
from meshcare.sync import frames as sync_frames
from meshcare.sync.compact import AuthorTable, compact, expand
from meshcare.sync.session import Session
from meshcare.crypto import noise
from meshcare.crypto.channel import Handshake
from meshcare.crypto.keys import Identity
from meshcare.errors import RemoteProtocolError
from meshcare.wire import Frame, unpack_strict

INITIATOR: Final = Identity.from_seed(bytes([1]) * 32, "fuzz-initiator")
RESPONDER: Final = Identity.from_seed(bytes([2]) * 32, "fuzz-responder")
INITIATOR_PORT: Final = 4001
RESPONDER_PORT: Final = 4002
HANDSHAKE_HASH: Final = bytes(range(64))           # the link a fuzzed Session believes it is on
SHARED_TOPIC: Final = b"S" * 16
OUR_TOPICS: Final = frozenset({SHARED_TOPIC, b"A" * 16})
PEER_TOPICS: Final = frozenset({SHARED_TOPIC, b"B" * 16})
BODY_KEY: Final = b"K" * 32                         # the epoch key the envelope target opens with
AUTHOR_SEED: Final = bytes([3]) * 32


class InvariantBroken(Exception):
    """A target's own check failed (e.g. a decoded frame does not re-encode to itself): a crash."""


@contextmanager
def fixed_ephemerals(role: bytes) -> Iterator[None]:
    """Noise ephemeral keys from ``role``'s fixed sequence for the duration (restored afterwards).

    Each side of an XX handshake draws exactly one ephemeral (the initiator in ``start``, the
    responder when it answers message 1), so the two roles use two sequences: b"i" and b"r".
    """
    counter = 0

    def next_key() -> bytes:
        nonlocal counter
        counter += 1
        return hashlib.blake2b(role + counter.to_bytes(4, "big"), digest_size=32,
                               person=b"fuzz-ephemeral").digest()

    saved = noise.generate_private_key
    noise.generate_private_key = next_key
    try:
        yield
    finally:
        noise.generate_private_key = saved


def chunks(data: bytes, size: int) -> list[bytes]:
    """``data`` in pieces of ``size`` bytes (all at once for 0), as a socket might deliver it."""
    if size == 0 or not data:
        return [data]
    return [data[i:i + size] for i in range(0, len(data), size)]


# --- (a) the Noise handshake ------------------------------------------------------------------------

HS_INITIATOR: Final = 1       # mode bit: we are the initiator (else the responder)
HS_HONEST_FIRST: Final = 2    # mode bit: the honest peer's next message comes first, then the fuzz bytes


def initiator_side() -> Handshake:
    return Handshake(INITIATOR, True, INITIATOR_PORT)


def responder_side() -> Handshake:
    return Handshake(RESPONDER, False, RESPONDER_PORT)


def honest_prefix(initiator: bool) -> bytes:
    """The honest peer's next message for our role: message 1 (we respond) or message 2 (we initiate)."""
    with fixed_ephemerals(b"i"):
        honest_initiator = initiator_side()
        first = honest_initiator.start()
    if not initiator:
        return first
    with fixed_ephemerals(b"r"):
        honest_responder = responder_side()
        honest_responder.start()
        return honest_responder.receive(first)


def handshake(data: bytes) -> None:
    """One side of the XX handshake fed peer bytes, then (once established) transport messages."""
    if len(data) < 2:
        return
    mode, size, stream = data[0], data[1], data[2:]
    initiator = bool(mode & HS_INITIATOR)
    if mode & HS_HONEST_FIRST:
        stream = honest_prefix(initiator) + stream
    with fixed_ephemerals(b"i" if initiator else b"r"):
        me = initiator_side() if initiator else responder_side()
        me.start()
        try:
            for piece in chunks(stream, size):
                me.receive(piece)
            if me.channel is not None:
                me.channel.seal(b"after the handshake")
        except RemoteProtocolError:
            return


# --- (b) the frame decoder ---------------------------------------------------------------------------

FR_UNPACK: Final = 0      # mode: wire.unpack_strict on the rest
FR_DECODE: Final = 1      # mode: one frame body through FrameCodec.decode
FR_STREAM: Final = 2      # mode: a byte stream through FrameDecoder (byte 1: chunk size)

_PLAIN: Final = (type(None), bool, int, float, str, bytes)


def _check_plain(obj: object) -> None:
    """``unpack_strict`` promises plain msgpack only: no extension types (docs/protocol.md).

    Iterative: msgpack nests up to 1,024 levels, deeper than Python's recursion limit.
    """
    stack = [obj]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif type(item) not in _PLAIN:
            raise InvariantBroken(f"unpack_strict returned a {type(item).__name__}, not plain msgpack")


def _check_roundtrip(frame: Frame) -> None:
    again = sync_frames.CODEC.decoder().feed(sync_frames.CODEC.encode(frame))
    if again != [frame]:
        raise InvariantBroken(f"{frame!r} re-decoded as {again!r}")


def frames(data: bytes) -> None:
    """unpack_strict, FrameCodec.decode and the stream FrameDecoder on peer bytes."""
    if not data:
        return
    mode, rest = data[0] % 3, data[1:]
    try:
        if mode == FR_UNPACK:
            _check_plain(unpack_strict(rest))
        elif mode == FR_DECODE:
            _check_roundtrip(sync_frames.CODEC.decode(rest))
        else:
            size, stream = (rest[0], rest[1:]) if rest else (0, b"")
            decoder = sync_frames.CODEC.decoder(max_size=64 * 1024)
            for piece in chunks(stream, size):
                for frame in decoder.feed(piece):
                    _check_roundtrip(frame)
    except RemoteProtocolError:
        return


# --- (c) the session ---------------------------------------------------------------------------------

SE_HONEST_HELLO: Final = 1   # mode bit: an honest peer's Hello and Topics come first (reach LIVE)
SE_CHANGE_TOPICS: Final = 2  # mode bit: change our topics and close at the end


def peer_greeting() -> bytes:
    """What an honest peer on the same link sends first: Hello, then Topics."""
    return Session(HANDSHAKE_HASH, PEER_TOPICS).take_output()


def session(data: bytes) -> None:
    """Session.receive_data on peer bytes (after a valid Hello when the mode says so)."""
    if len(data) < 2:
        return
    mode, size, stream = data[0], data[1], data[2:]
    if mode & SE_HONEST_HELLO:
        stream = peer_greeting() + stream
    me = Session(HANDSHAKE_HASH, OUR_TOPICS, queue_limit=64 * 1024)
    try:
        for piece in chunks(stream, size):
            if me.closed:
                break
            me.receive_data(piece)
            me.take_output(max_bytes=4096)
        if mode & SE_CHANGE_TOPICS and not me.closed:
            me.set_topics(frozenset({SHARED_TOPIC}))
            me.close(1, "fuzz done")
            me.take_output()
    except RemoteProtocolError:
        return


# --- (d) the envelope parser -------------------------------------------------------------------------


def envelope(data: bytes) -> None:
    """envelope.decode, then verify and open_body (and the compact form) on what decodes."""
    try:
        decoded = env.decode(data)
    except RemoteProtocolError:
        return
    again = env.decode(decoded.encoded)
    if again != decoded or again.id != decoded.id:
        raise InvariantBroken("a decoded envelope does not decode to itself")
    record = compact(decoded.encoded, AuthorTable())  # a fresh table introduces the author inline
    if expand(record, decoded.topic, AuthorTable()) != decoded.encoded:
        raise InvariantBroken("the compact form of an envelope does not expand to it")
    try:
        env.verify(decoded)
    except RemoteProtocolError:
        pass
    try:
        env.open_body(decoded, BODY_KEY)
    except RemoteProtocolError:
        pass


TARGETS: Final[dict[str, Callable[[bytes], None]]] = {
    "handshake": handshake,
    "frames": frames,
    "session": session,
    "envelope": envelope,
}
