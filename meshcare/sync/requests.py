"""What a peer may ask of a node, answered within its budgets: the request half of ``SyncEngine``.

Every frame here is peer input, so each answer is bounded and charged to the peer that asked
(``budget.PeerBudget``): IHave ids are rationed and their pending grafts capped; Heads and Reconcile
answers are rate-limited per (peer, topic); Graft and Want fetches, the rows a Reconcile answer reads and
the envelopes it pushes cost work units. A request over budget is ignored and counted, and a peer that
keeps sending them loses its link (``RemoteProtocolError``). Every push goes through
``Store.fetch(topic, ids, now)``: only the frame's topic, only unexpired envelopes, each once. Frames go
out through the engine's ``LinkTable`` (id lists split, pushes batched).

``SyncEngine`` inherits this mixin; the attributes declared below are its own, and so are the two
reconciliation hooks (the engine's ``CatchUp`` decides whether an exchange starts or ends).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

from ..errors import RemoteProtocolError
from ..ranges import KEY_MAX, KEY_MIN
from ..store import Store
from . import events as ev
from .events import PeerKey
from .frames import Heads, IHave, Reconcile, Want
from .gossip import TopicGossip
from .heads import answer_heads
from .link_table import LinkTable
from .reconcile import Reconciler
from .session import QueueLane

if TYPE_CHECKING:
    from .config import SyncConfig

#: Work units charged per byte of a Reconcile message we answer (its ranges cost store queries).
RECONCILE_WORK_PER_BYTE: Final = 0.125


class PeerRequests:
    """Answers to a peer's IHave, Graft, Want, Heads and Reconcile frames (mixin of ``SyncEngine``)."""

    store: Store
    config: SyncConfig
    stats: Counter[str]
    _links: LinkTable
    _gossip: dict[bytes, TopicGossip]
    _requested: dict[bytes, float]
    _graft_topics: set[bytes]

    def _start_reconcile(self, peer: PeerKey, topic: bytes, now: float, out: list[ev.Effect], *,
                         periodic: bool = False) -> None:
        raise NotImplementedError

    def _reconcile_progress(self, peer: PeerKey, topic: bytes, done: bool, now: float,
                            out: list[ev.Effect]) -> None:
        raise NotImplementedError

    def _lacking(self, ids: Sequence[bytes]) -> list[bytes]:
        """The ids of ``ids`` this node does not hold (one store query; none for no ids)."""
        return self.store.missing(list(ids)) if ids else []

    def _over_budget(self, peer: PeerKey, what: str, now: float) -> None:
        """A request of ``peer`` is ignored for being over one of its budgets. Raises
        RemoteProtocolError once the peer keeps at it (its excess allowance is spent)."""
        self.stats["requests_ignored"] += 1
        self.stats[f"ignored_{what}"] += 1
        if not self._links[peer].budget.charge_excess(now):
            raise RemoteProtocolError(f"keeps sending {what} over its budget")

    def _on_ihave(self, peer: PeerKey, frame: IHave, now: float) -> None:
        """Schedule grafts for announced ids we lack, within the peer's announcement allowance (each id
        is a store lookup) and the pending bounds of ``TopicGossip``."""
        budget = self._links[peer].budget
        allowed = budget.charge_announced(len(frame.ids), now)
        if allowed < len(frame.ids):
            self.stats["ihave_ids_ignored"] += len(frame.ids) - allowed
            self._over_budget(peer, "announcements", now)
        ids = [i for i in frame.ids[:allowed] if i not in self._requested]
        wanted = self._lacking(ids)
        if wanted:
            gossip = self._gossip[frame.topic]
            self.stats["ihave_ids_ignored"] += gossip.announced(peer, wanted, now, self._graft_wait(peer))
            if gossip.missing:
                self._graft_topics.add(frame.topic)

    def _on_heads(self, peer: PeerKey, frame: Heads, now: float, out: list[ev.Effect]) -> None:
        """Push what the peer lacks by its heads: costs a pass over the topic, so rate-limited per
        (peer, topic) and charged (rows read plus envelopes pushed) to the peer's work budget."""
        budget = self._links[peer].budget
        if not budget.answer_allowed(Heads.TYPE, frame.topic, now):     # before any store query
            self._over_budget(peer, "heads", now)
            return
        rows = self.store.count(frame.topic, KEY_MIN, KEY_MAX, int(now))
        if not budget.charge_work(2 * rows, now):
            self._over_budget(peer, "heads", now)
            return
        ids = answer_heads(self.store, frame.topic, frame.payload, int(now))
        self._links.push(peer, frame.topic, self.store.fetch(frame.topic, ids, int(now)), QueueLane.BULK, out,
                         catchup=True)
        if self._links[peer].initiator:
            self._start_reconcile(peer, frame.topic, now, out)

    def _on_reconcile(self, peer: PeerKey, frame: Reconcile, now: float, out: list[ev.Effect]) -> None:
        """Answer one reconciliation message: rate-limited per (peer, topic); its store queries and the
        envelopes it makes us push are charged to the peer's work budget."""
        self.stats["reconcile_in"] += 1
        topic, budget = frame.topic, self._links[peer].budget
        cost = 1 + int(len(frame.payload) * RECONCILE_WORK_PER_BYTE)
        if not budget.answer_allowed(Reconcile.TYPE, topic, now) or not budget.charge_work(cost, now):
            self._over_budget(peer, "reconcile", now)
            return
        step = Reconciler(self.store, topic).receive(frame.payload, int(now))
        if step.send_ids and budget.charge_work(2 * len(step.send_ids), now):
            raws = self.store.fetch(topic, step.send_ids, int(now))
            self._links.push(peer, topic, raws, QueueLane.BULK, out, catchup=True)
        elif step.send_ids:
            self._over_budget(peer, "reconcile", now)
        for lower, upper in step.send_ranges:
            if not budget.charge_work(2 * self.store.count(topic, lower, upper, int(now)), now):
                self._over_budget(peer, "reconcile", now)
                break
            raws = [d for _, d in self.store.items(topic, lower, upper, int(now))]
            self._links.push(peer, topic, raws, QueueLane.BULK, out, catchup=True)
        room = self.config.limits.requested_max - len(self._requested)
        need = [i for i in step.need_ids if i not in self._requested][:max(0, room)]
        for i in need:
            self._requested[i] = now
        self._links.send_ids(peer, Want, topic, need, QueueLane.BULK, out)
        if step.reply is not None:
            self._links.send(peer, Reconcile(topic, step.reply), QueueLane.BULK, out)
        self._reconcile_progress(peer, topic, step.reply is None, now, out)

    def _graft_wait(self, peer: PeerKey) -> float:
        """How long to wait for an envelope ``peer`` announced: four round trips of *that* link, at
        least 20 ms, at most ``graft_timeout`` (which also applies when its round trip is unknown).

        Only the announcing link counts: another peer must not be able to stretch every wait by
        reporting a slow link of its own.
        """
        rtt = self._links[peer].rtt
        if rtt <= 0:
            return self.config.graft_timeout
        return min(self.config.graft_timeout, max(0.02, 4 * rtt))

    def _answer_fetch(self, peer: PeerKey, topic: bytes, ids: Sequence[bytes], now: float, lane: QueueLane,
                      out: list[ev.Effect], *, catchup: bool = False) -> None:
        """Answer a Graft or Want: the ids' envelopes *of this topic*, unexpired (``Store.fetch``), each
        once; the lookups and pushes are charged to the peer's work budget (ignored if it cannot pay)."""
        if not ids:
            return
        if not self._links[peer].budget.charge_work(2 * len(ids), now):
            self._over_budget(peer, "fetches", now)
            return
        self._links.push(peer, topic, self.store.fetch(topic, ids, int(now)), lane, out, catchup=catchup)
