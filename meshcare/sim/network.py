"""Virtual time and the links between simulated nodes.

Theory of operation
-------------------
``Clock`` is a discrete-event scheduler: a ``heapq`` of ``(time, seq, action, args)``. ``seq`` grows with
every ``at`` call, so two actions due at the same instant run in the order they were scheduled and the
heap never compares the callables. ``run`` pops until the queue is empty, a time limit passes or someone
calls ``stop()``. Nothing reads a wall clock: a simulation is a pure function of its seed and flags.

``LinkModel`` + ``Pipe`` model what a meshcare link is: a TCP connection carrying Noise messages.

* Latency and jitter: a send arrives ``latency + U(0, jitter)`` seconds later.
* TCP never reorders: each direction of a link is a ``Pipe`` that remembers when its last send arrives;
  a later send arrives no earlier than that (``max(candidate, last_arrival)``), so jitter delays bytes
  but never lets them overtake. This is also what makes head-of-line blocking visible.
* TCP never loses bytes either, it loses *time*. Each delivery on a link is lost with probability
  ``loss``; the sender then retransmits after an RTO of ``max(200 ms, 2 * latency)`` (200 ms is the
  usual minimum RTO), and that retransmission may be lost again (a geometric number of RTOs). Because
  of the FIFO rule above, a lost segment also holds back everything sent after it on the same link.

Modelling loss as dropped *messages* would be wrong for meshcare: the engine never sees a hole in a
stream, only a slow one (or a link that closes). The gossip protocol's job under loss is to route around
slow links and not to wait for them; this model measures exactly that.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable
from typing import Any, Final

#: Linux's minimum retransmission timeout: an RTO is never shorter than this.
MIN_RTO: Final = 0.2


class Clock:
    """The virtual clock and its event queue (see the module docstring)."""

    __slots__ = ("now", "processed", "_queue", "_seq", "_stopped")

    def __init__(self, start: float = 0.0) -> None:
        self.now = start
        self.processed = 0
        self._queue: list[tuple[float, int, Callable[..., object], tuple[Any, ...]]] = []
        self._seq = 0
        self._stopped = False

    def at(self, when: float, action: Callable[..., object], *args: Any) -> None:
        """Run ``action(*args)`` at virtual time ``when`` (never earlier than now)."""
        if when < self.now:
            when = self.now
        heapq.heappush(self._queue, (when, self._seq, action, args))
        self._seq += 1

    def after(self, delay: float, action: Callable[..., object], *args: Any) -> None:
        """Run ``action(*args)`` ``delay`` seconds from now."""
        self.at(self.now + delay, action, *args)

    def stop(self) -> None:
        """Make ``run`` return after the action in progress."""
        self._stopped = True

    @property
    def pending(self) -> int:
        return len(self._queue)

    def run(self, until: float) -> bool:
        """Run actions in time order up to ``until``; return True if stopped by ``stop()``.

        When stopped, the clock stays at the time of the last action run; otherwise it ends at ``until``.
        """
        queue = self._queue
        pop = heapq.heappop
        self._stopped = False
        processed = 0
        while queue and queue[0][0] <= until:
            when, _, action, args = pop(queue)
            self.now = when
            action(*args)
            processed += 1
            if self._stopped:
                break
        else:
            self.now = max(self.now, until)
        self.processed += processed
        return self._stopped


class Pipe:
    """One direction of a link: the FIFO state TCP keeps (when the last byte sent will arrive)."""

    __slots__ = ("last_arrival", "sent_bytes", "sends")

    def __init__(self) -> None:
        self.last_arrival = 0.0
        self.sent_bytes = 0
        self.sends = 0


class LinkModel:
    """Latency, jitter and TCP-style loss for every link of a simulation (see the module docstring)."""

    __slots__ = ("latency", "jitter", "loss", "rto", "retransmissions", "_rng")

    def __init__(self, rng: random.Random, latency: float, jitter: float = 0.0, loss: float = 0.0) -> None:
        if latency < 0 or jitter < 0:
            raise ValueError("latency and jitter must be >= 0")
        if not 0.0 <= loss < 1.0:
            raise ValueError("loss must be in [0, 1): at 1 TCP would never deliver anything")
        self.latency = latency
        self.jitter = jitter
        self.loss = loss
        self.rto = max(MIN_RTO, 2.0 * latency)
        self.retransmissions = 0
        self._rng = rng

    def transit(self) -> float:
        """Seconds one delivery takes, retransmissions included (FIFO is applied by ``arrival``)."""
        rng = self._rng
        delay = self.latency
        if self.jitter:
            delay += rng.random() * self.jitter
        if self.loss:
            while rng.random() < self.loss:
                delay += self.rto
                self.retransmissions += 1
        return delay

    def arrival(self, pipe: Pipe, now: float, size: int) -> float:
        """When bytes sent now on ``pipe`` arrive: never before anything sent earlier on it."""
        at = now + self.transit()
        if at < pipe.last_arrival:
            at = pipe.last_arrival
        pipe.last_arrival = at
        pipe.sent_bytes += size
        pipe.sends += 1
        return at


class Link:
    """A link between two nodes: pending (dial in flight), open, or closed, and its two FIFO pipes.

    Bytes in flight are discarded when the link closes: an arrival checks ``state`` of the very link
    object it was sent on, and a reconnection is a new ``Link``.
    """

    __slots__ = ("a", "b", "state", "dialers", "ab", "ba")

    PENDING: Final = 0
    OPEN: Final = 1
    CLOSED: Final = 2

    def __init__(self, dialer: int, peer: int) -> None:
        self.a = dialer
        self.b = peer
        self.state = Link.PENDING
        self.dialers = [dialer]  # a simultaneous dial from the other side merges into this link
        self.ab = Pipe()
        self.ba = Pipe()

    def other(self, node: int) -> int:
        return self.b if node == self.a else self.a

    def pipe_from(self, node: int) -> Pipe:
        return self.ab if node == self.a else self.ba
