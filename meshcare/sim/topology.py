"""Who can reach whom, and on which network segment.

Theory of operation
-------------------
A topology gives every node the *segments* it sits on (a LAN, or one point-to-point path) and the list of
``(peer, segment)`` pairs its discovery would report. Two nodes can open a link iff they share a segment;
the engine learns peers only through the discovery list (``PeerDiscovered(peer, segment)``).

* ``lan``: one broadcast domain, segment 0. mDNS on a large LAN only ever shows a part of it, and telling
  each of 10,000 nodes about 9,999 others would cost 10^8 events, so each node *sees* a bounded sample
  (``sample``, default 32): its two neighbours on a random cycle (which keeps the seen-graph connected)
  plus random others. Seeing is symmetric (if a hears b's advertisement, b hears a's). Links may still
  be opened to any node of the segment.
* ``lans``: K LANs (default ``round(sqrt(n))``, at least 4 nodes each) of contiguous node ranges, arranged
  in a ring (a line when K == 2). Each pair of adjacent LANs k, k+1 is joined by ``bridges`` (default 2)
  nodes of LAN k that also sit on LAN k+1's segment (a household with two networks, or a Pi on both).
  Within each segment, discovery is sampled as for ``lan``.
* ``chain``: node i reaches i-1 and i+1 only; each adjacent pair is its own point-to-point segment
  (segment i joins i and i+1), like static ``--peer`` links over an overlay.
* ``random-regular``: a random d-regular graph (default d = 4), each edge its own segment, built from the
  seed by random pairing of stubs (Steger-Wormald: pick two free stubs at random, keep the pair unless
  it makes a loop or a double edge, restart when stuck) and rebuilt until connected.

Everything is built from the caller's ``random.Random``, so a seed gives the same topology every time.
"""

from __future__ import annotations

import math
import random
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from ..errors import BadInput

KINDS: Final = ("lan", "lans", "chain", "random-regular")
DEFAULT_SAMPLE: Final = 32
DEFAULT_DEGREE: Final = 4
DEFAULT_BRIDGES: Final = 2
MIN_LAN_SIZE: Final = 4
_MAX_RESTARTS: Final = 200


@dataclass(frozen=True, slots=True)
class Topology:
    """Segments per node and what each node's discovery reports; see the module docstring."""

    kind: str
    segments: tuple[frozenset[int], ...]
    visible: tuple[tuple[tuple[int, int], ...], ...]
    lan_count: int = 1

    @property
    def size(self) -> int:
        return len(self.segments)

    def reachable(self, a: int, b: int) -> bool:
        """True if a link between ``a`` and ``b`` is possible (they share a segment)."""
        return a != b and not self.segments[a].isdisjoint(self.segments[b])

    def bridges(self) -> list[int]:
        """Nodes on more than one segment (for ``lans``: the nodes that join two LANs)."""
        if self.kind in ("chain", "random-regular"):
            return []
        return [i for i, segs in enumerate(self.segments) if len(segs) > 1]

    def is_connected(self) -> bool:
        """True if every node can be reached from node 0 over discovery edges."""
        return _connected([[p for p, _ in peers] for peers in self.visible])

    def degree(self, node: int) -> int:
        """How many distinct peers ``node`` discovers."""
        return len({p for p, _ in self.visible[node]})


def build(kind: str, n: int, rng: random.Random, *, lans: int | None = None, degree: int = DEFAULT_DEGREE,
          bridges: int = DEFAULT_BRIDGES, sample: int = DEFAULT_SAMPLE) -> Topology:
    """Build a topology of ``n`` nodes; raises BadInput for impossible parameters."""
    if n < 2:
        raise BadInput("a simulation needs at least 2 nodes")
    if sample < 2:
        raise BadInput("the discovery sample must be at least 2")
    if kind == "lan":
        return _lans(n, 1, 0, sample, rng, "lan")
    if kind == "lans":
        k = lans if lans is not None else max(1, round(math.sqrt(n)))
        k = max(1, min(k, n // MIN_LAN_SIZE))
        if bridges < 1:
            raise BadInput("--bridges must be at least 1")
        return _lans(n, k, bridges, sample, rng, "lans")
    if kind == "chain":
        return _chain(n)
    if kind == "random-regular":
        return _random_regular(n, degree, rng)
    raise BadInput(f"unknown topology {kind!r}; choose one of {', '.join(KINDS)}")


def _connected(adjacency: Sequence[Sequence[int]]) -> bool:
    seen = [False] * len(adjacency)
    seen[0] = True
    todo = deque([0])
    count = 1
    while todo:
        for peer in adjacency[todo.popleft()]:
            if not seen[peer]:
                seen[peer] = True
                count += 1
                todo.append(peer)
    return count == len(adjacency)


def _sampled_view(members: list[int], sample: int, rng: random.Random) -> dict[int, set[int]]:
    """Symmetric "who sees whom" inside one segment: everyone if small, else cycle + random picks."""
    seen: dict[int, set[int]] = {m: set() for m in members}
    if len(members) - 1 <= sample:
        for m in members:
            seen[m].update(members)
            seen[m].discard(m)
        return seen
    order = members[:]
    rng.shuffle(order)
    for a, b in zip(order, order[1:] + order[:1]):
        seen[a].add(b)
        seen[b].add(a)
    extra = max(0, sample // 2 - 1)
    count = len(members)
    for m in members:
        for _ in range(extra):
            other = members[rng.randrange(count)]
            if other != m:
                seen[m].add(other)
                seen[other].add(m)
    return seen


def _lans(n: int, k: int, bridges: int, sample: int, rng: random.Random, kind: str) -> Topology:
    base, extra = divmod(n, k)
    starts = [i * base + min(i, extra) for i in range(k + 1)]
    segments: list[set[int]] = [set() for _ in range(n)]
    members: list[list[int]] = [list(range(starts[s], starts[s + 1])) for s in range(k)]
    for lan in range(k):
        for node in members[lan]:
            segments[node].add(lan)
    if k >= 2:
        pairs = [(lan, (lan + 1) % k) for lan in range(k if k >= 3 else 1)]
        for lan, nxt in pairs:
            for node in members[lan][:bridges]:
                segments[node].add(nxt)
                members[nxt].append(node)
    visible: list[list[tuple[int, int]]] = [[] for _ in range(n)]
    for lan in range(k):
        view = _sampled_view(sorted(members[lan]), sample, rng)
        for node in sorted(view):
            visible[node].extend((peer, lan) for peer in sorted(view[node]))
    return Topology(kind, tuple(frozenset(s) for s in segments), tuple(tuple(v) for v in visible), k)


def _chain(n: int) -> Topology:
    segments = tuple(frozenset(s for s in (i - 1, i) if 0 <= s < n - 1) for i in range(n))
    visible = tuple(tuple((p, min(i, p)) for p in (i - 1, i + 1) if 0 <= p < n) for i in range(n))
    return Topology("chain", segments, visible, 1)


def _random_regular(n: int, d: int, rng: random.Random) -> Topology:
    if not 2 <= d < n:
        raise BadInput(f"--degree must be between 2 and nodes - 1, got {d}")
    if n * d % 2:
        raise BadInput(f"no {d}-regular graph on {n} nodes exists (nodes * degree must be even)")
    for _ in range(_MAX_RESTARTS):
        adjacency = _pair_stubs(n, d, rng)
        if adjacency is not None and _connected([sorted(a) for a in adjacency]):
            break
    else:
        raise BadInput(f"could not build a connected {d}-regular graph on {n} nodes; try another degree")
    edges = sorted((a, b) for a in range(n) for b in adjacency[a] if a < b)
    edge_id = {edge: i for i, edge in enumerate(edges)}
    segments = tuple(frozenset(edge_id[(min(a, b), max(a, b))] for b in adjacency[a]) for a in range(n))
    visible = tuple(tuple((b, edge_id[(min(a, b), max(a, b))]) for b in sorted(adjacency[a])) for a in range(n))
    return Topology("random-regular", segments, visible, 1)


def _pair_stubs(n: int, d: int, rng: random.Random) -> list[set[int]] | None:
    """One Steger-Wormald attempt; None when it got stuck (the caller restarts)."""
    adjacency: list[set[int]] = [set() for _ in range(n)]
    stubs = [v for v in range(n) for _ in range(d)]
    while stubs:
        count = len(stubs)
        for _ in range(100):
            i, j = rng.randrange(count), rng.randrange(count)
            u, v = stubs[i], stubs[j]
            if i != j and u != v and v not in adjacency[u]:
                break
        else:
            return None
        adjacency[u].add(v)
        adjacency[v].add(u)
        for index in sorted((i, j), reverse=True):  # swap-remove, higher index first
            stubs[index] = stubs[-1]
            stubs.pop()
    return adjacency
