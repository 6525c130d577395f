"""Ops for tests and benchmarks: topics joined by a bare secret, without a circle. Pure.

``topic.join``, ``topic.publish`` and ``topic.ids`` drive the sync engine directly: anyone may sync such
a topic and any validly signed envelope is accepted (``Node.plain_topics``). They are not in the default
op table nor in the control API's registries (docs/control.md does not list them); ``meshcare daemon
--bench-ops`` adds ``BENCH_OPS`` (benchmarks, process tests), and in-process tests pass them to
``Daemon(extra_ops=BENCH_OPS)``. Their requests and results are typed records like every other op's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Final

from .. import envelope as env
from ..control.request_base import Request
from ..control.results import Result
from ..control.schema import Flag, Hex, Int, Seq, Shape, Text, arg, key
from ..control.shapes import kind_of
from ..crypto import kdf
from ..errors import BadInput
from ..ids import TopicId
from ..node import Node
from ..node_events import Authored, Effect, PlainTopicJoined
from ..ranges import KEY_MAX, KEY_MIN
from .table import Op, Operation

TTL: Final = 30 * 86_400
MAX_COUNT: Final = 100_000
MIN_SECRET: Final = 16

OP_TOPIC_JOIN: Final = "topic.join"
OP_TOPIC_PUBLISH: Final = "topic.publish"
OP_TOPIC_IDS: Final = "topic.ids"


@dataclass(frozen=True)
class _Secret(Shape):
    """A topic's secret: hex text (what JSON carries) or raw bytes, at least ``MIN_SECRET`` bytes."""

    def check(self, value: object, noun: str, where: str | None = None) -> Any:
        secret = value
        if isinstance(value, str):
            try:
                secret = bytes.fromhex(value)
            except ValueError:
                raise BadInput(f"{noun} must be hex") from None
        if not isinstance(secret, bytes) or len(secret) < MIN_SECRET:
            raise BadInput(f"{noun} must be at least {MIN_SECRET} bytes, not {kind_of(value)}")
        return secret

    def dump(self, value: Any) -> Any:
        return value.hex()

    def describe(self) -> str:
        return f"hex, at least {MIN_SECRET} bytes"


def _secret_arg() -> Any:
    return arg(_Secret(), "the topic's secret (its id is derived from it)", noun="the secret")


@dataclass(frozen=True, slots=True, kw_only=True)
class TopicJoinResult(Result):
    """The topic joined."""

    OP: ClassVar[str] = OP_TOPIC_JOIN
    topic: str = key(Hex(16), "the topic's id")


@dataclass(frozen=True, slots=True, kw_only=True)
class TopicJoin(Request[TopicJoinResult]):
    """Sync a topic named by a bare secret (no circle around it)."""

    OP = OP_TOPIC_JOIN
    secret: bytes = _secret_arg()


@dataclass(frozen=True, slots=True, kw_only=True)
class TopicPublishResult(Result):
    """The envelopes published, in order."""

    OP: ClassVar[str] = OP_TOPIC_PUBLISH
    id: str = key(Hex(32), "the first envelope's id")
    ids: tuple[str, ...] = key(Seq(Hex(32)), "every envelope's id")


@dataclass(frozen=True, slots=True, kw_only=True)
class TopicPublish(Request[TopicPublishResult]):
    """Publish ``count`` envelopes with ``text`` (numbered when more than one) in a joined topic."""

    OP = OP_TOPIC_PUBLISH
    secret: bytes = _secret_arg()
    text: str = arg(Text(), "the body", noun="the text", default="")
    count: int = arg(Int(1, MAX_COUNT), "how many envelopes", noun="the count", default=1)
    urgent: bool = arg(Flag(), "in the urgent lane", noun="urgent", default=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class TopicIdsResult(Result):
    """The ids the store holds for the topic."""

    OP: ClassVar[str] = OP_TOPIC_IDS
    ids: tuple[str, ...] = key(Seq(Hex(32)), "in the store's key order")


@dataclass(frozen=True, slots=True, kw_only=True)
class TopicIds(Request[TopicIdsResult]):
    """The envelope ids this node stores for a topic."""

    OP = OP_TOPIC_IDS
    secret: bytes = _secret_arg()


def topic_join(node: Node, req: TopicJoin, now: float) -> tuple[TopicJoinResult, list[Effect]]:
    topic = _topic(req.secret)
    return TopicJoinResult(topic=topic.hex()), node.handle(PlainTopicJoined(topic), now)


def topic_publish(node: Node, req: TopicPublish, now: float) -> tuple[TopicPublishResult, list[Effect]]:
    """``count`` envelopes (1 by default) with ``text`` (numbered when more than one), urgent or not."""
    topic = _topic(req.secret)
    if topic not in node.plain_topics:
        raise BadInput("join the topic first (topic.join)")
    key_ = kdf.derive_key(kdf.derive_key(req.secret, kdf.EPOCH_ZERO), kdf.EPOCH_BODY, topic)
    lane = env.Lane.URGENT if req.urgent else env.Lane.NORMAL
    made = []
    t = int(now)
    for i in range(req.count):
        seq = node.next_plain_seq(topic)
        body = req.text.encode() if req.count == 1 else f"{i:08d}{req.text}".encode()
        made.append((topic, env.seal(signing_key=node.identity.signing_key, topic=topic, epoch=0, key=key_, seq=seq,
                                     lamport=seq, created=t, expires=t + TTL, plaintext=body, lane=lane,
                                     prev=env.filler_prev(seq))))
    ids = tuple(e.id.hex() for _, e in made)
    return TopicPublishResult(id=ids[0], ids=ids), node.handle(Authored(tuple(made)), now)


def topic_ids(node: Node, req: TopicIds, now: float) -> tuple[TopicIdsResult, list[Effect]]:
    keys = node.store.keys(_topic(req.secret), KEY_MIN, KEY_MAX, int(now))
    return TopicIdsResult(ids=tuple(k.id.hex() for k in keys)), []


#: Added to the op table only on request (see the module docstring).
BENCH_OPS: Final[Mapping[str, Operation]] = {
    OP_TOPIC_JOIN: Op(TopicJoin, topic_join),             # "topic.join"
    OP_TOPIC_PUBLISH: Op(TopicPublish, topic_publish),    # "topic.publish"
    OP_TOPIC_IDS: Op(TopicIds, topic_ids),                # "topic.ids"
}


def _topic(secret: bytes) -> TopicId:
    return TopicId(kdf.derive_key(secret, kdf.TOPIC, size=16))
