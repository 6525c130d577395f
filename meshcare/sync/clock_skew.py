"""How far a linked peer's clock seems to be from ours, from the envelopes it authored and pushed to us. Pure.

Theory of operation
-------------------
A circle holds back a post created more than ``FUTURE_SLACK`` (600 s) ahead of the receiver's clock, so
two nodes whose clocks differ by minutes see each other's calls late or not at all until the slower
clock catches up. ``meshcare doctor`` tells the person when their clock nears that limit; this is what
it can know without changing the protocol: when a linked peer pushes us an envelope *it authored*
(author == the link's node id, authenticated in the Noise handshake) outside catch-up, its ``created``
is the peer's clock a moment before ours read ``now``. So ``created - now`` is the peer's clock offset
minus the transit time: the largest such sample of the last while is the best estimate (the one that
waited least on the way). Catch-up envelopes are old on purpose and are not sampled.

Bounded: at most ``MAX_PEERS`` peers (the least recently sampled goes first) and ``SAMPLES`` samples
each; samples older than ``WINDOW`` seconds are forgotten when read. ``created`` is whole seconds, so
the estimate is good to about a second, which is plenty against a 600 s limit.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Final

#: Peers remembered (one node rarely has more than a few dozen links).
MAX_PEERS: Final = 256
#: Samples kept per peer.
SAMPLES: Final = 16
#: Seconds a sample counts for.
WINDOW: Final = 3600.0


@dataclass(frozen=True, slots=True)
class PeerOffset:
    """One peer's estimated clock offset: positive when its clock is ahead of ours."""

    peer: Hashable
    offset_s: float
    samples: int
    last_at: float


class ClockSkew:
    """Recent (created - now) samples per peer; ``offsets(now)`` gives the estimate of each."""

    def __init__(self, *, max_peers: int = MAX_PEERS, samples: int = SAMPLES, window: float = WINDOW) -> None:
        self._max_peers = max_peers
        self._samples = samples
        self._window = window
        self._by_peer: OrderedDict[Hashable, deque[tuple[float, float]]] = OrderedDict()

    def observe(self, peer: Hashable, created: float, now: float) -> None:
        """Record that ``peer`` pushed us, at our ``now``, an envelope it authored at its ``created``."""
        samples = self._by_peer.pop(peer, None)
        if samples is None:
            samples = deque(maxlen=self._samples)
        samples.append((now, float(created) - now))
        self._by_peer[peer] = samples
        while len(self._by_peer) > self._max_peers:
            self._by_peer.popitem(last=False)

    def offsets(self, now: float) -> list[PeerOffset]:
        """Each peer with a sample in the last ``window`` seconds: its largest recent offset, largest
        absolute offset first. Peers with no recent sample are forgotten."""
        out: list[PeerOffset] = []
        for peer in list(self._by_peer):
            recent = [(at, offset) for at, offset in self._by_peer[peer] if now - at <= self._window]
            if not recent:
                del self._by_peer[peer]
                continue
            out.append(PeerOffset(peer, max(offset for _, offset in recent), len(recent),
                                  max(at for at, _ in recent)))
        out.sort(key=lambda p: -abs(p.offset_s))
        return out
