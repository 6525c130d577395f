"""A tiny deterministic in-memory mesh for engine tests: nodes, FIFO links, virtual time.

Links deliver each ``take_output`` chunk after ``latency``, in order. ``cut`` breaks a link (bytes in
flight are lost, both ends learn LinkClosed); ``isolate`` makes a node unreachable for new links.
"""

from __future__ import annotations

import heapq
import itertools
import random

import nacl.signing

from meshcare import envelope as env
from meshcare.sync import events as ev
from meshcare.sync.engine import SyncEngine, SyncConfig
from meshcare.store.memory import MemoryStore

from .helpers import NOW

TOPIC = b"C" * 16
KEY = b"K" * 32


class Net:
    def __init__(self, n: int, *, seed: int = 0, latency: float = 0.005, config: SyncConfig | None = None,
                 members: set[int] | None = None) -> None:
        self.rng = random.Random(seed)
        self.now = float(NOW)
        self.latency = latency
        self.keys = [nacl.signing.SigningKey(bytes([i + 1]) * 32) for i in range(n)]
        self.members = {bytes(self.keys[i].verify_key) for i in (members if members is not None else range(n))}
        self.accepted_by_verifier: list[set[bytes]] = [set() for _ in range(n)]
        self.stores = [MemoryStore() for _ in range(n)]
        self.nodes = [SyncEngine(self.stores[i], self._verifier(i), rng=random.Random(seed * 1000 + i),
                                 config=config or SyncConfig()) for i in range(n)]
        self.queue: list[tuple[float, int, object]] = []
        self.seq = itertools.count()
        self.links: dict[frozenset[int], int] = {}  # pair -> generation
        self.generation = itertools.count(1)
        self.blocked: set[frozenset[int]] = set()
        self.delivered: list[list[bytes]] = [[] for _ in range(n)]
        self.sent_after_reject: list[bytes] = []
        self.seqno = [0] * n

    def _verifier(self, i: int):
        def verify(envelopes, now):
            out = []
            for e in envelopes:
                try:
                    env.verify(e)
                    ok = e.author in self.members and not e.is_expired(now) and e.size <= env.MAX_ENVELOPE_SIZE
                except Exception:
                    ok = False
                if ok:
                    self.accepted_by_verifier[i].add(e.id)
                out.append(ok)
            return out
        return verify

    # --- driving --------------------------------------------------------------------------------

    def at(self, delay: float, action) -> None:
        heapq.heappush(self.queue, (self.now + delay, next(self.seq), action))

    def apply(self, i: int, effects) -> None:
        for effect in effects:
            if isinstance(effect, ev.Persist):
                self.stores[i].add(list(effect.envelopes), int(self.now))
            elif isinstance(effect, ev.Deliver):
                self.delivered[i].append(effect.envelope.id)
            elif isinstance(effect, ev.OutputReady):
                self._flush(i, effect.peer)
            elif isinstance(effect, ev.Connect):
                self._connect(i, effect.peer)
            elif isinstance(effect, ev.DropLink):
                self._close(i, effect.peer)

    def handle(self, i: int, event) -> None:
        self.apply(i, self.nodes[i].handle(event, self.now))

    def _flush(self, i: int, j: int) -> None:
        pair = frozenset((i, j))
        gen = self.links.get(pair)
        data = self.nodes[i].take_output(j)
        if gen is None or not data:
            return

        def deliver() -> None:
            if self.links.get(pair) == gen:
                self.handle(j, ev.DataReceived(i, data))
        self.at(self.latency, deliver)

    def _connect(self, i: int, j: int) -> None:
        pair = frozenset((i, j))
        if pair in self.links:
            return  # one link per pair: the dial joins the existing link, nothing to report
        if pair in self.blocked:
            self.at(self.latency, lambda: self.handle(i, ev.LinkClosed(j, "unreachable")))
            return
        gen = next(self.generation)
        self.links[pair] = gen
        hh = self.rng.randbytes(64)

        def opened() -> None:
            if self.links.get(pair) == gen:
                self.handle(i, ev.LinkOpened(j, hh, True))
                self.handle(j, ev.LinkOpened(i, hh, False))
        self.at(self.latency, opened)

    def _close(self, i: int, j: int) -> None:
        pair = frozenset((i, j))
        if self.links.pop(pair, None) is not None:
            self.at(self.latency, lambda: self.handle(j, ev.LinkClosed(i, "closed by peer")))

    def cut(self, i: int, j: int) -> None:
        pair = frozenset((i, j))
        if self.links.pop(pair, None) is not None:
            self.handle(i, ev.LinkClosed(j, "cut"))
            self.handle(j, ev.LinkClosed(i, "cut"))

    def start(self, topology: dict[int, list[int]] | None = None) -> None:
        n = len(self.nodes)
        for i in range(n):
            self.handle(i, ev.TopicJoined(TOPIC))
        for i in range(n):
            for j in (topology[i] if topology else [k for k in range(n) if k != i]):
                self.handle(i, ev.PeerDiscovered(j))

    def publish(self, i: int, text: bytes = b"hello", lane: env.Lane = env.Lane.NORMAL,
                created: float | None = None, signer: int | None = None) -> env.Envelope:
        self.seqno[i] += 1
        e = env.seal(signing_key=self.keys[i if signer is None else signer], topic=TOPIC, epoch=0, key=KEY,
                     seq=self.seqno[i], lamport=self.seqno[i], created=int(self.now if created is None else created),
                     expires=int(self.now) + 86_400, plaintext=text, lane=lane,
                     prev=env.filler_prev(self.seqno[i]))
        self.handle(i, ev.Published(e))
        return e

    def run(self, duration: float) -> None:
        end = self.now + duration
        while True:
            deadlines = [(node.next_deadline(), i) for i, node in enumerate(self.nodes)]
            t_node, who = min(((t, i) for t, i in deadlines if t is not None), default=(None, -1))
            t_queue = self.queue[0][0] if self.queue else None
            t = min(x for x in (t_node, t_queue, end) if x is not None)
            if t >= end and (t_queue is None or t_queue > end) and (t_node is None or t_node > end):
                self.now = end
                return
            self.now = max(self.now, t)
            if t_queue is not None and t_queue <= t:
                _, _, action = heapq.heappop(self.queue)
                action()
            else:
                self.apply(who, self.nodes[who].handle_deadline(self.now))

    def ids(self, i: int) -> set[bytes]:
        return {k.id for k in self.stores[i].keys(TOPIC, (0, b""), (2**63, b""), int(self.now))}
