"""``CatchUp``: when, and with which neighbour, each topic is reconciled.

Theory of operation
-------------------
Reconciliation (``reconcile.py``) is stateless per message; what needs state is the schedule:

* **One neighbour at a time per topic.** A node that returns to several neighbours at once would otherwise
  be sent everything it missed by each of them. The others wait in the topic's queue; in turn, the first
  fills the gap and the next ones find nothing left to send.
* **An exchange ends in silence.** A side that agrees sends nothing back, so an exchange with no message
  for ``reconcile_quiet`` seconds (or whose link is gone) is over, and the next queued neighbour starts.
* **Again after catch-up.** Envelopes that arrive as catch-up are not re-broadcast; once such a stream has
  been quiet for ``catchup_debounce``, the topic is reconciled with every neighbour sharing it (cheap where
  sets agree). Not while it still flows: a round started mid-stream makes the peer send again everything
  still in flight.
* **Periodically** (every ``anti_entropy_interval``, jittered), with one random neighbour per topic.

What it knows, it tells (``catching_up``): a topic is being caught up on while an exchange that began
because a link started sharing it, or because catch-up envelopes arrived, is active or queued, or while
catch-up envelopes arrived and the round after them is pending. A periodic exchange alone does not
count: it finds nothing almost always, and a person must not see "catching up" flicker every minute.

The schedule decides, the engine acts: ``begin`` returns the opening ``Reconcile`` frame to send (or None:
queued), and the engine passes in what it knows of its links. Time is the ``now`` argument; the random
source is the engine's, handed in.
"""

from __future__ import annotations

import random
from collections.abc import Container, Sequence

from ..store import Store
from .config import SyncConfig
from .events import PeerKey
from .frames import Reconcile
from .reconcile import Reconciler


class CatchUp:
    """The reconciliation schedule of every topic: who reconciles it now, who is next, when again."""

    def __init__(self, store: Store, config: SyncConfig, rng: random.Random) -> None:
        self._store = store
        self._config = config
        self._rng = rng
        self._active: dict[bytes, tuple[PeerKey, float]] = {}   # topic -> (peer, last activity)
        self._queue: dict[bytes, list[PeerKey]] = {}
        self._debounced: dict[bytes, float] = {}                 # topic -> when to reconcile again
        self._next_round: float | None = None                    # the periodic round
        self._catching_up: set[bytes] = set()    # topics whose active or queued exchange is not periodic

    def start_timers(self, now: float) -> None:
        if self._next_round is None:
            self._next_round = now + self._config.anti_entropy_interval * (0.5 + self._rng.random())

    def deadlines(self) -> list[float]:
        """Every time this schedule has work to do."""
        times = list(self._debounced.values())
        if self._next_round is not None:
            times.append(self._next_round)
        return times

    def begin(self, peer: PeerKey, topic: bytes, now: float, linked: Container[PeerKey], *,
              periodic: bool = False) -> Reconcile | None:
        """Reconcile ``topic`` with ``peer``: the opening frame to send it, or None when another linked
        neighbour is reconciling the topic (``peer`` then waits in the queue, once). ``periodic``: the
        periodic round asks (it does not count as catching up)."""
        if not periodic:
            self._catching_up.add(topic)
        active = self._active.get(topic)
        if active is not None and active[0] != peer and active[0] in linked:
            queue = self._queue.setdefault(topic, [])
            if peer not in queue:
                queue.append(peer)
            return None
        self._active[topic] = (peer, now)
        return Reconcile(topic, Reconciler(self._store, topic).initiate(int(now)))

    def progress(self, peer: PeerKey, topic: bytes, done: bool, now: float) -> bool:
        """``peer`` answered a message of ``topic``'s exchange (``done``: it needs no reply). Returns True
        when that ends the active exchange: the caller then calls ``finish``."""
        active = self._active.get(topic)
        if active is None or active[0] != peer:
            return False
        if done:
            return True
        self._active[topic] = (peer, now)
        return False

    def finish(self, topic: bytes, now: float, sharing: Container[PeerKey]) -> tuple[PeerKey, Reconcile] | None:
        """The active exchange of ``topic`` is over (done, quiet or its link gone): the next queued peer
        still sharing the topic, and the opening frame to send it; None when the queue has none."""
        self._active.pop(topic, None)
        queue = self._queue.get(topic, [])
        while queue:
            peer = queue.pop(0)
            if peer in sharing:
                self._active[topic] = (peer, now)
                return peer, Reconcile(topic, Reconciler(self._store, topic).initiate(int(now)))
        self._catching_up.discard(topic)
        return None

    def catching_up(self) -> frozenset[bytes]:
        """Topics this node is catching up on now (see the module docstring): bookkeeping only, it
        changes nothing the schedule decides."""
        return frozenset(self._catching_up.union(self._debounced))

    def quiet(self, now: float, linked: Container[PeerKey]) -> list[bytes]:
        """Topics whose exchange is over by silence, or because its link is gone (``finish`` each)."""
        limit = self._config.reconcile_quiet
        return [topic for topic, (peer, last) in self._active.items() if peer not in linked or now - last > limit]

    def after_catchup(self, topic: bytes, now: float) -> None:
        """Catch-up envelopes of ``topic`` arrived: reconcile again once they have been quiet a moment."""
        self._debounced[topic] = now + self._config.catchup_debounce

    def due_after_catchup(self, now: float) -> list[bytes]:
        """Topics whose catch-up has been quiet long enough: reconcile each with every neighbour sharing it."""
        due = [topic for topic, when in self._debounced.items() if when <= now]
        for topic in due:
            del self._debounced[topic]
        return due

    def round_due(self, now: float) -> bool:
        """True when the periodic round is due (it is then re-armed): ``pick`` a neighbour per topic."""
        if self._next_round is None or self._next_round > now:
            return False
        self._next_round = now + self._config.anti_entropy_interval * (0.5 + self._rng.random())
        return True

    def pick(self, peers: Sequence[PeerKey]) -> PeerKey | None:
        """One of ``peers`` at random for the periodic round (None if there are none)."""
        return self._rng.choice(sorted(peers, key=repr)) if peers else None
