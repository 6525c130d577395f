"""Authors' chains in one circle topic, and equivocation. Pure: no I/O, no clock.

Theory of operation
-------------------
Every envelope names its author's previous envelope in the topic (``prev``; b"" at seq 1), roster
operations and posts alike, with one seq counter per author and topic. A circle keeps, per author, what
it accepted: seq -> (id, prev). An envelope is **equivocation** when it contradicts what is held: another
envelope at the same (author, seq), a ``prev`` other than the id held at seq - 1, or an id other than the
``prev`` of the envelope held at seq + 1. Honest nodes never equivocate (they persist their seq before
publishing), so equivocation is proof of a modified client: it is counted per author (``equivocations``)
for the circle's state and a later UI.

Departed members' envelopes count only on the chain their departure named (membership.on_chain walks it
back through these links). Entries of expired posts are dropped with them; a node's *own* next seq and
prev also live in the local state, so expiry never makes it reuse a seq.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from .. import envelope as env

#: Distinct equivocating envelopes remembered (to count each once); oldest forgotten first.
MAX_SEEN_EQUIVOCATIONS: Final = 4096


class Chains:
    """Per-author accepted chains of one topic."""

    def __init__(self) -> None:
        self._by_author: dict[bytes, dict[int, tuple[bytes, bytes]]] = {}
        self.equivocations: dict[bytes, int] = {}       # author -> distinct equivocating envelopes seen
        self._seen: dict[bytes, None] = {}

    def of(self, author: bytes) -> Mapping[int, tuple[bytes, bytes]]:
        """The author's accepted envelopes: seq -> (id, prev)."""
        return self._by_author.get(author, {})

    def conflict(self, e: env.Envelope) -> str | None:
        """Why ``e`` contradicts the author's accepted chain (equivocation), or None."""
        chain = self._by_author.get(e.author)
        if not chain:
            return None
        held = chain.get(e.seq)
        if held is not None and held[0] != e.id:
            return "another envelope holds this seq"
        before = chain.get(e.seq - 1)
        if before is not None and e.prev != before[0]:
            return "its prev is not the envelope held at seq - 1"
        after = chain.get(e.seq + 1)
        if after is not None and after[1] != e.id:
            return "the envelope held at seq + 1 builds on another one"
        return None

    def record_equivocation(self, e: env.Envelope) -> None:
        """Count ``e`` against its author, once per envelope."""
        if e.id in self._seen:
            return
        self._seen[e.id] = None
        while len(self._seen) > MAX_SEEN_EQUIVOCATIONS:
            del self._seen[next(iter(self._seen))]
        self.equivocations[e.author] = self.equivocations.get(e.author, 0) + 1

    def add(self, e: env.Envelope) -> None:
        """Record an accepted envelope. The first one at a seq stays (a roster operation accepted despite
        a conflict, so that every node folds the same set, does not displace it)."""
        self._by_author.setdefault(e.author, {}).setdefault(e.seq, (e.id, e.prev))

    def forget(self, e: env.Envelope) -> None:
        """Drop an expired or purged envelope's entry."""
        chain = self._by_author.get(e.author)
        if chain is not None and chain.get(e.seq, (b"",))[0] == e.id:
            del chain[e.seq]
            if not chain:
                del self._by_author[e.author]

    def top(self, author: bytes) -> tuple[int, bytes]:
        """(highest accepted seq, its id) of ``author``, (0, b"") if none."""
        chain = self._by_author.get(author)
        if not chain:
            return 0, b""
        seq = max(chain)
        return seq, chain[seq][0]
