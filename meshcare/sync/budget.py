"""Per-peer budgets: what one neighbour may make us do, so a faulty or hostile node cannot starve the rest.

Token buckets refilled with the ``now`` the engine is given (no clock here). A link whose frames or
bytes exceed their bucket is dropped. Bytes are not the whole cost, though: a 29-byte Heads frame can ask
for every stored envelope of a topic, so a peer is also charged for the *work* it makes us do (ids looked
up, store rows read, envelopes pushed), its IHave ids are rationed, and Heads and Reconcile answers are
rate-limited per (peer, topic). A request over one of these budgets is ignored and counted; a peer that
keeps sending them (the ``excess`` bucket runs dry) loses its link.

Every new envelope is charged to its author, whichever neighbour brought it: fresh ones to the author's
live bucket (``author_per_min``, burst ``author_burst``), older ones to a separate catch-up allowance
(``author_backlog``, refilled at the same rate), so backdating an envelope does not escape the limit
while a node returning after a day still takes in a day's honest backlog at once. Envelopes over the
budget are dropped, not held against the link (a neighbour only relays them): reconciliation brings
them again once the allowance has refilled.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Final

_Bytes = bytes  # PeerBudget has a field named ``bytes``
#: Authors whose allowances are remembered; only verified authors (members) enter, so this is plenty.
MAX_AUTHORS: Final = 10_000
_HEADS_TYPE: Final = 16  # frames.Heads.TYPE (kept literal: budget.py does not import the frames)


@dataclass(slots=True)
class TokenBucket:
    """``rate`` tokens per second, at most ``burst`` saved up."""

    rate: float
    burst: float
    tokens: float = -1.0
    stamp: float = 0.0

    def take(self, amount: float, now: float) -> bool:
        """Spend ``amount`` tokens if available; False (nothing spent) if over budget."""
        if self.tokens < 0:
            self.tokens, self.stamp = self.burst, now
        elif now > self.stamp:
            self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
        if amount > self.tokens:
            return False
        self.tokens -= amount
        return True


@dataclass(frozen=True, slots=True)
class Limits:
    """Budget settings (per peer unless said otherwise). Defaults suit a circle on a home LAN."""

    frames_per_s: float = 5_000.0
    frames_burst: float = 20_000.0
    bytes_per_s: float = 8_000_000.0
    bytes_burst: float = 32_000_000.0
    author_per_min: float = 120.0          # fresh envelopes per author, across all peers
    author_burst: float = 240.0
    rejects_before_drop: int = 16          # rejected envelopes a peer may send before losing its link
    author_backlog: float = 10_000.0       # old (catch-up) envelopes per author at once: a message every
                                           # 9 s around the clock; refilled at author_per_min
    work_per_s: float = 100_000.0          # ids looked up + rows read + envelopes pushed for one peer
    work_burst: float = 400_000.0          # (a fresh node pulling 100,000 envelopes costs ~200,000)
    announced_per_s: float = 20_000.0      # IHave ids a peer may make us look up
    announced_burst: float = 50_000.0
    answers_per_s: float = 1.0             # Reconcile messages answered per (peer, topic)
    answers_burst: float = 64.0            # (one exchange takes up to ~20)
    heads_per_s: float = 1.0 / 30.0        # Heads frames answered per (peer, topic)
    heads_burst: float = 4.0
    excess_per_s: float = 1.0              # requests over budget (ignored) tolerated before the drop
    excess_burst: float = 64.0
    pending_per_peer: int = 4_096          # announced ids we wait for, per (peer, topic) ...
    pending_total: int = 65_536            # ... and per topic over all peers
    requested_max: int = 65_536            # ids asked for by reconciliation and not yet received


@dataclass(slots=True)
class PeerBudget:
    """What one link's peer may make us do (see the module docstring)."""

    limits: Limits
    frames: TokenBucket = field(init=False)
    bytes: TokenBucket = field(init=False)
    work: TokenBucket = field(init=False)
    announced: TokenBucket = field(init=False)
    excess: TokenBucket = field(init=False)
    answers: dict[tuple[int, _Bytes], TokenBucket] = field(default_factory=dict)
    rejects: int = 0

    def __post_init__(self) -> None:
        lim = self.limits
        self.frames = TokenBucket(lim.frames_per_s, lim.frames_burst)
        self.bytes = TokenBucket(lim.bytes_per_s, lim.bytes_burst)
        self.work = TokenBucket(lim.work_per_s, lim.work_burst)
        self.announced = TokenBucket(lim.announced_per_s, lim.announced_burst)
        self.excess = TokenBucket(lim.excess_per_s, lim.excess_burst)

    def charge_work(self, units: int, now: float) -> bool:
        """Account ``units`` of work (ids looked up, rows read, envelopes pushed) done for the peer;
        False (nothing charged) if it cannot pay: do not do the work."""
        return self.work.take(units, now)

    def charge_announced(self, ids: int, now: float) -> int:
        """How many of ``ids`` announced ids the peer may make us look up now (0..ids); the rest is
        to be ignored. The allowance is spent."""
        bucket = self.announced
        bucket.take(0, now)  # refill
        allowed = max(0, min(ids, int(bucket.tokens)))
        bucket.tokens -= allowed
        return allowed

    def answer_allowed(self, kind: int, topic: _Bytes, now: float) -> bool:
        """May we answer one more Heads (``kind`` = its frame type) or Reconcile for ``topic`` now?
        One bucket per (kind, topic); topics are those shared on the link, so the table is bounded."""
        bucket = self.answers.get((kind, topic))
        if bucket is None:
            lim = self.limits
            heads = kind == _HEADS_TYPE
            bucket = self.answers[(kind, topic)] = TokenBucket(
                lim.heads_per_s if heads else lim.answers_per_s, lim.heads_burst if heads else lim.answers_burst)
        return bucket.take(1, now)

    def charge_excess(self, now: float) -> bool:
        """Account one request ignored for being over budget; False once the peer keeps at it."""
        return self.excess.take(1, now)

    def charge_input(self, frames: int, size: int, now: float) -> bool:
        """Account received traffic; False means the peer is over budget (drop the link)."""
        return self.frames.take(frames, now) and self.bytes.take(size, now)

    def charge_reject(self) -> bool:
        """Account a rejected envelope; False once the peer has sent too many."""
        self.rejects += 1
        return self.rejects < self.limits.rejects_before_drop


@dataclass(slots=True)
class AuthorBudgets:
    """Per-author allowances for new envelopes: one bucket for fresh ones, one for catch-up."""

    limits: Limits
    buckets: OrderedDict[bytes, TokenBucket] = field(default_factory=OrderedDict)
    backlog: OrderedDict[bytes, TokenBucket] = field(default_factory=OrderedDict)

    def allow(self, author: bytes, now: float, *, fresh: bool = True) -> bool:
        """Charge one new envelope of ``author``; False if over its budget (drop the envelope).

        ``fresh``: created within the fresh window (live traffic); otherwise it is charged to the
        author's catch-up allowance, at least as large as the live burst.
        """
        lim = self.limits
        table = self.buckets if fresh else self.backlog
        bucket = table.get(author)
        if bucket is not None:
            table.move_to_end(author)
        else:
            if len(table) >= MAX_AUTHORS:  # bounded: forget the author heard from least recently
                table.popitem(last=False)
            burst = lim.author_burst if fresh else max(lim.author_backlog, lim.author_burst)
            bucket = table[author] = TokenBucket(lim.author_per_min / 60.0, burst)
        return bucket.take(1, now)

    def exhausted(self, author: bytes, now: float, *, fresh: bool = True) -> bool:
        """Would ``allow`` refuse ``author``'s next envelope right now? Spends nothing, adds no author.

        Asked before an envelope's signature is checked, so a member's runaway node costs its
        neighbours a decode per envelope rather than a signature check (the bulk of a flood's cost).
        Safe on unverified input: only a known author's *empty* bucket answers True, and such an
        envelope would be dropped after verification anyway; a forger naming someone else cannot empty
        anyone's bucket with this.
        """
        bucket = (self.buckets if fresh else self.backlog).get(author)
        if bucket is None:
            return False
        bucket.take(0, now)  # refill to ``now`` without spending
        return bucket.tokens < 1
