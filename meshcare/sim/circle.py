"""The simulated support circle: members' keys, the topic, sealing messages, and the verifier.

Theory of operation
-------------------
Every simulated node is a member with its own Ed25519 signing key; all share one circle topic (16 random
bytes) and one epoch body key. Keys, topic, body key and nonces all come from the simulation's RNG, so
the same seed seals byte-identical envelopes (hence identical ids) in every run.

The verifier is what a real node checks before it stores anything: the signature (``envelope.verify``),
that the envelope has not expired, fits the size cap, belongs to the circle's topic and was written by
one of the members. Signature checks are memoised by envelope id across all simulated nodes (the answer
is a function of the bytes alone, and the id is their hash): checking the same signature on 10,000
nodes would measure libsodium, not the protocol. ``memo=False`` turns that off.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Callable, Final

import nacl.signing

from .. import envelope as env
from ..errors import InvalidSignature
from ..ids import TopicId

TTL: Final = 7 * 86_400
Verifier = Callable[[Sequence[env.Envelope], int], "list[bool | None]"]


class SimCircle:
    """Keys and sealing for the simulated members (see the module docstring)."""

    __slots__ = ("keys", "authors", "topic", "body_key", "body_bytes", "lamport", "_seq", "_rng")

    def __init__(self, members: int, rng: random.Random, body_bytes: int = 200) -> None:
        self._rng = rng
        self.topic = TopicId(rng.randbytes(env.TOPIC_SIZE))
        self.body_key = rng.randbytes(32)
        self.keys = [nacl.signing.SigningKey(rng.randbytes(32)) for _ in range(members)]
        self.authors = frozenset(bytes(k.verify_key) for k in self.keys)
        self.body_bytes = body_bytes
        self.lamport = 0
        self._seq = [0] * members

    def seal(self, author: int, created: int, label: str, lane: env.Lane = env.Lane.NORMAL) -> env.Envelope:
        """A new envelope by member ``author``: a body of ``body_bytes`` starting with ``label``."""
        self._seq[author] += 1
        self.lamport += 1
        body = label.encode().ljust(self.body_bytes, b".")
        return env.seal(signing_key=self.keys[author], topic=self.topic, epoch=0, key=self.body_key,
                        seq=self._seq[author], lamport=self.lamport, created=created, expires=created + TTL,
                        plaintext=body, nonce=self._rng.randbytes(24), lane=lane,
                        prev=env.filler_prev(self._seq[author]))

    def prefill(self, count: int, now: int, authors: int = 8) -> list[env.Envelope]:
        """``count`` old envelopes (created over the past 6 days, still unexpired at ``now``), sorted by
        ``(created, id)`` so stores append them; the same objects go into every store."""
        span = 6 * 86_400
        writers = min(authors, len(self.keys))
        out = [self.seal(i % writers, now - span + (span - 3600) * i // max(1, count), f"old {i}")
               for i in range(count)]
        out.sort(key=lambda e: (e.created, e.id))
        return out

    def verifier(self, memo: bool = True) -> Verifier:
        """The batch verifier every simulated node uses (see the module docstring)."""
        topic, authors, limit = self.topic, self.authors, env.MAX_ENVELOPE_SIZE
        cache: dict[bytes, bool] = {}

        def signature_ok(envelope: env.Envelope) -> bool:
            known = cache.get(envelope.id) if memo else None
            if known is None:
                try:
                    env.verify(envelope)
                except InvalidSignature:
                    known = False
                else:
                    known = True
                if memo:
                    cache[envelope.id] = known
            return known

        def verify(envelopes: Sequence[env.Envelope], now: int) -> list[bool | None]:
            return [e.topic == topic and e.author in authors and len(e.encoded) <= limit
                    and e.expires > now and signature_ok(e) for e in envelopes]

        return verify
