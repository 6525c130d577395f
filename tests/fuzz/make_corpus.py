"""Write the seed corpus of every fuzz target (tests/fuzz/corpus/<target>/): real traffic, fixed keys.

    python tests/fuzz/make_corpus.py

Seeds are what honest nodes send, made in-process with fixed identities, ephemeral keys and nonces,
so the script writes the same bytes every time and the fuzzer starts from inputs that get past each
step: a complete handshake transcript with transport data behind it, every frame type, a session that
reaches LIVE and then receives sync frames, sealed envelopes. Each file starts with the target's own
header (targets.py: mode byte, then a chunk-size byte where the target reads one). Run it again when
the wire format changes (protocol version 2) and commit the result.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import nacl.signing  # noqa: E402

from meshcare import envelope as env  # noqa: E402
from meshcare import wire  # noqa: E402
from meshcare.sync import frames  # noqa: E402
from meshcare.sync.session import QueueLane, Session  # noqa: E402
from meshcare.ids import TopicId  # noqa: E402
from meshcare.crypto.channel import Channel  # noqa: E402
from tests.fuzz import targets as t  # noqa: E402

CORPUS = Path(__file__).resolve().parent / "corpus"
NOW = 1_800_000_000


def sample_envelopes() -> list[env.Envelope]:
    """A few honest envelopes under the fuzz body key (one by a second author)."""
    author = nacl.signing.SigningKey(t.AUTHOR_SEED)
    other = nacl.signing.SigningKey(bytes([4]) * 32)
    out = []
    for i, (key, text, lane) in enumerate([
        (author, b"", env.Lane.NORMAL),
        (author, b"I need someone to talk to", env.Lane.URGENT),
        (other, bytes(range(256)), env.Lane.NORMAL),
    ]):
        out.append(env.seal(signing_key=key, topic=TopicId(t.SHARED_TOPIC), epoch=i, key=t.BODY_KEY, seq=i + 1,
                            lamport=i + 1, created=NOW + i, expires=NOW + 86_400, plaintext=text, lane=lane,
                            prev=b"" if i == 0 else out[-1].id, nonce=bytes([i]) * 24))
    return out


def transcript() -> tuple[bytes, bytes, bytes, Channel, Channel]:
    """An honest XX handshake with the targets' fixed keys: messages 1-3 and both channels."""
    with t.fixed_ephemerals(b"i"):
        initiator = t.initiator_side()
        first = initiator.start()
    with t.fixed_ephemerals(b"r"):
        responder = t.responder_side()
        responder.start()
        second = responder.receive(first)
    third = initiator.receive(second)
    responder.receive(third)
    assert initiator.channel is not None and responder.channel is not None
    return first, second, third, initiator.channel, responder.channel


def handshake_seeds() -> dict[str, bytes]:
    first, second, third, ini, res = transcript()
    to_responder = ini.seal(t.peer_greeting())     # transport data an initiator sends right away
    to_initiator = res.seal(t.peer_greeting())
    r, i, prefix = 0, t.HS_INITIATOR, t.HS_HONEST_FIRST
    return {
        "responder-msg1": bytes([r, 0]) + first,
        "responder-msg1-msg3": bytes([r, 0]) + first + third,
        "responder-msg1-msg3-transport": bytes([r, 0]) + first + third + to_responder,
        "responder-chunked": bytes([r, 5]) + first + third + to_responder,
        "responder-after-msg1": bytes([r | prefix, 0]) + third + to_responder,
        "initiator-msg2": bytes([i, 0]) + second,
        "initiator-msg2-transport": bytes([i, 0]) + second + to_initiator,
        "initiator-after-msg2": bytes([i | prefix, 0]) + to_initiator,
        "initiator-chunked": bytes([i, 3]) + second + to_initiator,
    }


def sample_frames() -> list[wire.Frame]:
    ids = [bytes([n]) * 32 for n in range(3)]
    envelopes = sample_envelopes()
    return [
        frames.Ping(7), frames.Pong(2**40), frames.Close(1, "going away"),
        frames.Push(t.SHARED_TOPIC, [e.encoded for e in envelopes], True),
        frames.Hello(wire.WIRE_VERSION, list(frames.FEATURES), wire.MAX_FRAME_SIZE),
        frames.Topics([bytes(16), b"\xff" * 16]),
        frames.IHave(t.SHARED_TOPIC, ids), frames.Graft(t.SHARED_TOPIC, ids[:1]), frames.Prune(t.SHARED_TOPIC),
        frames.Want(t.SHARED_TOPIC, ids), frames.Heads(t.SHARED_TOPIC, b"\x01\x02\x03"),
        frames.Reconcile(t.SHARED_TOPIC, b"\x00\x01"),
    ]


def frame_seeds() -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    stream = b""
    for frame in sample_frames():
        encoded = frames.CODEC.encode(frame)
        body = encoded[wire.HEADER.size:]
        name = type(frame).__name__.lower()
        out[f"unpack-{name}"] = bytes([t.FR_UNPACK]) + body
        out[f"decode-{name}"] = bytes([t.FR_DECODE]) + body
        stream += encoded
    out["unpack-map"] = bytes([t.FR_UNPACK]) + wire.pack({"a": [1, -1, 2**63 - 1, None, True, 1.5, b"x"]})
    out["stream-all"] = bytes([t.FR_STREAM, 0]) + stream
    out["stream-chunked"] = bytes([t.FR_STREAM, 3]) + stream
    return out


def session_seeds() -> dict[str, bytes]:
    """Frames an honest peer sends once live (its Push carries compact envelopes, as on a link)."""
    peer = Session(t.HANDSHAKE_HASH, t.PEER_TOPICS)
    greeting = peer.take_output()
    envelopes = sample_envelopes()
    ids: list[bytes] = [bytes(e.id) for e in envelopes]
    peer.send(frames.Push(t.SHARED_TOPIC, [e.encoded for e in envelopes[:2]]), QueueLane.URGENT)
    peer.send(frames.IHave(t.SHARED_TOPIC, ids))
    peer.send(frames.Graft(t.SHARED_TOPIC, ids[:1]))
    peer.send(frames.Want(t.SHARED_TOPIC, ids[1:]))
    peer.send(frames.Prune(t.SHARED_TOPIC))
    peer.send(frames.Heads(t.SHARED_TOPIC, b"\x01\x02"))
    peer.send(frames.Reconcile(t.SHARED_TOPIC, b"\x00"))
    peer.send(frames.Ping(1), QueueLane.URGENT)
    peer.send(frames.Push(t.SHARED_TOPIC, [envelopes[2].encoded], True), QueueLane.BULK)
    live = peer.take_output()
    peer.set_topics(frozenset({b"B" * 16}))
    peer.close(1, "leaving")
    goodbye = peer.take_output()
    hello = t.SE_HONEST_HELLO
    return {
        "greeting-only": bytes([0, 0]) + greeting,
        "greeting-live": bytes([0, 0]) + greeting + live,
        "after-hello-live": bytes([hello, 0]) + live,
        "after-hello-live-chunked": bytes([hello, 9]) + live,
        "after-hello-goodbye": bytes([hello, 0]) + live + goodbye,
        "after-hello-change-topics": bytes([hello | t.SE_CHANGE_TOPICS, 0]) + live,
    }


def envelope_seeds() -> dict[str, bytes]:
    return {f"envelope-{n}": e.encoded for n, e in enumerate(sample_envelopes())}


SEEDS = {"handshake": handshake_seeds, "frames": frame_seeds, "session": session_seeds,
         "envelope": envelope_seeds}


def main() -> None:
    for target, make in SEEDS.items():
        folder = CORPUS / target
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        seeds = make()
        for name, data in seeds.items():
            (folder / name).write_bytes(data)
        print(f"{target}: {len(seeds)} seeds, {sum(map(len, seeds.values()))} bytes")


if __name__ == "__main__":
    main()
