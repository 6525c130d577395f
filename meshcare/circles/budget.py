"""Per-peer budgets: what one neighbour may make us do, so a faulty or hostile node cannot starve the rest.

Token buckets refilled with the ``now`` the engine is given (no clock here). A link whose frames or
bytes exceed their bucket is dropped; fresh envelopes over an author's budget are dropped (and counted),
since an author flooding the circle should not get through any neighbour. Old envelopes (catch-up) are
limited by the byte budget only: a node returning after a week legitimately pulls thousands at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field


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


@dataclass(slots=True)
class PeerBudget:
    limits: Limits
    frames: TokenBucket = field(init=False)
    bytes: TokenBucket = field(init=False)
    rejects: int = 0

    def __post_init__(self) -> None:
        self.frames = TokenBucket(self.limits.frames_per_s, self.limits.frames_burst)
        self.bytes = TokenBucket(self.limits.bytes_per_s, self.limits.bytes_burst)

    def charge_input(self, frames: int, size: int, now: float) -> bool:
        """Account received traffic; False means the peer is over budget (drop the link)."""
        return self.frames.take(frames, now) and self.bytes.take(size, now)

    def charge_reject(self) -> bool:
        """Account a rejected envelope; False once the peer has sent too many."""
        self.rejects += 1
        return self.rejects < self.limits.rejects_before_drop


@dataclass(slots=True)
class AuthorBudgets:
    limits: Limits
    buckets: dict[bytes, TokenBucket] = field(default_factory=dict)

    def allow(self, author: bytes, now: float) -> bool:
        bucket = self.buckets.get(author)
        if bucket is None:
            if len(self.buckets) > 10_000:  # bounded: forget idle authors
                self.buckets.clear()
            bucket = self.buckets[author] = TokenBucket(self.limits.author_per_min / 60.0, self.limits.author_burst)
        return bucket.take(1, now)
