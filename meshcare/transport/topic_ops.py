"""Topics joined by a bare secret over the control socket, without a circle: tests and benchmarks use
them to drive the sync engine directly (``topic.join``, ``topic.publish``, ``topic.ids``). Mixed into
``Daemon``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from .. import envelope as env
from ..sync import events as ev
from ..crypto import kdf
from ..crypto.keys import Identity
from ..errors import BadInput
from ..ids import TopicId
from ..ranges import KEY_MAX, KEY_MIN
from ..store import Store


@dataclass(frozen=True, slots=True)
class TestTopic:
    """A topic joined by secret over the control socket (until circles exist: tests and benchmarks)."""

    topic: TopicId
    key: bytes


class _Host(Protocol):
    identity: Identity
    store: Store
    topics: dict[TopicId, TestTopic]
    _seq: int

    def now(self) -> float: ...
    def sync_topics(self) -> None: ...
    def _event(self, event: ev.Event, *, flush: bool = True) -> None: ...
    def _flush(self) -> None: ...


class TopicOps:
    """The ``topic.*`` control ops."""

    def op_topic_join(self: _Host, args: dict[str, Any]) -> dict[str, Any]:
        secret = _secret(args)
        topic = TopicId(kdf.derive_key(secret, kdf.TOPIC, size=16))
        self.topics[topic] = TestTopic(topic, kdf.derive_key(kdf.derive_key(secret, kdf.EPOCH_ZERO), kdf.EPOCH_BODY, topic))
        self.sync_topics()
        return {"topic": topic.hex()}

    def op_topic_publish(self: _Host, args: dict[str, Any]) -> dict[str, Any]:
        secret = _secret(args)
        topic = TopicId(kdf.derive_key(secret, kdf.TOPIC, size=16))
        joined = self.topics.get(topic)
        if joined is None:
            raise BadInput("join the topic first (topic.join)")
        text = args.get("text", "")
        count = args.get("count", 1)
        if not isinstance(text, str) or type(count) is not int or not 1 <= count <= 100_000:
            raise BadInput("text must be a string and count an integer from 1 to 100000")
        ids = []
        lane = env.Lane.URGENT if args.get("urgent") else env.Lane.NORMAL
        for i in range(count):
            now = int(self.now())
            self._seq = max(self._seq, self.store.max_seq(topic, self.identity.node_id)) + 1
            body = text.encode() if count == 1 else f"{i:08d}{text}".encode()
            envelope = env.seal(signing_key=self.identity.signing_key, topic=topic, epoch=0, key=joined.key,
                                seq=self._seq, lamport=self._seq, created=now, expires=now + 30 * 86_400,
                                plaintext=body, lane=lane, prev=env.filler_prev(self._seq))
            self._event(ev.Published(envelope), flush=False)
            ids.append(envelope.id.hex())
        self._flush()
        return {"id": ids[0], "ids": ids}

    def op_topic_ids(self: _Host, args: dict[str, Any]) -> dict[str, Any]:
        secret = _secret(args)
        topic = TopicId(kdf.derive_key(secret, kdf.TOPIC, size=16))
        keys = self.store.keys(topic, KEY_MIN, KEY_MAX, int(self.now()))
        return {"ids": [k.id.hex() for k in keys]}


def _secret(args: dict[str, Any]) -> bytes:
    secret = args.get("secret")
    if isinstance(secret, str):
        try:
            secret = bytes.fromhex(secret)
        except ValueError:
            raise BadInput("secret must be hex") from None
    if not isinstance(secret, bytes) or len(secret) < 16:
        raise BadInput("secret must be at least 16 bytes")
    return secret
