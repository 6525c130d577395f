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
"""

from __future__ import annotations

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

    def add_peer(self, peer: Peer) -> None:
        if peer not in self.lazy:
            self.eager.add(peer)

    def remove_peer(self, peer: Peer) -> None:
        self.eager.discard(peer)
        self.lazy.discard(peer)
        for entry in self.missing.values():
            if peer in entry.announcers:
                entry.announcers.remove(peer)
        if not self.eager and self.lazy:
            self.eager.add(self.lazy.pop())

    def peers(self) -> set[Peer]:
        return self.eager | self.lazy

    def targets(self, sender: Peer | None) -> tuple[list[Peer], list[Peer]]:
        """(eager, lazy) peers to forward a new envelope to, excluding where it came from."""
        if self.flood:
            return [p for p in self.eager | self.lazy if p != sender], []
        return [p for p in self.eager if p != sender], [p for p in self.lazy if p != sender]

    def received(self, envelope_id: bytes, sender: Peer | None) -> None:
        """A new envelope arrived (or we made it): stop waiting for it; the sender's edge is eager."""
        self.missing.pop(envelope_id, None)
        if sender is not None and sender in self.lazy:
            self.lazy.discard(sender)
            self.eager.add(sender)

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

    def announced(self, peer: Peer, ids: Iterable[bytes], now: float, timeout: float | None = None) -> None:
        """``peer`` has these ids (which the caller checked we lack): schedule grafts after ``timeout``
        (default ``graft_timeout``)."""
        wait = self.graft_timeout if timeout is None else timeout
        for envelope_id in ids:
            entry = self.missing.get(envelope_id)
            if entry is None:
                self.missing[envelope_id] = _Missing([peer], now + wait)
            elif peer not in entry.announcers:
                entry.announcers.append(peer)

    def next_deadline(self) -> float | None:
        return min((m.deadline for m in self.missing.values()), default=None)

    def due_grafts(self, now: float) -> dict[Peer, list[bytes]]:
        """Ids whose timer fired, grouped by the announcer to graft; that announcer becomes eager."""
        out: dict[Peer, list[bytes]] = {}
        for envelope_id, entry in list(self.missing.items()):
            if entry.deadline > now:
                continue
            if not entry.announcers:
                del self.missing[envelope_id]
                continue
            peer = entry.announcers.pop(0)
            entry.deadline = now + self.graft_timeout
            out.setdefault(peer, []).append(envelope_id)
            self.grafted_by(peer)
        return out
