"""The simulator's shell: it carries out the engines' effects over virtual links, like the trio daemon.

Theory of operation
-------------------
One ``Engine`` (a ``SyncEngine``) per online node. ``feed(node, event)`` hands it an event at the current
virtual time and carries out the returned effects in order, before anything else happens:

* ``Persist`` -> ``store.add(envelopes, int(now))`` at once.
* ``Deliver`` -> recorded in the ``DeliveryLog`` (time, hops = the sender's hops + 1).
* ``Connect(peer)`` -> if both are online, share a segment, are not split by a partition and no link
  is open or pending between them, a ``Link`` opens after one transit time: both engines get
  ``LinkOpened`` with the same random handshake hash (the dialer ``initiator=True``), and only then do
  their effects run. A dial towards a peer that is already dialling us merges into that pending link
  (a daemon would keep one of the two TCP connections); a dial to an open link is ignored. Otherwise
  the dialer gets ``LinkClosed(peer, "unreachable")`` after ``connect_timeout``, unless a link between
  the two exists by then (reporting it would contradict a link the engine knows is up).
* ``OutputReady(peer)`` -> ``take_output(peer)`` and the bytes travel as one ``DataReceived`` through the
  link's pipe (``network.LinkModel``: latency, jitter, TCP-style loss, never reordered).
* ``DropLink(peer)`` -> the link closes: the dropper gets ``LinkClosed`` now (after its current effects),
  the peer one latency later (not at all if a newer link between the two has opened by then); bytes
  in flight are discarded.

Timers: after every event the node's ``next_deadline()`` is armed on the clock (one pending wake-up per
node at the earliest deadline; stale wake-ups find nothing due and re-arm).

Going offline is a stopped process (power cut, laptop closed): the engine is discarded, the peers'
ends of its links get ``LinkClosed`` one latency later and ``PeerLost``. Coming back starts a *new*
engine over the same store (a real node keeps its store on disk), which gets its boot events
(``TopicJoined`` of the one topic, by default) and ``PeerDiscovered`` for the peers its discovery sees;
those peers are told about it too. Every delayed event is tagged with the target's incarnation, so
nothing meant for an old engine reaches a new one.

Two kinds of engine run here. A bare ``SyncEngine`` (the gossip benchmarks) syncs one topic and delivers
with ``Deliver``. A real ``meshcare.node.Node`` (``members.py``, the circle scenario) boots with
``Started``, is told each link's node id (``node_ids``: access to a circle depends on who is at the other
end), and has effects of its own, carried out like the daemon does:

* ``SaveState`` -> a copy of the state is kept per node (``saved``), as the state file would hold it: a
  restarted node starts from the last one saved, not from the live object.
* ``DeleteEnvelopes``, ``DeleteTopic``, ``ExpireEnvelopes`` -> the node's store.
* ``Notify``, ``Log``, ``Fault`` -> ``on_effect(node, effect)`` (the scenario measures from them).

``after_handle(node)``, if set, runs after the effects of every ``handle`` / ``handle_deadline`` call,
so a scenario can look at a node's state once per event rather than once per effect.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Hashable, Sequence
from typing import Any, Protocol, cast

from ..circles.state import LocalState
from ..errors import LocalProtocolError
from ..ids import TopicId
from ..node_events import DeleteEnvelopes, DeleteTopic, ExpireEnvelopes, Fault, Log, Notify, SaveState, Tell
from ..store.memory import MemoryStore
from ..sync.events import (Connect, DataReceived, Deliver, DropLink, LinkClosed, LinkOpened, OutputReady,
                           PeerDiscovered, PeerLost, Persist, TopicJoined)
from .metrics import CatchupProbe, DeliveryLog
from .network import Clock, Link, LinkModel
from .topology import Topology


class Engine(Protocol):
    """What the world needs of a ``SyncEngine`` or a ``Node``.

    ``event`` is ``Any`` because each kind takes its own event types (a ``Node`` takes ``Started``, an
    engine ``TopicJoined``): the world feeds the link and peer events both know, plus the boot events
    its creator chose for the kind it makes. Effects the world does not know raise TypeError.
    """

    def handle(self, event: Any, now: float) -> Sequence[object]: ...
    def next_deadline(self) -> float | None: ...
    def handle_deadline(self, now: float) -> Sequence[object]: ...
    def take_output(self, peer: Hashable, max_bytes: int | None = None) -> bytes: ...
    def statistics(self) -> dict[str, int]: ...


class World:
    """Nodes, links and the effects that connect them (see the module docstring)."""

    __slots__ = ("clock", "model", "topology", "stores", "topic", "log", "make_engine", "engines", "online",
                 "incarnation", "adj", "timer_at", "side", "cut", "connect_timeout", "events", "probe",
                 "on_deliver", "retired", "counters", "drop_reasons", "boot", "node_ids", "saved", "on_effect",
                 "after_handle", "_rng")

    def __init__(self, clock: Clock, model: LinkModel, topology: Topology, stores: Sequence[MemoryStore],
                 topic: TopicId, log: DeliveryLog, make_engine: Callable[[int], Engine], rng: random.Random,
                 side: Sequence[int], connect_timeout: float = 1.0, *,
                 boot: Callable[[int], Sequence[object]] | None = None,
                 node_ids: Sequence[bytes] | None = None) -> None:
        n = topology.size
        self.clock = clock
        self.model = model
        self.topology = topology
        self.stores = stores
        self.topic = topic
        self.log = log
        self.make_engine = make_engine
        self.engines: list[Engine | None] = [None] * n
        self.online = [False] * n
        self.incarnation = [0] * n
        self.adj: list[dict[int, Link]] = [{} for _ in range(n)]  # node -> peer -> open or pending link
        self.timer_at: list[float | None] = [None] * n
        self.side = side
        self.cut = False
        self.connect_timeout = connect_timeout
        self.events = 0
        self.probe: CatchupProbe | None = None
        self.on_deliver: Callable[[int, int], None] | None = None
        self.retired: dict[str, int] = {}  # statistics of engines that went offline
        self.counters = dict.fromkeys(("links_opened", "links_closed", "connects_failed", "dials_merged",
                                       "wire_bytes", "wire_sends", "arrived_bytes", "discarded_bytes",
                                       "output_without_link",
                                       "misbehaved_drops"), 0)
        self.drop_reasons: dict[str, int] = {}  # DropLink reasons the engines gave, for diagnosis
        #: events a node's engine gets first at every start (default: join the one topic)
        self.boot = boot if boot is not None else (lambda node: (TopicJoined(topic),))
        self.node_ids = node_ids             # each node's identity, told to its peers in LinkOpened
        self.saved: list[LocalState | None] = [None] * n   # the last SaveState of each node (a copy)
        self.on_effect: Callable[[int, object], None] | None = None
        self.after_handle: Callable[[int], None] | None = None
        self._rng = rng

    # --- events in -------------------------------------------------------------------------------

    def feed(self, node: int, event: object) -> None:
        """Hand ``event`` to the node's engine now and carry out its effects (no-op when offline)."""
        engine = self.engines[node]
        if engine is None:
            return
        now = self.clock.now
        effects = engine.handle(event, now)
        self.events += 1
        if effects:
            self._apply(node, effects)
        self._arm(node, engine)
        if self.after_handle is not None:
            self.after_handle(node)

    def act(self, node: int, effects: Sequence[object]) -> None:
        """Carry out effects the node returned outside ``handle`` (a control op, as the daemon runs one)
        and re-arm its timer: the op may have given it work (a duty, a gossip round)."""
        engine = self.engines[node]
        if engine is None:
            raise LocalProtocolError(f"the simulator ran an op on node {node}, which is down")
        self._apply(node, effects)
        self._arm(node, engine)
        if self.after_handle is not None:
            self.after_handle(node)

    def later(self, delay: float, node: int, event: object) -> None:
        """Feed ``event`` after ``delay``, unless the node restarted or went offline meanwhile."""
        self.clock.after(delay, self._feed_if, node, self.incarnation[node], event)

    def _feed_if(self, node: int, incarnation: int, event: object) -> None:
        if self.incarnation[node] == incarnation:
            self.feed(node, event)

    def _arm(self, node: int, engine: Engine) -> None:
        deadline = engine.next_deadline()
        if deadline is not None:
            armed = self.timer_at[node]
            if armed is None or deadline < armed:
                self.timer_at[node] = deadline
                self.clock.at(deadline, self._wake, node, deadline)

    def _wake(self, node: int, armed: float) -> None:
        if self.timer_at[node] == armed:
            self.timer_at[node] = None
        engine = self.engines[node]
        if engine is None:
            return
        deadline = engine.next_deadline()
        if deadline is not None and deadline <= self.clock.now:
            effects = engine.handle_deadline(self.clock.now)
            self.events += 1
            if effects:
                self._apply(node, effects)
            if self.after_handle is not None:
                self.after_handle(node)
        self._arm(node, engine)

    # --- effects out -----------------------------------------------------------------------------

    def _apply(self, node: int, effects: Sequence[object]) -> None:
        for effect in effects:
            if isinstance(effect, OutputReady):
                self._send(node, cast(int, effect.peer))
            elif isinstance(effect, Persist):
                self.stores[node].add(effect.envelopes, int(self.clock.now))
            elif isinstance(effect, Deliver):
                self._delivered(node, effect)
            elif isinstance(effect, Connect):
                self._dial(node, cast(int, effect.peer))
            elif isinstance(effect, DropLink):
                self._drop(node, effect)
            else:
                self._node_effect(node, effect)

    def _node_effect(self, node: int, effect: object) -> None:
        """The effects only a ``Node`` has (see the module docstring)."""
        if isinstance(effect, (Notify, Tell, Log, Fault)):     # what a shell tells people and logs
            if self.on_effect is not None:
                self.on_effect(node, effect)
        elif isinstance(effect, SaveState):
            self.saved[node] = LocalState.from_obj(effect.state.to_obj())
        elif isinstance(effect, DeleteEnvelopes):
            self.stores[node].delete(list(effect.ids))
        elif isinstance(effect, DeleteTopic):
            self.stores[node].delete_topic(effect.topic)
        elif isinstance(effect, ExpireEnvelopes):
            self.stores[node].expire(effect.now)
        else:
            raise TypeError(f"the simulator cannot carry out {effect!r}")

    def _delivered(self, node: int, effect: Deliver) -> None:
        index = self.log.deliver(effect.envelope.id, node, effect.peer, self.clock.now)
        if index is not None and self.on_deliver is not None:
            self.on_deliver(node, index)

    def _dial(self, node: int, peer: int) -> None:
        link = self.adj[node].get(peer)
        if link is not None:
            if link.state == Link.PENDING and node not in link.dialers:
                link.dialers.append(node)
                self.counters["dials_merged"] += 1
            return
        if self.online[peer] and self.topology.reachable(node, peer) and not self.split(node, peer):
            link = Link(node, peer)
            self.adj[node][peer] = self.adj[peer][node] = link
            self.clock.after(self.model.transit(), self._open, link)
        else:
            self.counters["connects_failed"] += 1
            self._fail_dial(self.connect_timeout, node, peer)

    def _fail_dial(self, delay: float, node: int, peer: int) -> None:
        """Report a failed dial after ``delay``, unless a link between the two exists by then."""
        self.clock.after(delay, self._dial_failed, node, self.incarnation[node], peer)

    def _dial_failed(self, node: int, incarnation: int, peer: int) -> None:
        if self.incarnation[node] == incarnation and peer not in self.adj[node]:
            self.feed(node, LinkClosed(peer, "unreachable"))

    def _open(self, link: Link) -> None:
        if link.state != Link.PENDING:
            return
        a, b = link.a, link.b
        a_engine, b_engine = self.engines[a], self.engines[b]
        if a_engine is None or b_engine is None or self.split(a, b):
            self._forget(link)
            for dialer in link.dialers:
                self._fail_dial(0.0, dialer, link.other(dialer))
            return
        link.state = Link.OPEN
        self.counters["links_opened"] += 1
        handshake_hash = self._rng.randbytes(32)
        now = self.clock.now
        ids = self.node_ids
        a_effects = a_engine.handle(LinkOpened(b, handshake_hash, True, node=ids[b] if ids else b""), now)
        b_effects = b_engine.handle(LinkOpened(a, handshake_hash, False, node=ids[a] if ids else b""), now)
        self.events += 2
        self._apply(a, a_effects)
        self._arm(a, a_engine)
        if self.after_handle is not None:
            self.after_handle(a)
        if self.engines[b] is b_engine:
            self._apply(b, b_effects)
            self._arm(b, b_engine)
            if self.after_handle is not None:
                self.after_handle(b)

    def _send(self, node: int, peer: int) -> None:
        engine = self.engines[node]
        if engine is None:
            raise LocalProtocolError(f"the simulator asked node {node}, which is down, to send")
        data = engine.take_output(peer)
        if not data:
            return
        link = self.adj[node].get(peer)
        size = len(data)
        if link is None or link.state != Link.OPEN:
            self.counters["output_without_link"] += size
            return
        at = self.model.arrival(link.pipe_from(node), self.clock.now, size)
        self.counters["wire_bytes"] += size
        self.counters["wire_sends"] += 1
        probe = self.probe
        if probe is not None and node == probe.node and probe.watching:
            probe.sent(peer, size)
        self.clock.at(at, self._arrive, link, peer, node, data)

    def _arrive(self, link: Link, node: int, peer: int, data: bytes) -> None:
        if link.state != Link.OPEN:
            self.counters["discarded_bytes"] += len(data)
            return
        self.counters["arrived_bytes"] += len(data)
        probe = self.probe
        if probe is not None and node == probe.node and probe.watching:
            probe.received(peer, len(data))
        self.feed(node, DataReceived(peer, data))

    def _drop(self, node: int, effect: DropLink) -> None:
        if effect.misbehaved:
            self.counters["misbehaved_drops"] += 1
        self.drop_reasons[effect.reason] = self.drop_reasons.get(effect.reason, 0) + 1
        peer = cast(int, effect.peer)
        link = self.adj[node].get(peer)
        if link is None:
            return
        if link.state == Link.PENDING:
            self._forget(link)
            self.later(0.0, node, LinkClosed(peer, effect.reason))
            for dialer in link.dialers:
                if dialer != node:
                    self._fail_dial(self.connect_timeout, dialer, node)
            return
        self.close(link, effect.reason, first=node)

    # --- links and membership of the network ------------------------------------------------------

    def split(self, a: int, b: int) -> bool:
        """True while a partition separates ``a`` and ``b``."""
        return self.cut and self.side[a] != self.side[b]

    def _forget(self, link: Link) -> None:
        link.state = Link.CLOSED
        self.adj[link.a].pop(link.b, None)
        self.adj[link.b].pop(link.a, None)

    def close(self, link: Link, reason: str, first: int | None = None) -> None:
        """Close an open link: ``first`` (if any) hears now, the other end one latency later."""
        self._forget(link)
        self.counters["links_closed"] += 1
        for end in (link.a, link.b):
            delay = 0.0 if first is None or end == first else self.model.latency
            self.clock.after(delay, self._closed, end, self.incarnation[end], link.other(end), reason)

    def _closed(self, node: int, incarnation: int, peer: int, reason: str) -> None:
        """Tell ``node`` its link to ``peer`` closed, unless a newer link to it has opened since (the
        engine already replaced the old one then, and a late close would tear down the new one)."""
        newer = self.adj[node].get(peer)
        if self.incarnation[node] == incarnation and (newer is None or newer.state != Link.OPEN):
            self.feed(node, LinkClosed(peer, reason))

    def up(self, node: int) -> None:
        """Start (or restart) the node's engine over its store and let discovery run both ways."""
        if self.online[node]:
            return
        self.online[node] = True
        self.incarnation[node] += 1
        self.engines[node] = self.make_engine(node)
        self.timer_at[node] = None
        for event in self.boot(node):
            self.feed(node, event)
        for peer, segment in self.topology.visible[node]:
            if self.online[peer] and not self.split(node, peer):
                self.feed(node, PeerDiscovered(peer, segment))
                self.feed(peer, PeerDiscovered(node, segment))

    def down(self, node: int) -> None:
        """The node's process stops: its links close (peers hear one latency later), its engine goes."""
        engine = self.engines[node]
        if engine is None:
            return
        for key, value in engine.statistics().items():
            self.retired[key] = self.retired.get(key, 0) + value
        self.online[node] = False
        self.engines[node] = None
        self.incarnation[node] += 1
        for link in list(self.adj[node].values()):
            if link.state == Link.OPEN:
                self.close(link, "peer went offline")
            else:
                self._forget(link)
                for dialer in link.dialers:
                    if dialer != node:
                        self._fail_dial(self.connect_timeout, dialer, node)
        for peer, _ in self.topology.visible[node]:
            if self.online[peer]:
                self.feed(peer, PeerLost(node))

    def partition(self) -> None:
        """Split the two halves: every link across closes at both ends at once (nobody hears a goodbye)."""
        self.cut = True
        side = self.side
        across = [link for node, links in enumerate(self.adj) for peer, link in links.items()
                  if node < peer and side[node] != side[peer]]
        for link in across:
            if link.state == Link.OPEN:
                self.close(link, "partition")
            else:
                self._forget(link)
                for dialer in link.dialers:
                    self._fail_dial(self.connect_timeout, dialer, link.other(dialer))

    def heal(self) -> None:
        """End the partition; discovery sees the peers across again."""
        self.cut = False
        for node in range(self.topology.size):
            if self.online[node]:
                for peer, segment in self.topology.visible[node]:
                    if self.online[peer] and self.side[peer] != self.side[node]:
                        self.feed(node, PeerDiscovered(peer, segment))

    def statistics(self) -> dict[str, int]:
        """Engine counters summed over all nodes, including engines that went offline."""
        totals = dict(self.retired)
        for engine in self.engines:
            if engine is not None:
                for key, value in engine.statistics().items():
                    totals[key] = totals.get(key, 0) + value
        return totals
