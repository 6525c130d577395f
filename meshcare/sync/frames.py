"""The link's frames (wire version 1): everything two nodes send each other after the Noise handshake.

Byte layout of every frame: ``u32be length || msgpack([type, fields...])`` (``meshcare/wire.py``,
docs/protocol.md section 3). The tables in docs/protocol.md list these types; keep them in step.
``CODEC`` decodes them all; which ones a session accepts in which state is ``session.TRANSITIONS``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar, Final

from ..envelope import ID_SIZE
from ..errors import RemoteProtocolError
from ..wire import Frame, FrameCodec

#: Ids one IHave, Graft or Want may carry (4,000 x 34 bytes stays well under the 256 KiB frame cap);
#: the engine splits longer lists, and a peer's longer list is a protocol error.
MAX_IDS_PER_FRAME: Final = 4_000

#: Features this node speaks, announced in Hello. Unknown features of the peer are ignored.
FEATURES: Final = ("plumtree1", "rbsr1", "heads1")


# --- keep-alive and goodbye: accepted in every open state ---------------------------------------------

@dataclass(frozen=True, slots=True)
class Ping(Frame):
    """Keep-alive; the peer answers with Pong carrying the same token."""

    TYPE: ClassVar[int] = 1
    token: int


@dataclass(frozen=True, slots=True)
class Pong(Frame):
    TYPE: ClassVar[int] = 2
    token: int


@dataclass(frozen=True, slots=True)
class Close(Frame):
    """Orderly goodbye with a reason a person can read in the peer's log."""

    TYPE: ClassVar[int] = 3
    code: int
    reason: str


# --- set-up ------------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Hello(Frame):
    """First frame on a link, from both sides: what this node speaks and accepts."""

    TYPE: ClassVar[int] = 10
    version: int
    features: list[str]
    max_frame: int


@dataclass(frozen=True, slots=True)
class Topics(Frame):
    """Keyed tags of the topics this node syncs (``topic_tag``); re-sent when the set changes.

    A tag is bound to the link's Noise handshake hash, so it reveals nothing to a peer that does not
    already know the topic, and cannot be replayed on another link.
    """

    TYPE: ClassVar[int] = 11
    tags: list[bytes]


# --- one topic's envelopes, gossip and reconciliation: accepted once live ---------------------------------

@dataclass(frozen=True, slots=True)
class Push(Frame):
    """A batch of encoded envelopes for one topic (each decoded and verified separately).

    ``catchup`` marks envelopes sent because reconciliation found them missing: the receiver stores
    them but does not re-broadcast them (its other neighbours most likely hold them already).
    """

    TYPE: ClassVar[int] = 4
    topic: bytes
    envelopes: list[bytes]
    catchup: bool = False


@dataclass(frozen=True, slots=True)
class IHave(Frame):
    """Lazy announcement: ids this node holds (Plumtree's IHAVE)."""

    TYPE: ClassVar[int] = 12
    topic: bytes
    ids: list[bytes]


@dataclass(frozen=True, slots=True)
class Graft(Frame):
    """Send me these ids, and push eagerly to me from now on (repairs the tree)."""

    TYPE: ClassVar[int] = 13
    topic: bytes
    ids: list[bytes]


@dataclass(frozen=True, slots=True)
class Prune(Frame):
    """I got a duplicate from you: announce lazily to me from now on."""

    TYPE: ClassVar[int] = 14
    topic: bytes


@dataclass(frozen=True, slots=True)
class Want(Frame):
    """Send me these ids (found missing by reconciliation); no change to the tree."""

    TYPE: ClassVar[int] = 15
    topic: bytes
    ids: list[bytes]


@dataclass(frozen=True, slots=True)
class Heads(Frame):
    """Per-author highest sequence numbers (catch-up fast path; payload: docs/protocol.md)."""

    TYPE: ClassVar[int] = 16
    topic: bytes
    payload: bytes


@dataclass(frozen=True, slots=True)
class Reconcile(Frame):
    """One range-based set reconciliation message (payload: docs/protocol.md)."""

    TYPE: ClassVar[int] = 17
    topic: bytes
    payload: bytes


#: Accepted in every open state of a session.
ALWAYS_FRAMES: Final = (Ping, Pong, Close)
#: One topic's traffic, accepted once the session is live; each names its topic first.
TOPIC_FRAMES: Final = (Push, IHave, Graft, Prune, Want, Heads, Reconcile)
IdFrame = IHave | Graft | Want


def unique_ids(ids: list[bytes]) -> list[bytes]:
    """``ids`` without repeats, first occurrence kept. Raises RemoteProtocolError if there are more than
    ``MAX_IDS_PER_FRAME`` or one is not exactly ``ID_SIZE`` bytes."""
    if len(ids) > MAX_IDS_PER_FRAME:
        raise RemoteProtocolError(f"{len(ids)} ids in one frame, the limit is {MAX_IDS_PER_FRAME}")
    if any(len(i) != ID_SIZE for i in ids):
        raise RemoteProtocolError(f"an id that is not {ID_SIZE} bytes")
    return list(dict.fromkeys(ids))


class SyncCodec(FrameCodec):
    """The link codec plus the checks a field type cannot express: id lists are bounded, exact-size and
    deduplicated on the way in, so a repeated id costs the sender bytes but us no extra work."""

    def decode(self, body: bytes) -> Frame:
        frame = super().decode(body)
        if isinstance(frame, IHave | Graft | Want):
            ids = unique_ids(frame.ids)
            if len(ids) != len(frame.ids):
                frame = replace(frame, ids=ids)
        return frame


CODEC: Final = SyncCodec((*ALWAYS_FRAMES, Hello, Topics, *TOPIC_FRAMES))
