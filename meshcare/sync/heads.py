"""The per-author heads fast path of catch-up: "this is the highest seq I hold of each author".

``heads_message`` lists every author's highest seq in a topic; ``answer_heads`` returns the ids the peer
lacks by that measure, to push at once. It costs ~33 bytes per author and finds the envelopes a returning
node missed in one round trip, but only those above the peer's heads, so range-based reconciliation
(``reconcile.py``) still runs to catch the rest (scattered gaps, envelopes that expired, clock skew).
The engine sends it when a topic becomes shared on a link, if ``SyncConfig.heads_on_open`` is set.

Message format (version 1; the topic is carried by the enclosing ``Heads`` frame; varints as in
``reconcile.py``)::

    heads   = version:u8 (=1)  flags:u8  n:varint  (author:32 bytes  seq:varint){n}
    flags   bit 0 "partial": only the first MAX_HEADS authors are listed; the answerer then pushes
            nothing for authors not listed (other bits must be 0). Authors strictly ascending.

A receiver rejects (``RemoteProtocolError``) an unknown version (``UnsupportedVersion``) or flag, a
message over the size MAX_HEADS authors take, more than MAX_HEADS authors, authors not strictly
ascending, a seq above 2**63 - 1, truncation and trailing bytes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from ..envelope import AUTHOR_SIZE, MAX_UINT
from ..errors import LocalProtocolError
from ..ranges import KEY_MAX, KEY_MIN
from ..wire import unpack_strict
from .reconcile import MAX_VARINT_BYTES, open_message, varint

if TYPE_CHECKING:
    from ..store import Store

HEADS_VERSION: Final = 1
#: Authors in one heads message; a circle has at most a few hundred members.
MAX_HEADS: Final = 4096
_PARTIAL: Final = 1


def heads_message(store: Store, topic: bytes, now: int) -> bytes:
    """Our highest seq per author (unexpired envelopes), for ``answer_heads`` on the peer."""
    heads = store.author_heads(topic, now)
    authors = sorted(heads)
    flags = _PARTIAL if len(authors) > MAX_HEADS else 0
    authors = authors[:MAX_HEADS]
    out = bytearray([HEADS_VERSION, flags])
    out += varint(len(authors))
    for author in authors:
        out += author
        out += varint(heads[author])
    return bytes(out)


def parse_heads(message: bytes) -> tuple[dict[bytes, int], bool]:
    """(author -> seq, partial) from a heads message; raises RemoteProtocolError if malformed."""
    limit = 3 + MAX_HEADS * (AUTHOR_SIZE + MAX_VARINT_BYTES) + MAX_VARINT_BYTES
    r = open_message(message, "heads message", HEADS_VERSION, limit)
    flags = r.byte("flags")
    if flags & ~_PARTIAL:
        raise r.error(f"unknown flags {flags:#x}")
    n = r.varint("author count")
    if n > MAX_HEADS or n * (AUTHOR_SIZE + 1) > r.remaining:
        raise r.error(f"{n} authors with {r.remaining} bytes left")
    heads: dict[bytes, int] = {}
    previous = b""
    for _ in range(n):
        author = r.take(AUTHOR_SIZE, "author")
        if author <= previous:
            raise r.error("authors not strictly ascending")
        seq = r.varint("seq")
        if seq > MAX_UINT:
            raise r.error("seq beyond 2**63 - 1")
        heads[author] = seq
        previous = author
    if r.remaining:
        raise r.error("trailing bytes")
    return heads, bool(flags & _PARTIAL)


def answer_heads(store: Store, topic: bytes, message: bytes, now: int) -> list[bytes]:
    """Ids of our unexpired envelopes the peer lacks by its heads (seq above its head for the author,
    or an author it does not list), sorted by (created, id): the engine pushes them right away.

    Bytes are O(authors); local work is one pass over the topic's headers (~0.3 us per envelope),
    skipped entirely when no author of ours is ahead of the peer.
    """
    theirs, partial = parse_heads(message)
    floors = {author: theirs.get(author, -1) for author, seq in store.author_heads(topic, now).items()
              if seq > theirs.get(author, -1) and (author in theirs or not partial)}
    if not floors:
        return []
    out = []
    for key, data in store.items(topic, KEY_MIN, KEY_MAX, now):
        author, seq = _author_seq(data)
        floor = floors.get(author)
        if floor is not None and seq > floor:
            out.append(key.id)
    return out


def _author_seq(data: bytes) -> tuple[bytes, int]:
    """Author and seq of a stored envelope (fields 3 and 4 of its msgpack array)."""
    fields = unpack_strict(data, "stored envelope")
    author, seq = fields[3], fields[4]
    if type(author) is not bytes or type(seq) is not int:
        raise LocalProtocolError("the store holds an envelope that is not one")
    return author, seq
