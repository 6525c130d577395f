"""Plumtree (epidemic broadcast trees) for one topic: who gets envelopes eagerly, who lazily.

Theory of operation (Leitão, Pereira, Rodrigues, SRDS 2007)
-----------------------------------------------------------
Every linked peer that shares the topic is either *eager* (gets new envelopes pushed at once) or *lazy*
(gets only their ids, in ``IHave``). New peers start eager, so a fresh mesh floods once; every duplicate
an eager peer sends us makes us ``Prune`` it to lazy, so the eager edges shrink to a spanning tree along
the fastest first-delivery paths. When an ``IHave`` announces an id we lack, a timer starts; if the
envelope has not arrived when it fires we ``Graft`` the announcer (pull the id and make the edge eager
again), then the next announcer after another timeout. Lost peers are dropped; if that leaves no eager
peer, one lazy peer is promoted so the tree stays connected. This module only keeps the sets and timers;
``node.py`` sends the frames.

Announcements are peer input, so they are bounded: at most ``per_peer`` pending ids per announcer and
``total`` per topic (ids beyond are ignored, and reconciliation finds them later), and the timers live in
a heap (stale entries are skipped when popped), so ``next_deadline`` and ``due_grafts`` cost O(log n) per
id, not a scan of everything pending.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field

Peer = Hashable


@dataclass(slots=True)
class _Missing:
    announcers: list[Peer]
    deadline: float


@dataclass(slots=True)
class TopicGossip:
    """Eager and lazy peer sets of one topic plus the ids announced but not yet received."""

    graft_timeout: float = 0.25
    eager: set[Peer] = field(default_factory=set)
    lazy: set[Peer] = field(default_factory=set)
    missing: dict[bytes, _Missing] = field(default_factory=dict)
    flood: bool = False  # naive flooding (the benchmark's comparison): never prune
    per_peer: int = 4_096  # pending announced ids one peer may hold us to
    total: int = 65_536    # pending announced ids in this topic, all peers together
    ignored: int = 0       # announced ids not kept because a bound was reached
    _by_peer: dict[Peer, set[bytes]] = field(default_factory=dict)
    _timers: list[tuple[float, int, bytes]] = field(default_factory=list)
    _tie: itertools.count[int] = field(default_factory=itertools.count)

    def add_peer(self, peer: Peer) -> None:
        if peer not in self.lazy:
            self.eager.add(peer)

    def remove_peer(self, peer: Peer) -> None:
        self.eager.discard(peer)
        self.lazy.discard(peer)
        for envelope_id in self._by_peer.pop(peer, ()):
            entry = self.missing.get(envelope_id)
            if entry is not None and peer in entry.announcers:
                entry.announcers.remove(peer)
        if not self.eager and self.lazy:
            self.eager.add(self.lazy.pop())

    def peers(self) -> set[Peer]:
        return self.eager | self.lazy

    def pending(self, peer: Peer) -> int:
        """How many announced ids ``peer`` holds us waiting for (bounded by ``per_peer``)."""
        return len(self._by_peer.get(peer, ()))

    def targets(self, sender: Peer | None) -> tuple[list[Peer], list[Peer]]:
        """(eager, lazy) peers to forward a new envelope to, excluding where it came from."""
        if self.flood:
            return [p for p in self.eager | self.lazy if p != sender], []
        return [p for p in self.eager if p != sender], [p for p in self.lazy if p != sender]

    def received(self, envelope_id: bytes, sender: Peer | None) -> None:
        """A new envelope arrived (or we made it): stop waiting for it; the sender's edge is eager."""
        entry = self.missing.pop(envelope_id, None)
        if entry is not None:
            self._release(envelope_id, entry)
        if sender is not None and sender in self.lazy:
            self.lazy.discard(sender)
            self.eager.add(sender)

    def _release(self, envelope_id: bytes, entry: _Missing) -> None:
        for peer in entry.announcers:
            ids = self._by_peer.get(peer)
            if ids is not None:
                ids.discard(envelope_id)

    def duplicate_from(self, peer: Peer) -> bool:
        """A duplicate came from ``peer``: demote it. True if a Prune should be sent."""
        if self.flood or peer not in self.eager:
            return False
        self.eager.discard(peer)
        self.lazy.add(peer)
        return True

    def pruned_by(self, peer: Peer) -> None:
        if peer in self.eager and not self.flood:
            self.eager.discard(peer)
            self.lazy.add(peer)

    def grafted_by(self, peer: Peer) -> None:
        if peer in self.lazy:
            self.lazy.discard(peer)
        self.eager.add(peer)

    def announced(self, peer: Peer, ids: Iterable[bytes], now: float, timeout: float | None = None) -> int:
        """``peer`` has these ids (which the caller checked we lack): schedule grafts after ``timeout``
        (default ``graft_timeout``). Returns how many ids were ignored because ``peer`` already holds
        ``per_peer`` pending ids or the topic ``total`` (they are counted in ``ignored``)."""
        wait = self.graft_timeout if timeout is None else timeout
        mine = self._by_peer.setdefault(peer, set())
        skipped = 0
        for envelope_id in ids:
            if envelope_id in mine:
                continue
            if len(mine) >= self.per_peer:
                skipped += 1
                continue
            entry = self.missing.get(envelope_id)
            if entry is None:
                if len(self.missing) >= self.total:
                    skipped += 1
                    continue
                entry = self.missing[envelope_id] = _Missing([peer], now + wait)
                heapq.heappush(self._timers, (entry.deadline, next(self._tie), envelope_id))
            else:
                entry.announcers.append(peer)
            mine.add(envelope_id)
        if not mine:
            del self._by_peer[peer]
        self.ignored += skipped
        return skipped

    def next_deadline(self) -> float | None:
        """The earliest graft timer (stale heap entries are discarded on the way)."""
        timers = self._timers
        while timers:
            deadline, _, envelope_id = timers[0]
            entry = self.missing.get(envelope_id)
            if entry is not None and entry.deadline == deadline:
                return deadline
            heapq.heappop(timers)
        return None

    def due_grafts(self, now: float) -> dict[Peer, list[bytes]]:
        """Ids whose timer fired, grouped by the announcer to graft; that announcer becomes eager."""
        out: dict[Peer, list[bytes]] = {}
        timers = self._timers
        while timers and timers[0][0] <= now:
            deadline, _, envelope_id = heapq.heappop(timers)
            entry = self.missing.get(envelope_id)
            if entry is None or entry.deadline != deadline:
                continue  # received meanwhile, or rescheduled
            if not entry.announcers:
                del self.missing[envelope_id]
                continue
            peer = entry.announcers.pop(0)
            ids = self._by_peer.get(peer)
            if ids is not None:
                ids.discard(envelope_id)
                if not ids:
                    del self._by_peer[peer]
            entry.deadline = now + self.graft_timeout
            heapq.heappush(timers, (entry.deadline, next(self._tie), envelope_id))
            out.setdefault(peer, []).append(envelope_id)
            self.grafted_by(peer)
        return out
