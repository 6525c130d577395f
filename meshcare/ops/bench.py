"""Ops for tests and benchmarks: topics joined by a bare secret, without a circle. Pure.

``topic.join``, ``topic.publish`` and ``topic.ids`` drive the sync engine directly: anyone may sync such
a topic and any validly signed envelope is accepted (``Node.plain_topics``). They are not in the default
op table; ``meshcare daemon --bench-ops`` adds ``BENCH_OPS`` (benchmarks, process tests), and in-process
tests pass them to ``Daemon(extra_ops=BENCH_OPS)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from .. import envelope as env
from ..crypto import kdf
from ..errors import BadInput
from ..ids import TopicId
from ..node import Node
from ..node_events import Authored, Effect, PlainTopicJoined
from ..ranges import KEY_MAX, KEY_MIN
from .common import Args, Operation, Result

TTL: Final = 30 * 86_400
MAX_COUNT: Final = 100_000


def topic_join(node: Node, args: Args, now: float) -> tuple[Result, list[Effect]]:
    topic = _topic(_secret(args))
    return {"topic": topic.hex()}, node.handle(PlainTopicJoined(topic), now)


def topic_publish(node: Node, args: Args, now: float) -> tuple[Result, list[Effect]]:
    """``count`` envelopes (1 by default) with ``text`` (numbered when more than one), urgent or not."""
    secret = _secret(args)
    topic = _topic(secret)
    if topic not in node.plain_topics:
        raise BadInput("join the topic first (topic.join)")
    text = args.get("text", "")
    count = args.get("count", 1)
    if not isinstance(text, str) or type(count) is not int or not 1 <= count <= MAX_COUNT:
        raise BadInput("text must be a string and count an integer from 1 to 100000")
    key = kdf.derive_key(kdf.derive_key(secret, kdf.EPOCH_ZERO), kdf.EPOCH_BODY, topic)
    lane = env.Lane.URGENT if args.get("urgent") else env.Lane.NORMAL
    made = []
    t = int(now)
    for i in range(count):
        seq = node.next_plain_seq(topic)
        body = text.encode() if count == 1 else f"{i:08d}{text}".encode()
        made.append((topic, env.seal(signing_key=node.identity.signing_key, topic=topic, epoch=0, key=key, seq=seq,
                                     lamport=seq, created=t, expires=t + TTL, plaintext=body, lane=lane,
                                     prev=env.filler_prev(seq))))
    ids = [e.id.hex() for _, e in made]
    return {"id": ids[0], "ids": ids}, node.handle(Authored(tuple(made)), now)


def topic_ids(node: Node, args: Args, now: float) -> tuple[Result, list[Effect]]:
    keys = node.store.keys(_topic(_secret(args)), KEY_MIN, KEY_MAX, int(now))
    return {"ids": [k.id.hex() for k in keys]}, []


#: Added to the op table only on request (see the module docstring).
BENCH_OPS: Final[Mapping[str, Operation]] = {
    "topic.join": topic_join,
    "topic.publish": topic_publish,
    "topic.ids": topic_ids,
}


def _topic(secret: bytes) -> TopicId:
    return TopicId(kdf.derive_key(secret, kdf.TOPIC, size=16))


def _secret(args: Args) -> bytes:
    secret = args.get("secret")
    if isinstance(secret, str):
        try:
            secret = bytes.fromhex(secret)
        except ValueError:
            raise BadInput("secret must be hex") from None
    if not isinstance(secret, bytes) or len(secret) < 16:
        raise BadInput("secret must be at least 16 bytes")
    return secret
