"""A pure two-party driver for ``reconcile``: runs both sides to quiescence and counts bytes and rounds.

Shared by ``tests/test_reconcile.py`` and ``benchmarks/bench_reconcile.py``; it plays the part of the
node engine on both ends, over two stores, without any I/O. Messages travel in alternating *halves*
(initiator to responder, then back); a half carries whatever the sender has queued: its reconcile reply,
the heads message (first half only, when asked), id requests, and envelope pushes. A round trip is two
halves, and pushes count in the half in which they are sent. The exchange is over when a half would
carry nothing.

Accounting: every reconcile, heads or request message costs ``FRAME_OVERHEAD`` bytes of framing on top of
its body (a request body is 32 bytes per id); pushes cost the encoded envelopes plus framing per batch of
up to ``PUSH_BATCH_BYTES``. ``control_bytes`` is everything but the envelopes themselves.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from ..envelope import ID_SIZE, decode
from ..errors import LocalProtocolError
from ..sync.heads import answer_heads, heads_message
from ..sync.reconcile import DEFAULT_BRANCHING, DEFAULT_ID_LIST_THRESHOLD, DEFAULT_MAX_MESSAGE, Reconciler

if TYPE_CHECKING:
    from ..store import Store

#: Framing and frame-type overhead assumed per message (length prefix, msgpack array, type, topic).
FRAME_OVERHEAD: Final = 20
#: Envelope bytes per Push frame (the link's frame cap is 256 KiB).
PUSH_BATCH_BYTES: Final = 200_000


@dataclass(slots=True)
class ExchangeStats:
    """What one full exchange cost, split by kind."""

    rounds: int = 0  # round trips: ceil(halves / 2)
    halves: int = 0  # one-way transmissions that carried anything
    reconcile_messages: int = 0
    reconcile_bytes: int = 0
    heads_bytes: int = 0
    request_bytes: int = 0
    framing_bytes: int = 0
    envelope_bytes: int = 0
    envelopes_pushed: int = 0
    useless_pushes: int = 0  # pushed envelopes the receiver already had (or found expired)
    seconds: float = 0.0
    message_sizes: list[int] = field(default_factory=list)

    @property
    def control_bytes(self) -> int:
        return self.reconcile_bytes + self.heads_bytes + self.request_bytes + self.framing_bytes

    @property
    def total_bytes(self) -> int:
        return self.control_bytes + self.envelope_bytes


@dataclass(slots=True)
class _Half:
    """What one side sends in one half."""

    reconcile: bytes | None = None
    heads: bytes | None = None
    requests: list[bytes] = field(default_factory=list)
    pushes: dict[bytes, None] = field(default_factory=dict)  # ordered set of ids

    def empty(self) -> bool:
        return self.reconcile is None and self.heads is None and not self.requests and not self.pushes


def run_exchange(initiator: Store, responder: Store, topic: bytes, now: int, *, heads: bool = False,
                 branching: int = DEFAULT_BRANCHING, id_list_threshold: int = DEFAULT_ID_LIST_THRESHOLD,
                 max_message: int = DEFAULT_MAX_MESSAGE,
                 max_rounds: int = 64) -> ExchangeStats:
    """Reconcile ``topic`` between two stores until neither side has anything to send.

    ``heads`` adds the heads fast path: the initiator sends its heads along with its first message.
    Raises LocalProtocolError if the exchange has not finished after ``max_rounds`` round trips.
    """
    t0 = time.perf_counter()
    stores = (initiator, responder)
    sides = tuple(Reconciler(s, topic, branching=branching, id_list_threshold=id_list_threshold,
                             max_message=max_message) for s in stores)
    stats = ExchangeStats()
    out = _Half(reconcile=sides[0].initiate(now), heads=heads_message(initiator, topic, now) if heads else None)
    sender = 0
    while not out.empty():
        if stats.halves == 2 * max_rounds:
            raise LocalProtocolError(f"reconciliation did not finish in {max_rounds} round trips")
        stats.halves += 1
        receiver = 1 - sender
        _account(out, stores[sender], stats)
        _deliver(out, stores[sender], stores[receiver], now, stats)
        out = _respond(out, sides[receiver], stores[receiver], topic, now)
        sender = receiver
    stats.rounds = (stats.halves + 1) // 2
    stats.seconds = time.perf_counter() - t0
    return stats


def _account(half: _Half, sender: Store, stats: ExchangeStats) -> None:
    for body in (half.reconcile, half.heads):
        if body is not None:
            stats.framing_bytes += FRAME_OVERHEAD
            stats.message_sizes.append(len(body))
    if half.reconcile is not None:
        stats.reconcile_messages += 1
        stats.reconcile_bytes += len(half.reconcile)
    if half.heads is not None:
        stats.heads_bytes += len(half.heads)
    if half.requests:
        stats.request_bytes += ID_SIZE * len(half.requests)
        stats.framing_bytes += FRAME_OVERHEAD
    if half.pushes:
        size = sum(len(d) for d in sender.get_many(list(half.pushes)))
        stats.envelope_bytes += size
        stats.framing_bytes += FRAME_OVERHEAD * -(-size // PUSH_BATCH_BYTES)


def _deliver(half: _Half, sender: Store, receiver: Store, now: int, stats: ExchangeStats) -> None:
    """Store the pushed envelopes at the receiver before it reads the other messages of the half,
    as frames arriving in order would be."""
    if not half.pushes:
        return
    envelopes = [decode(data) for data in sender.get_many(list(half.pushes))]
    added = receiver.add(envelopes, now)
    stats.envelopes_pushed += len(envelopes)
    stats.useless_pushes += added.count(False)


def _respond(half: _Half, side: Reconciler, store: Store, topic: bytes, now: int) -> _Half:
    """What the receiver of ``half`` sends next: requested and owed envelopes, requests, its reply."""
    nxt = _Half()
    nxt.pushes.update(dict.fromkeys(i for i in half.requests if store.has(i)))
    if half.heads is not None:
        nxt.pushes.update(dict.fromkeys(answer_heads(store, topic, half.heads, now)))
    if half.reconcile is not None:
        step = side.receive(half.reconcile, now)
        nxt.reconcile = step.reply
        nxt.pushes.update(dict.fromkeys(step.send_ids))
        for lower, upper in step.send_ranges:
            nxt.pushes.update(dict.fromkeys(k.id for k in store.keys(topic, lower, upper, now)))
        nxt.requests = step.need_ids
    return nxt
