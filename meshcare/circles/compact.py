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
    nonce:24  sig:64  ciphertext:rest

Each direction of a link numbers the authors it sends in order of first appearance (``AuthorTable``,
up to 255; later ones always travel in full). Both ends see the same records in the same order (TCP), so
their tables agree without any extra message. Varints are LEB128 (7 bits per byte, low first), minimal.
"""

from __future__ import annotations

from typing import Final

from .. import envelope as env
from ..crypto.seal import TAG_SIZE
from ..errors import RemoteProtocolError
from ..wire import pack, unpack_strict

LITERAL: Final = 255
_MAX_TABLE: Final = 255


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


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

    def resolve(self, data: bytes, pos: int) -> tuple[bytes, int]:
        """Receiver side: the author at ``pos`` and the position after it. Raises RemoteProtocolError."""
        if pos >= len(data):
            raise RemoteProtocolError("truncated compact envelope")
        ref = data[pos]
        if ref == LITERAL:
            author = data[pos + 1:pos + 33]
            if len(author) != env.AUTHOR_SIZE:
                raise RemoteProtocolError("truncated compact envelope")
            if len(self._authors) < _MAX_TABLE:
                self._authors.append(author)
            return author, pos + 33
        if ref >= len(self._authors):
            raise RemoteProtocolError("compact envelope names an author the link never introduced")
        return self._authors[ref], pos + 1


def compact(encoded: bytes, table: AuthorTable) -> bytes:
    """The compact record of one encoded (canonical, already checked) envelope."""
    (_, _, epoch, author, seq, lamport, created, expires, lane, nonce, ciphertext, sig) = unpack_strict(encoded)
    ints = b"".join(_varint(v) for v in (epoch, seq, lamport, created, expires - created, lane))
    return b"".join((table.ref(author), ints, nonce, sig, ciphertext))


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise RemoteProtocolError("malformed varint in a compact envelope")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            if byte == 0 and shift > 7:
                raise RemoteProtocolError("non-minimal varint in a compact envelope")
            return value, pos


def expand(record: bytes, topic: bytes, table: AuthorTable) -> bytes:
    """The canonical encoded envelope a compact record stands for. Raises RemoteProtocolError."""
    author, pos = table.resolve(record, 0)
    fields = []
    for _ in range(6):
        value, pos = _read_varint(record, pos)
        if value > env.MAX_UINT:
            raise RemoteProtocolError("compact envelope field out of range")
        fields.append(value)
    epoch, seq, lamport, created, ttl, lane = fields
    if len(record) - pos < 24 + 64 + TAG_SIZE:
        raise RemoteProtocolError("truncated compact envelope")
    nonce, sig, ciphertext = record[pos:pos + 24], record[pos + 24:pos + 88], record[pos + 88:]
    if created + ttl > env.MAX_UINT:
        raise RemoteProtocolError("compact envelope expiry out of range")
    return pack([env.VERSION, topic, epoch, author, seq, lamport, created, created + ttl, lane, nonce,
                 ciphertext, sig])
