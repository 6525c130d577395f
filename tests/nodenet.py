"""Real ``Node``s (circles included) over MemoryStores, joined in memory: FIFO links, virtual time.

The test-side shell of ``meshcare.node``: it carries out every effect type the way the daemon does,
without trio or sockets. Peers are named by node id, for dialling and for links alike. ``SaveState``
keeps a copy of the state as the state file would (so ``restart`` starts from what was saved, not from
the live object); ``Notify`` effects, and ``Tell`` effects as the control event the daemon would publish
(``ops.events.event_of``), are kept per node in ``events`` as (name, data), ``Fault`` effects in ``faults``.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from meshcare.circles.state import LocalState
from meshcare.crypto.keys import Identity
from meshcare.node import Node
from meshcare.node_events import (Connect, DataReceived, DeleteEnvelopes, DeleteTopic, DropLink, Effect, Event,
                                  ExpireEnvelopes, Fault, LinkClosed, LinkOpened, Log, Notify, OutputReady,
                                  PeerDiscovered, Persist, SaveState, Started, Tell)
from meshcare.ops import OPS, Operation, perform
from meshcare.ops.events import event_of
from meshcare.store.memory import MemoryStore

from .helpers import NOW


class NodeNet:
    def __init__(self, *names: str, seed: int = 0, latency: float = 0.005,
                 extra_ops: Mapping[str, Operation] | None = None) -> None:
        self.now = float(NOW)
        self.latency = latency
        self.rng = random.Random(seed)
        self.ops = {**OPS, **(extra_ops or {})}
        self.identities = {name: Identity.generate(name) for name in names}
        self.stores = {name: MemoryStore() for name in names}
        self.saved = {name: LocalState() for name in names}         # what the state file holds
        self.nodes = {name: self._make(name, LocalState()) for name in names}
        self.events: dict[str, list[tuple[str, dict[str, Any]]]] = {name: [] for name in names}
        self.faults: dict[str, list[Fault]] = {name: [] for name in names}
        self.logs: dict[str, list[str]] = {name: [] for name in names}
        #: every effect's type, in the order each node's were carried out (what happened before what)
        self.applied: dict[str, list[type]] = {name: [] for name in names}
        self._by_id = {bytes(identity.node_id): name for name, identity in self.identities.items()}
        self._queue: list[tuple[float, int, Callable[[], None]]] = []
        self._order = itertools.count()
        self._links: dict[frozenset[str], int] = {}
        self._generation = itertools.count(1)

    def _make(self, name: str, state: LocalState) -> Node:
        return Node(self.identities[name], self.stores[name], state, rng=random.Random(self.rng.random()))

    def key(self, name: str) -> bytes:
        """How ``name`` is known to the others: its node id (dialled and linked alike)."""
        return bytes(self.identities[name].node_id)

    # --- driving ---------------------------------------------------------------------------------

    def start(self, name: str, peers: Sequence[str] = ()) -> None:
        """``Started``, then the peers ``name`` knows of (as static peers would be)."""
        self.handle(name, Started())
        for peer in peers:
            self.handle(name, PeerDiscovered(self.key(peer), "static"))

    def restart(self, name: str, peers: Sequence[str] = ()) -> None:
        """Stop ``name`` (its links end) and start it again from its store and its saved state."""
        for pair in [p for p in self._links if name in p]:
            (other,) = pair - {name}
            del self._links[pair]
            self.handle(other, LinkClosed(self.key(name), "the peer stopped"))
        self.nodes[name] = self._make(name, LocalState.from_obj(self.saved[name].to_obj()))
        self.start(name, peers)

    def handle(self, name: str, event: Event) -> None:
        self.apply(name, self.nodes[name].handle(event, self.now))

    def op(self, who: str, op: str, /, **args: Any) -> dict[str, Any]:
        """A control op, as the daemon runs it: the result, with its effects carried out."""
        result, effects = perform(self.ops, op, self.nodes[who], args, self.now)
        self.apply(who, effects)
        return result

    def run(self, duration: float) -> None:
        """Deliver bytes and run every node's deadlines, in time order, for ``duration`` seconds."""
        end = self.now + duration
        while True:
            deadlines = [(t, n) for n, node in self.nodes.items() if (t := node.next_deadline()) is not None]
            t_node, who = min(deadlines, default=(None, ""))
            t_queue = self._queue[0][0] if self._queue else None
            t = min(x for x in (t_node, t_queue, end) if x is not None)
            if t >= end:
                self.now = end
                return
            self.now = max(self.now, t)
            if t_queue is not None and t_queue <= t:
                heapq.heappop(self._queue)[2]()
            else:
                self.apply(who, self.nodes[who].handle_deadline(self.now))

    def run_until(self, condition: Callable[[], bool], limit: float = 120.0, step: float = 0.5) -> None:
        """Run in steps until ``condition()`` holds; fail after ``limit`` virtual seconds."""
        waited = 0.0
        while not condition():
            if waited >= limit:
                raise AssertionError(f"not within {limit} virtual seconds")
            self.run(step)
            waited += step

    # --- effects ---------------------------------------------------------------------------------

    def apply(self, name: str, effects: Sequence[Effect]) -> None:
        store = self.stores[name]
        for effect in effects:
            self.applied[name].append(type(effect))
            if isinstance(effect, Persist):
                store.add(list(effect.envelopes), int(self.now))
            elif isinstance(effect, OutputReady):
                self._send(name, self._by_id[bytes(effect.peer)])
            elif isinstance(effect, Connect):
                self._connect(name, self._by_id[bytes(effect.peer)])
            elif isinstance(effect, DropLink):
                self._close(name, self._by_id[bytes(effect.peer)])
            elif isinstance(effect, SaveState):
                self.saved[name] = LocalState.from_obj(effect.state.to_obj())
            elif isinstance(effect, DeleteEnvelopes):
                store.delete(list(effect.ids))
            elif isinstance(effect, DeleteTopic):
                store.delete_topic(effect.topic)
            elif isinstance(effect, ExpireEnvelopes):
                store.expire(effect.now)
            elif isinstance(effect, Notify):
                self.events[name].append((effect.name, effect.data))
            elif isinstance(effect, Tell):
                event = event_of(effect.fact, self.nodes[name], self.now)
                self.events[name].append((event.NAME, event.to_data()))
            elif isinstance(effect, Log):
                self.logs[name].append(effect.message)
            elif isinstance(effect, Fault):
                self.faults[name].append(effect)
            else:
                raise AssertionError(f"an effect the shell does not know: {effect!r}")

    def _at(self, delay: float, action: Callable[[], None]) -> None:
        heapq.heappush(self._queue, (self.now + delay, next(self._order), action))

    def _send(self, a: str, b: str) -> None:
        pair = frozenset((a, b))
        generation = self._links.get(pair)
        data = self.nodes[a].take_output(self.key(b))
        if generation is None or not data:
            return

        def deliver() -> None:
            if self._links.get(pair) == generation:
                self.handle(b, DataReceived(self.key(a), data))
        self._at(self.latency, deliver)

    def _connect(self, a: str, b: str) -> None:
        pair = frozenset((a, b))
        if pair in self._links:
            return  # one link per pair: the dial joins the existing link
        generation = self._links[pair] = next(self._generation)
        handshake_hash = self.rng.randbytes(64)

        def opened() -> None:
            if self._links.get(pair) == generation:
                self.handle(a, LinkOpened(self.key(b), handshake_hash, True, node=self.key(b)))
                self.handle(b, LinkOpened(self.key(a), handshake_hash, False, node=self.key(a)))
        self._at(self.latency, opened)

    def _close(self, a: str, b: str) -> None:
        pair = frozenset((a, b))
        if self._links.pop(pair, None) is not None:
            self._at(self.latency, lambda: self.handle(b, LinkClosed(self.key(a), "closed by peer")))
