"""Link-level compaction of envelopes inside Push frames: the same envelope, ~55 bytes shorter.

Theory of operation
-------------------
An encoded envelope repeats what the link already knows: the topic (the Push frame names it), the
version, msgpack's array and bin headers, and the author's 32-byte key (the same few authors, again and
again). On the wire a Push carries *compact records* instead; the receiver rebuilds the one canonical
encoding (``envelope.py``), so ids and signatures are untouched and the envelope is checked exactly as if
it had arrived whole. Record, per envelope::

    author_ref:u8 [author:32 if author_ref == 255]
    varint epoch, seq, lamport, created, expires - created, lane
    [prev:32 unless seq == 1]  nonce:24  sig:64  ciphertext:rest

Each direction of a link numbers the authors it sends in order of first appearance (``AuthorTable``,
up to 255; later ones always travel in full). Both ends see the same records in the same order (TCP), so
their tables agree without any extra message. Varints are the reconciliation messages' (base 128, most
significant group first, minimal: docs/protocol.md section 5), so the protocol has one varint.
"""

from __future__ import annotations

from typing import Final

from .. import envelope as env
from ..crypto.seal import TAG_SIZE
from ..wire import pack, unpack_strict
from .reconcile import Reader, varint

LITERAL: Final = 255
_MAX_TABLE: Final = 255
_FIELDS: Final = ("epoch", "seq", "lamport", "created", "lifetime", "lane")


class AuthorTable:
    """One direction's author numbering. Use one for sending and another for receiving per link."""

    __slots__ = ("_index", "_authors")

    def __init__(self) -> None:
        self._index: dict[bytes, int] = {}
        self._authors: list[bytes] = []

    def ref(self, author: bytes) -> bytes:
        """Sender side: the reference to write (and remember a new author)."""
        index = self._index.get(author)
        if index is not None:
            return bytes([index])
        if len(self._authors) < _MAX_TABLE:
            self._index[author] = len(self._authors)
            self._authors.append(author)
        return bytes([LITERAL]) + author

    def resolve(self, r: Reader) -> bytes:
        """Receiver side: read an author reference (or a literal author, remembered). Raises
        RemoteProtocolError."""
        ref = r.byte("author reference")
        if ref == LITERAL:
            author = r.take(env.AUTHOR_SIZE, "author")
            if len(self._authors) < _MAX_TABLE:
                self._authors.append(author)
            return author
        if ref >= len(self._authors):
            raise r.error("the link never introduced this author")
        return self._authors[ref]


def compact(encoded: bytes, table: AuthorTable) -> bytes:
    """The compact record of one encoded (canonical, already checked) envelope."""
    (_, _, epoch, author, seq, lamport, created, expires, lane, prev, nonce, ciphertext, sig) = unpack_strict(encoded)
    ints = b"".join(varint(v) for v in (epoch, seq, lamport, created, expires - created, lane))
    return b"".join((table.ref(author), ints, prev, nonce, sig, ciphertext))


def expand(record: bytes, topic: bytes, table: AuthorTable) -> bytes:
    """The canonical encoded envelope a compact record stands for. Raises RemoteProtocolError."""
    r = Reader(record, "compact envelope")
    author = table.resolve(r)
    epoch, seq, lamport, created, ttl, lane = (r.varint(name) for name in _FIELDS)
    if max(epoch, seq, lamport, created + ttl, lane) > env.MAX_UINT:
        raise r.error("a number is out of range")
    prev = b"" if seq == 1 else r.take(env.ID_SIZE, "prev")     # the envelope's shape rule (v2)
    nonce, sig = r.take(24, "nonce"), r.take(64, "signature")
    if r.remaining < TAG_SIZE:
        raise r.error("truncated ciphertext")
    ciphertext = r.take(r.remaining, "ciphertext")
    return pack([env.VERSION, topic, epoch, author, seq, lamport, created, created + ttl, lane, prev,
                 nonce, ciphertext, sig])
