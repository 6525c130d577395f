"""One link's session: hello, topic intersection, then live sync. Bytes in, events out.

Theory of operation
-------------------
Both sides speak first: on open each queues ``Hello`` and ``Topics``. The state machine (``TRANSITIONS``)
accepts, per state, only the frame types listed; anything else is a ``RemoteProtocolError`` that ends
this session only, and leaves the state unchanged::

    AWAIT_HELLO --Hello--> AWAIT_TOPICS --Topics--> LIVE --Close--> CLOSED
         (Ping/Pong/Close are accepted in every open state)

Topic intersection: each side sends ``topic_tag(handshake_hash, topic)`` for every topic it syncs;
the shared topics are those whose tag both sent. A peer learns nothing about topics it does not know
(the tag is a keyed hash) and a tag seen on one link means nothing on another.

Outgoing frames wait in three lanes: URGENT (calls for support, control), LIVE (gossip), BULK
(catch-up). ``take_output`` drains urgent first and coalesces frames into one write. The queue is bounded
in bytes; when full, BULK frames are dropped first (reconciliation will find them again later), then
the new frame itself if it is not more urgent than anything queued. Drops are counted.
"""

from __future__ import annotations

import hashlib
from collections import deque
from dataclasses import dataclass
from enum import Enum, IntEnum
from typing import Final

from ..errors import LocalProtocolError, RemoteProtocolError, UnsupportedVersion
from ..wire import MAX_FRAME_SIZE, WIRE_VERSION, Frame
from .compact import AuthorTable, compact, expand
from .frames import ALWAYS_FRAMES, CODEC, FEATURES, TOPIC_FRAMES, Close, Hello, Ping, Pong, Push, Topics

TAG_SIZE: Final = 16
#: Tags one Topics frame may carry (a peer's longer list is a protocol error; the node offers at most this).
MAX_TAGS: Final = 4096
_TAG_PERSON: Final = b"meshcare-tag-v1"  # BLAKE2b personalisation (<= 16 bytes)


def topic_tag(handshake_hash: bytes, topic: bytes) -> bytes:
    """Keyed tag of a topic for one link: reveals the topic only to a peer that already knows it."""
    return hashlib.blake2b(topic, key=handshake_hash[:64], digest_size=TAG_SIZE, person=_TAG_PERSON).digest()


_MERGE_LIMIT: Final = 200_000  # bytes of envelopes one merged Push may carry (the frame cap is 256 KiB)


class _OpenPush:
    """A Push still accepting envelopes; encoded when taken. ``size`` is an upper bound of its bytes."""

    __slots__ = ("topic", "envelopes", "catchup", "size")

    def __init__(self, topic: bytes, envelopes: list[bytes], catchup: bool, size: int) -> None:
        self.topic, self.envelopes, self.catchup, self.size = topic, envelopes, catchup, size

    def encode(self, authors: AuthorTable) -> tuple[bytes, int]:
        """The frame, and how many of its bytes are envelope records (the rest is control overhead)."""
        records = [compact(e, authors) for e in self.envelopes]
        return CODEC.encode(Push(self.topic, records, self.catchup)), sum(len(r) for r in records)


def _size(item: bytes | _OpenPush) -> int:
    return len(item) if isinstance(item, bytes) else item.size


class State(Enum):
    AWAIT_HELLO = "await-hello"
    AWAIT_TOPICS = "await-topics"
    LIVE = "live"
    CLOSED = "closed"


class QueueLane(IntEnum):
    URGENT = 0
    LIVE = 1
    BULK = 2


#: Which frame types each state accepts (beyond Ping/Pong/Close, accepted while open).
SYNC_TYPES: Final = frozenset(f.TYPE for f in TOPIC_FRAMES)
TRANSITIONS: Final[dict[State, frozenset[int]]] = {
    State.AWAIT_HELLO: frozenset({Hello.TYPE}),
    State.AWAIT_TOPICS: frozenset({Topics.TYPE}),
    State.LIVE: frozenset({Topics.TYPE}) | SYNC_TYPES,
    State.CLOSED: frozenset(),
}
_ALWAYS: Final = frozenset(f.TYPE for f in ALWAYS_FRAMES)


@dataclass(frozen=True, slots=True)
class TopicsChanged:
    """The set of topics shared on this link is now ``shared`` (``added`` are new since last time)."""

    shared: frozenset[bytes]
    added: frozenset[bytes]


@dataclass(frozen=True, slots=True)
class SyncFrame:
    """A gossip or reconciliation frame for the engine."""

    frame: Frame


@dataclass(frozen=True, slots=True)
class PeerClosed:
    code: int
    reason: str


SessionEvent = TopicsChanged | SyncFrame | PeerClosed


class Session:
    """The protocol state of one link. Pure: no I/O, no clock."""

    def __init__(self, handshake_hash: bytes, topics: frozenset[bytes], *, queue_limit: int = 1 << 20,
                 max_frame: int = MAX_FRAME_SIZE) -> None:
        self.state = State.AWAIT_HELLO
        self.shared: frozenset[bytes] = frozenset()
        self.peer_features: frozenset[str] = frozenset()
        self._hh = handshake_hash
        self._decoder = CODEC.decoder(max_frame)
        self._lanes: tuple[deque[bytes | _OpenPush], ...] = (deque(), deque(), deque())
        self._queued = 0
        self._limit = queue_limit
        self._my_tags: dict[bytes, bytes] = {}
        self._withdrawn: set[bytes] = set()
        self.offered: frozenset[bytes] = frozenset()
        self._authors_out = AuthorTable()  # Push frames carry compact envelopes (compact.py)
        self._authors_in = AuthorTable()
        self._peer_tags: frozenset[bytes] = frozenset()
        self.dropped_frames = 0
        self.bytes_in = 0
        self.bytes_out = 0
        self.payload_in = 0   # bytes of envelope records received / sent (the rest is control traffic)
        self.payload_out = 0
        self.send(Hello(WIRE_VERSION, list(FEATURES), max_frame), QueueLane.URGENT)
        self.set_topics(topics)

    # --- input -------------------------------------------------------------------------------------

    def receive_data(self, data: bytes) -> list[SessionEvent]:
        """Feed bytes from the link. Raises RemoteProtocolError (the link must close); state unchanged."""
        if self.state is State.CLOSED:
            raise LocalProtocolError("receive_data on a closed session")
        self.bytes_in += len(data)
        events: list[SessionEvent] = []
        for frame in self._decoder.feed(data):
            event = self._on_frame(frame)
            if event is not None:
                events.append(event)
            if self.closed:
                break
        return events

    def _on_frame(self, frame: Frame) -> SessionEvent | None:
        kind = frame.TYPE
        if kind not in TRANSITIONS[self.state] and kind not in _ALWAYS:
            raise RemoteProtocolError(
                f"unexpected {type(frame).__name__} frame while {self.state.value}")
        if isinstance(frame, Hello):
            if frame.version != WIRE_VERSION:
                raise UnsupportedVersion(f"peer speaks wire version {frame.version}, we speak {WIRE_VERSION}")
            self.peer_features = frozenset(frame.features)
            self.state = State.AWAIT_TOPICS
            return None
        if isinstance(frame, Topics):
            if len(frame.tags) > MAX_TAGS or any(len(t) != TAG_SIZE for t in frame.tags):
                raise RemoteProtocolError("malformed Topics frame")
            self._peer_tags = frozenset(frame.tags)
            self.state = State.LIVE
            return self._recompute_shared()
        if isinstance(frame, Ping):
            self.send(Pong(frame.token), QueueLane.URGENT)
            return None
        if isinstance(frame, Pong):
            return None
        if isinstance(frame, Close):
            self.state = State.CLOSED
            return PeerClosed(frame.code, frame.reason)
        topic = getattr(frame, "topic", None)
        if topic not in self.shared:
            if topic in self._withdrawn:
                # we stopped offering it (left the circle, or the peer lost access); frames already in
                # flight are not the peer's fault: drop them, keeping the compact-author table in step
                if isinstance(frame, Push):
                    for r in frame.envelopes:
                        expand(r, frame.topic, self._authors_in)
                return None
            raise RemoteProtocolError(f"{type(frame).__name__} for a topic not shared on this link")
        if isinstance(frame, Push):
            self.payload_in += sum(len(r) for r in frame.envelopes)
            frame = Push(frame.topic, [expand(r, frame.topic, self._authors_in) for r in frame.envelopes],
                         frame.catchup)
        return SyncFrame(frame)

    def _recompute_shared(self) -> TopicsChanged:
        shared = frozenset(t for tag, t in self._my_tags.items() if tag in self._peer_tags)
        added = shared - self.shared
        self.shared = shared
        return TopicsChanged(shared, added)

    @property
    def closed(self) -> bool:
        return self.state is State.CLOSED

    # --- topics --------------------------------------------------------------------------------------

    def set_topics(self, topics: frozenset[bytes]) -> TopicsChanged | None:
        """Our topic set changed: tell the peer; returns the new intersection once live.

        Raises LocalProtocolError for more than ``MAX_TAGS`` topics (the caller chooses which to offer).
        """
        if len(topics) > MAX_TAGS:
            raise LocalProtocolError(f"{len(topics)} topics offered on one link, the limit is {MAX_TAGS}")
        self._withdrawn |= set(self._my_tags.values()) - topics
        self._my_tags = {topic_tag(self._hh, t): t for t in topics}
        self.offered = topics
        self.send(Topics(sorted(self._my_tags)), QueueLane.URGENT)
        return self._recompute_shared() if self.state is State.LIVE else None

    # --- output --------------------------------------------------------------------------------------

    def send(self, frame: Frame, lane: QueueLane = QueueLane.LIVE) -> bool:
        """Queue a frame; returns False if it was dropped because the queue is full.

        Consecutive Pushes for the same topic in the same lane merge into one frame until it is taken,
        so a burst of envelopes costs one frame header, not one each.
        """
        if self.state is State.CLOSED:
            return False
        if isinstance(frame, Push):
            queue = self._lanes[lane]
            tail = queue[-1] if queue else None
            extra = sum(len(e) + 5 for e in frame.envelopes)
            if (isinstance(tail, _OpenPush) and tail.topic == frame.topic and tail.catchup == frame.catchup
                    and tail.size + extra <= _MERGE_LIMIT):
                if not self._make_room(extra, lane):
                    return False
                tail.envelopes.extend(frame.envelopes)
                tail.size += extra
                self._queued += extra
                return True
            return self._enqueue(_OpenPush(frame.topic, list(frame.envelopes), frame.catchup, extra + 32), lane)
        return self._enqueue(CODEC.encode(frame), lane)

    def _make_room(self, size: int, lane: QueueLane) -> bool:
        while self._queued + size > self._limit:
            victim = next((q for q in reversed(self._lanes[lane + 1:]) if q), None)
            if victim is None:
                self.dropped_frames += 1
                return False
            self._queued -= _size(victim.pop())
            self.dropped_frames += 1
        return True

    def _enqueue(self, item: bytes | _OpenPush, lane: QueueLane) -> bool:
        size = _size(item)
        if not self._make_room(size, lane):
            return False
        self._lanes[lane].append(item)
        self._queued += size
        return True

    @property
    def queued_bytes(self) -> int:
        return self._queued

    def take_output(self, max_bytes: int | None = None) -> bytes:
        """Coalesce queued frames, most urgent first, up to ``max_bytes`` (at least one frame)."""
        out: list[bytes] = []
        size = accounted = 0
        for lane in self._lanes:
            while lane and (max_bytes is None or not out or size + _size(lane[0]) <= max_bytes):
                item = lane.popleft()
                accounted += _size(item)
                if isinstance(item, bytes):
                    data = item
                else:
                    data, payload = item.encode(self._authors_out)
                    self.payload_out += payload
                out.append(data)
                size += len(data)
        self._queued -= accounted
        self.bytes_out += size
        return b"".join(out)

    def close(self, code: int = 0, reason: str = "") -> None:
        """Queue an orderly Close and stop accepting frames."""
        if self.state is not State.CLOSED:
            self.send(Close(code, reason[:200]), QueueLane.URGENT)
            self.state = State.CLOSED
