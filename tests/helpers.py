"""Test helpers shared by several test modules."""

from __future__ import annotations

import nacl.signing

from meshcare import envelope as env

NOW = 1_800_000_000  # a fixed "now" for pure tests (2027-01-15)
DAY = 86_400


def make_envelope(signing_key: nacl.signing.SigningKey | None = None, *, topic: bytes = b"T" * 16,
                  key: bytes = b"K" * 32, seq: int = 1, created: int = NOW, ttl: int = 30 * DAY,
                  plaintext: bytes = b"hello", lane: env.Lane = env.Lane.NORMAL,
                  nonce: bytes | None = None, epoch: int = 0, lamport: int = 1,
                  prev: bytes | None = None) -> env.Envelope:
    """Seal a test envelope with deterministic defaults."""
    return env.seal(signing_key=signing_key or nacl.signing.SigningKey(b"S" * 32), topic=topic, epoch=epoch,
                    key=key, seq=seq, lamport=lamport, created=created, expires=created + ttl,
                    plaintext=plaintext, lane=lane, nonce=nonce, prev=env.filler_prev(seq) if prev is None else prev)
