"""The envelope store: what a node keeps, so that it can forward envelopes and reconcile with peers.

Theory of operation
-------------------
The store holds envelopes exactly as they travel (encoded, hence ciphertext) plus the few header
fields needed to index them. It never sees a plaintext or a key, so a stolen store reveals who wrote
how much and when, but nothing that was said.

Per topic, envelopes are ordered by ``RangeKey(created, id)``. Set reconciliation (``meshcare.ranges``)
asks for *ranges* ``[lower, upper)`` of that order: their keys, count, fingerprint (an order-independent
sum of ids plus the count) and split points. Every such query takes ``now``: an envelope with
``expires <= now`` is invisible even before ``expire`` deletes it, so two peers whose deletion sweeps
ran at different times still agree on what they hold.

Two implementations honour the ``Store`` protocol with identical results:

* ``SqliteStore``: the node's durable store. WAL journal, ``synchronous=FULL`` by default (an always-on
  Raspberry Pi may lose power), one transaction per ``add`` batch that is committed before ``add``
  returns, so whatever it reported as stored survives a crash. The id is also kept as eight 32-bit
  limb columns so SQL ``SUM`` yields the exact 256-bit id sum. Schema versions live in
  ``PRAGMA user_version``; ``MIGRATIONS`` upgrade older files in a transaction at open.
* ``MemoryStore``: for tests and the simulator. Per topic, a sorted list of keys (``bisect``), a heap of
  expiry times (so queries skip the expiry filter when nothing in the topic has expired yet) and each
  author's sorted sequence numbers.

The store is pure (no I/O besides its own file, no clock, no event loop) and single-threaded. This
package's ``__init__`` holds only the contract, so the sync engine can name ``Store`` without loading
sqlite3; the implementations are ``memory`` and ``sqlite`` beside it (``sqlite`` shares the memory store's
small helpers so both validate and split alike), and ``factory.open_store`` picks one.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType
from typing import Protocol, Self

from ..envelope import Envelope
from ..ranges import RangeKey
__all__ = ["Store"]


class Store(Protocol):
    """What the node, the reconciler and the simulator may ask of a store.

    ``now`` is always unix seconds. Ranges are ``[lower, upper)`` in ``(created, id)`` order.
    """

    def add(self, envelopes: Sequence[Envelope], now: int, *, durable: bool = True) -> list[bool]:
        """Store a batch atomically; ``result[i]`` is True iff envelope i was new (and unexpired).

        ``durable=False`` is for envelopes other nodes also hold (received ones): the commit survives a
        crash of this process but may be rolled back by a power cut, after which reconciliation fetches
        them again. This node's own envelopes are always written with ``durable=True``.
        """
        ...

    def get(self, envelope_id: bytes) -> bytes | None:
        """The encoded envelope, expired or not, if it is still stored."""
        ...

    def get_many(self, ids: Sequence[bytes]) -> list[bytes]:
        """The encoded envelopes that are stored, in the order of ``ids``."""
        ...

    def fetch(self, topic: bytes, ids: Sequence[bytes], now: int) -> list[bytes]:
        """The encoded envelopes among ``ids`` that are stored *in ``topic``* and unexpired at ``now``,
        in the order of ``ids``, each at most once: what a peer asking for ids in ``topic`` may get.

        Every push the engine makes goes through this, so a peer allowed one topic cannot fetch another
        topic's envelopes (or expired ones) by id.
        """
        ...

    def has(self, envelope_id: bytes) -> bool: ...

    def missing(self, ids: Sequence[bytes]) -> list[bytes]:
        """The ids not stored, in input order: what to ask a peer for."""
        ...

    def keys(self, topic: bytes, lower: RangeKey, upper: RangeKey, now: int,
             limit: int | None = None) -> list[RangeKey]: ...

    def count(self, topic: bytes, lower: RangeKey, upper: RangeKey, now: int) -> int: ...

    def fingerprint(self, topic: bytes, lower: RangeKey, upper: RangeKey, now: int) -> tuple[int, bytes]:
        """``(count, ranges.fingerprint(id_sum, count))`` of the unexpired envelopes in the range."""
        ...

    def split_points(self, topic: bytes, lower: RangeKey, upper: RangeKey, now: int,
                     parts: int) -> list[RangeKey]:
        """Up to ``parts - 1`` keys (at ranks ``count * i // parts``) cutting the range into near-equal
        pieces, so the reconciler can recurse into halves that are cheap to compare."""
        ...

    def items(self, topic: bytes, lower: RangeKey, upper: RangeKey, now: int,
              limit: int | None = None) -> list[tuple[RangeKey, bytes]]: ...

    def expire(self, now: int) -> int:
        """Delete expired envelopes (reclaiming space); return how many."""
        ...

    def topics(self) -> list[bytes]: ...

    def author_heads(self, topic: bytes, now: int) -> dict[bytes, int]:
        """Highest ``seq`` per author among unexpired envelopes: a cheap "what have you got" summary."""
        ...

    def max_seq(self, topic: bytes, author: bytes) -> int:
        """Highest stored ``seq`` of an author, expired or not, or -1."""
        ...

    def delete_topic(self, topic: bytes) -> int:
        """Forget a topic (a circle the node left); return how many envelopes went."""
        ...

    def delete(self, ids: Sequence[bytes]) -> int:
        """Forget these envelopes (a roster change showed they should never have been accepted);
        return how many were stored."""
        ...

    def __len__(self) -> int: ...

    def close(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None: ...

