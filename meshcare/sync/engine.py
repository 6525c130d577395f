"""``SyncEngine``: the sync engine's one facade. Events in, effects out; time and randomness are arguments.

Theory of operation
-------------------
The node keeps a bounded neighbour set (``SyncConfig.target_links`` dialled, at most ``max_links``),
one ``Session`` per link, and per topic a ``TopicGossip`` (Plumtree). An envelope travels like this:

1. It arrives in a ``Push`` (or is ``Published`` here). Duplicates are counted and make Plumtree prune
   the sender. New ones pass the per-author budget and then the verifier callback (signature, membership,
   expiry, size), as one batch; rejected ones charge the sender and are never stored or forwarded.
2. Accepted envelopes are returned as ``Persist`` (the shell stores them before anything else), then
   ``Deliver``; fresh ones are pushed to the topic's eager peers and announced (``IHave``) to the lazy
   ones. Old ones (catch-up) are not re-broadcast: they trigger an early reconciliation with the other
   neighbours instead, which costs almost nothing where sets already agree.
3. Anti-entropy: when a topic becomes shared on a link, the link's initiator (the dialler: usually the
   node that just came back) starts a range-based reconciliation (``reconcile.py``), one neighbour at a
   time per topic; its opening message lets its missing tail be pushed in the first round trip, and the
   next neighbours find nothing left to send. Envelopes pushed by reconciliation are marked ``catchup``
   and are not re-broadcast. Optionally (``heads_on_open``) both sides first exchange ``Heads``
   (per-author highest sequence numbers) and push what the other lacks by them. Reconciliation also runs
   periodically with one random neighbour per topic.

Parts: the engine owns its collaborators and is the one that acts. ``NeighbourSet`` (``neighbours.py``:
whom to dial, which link to trim, which are silent) and ``CatchUp`` (``catchup.py``: which neighbour
reconciles which topic, and when) only decide, over what the engine hands them (``now``, its RNG, a
read-only view of its links), and never call back. ``LinkTable`` (``link_table.py``) holds the links and
queues every frame on them; ``PeerRequests`` (``requests.py``) answers what peers ask.

Everything a peer can make the node do is bounded and charged to that peer (``requests.py``,
``budget.py``): announcements, fetches, Heads and Reconcile answers, pending grafts; every new envelope is
charged to its author; a peer frame never makes ``handle`` raise anything but a dropped link.

Outgoing frames queue per link in three lanes (``session.QueueLane``): urgent envelopes and control first,
live gossip next, catch-up last; the shell pulls coalesced bytes with ``take_output``.
"""

from __future__ import annotations

import random
from collections import Counter, deque
from collections.abc import Callable, Sequence

from .. import envelope as env
from ..errors import LocalProtocolError, RemoteProtocolError
from ..ids import TopicId
from ..store import Store
from . import events as ev
from .events import PeerKey
from .budget import AuthorBudgets, PeerBudget
from .catchup import CatchUp
from .clock_skew import ClockSkew
from .config import SyncConfig
from .frames import Graft, Heads, IHave, Ping, Prune, Push, Reconcile, Want
from .gossip import TopicGossip
from .heads import heads_message
from .link_table import Link, LinkTable
from .neighbours import NeighbourSet
from .requests import PeerRequests
from .session import MAX_TAGS, QueueLane, PeerClosed, Session, SyncFrame, TopicsChanged

__all__ = ["Access", "SyncConfig", "SyncEngine", "Verifier"]

#: Verdict per envelope: True (accept), False (reject: charges the sender), None (undecided yet: not stored,
#: not charged; the shell keeps it and hands it back with ``Released`` once the circle can decide).
Verifier = Callable[[Sequence[env.Envelope], int], "list[bool | None]"]
#: Access(topic, peer identity) -> may this peer sync this topic? (circle membership, link level)
Access = Callable[[bytes, bytes], bool]


class SyncEngine(PeerRequests):
    """The sync engine for all topics of one node. Not thread-safe; one owner calls it."""

    def __init__(self, store: Store, verifier: Verifier, *, rng: random.Random,
                 config: SyncConfig | None = None, access: Access | None = None) -> None:
        self.store = store
        self.config = config or SyncConfig()
        self._verify = verifier
        self._access = access
        self._topics: set[TopicId] = set()
        self._lobbies: set[bytes] = set()  # topics joined as lobbies: offered after circles (tag limit)
        self._graft_topics: set[bytes] = set()  # topics with announced ids pending (graft timers)
        self._gossip: dict[bytes, TopicGossip] = {}
        self.stats: Counter[str] = Counter()
        self._links = LinkTable(self.stats)
        self._neighbours = NeighbourSet(self.config, rng, self._links)   # reads the link table
        self._catchup = CatchUp(store, self.config, rng)
        self._requested: dict[bytes, float] = {}
        self._recent: deque[tuple[float, bytes, bytes]] = deque(maxlen=256)  # (time, topic, id) gossiped
        self._clock = 0.0  # the ``now`` of the event being handled
        self._next_tick: float | None = None
        self._authors = AuthorBudgets(self.config.limits)
        #: False while the shell cannot store what arrives (a full disk): ask peers for nothing more
        self.fetching = True
        #: peers' clock offsets, from what each authored and pushed live (``meshcare doctor``)
        self.clock_skew = ClockSkew()

    # ------------------------------------------------------------------------------------------
    # facade

    def handle(self, event: ev.Event, now: float) -> list[ev.Effect]:
        """Apply one event; return the effects to carry out, in order."""
        out: list[ev.Effect] = []
        self._clock = now
        self._arm_timers(now)
        if isinstance(event, ev.DataReceived):
            self._on_data(event.peer, event.data, now, out)
        elif isinstance(event, ev.Published):
            self._on_published(event.envelope, now, out)
        elif isinstance(event, ev.LinkOpened):
            self._on_link_opened(event, now, out)
        elif isinstance(event, ev.LinkClosed):
            self._on_link_closed(event, now, out)
        elif isinstance(event, ev.PeerDiscovered):
            self._neighbours.discovered(event.peer, event.segment, event.node)
            self._dial(self._neighbours.fill(now), out)
        elif isinstance(event, ev.PeerLost):
            self._neighbours.lost(event.peer)
        elif isinstance(event, ev.TopicJoined):
            if event.lobby:
                self._lobbies.add(event.topic)
            else:
                self._lobbies.discard(event.topic)
            self._set_topics(self._topics | {event.topic}, now, out)
        elif isinstance(event, ev.TopicLeft):
            self._lobbies.discard(event.topic)
            self._set_topics(self._topics - {event.topic}, now, out)
        elif isinstance(event, ev.AccessChanged):
            self._set_topics(set(self._topics), now, out)
        elif isinstance(event, ev.Released):
            self._on_released(event.envelopes, now, out)
        elif isinstance(event, ev.Preferred):
            self._neighbours.prefer(frozenset(event.nodes))
            self._dial(self._neighbours.fill(now), out)
        else:
            raise LocalProtocolError(f"unknown event {event!r}")
        return out

    def next_deadline(self) -> float | None:
        """The earliest time ``handle_deadline`` has work to do (None: nothing scheduled)."""
        times = [t for t in (self._next_tick, self._neighbours.next_deadline()) if t is not None]
        times += self._catchup.deadlines()
        for topic in list(self._graft_topics):  # only topics with graft timers; each a heap peek
            gossip = self._gossip.get(topic)
            t = None if gossip is None else gossip.next_deadline()
            if t is None:
                self._graft_topics.discard(topic)
            else:
                times.append(t)
        return min(times, default=None)

    def pause_fetching(self) -> None:
        """The shell cannot store what arrives (its disk is full): start no reconciliation and graft nothing,
        so no peer is asked again and again for what would be dropped. Links and answers to peers go on."""
        self.fetching = False

    def resume_fetching(self, now: float) -> list[ev.Effect]:
        """There is room again: reconcile every topic with one neighbour now (what arrived while paused was
        dropped, and the periodic round may be far off)."""
        self.fetching = True
        out: list[ev.Effect] = []
        self._clock = now
        for topic in sorted(self._topics):
            chosen = self._catchup.pick(self._links.sharing(topic))
            if chosen is not None:
                self._start_reconcile(chosen, topic, now, out)
        return out

    def handle_deadline(self, now: float) -> list[ev.Effect]:
        """Run every timer that is due at ``now``."""
        out: list[ev.Effect] = []
        self._arm_timers(now)
        for topic in sorted(self._graft_topics):     # sorted: a run must not depend on hash order
            gossip = self._gossip.get(topic)
            if gossip is None:
                self._graft_topics.discard(topic)
                continue
            for peer, ids in gossip.due_grafts(now).items():
                if peer in self._links and self.fetching:
                    self.stats["grafts_sent"] += 1
                    self._links.send_ids(peer, Graft, topic, ids, QueueLane.URGENT, out)
        for topic in self._catchup.due_after_catchup(now):
            for peer in self._links.sharing(topic):
                self._start_reconcile(peer, topic, now, out)
        if self._next_tick is not None and self._next_tick <= now:
            self._next_tick = now + self.config.tick
            self._maintain(now, out)
        extra = self._neighbours.rotation(now)
        if extra is not None:
            self.stats["rotations"] += 1
            self._dial([extra], out)
        if self._catchup.round_due(now):
            for topic in sorted(self._topics):
                chosen = self._catchup.pick(self._links.sharing(topic))
                if chosen is not None:
                    self._start_reconcile(chosen, topic, now, out, periodic=True)
        return out

    def take_output(self, peer: PeerKey, max_bytes: int | None = None) -> bytes:
        """Coalesced bytes queued for ``peer`` (urgent first); b"" when nothing is queued or no link."""
        link = self._links.get(peer)
        return link.session.take_output(max_bytes) if link else b""

    def statistics(self) -> dict[str, int]:
        """Counters for the status screen and the simulator; ``dropped`` sums every kind of drop."""
        stats = dict(self.stats)
        stats["links"] = len(self._links)
        for name in ("bytes_in", "bytes_out", "payload_in", "payload_out"):
            stats[name] = stats.get(name, 0) + sum(getattr(link.session, name) for link in self._links.values())
        stats["payload_bytes_in"], stats["payload_bytes_out"] = stats.pop("payload_in"), stats.pop("payload_out")
        stats["control_bytes_in"] = stats["bytes_in"] - stats["payload_bytes_in"]
        stats["control_bytes_out"] = stats["bytes_out"] - stats["payload_bytes_out"]
        stats["dropped_queue"] = stats.get("dropped_queue", 0) + sum(
            link.session.dropped_frames for link in self._links.values())
        stats["dropped"] = stats["dropped_queue"] + stats.get("dropped_budget", 0)
        return stats

    def catching_up(self) -> frozenset[bytes]:
        """Topics this node is catching up on (``CatchUp.catching_up``): for "catching up / caught up"."""
        return self._catchup.catching_up()

    @property
    def linked_peers(self) -> list[PeerKey]:
        return list(self._links)

    def linked_node(self, node: bytes) -> float | None:
        """When the link to the node ``node`` opened (``now`` of then), None while none is open: what
        ``mailbox.status`` shows (links are keyed by node id in the daemon, by address elsewhere)."""
        link = self._links.get(node)
        if link is None:
            link = next((lk for lk in self._links.values() if lk.node == node), None)
        return None if link is None else link.opened

    def addresses_of(self, node: bytes) -> list[PeerKey]:
        """The addresses known to belong to ``node`` (``NeighbourSet.addresses_of``)."""
        return self._neighbours.addresses_of(node)

    def shared_topics(self, peer: PeerKey) -> frozenset[bytes]:
        link = self._links.get(peer)
        return link.session.shared if link else frozenset()

    # ------------------------------------------------------------------------------------------
    # links

    def _arm_timers(self, now: float) -> None:
        if self._next_tick is None:
            self._next_tick = now + self.config.tick
            self._neighbours.start_timers(now)
            self._catchup.start_timers(now)

    def _on_link_opened(self, event: ev.LinkOpened, now: float, out: list[ev.Effect]) -> None:
        peer = event.peer
        if peer in self._links:
            self._forget_link(peer)
        if not self._neighbours.opened(peer, event.address, event.initiator):
            out.append(ev.DropLink(peer, "neighbour set full"))
            return
        session = Session(event.handshake_hash, self._offer(event.node), queue_limit=self.config.queue_limit)
        self._links.add(peer, Link(session, PeerBudget(self.config.limits), event.initiator, now, now, event.rtt,
                                   event.node, event.slow))
        self.stats["links_opened"] += 1
        out.append(ev.OutputReady(peer))
        if event.initiator:
            oldest = self._neighbours.trim(peer)
            if oldest is not None:
                self._drop(oldest, "neighbour set trimmed", now, out, misbehaved=False)

    def _on_link_closed(self, event: ev.LinkClosed, now: float, out: list[ev.Effect]) -> None:
        self._neighbours.closed(event.peer, event.node, now)
        self._forget_link(event.peer)
        self._dial(self._neighbours.fill(now), out)
        if event.misbehaved:
            self.stats["links_dropped_misbehaved"] += 1
            self._neighbours.misbehaved(event.peer, now)

    def _forget_link(self, peer: PeerKey) -> None:
        if self._links.forget(peer) is not None:
            for gossip in self._gossip.values():
                gossip.remove_peer(peer)

    def _drop(self, peer: PeerKey, reason: str, now: float, out: list[ev.Effect], *, misbehaved: bool) -> None:
        link = self._links.get(peer)
        farewell = b""
        if link is not None:
            link.session.close(1 if misbehaved else 0, reason)
            farewell = link.session.take_output()
            self._forget_link(peer)
        if misbehaved:
            self.stats["links_dropped_misbehaved"] += 1
            self._neighbours.misbehaved(peer, now)
        out.append(ev.DropLink(peer, reason, misbehaved, farewell))

    @staticmethod
    def _dial(peers: list[PeerKey], out: list[ev.Effect]) -> None:
        out.extend(ev.Connect(peer) for peer in peers)

    def _maintain(self, now: float, out: list[ev.Effect]) -> None:
        for peer, dead in self._neighbours.silent(now):
            if dead:
                self._drop(peer, "peer silent too long", now, out, misbehaved=False)
            else:
                self._links.send(peer, Ping(int(now)), QueueLane.URGENT, out)
        for envelope_id, t in list(self._requested.items()):
            if now - t > 30:
                del self._requested[envelope_id]
        for topic in self._catchup.quiet(now, self._links):
            # a stateless exchange ends in silence when the peer agrees: quiet for a while means done
            self._reconcile_next(topic, now, out)
        self._dial(self._neighbours.fill(now), out)

    # ------------------------------------------------------------------------------------------
    # topics

    def _set_topics(self, topics: set[TopicId], now: float, out: list[ev.Effect]) -> None:
        limits = self.config.limits
        for topic in sorted(topics - self._topics):
            self._gossip[topic] = TopicGossip(self.config.graft_timeout, flood=self.config.gossip == "flood",
                                              per_peer=limits.pending_per_peer, total=limits.pending_total)
        for topic in self._topics - topics:
            self._gossip.pop(topic, None)
            self._graft_topics.discard(topic)
        self._topics = topics
        for peer, link in list(self._links.items()):
            offer = self._offer(link.node)
            if offer == link.session.offered:
                continue
            change = link.session.set_topics(offer)
            if change is not None:
                self._on_topics_changed(peer, change, now, out)
            out.append(ev.OutputReady(peer))

    def _offer(self, node: bytes) -> frozenset[bytes]:
        """The topics this node offers a peer: those it syncs and the peer may sync (membership).

        A Topics frame carries at most ``MAX_TAGS`` tags (the peer rejects more), so beyond that circles
        go first, then lobbies (open invites), in a fixed order; ``topics_not_offered`` counts the rest.
        """
        access = self._access
        topics = [t for t in self._topics if access is None or access(t, node)]
        if len(topics) <= MAX_TAGS:
            return frozenset(topics)
        topics.sort(key=lambda t: (t in self._lobbies, t))
        self.stats["topics_not_offered"] = len(topics) - MAX_TAGS
        return frozenset(topics[:MAX_TAGS])

    def _on_topics_changed(self, peer: PeerKey, change: TopicsChanged, now: float, out: list[ev.Effect]) -> None:
        for topic, gossip in self._gossip.items():
            if topic in change.shared:
                gossip.add_peer(peer)
            else:
                gossip.remove_peer(peer)
        for topic in sorted(change.added):
            if self.config.heads_on_open:
                self._links.send(peer, Heads(topic, heads_message(self.store, topic, int(now))), QueueLane.BULK, out)
            elif self._links[peer].initiator:
                self._start_reconcile(peer, topic, now, out)
            recent = [i for t, tp, i in self._recent if tp == topic and t >= now - self.config.recent_window][-64:]
            if recent:  # gossiped while this peer did not yet share the topic: announce, it pulls what it lacks
                self._links.send_ids(peer, IHave, topic, recent, QueueLane.LIVE, out)

    # ------------------------------------------------------------------------------------------
    # input

    def _on_data(self, peer: PeerKey, data: bytes, now: float, out: list[ev.Effect]) -> None:
        link = self._links.get(peer)
        if link is None:
            return  # bytes racing a close: ignore
        link.last_rx = now
        try:
            events = link.session.receive_data(data)
            if not link.budget.charge_input(len(events), len(data), now):
                self.stats["dropped_budget"] += 1
                raise RemoteProtocolError("over its traffic budget")
            for event in events:
                if isinstance(event, SyncFrame):
                    self.stats["frames_in"] += 1
                    self._on_sync_frame(peer, event.frame, now, out)
                elif isinstance(event, TopicsChanged):
                    self._on_topics_changed(peer, event, now, out)
                elif isinstance(event, PeerClosed):
                    self._forget_link(peer)
                    out.append(ev.DropLink(peer, f"peer closed: {event.reason}"))
                    return
                if peer not in self._links:
                    return
        except RemoteProtocolError as exc:
            self.stats["protocol_errors"] += 1
            self._drop(peer, str(exc), now, out, misbehaved=True)
            return
        if link.session.queued_bytes:
            out.append(ev.OutputReady(peer))

    def _on_sync_frame(self, peer: PeerKey, frame: object, now: float, out: list[ev.Effect]) -> None:
        """Act on one frame of a shared topic. Raises RemoteProtocolError (the caller drops the link)."""
        topic = getattr(frame, "topic", None)
        if not isinstance(topic, bytes) or topic not in self._gossip:
            return  # a topic we just left: the session lets in-flight frames through; nothing to do
        if isinstance(frame, Push):
            self._on_push(peer, frame, now, out)
        elif isinstance(frame, IHave):
            self._on_ihave(peer, frame, now)
        elif isinstance(frame, Graft):
            self._gossip[topic].grafted_by(peer)
            self._answer_fetch(peer, topic, frame.ids, now, QueueLane.LIVE, out)
        elif isinstance(frame, Prune):
            self._gossip[topic].pruned_by(peer)
        elif isinstance(frame, Want):
            self._answer_fetch(peer, topic, frame.ids, now, QueueLane.BULK, out, catchup=True)
        elif isinstance(frame, Heads):
            self._on_heads(peer, frame, now, out)
        elif isinstance(frame, Reconcile):
            self._on_reconcile(peer, frame, now, out)

    def _start_reconcile(self, peer: PeerKey, topic: bytes, now: float, out: list[ev.Effect], *,
                         periodic: bool = False) -> None:
        """Reconcile ``topic`` with ``peer`` now, or after the neighbour reconciling it (``CatchUp``); not at
        all while fetching is paused."""
        if not self.fetching:
            return
        frame = self._catchup.begin(peer, topic, now, self._links, periodic=periodic)
        if frame is not None:
            self.stats["reconcile_started"] += 1
            self._links.send(peer, frame, QueueLane.BULK, out)

    def _reconcile_next(self, topic: bytes, now: float, out: list[ev.Effect]) -> None:
        """The active reconciliation of ``topic`` is over (done, quiet or its link gone): start the next."""
        opening = self._catchup.finish(topic, now, self._links.sharing(topic))
        if opening is not None:
            self.stats["reconcile_started"] += 1
            self._links.send(opening[0], opening[1], QueueLane.BULK, out)

    def _reconcile_progress(self, peer: PeerKey, topic: bytes, done: bool, now: float, out: list[ev.Effect]) -> None:
        if self._catchup.progress(peer, topic, done, now):
            self._reconcile_next(topic, now, out)

    # ------------------------------------------------------------------------------------------
    # envelopes

    def _on_published(self, envelope: env.Envelope, now: float, out: list[ev.Effect]) -> None:
        if envelope.topic not in self._topics:
            raise LocalProtocolError("publish to a topic this node does not sync; join it first")
        out.append(ev.Persist((envelope,)))
        out.append(ev.Deliver(envelope, None))
        gossip = self._gossip[envelope.topic]
        gossip.received(envelope.id, None)
        self._forward(envelope.topic, [envelope], None, out)

    def _on_push(self, peer: PeerKey, frame: Push, now: float, out: list[ev.Effect]) -> None:
        """Decode, deduplicate, verify, charge each accepted envelope to its author (fresh or catch-up
        allowance: backdating does not escape the limit), then persist, deliver and forward."""
        topic = frame.topic
        gossip = self._gossip[topic]
        decoded: list[env.Envelope] = []
        link = self._links[peer]
        for raw in frame.envelopes:
            self.stats["envelopes_received"] += 1
            try:
                envelope = env.decode(raw)
                if envelope.topic != topic:
                    raise RemoteProtocolError("envelope topic differs from its frame's")
            except RemoteProtocolError:
                self.stats["rejected"] += 1
                if not link.budget.charge_reject():
                    raise RemoteProtocolError("sent too many invalid envelopes") from None
                continue
            decoded.append(envelope)
        seen: set[bytes] = set()
        lacking = set(self._lacking([e.id for e in decoded]))
        fresh_cutoff = now - self.config.fresh_window
        candidates: list[env.Envelope] = []
        duplicate = False
        for envelope in decoded:
            if envelope.id not in lacking or envelope.id in seen:
                # urgent envelopes are flooded on purpose: their duplicates say nothing about the tree
                duplicate = duplicate or envelope.lane != env.Lane.URGENT or not self.config.flood_urgent
                self.stats["duplicates_received"] += 1
                continue
            seen.add(envelope.id)
            candidates.append(envelope)
        if duplicate and gossip.duplicate_from(peer):
            self.stats["prunes_sent"] += 1
            self._links.send(peer, Prune(topic), QueueLane.LIVE, out)
        # an author already over budget is dropped before the signature check: the outcome is the same
        # (``allow`` would refuse it after verification), the cost of a member's flood is not
        affordable = [e for e in candidates
                      if not self._authors.exhausted(e.author, now, fresh=e.created >= fresh_cutoff)]
        if len(affordable) < len(candidates):
            skipped = len(candidates) - len(affordable)
            self.stats["dropped_budget"] += skipped
            self.stats["dropped_author_budget"] += skipped
            self.stats["dropped_before_verify"] += skipped
            candidates = affordable
        if not candidates:
            return
        verdicts = self._verify(candidates, int(now))
        if not frame.catchup:
            for envelope, ok in zip(candidates, verdicts):
                if ok is not False and envelope.author == peer:  # its own post, signed: its clock
                    self.clock_skew.observe(peer, envelope.created, now)
        accepted = [e for e, ok in zip(candidates, verdicts) if ok]
        rejected = sum(1 for ok in verdicts if ok is False)
        self.stats["deferred"] += sum(1 for ok in verdicts if ok is None)
        if rejected:
            self.stats["rejected"] += rejected
            for _ in range(rejected):
                if not link.budget.charge_reject():
                    raise RemoteProtocolError("sent too many envelopes that failed verification")
        # charged only once verified (signature and circle): a forger naming someone else as author cannot
        # spend that member's allowance, and the table holds verified authors only
        within: list[env.Envelope] = []
        for envelope in accepted:
            if self._authors.allow(envelope.author, now, fresh=envelope.created >= fresh_cutoff):
                within.append(envelope)
            else:
                self.stats["dropped_budget"] += 1
                self.stats["dropped_author_budget"] += 1
        accepted = within
        if not accepted:
            return
        self.stats["accepted"] += len(accepted)
        out.append(ev.Persist(tuple(accepted), received=True))
        fresh: list[env.Envelope] = []
        for envelope in accepted:
            self._requested.pop(envelope.id, None)
            flooded = envelope.lane == env.Lane.URGENT and self.config.flood_urgent
            gossip.received(envelope.id, None if flooded else peer)  # a flood says nothing about the tree
            out.append(ev.Deliver(envelope, peer))
            if envelope.created >= fresh_cutoff and not frame.catchup:
                fresh.append(envelope)
        if fresh:
            self._forward(topic, fresh, peer, out)
        if len(fresh) < len(accepted):
            # reconcile again once catch-up has been quiet for a moment, not while it still flows: a
            # round started mid-stream makes the peer send again everything still in flight
            self._catchup.after_catchup(topic, now)

    def _on_released(self, envelopes: Sequence[env.Envelope], now: float, out: list[ev.Effect]) -> None:
        fresh_cutoff = now - self.config.fresh_window
        by_topic: dict[bytes, list[env.Envelope]] = {}
        for e in envelopes:
            if e.topic in self._topics and not self.store.has(e.id):
                by_topic.setdefault(e.topic, []).append(e)
        for topic, items in by_topic.items():
            out.append(ev.Persist(tuple(items), received=True))
            gossip = self._gossip[topic]
            for e in items:
                self._requested.pop(e.id, None)
                gossip.received(e.id, None)
                out.append(ev.Deliver(e, None))
            fresh = [e for e in items if e.created >= fresh_cutoff]
            if fresh:
                self._forward(topic, fresh, None, out)

    def _forward(self, topic: bytes, envelopes: list[env.Envelope], sender: PeerKey | None,
                 out: list[ev.Effect]) -> None:
        gossip = self._gossip[topic]
        urgent = any(e.lane == env.Lane.URGENT for e in envelopes)
        eager: list[PeerKey]
        lazy: list[PeerKey]
        if urgent and self.config.flood_urgent:
            eager, lazy = [p for p in gossip.peers() if p != sender], []
        else:
            eager, lazy = gossip.targets(sender)
        lane = QueueLane.URGENT if urgent else QueueLane.LIVE
        raw = [e.encoded for e in envelopes]
        self._recent.extend((self._clock, topic, e.id) for e in envelopes)
        for peer in eager:
            self._links.push(peer, topic, raw, lane, out)
        if lazy:
            ids: list[bytes] = list(dict.fromkeys(e.id for e in envelopes))
            for peer in lazy:
                self.stats["ihave_ids_sent"] += len(ids)
                self._links.send_ids(peer, IHave, topic, ids, lane, out)
