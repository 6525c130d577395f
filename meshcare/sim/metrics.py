"""What a simulation measured: deliveries, latency, hops, copies, bytes, catch-up cost.

Theory of operation
-------------------
``DeliveryLog`` records every published envelope (by id: publish time and author) and the first
``Deliver`` of it at each node (virtual time and hop count; the author is hop 0, a node that got it
from peer p is at p's hops + 1). ``summarize`` turns the log plus the engines' ``statistics()`` totals
into the figures ``meshcare sim --json`` prints:

* ``delivery_ratio``: delivered (message, node) pairs / pairs that should be delivered. A pair should be
  delivered when the node is not the author, is online at the end and was online at some time after the
  message was published; the first implies the second, since the end comes after every publish.
* ``latency_ms``: virtual milliseconds from publish to ``Deliver``, over every non-author delivery.
* ``hops``: p50 and max of the hop counts.
* ``copies_per_delivered``: copies of envelopes received in Push frames, summed over all nodes
  (``statistics()["envelopes_received"]``, duplicates included), per delivery; 1.0 is the ideal, naive
  flooding approaches the mean degree.
* ``payload_bytes_per_delivered`` / ``control_bytes_per_delivered``: bytes in, summed over nodes, per
  delivery: payload is the envelopes inside Push frames (``statistics()["payload_bytes_in"]``), control is
  every other byte that arrived (framing, announcements, grafts, reconciliation). Control is the engines'
  ``control_bytes_in`` when they count it, else the bytes the simulator carried minus the payload.

``CatchupProbe`` watches one returning node from its return until it holds all K missing envelopes:
bytes it received (on the wire, and the engine's payload/control split) and round trips. A *round trip*
is one exchange on one link: the node sent bytes to the peer and later received bytes from that peer
(further sends before the answer belong to the same exchange). ``round_trips`` is the largest number of
exchanges on any one link (the sequential depth that catch-up time is made of); ``round_trips_total``
sums them over links. Opening the link (the Noise handshake) is not counted. ``bytes_after`` and
``bytes_out_after`` count what still flowed to and from the node after it held everything, until the
run ended (redundant copies that were already on their way, re-forwarding).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any


def percentile(values: Sequence[float], q: float) -> float | None:
    """The nearest-rank ``q``-th percentile (0..100) of ``values``; None when there are none.

    Nearest rank (the smallest value with at least q% of the values at or below it) never invents a
    value between two samples, so a p99 of hop counts is a hop count.
    """
    if not 0.0 <= q <= 100.0:
        raise ValueError(f"percentile must be in [0, 100], got {q}")
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100.0 * len(ordered)))
    return ordered[rank - 1]


class DeliveryLog:
    """Publishes and first deliveries of the simulation's own messages (see the module docstring)."""

    __slots__ = ("_index", "published_at", "authors", "sizes", "phases", "got", "duplicates", "untracked",
                 "unknown_hops", "per_node")

    def __init__(self, nodes: int) -> None:
        self._index: dict[bytes, int] = {}
        self.published_at: list[float] = []
        self.authors: list[int] = []
        self.sizes: list[int] = []
        self.phases: list[str] = []
        self.got: list[dict[int, tuple[float, int]]] = []  # per message: node -> (time, hops)
        self.duplicates = 0  # a second Deliver of the same envelope at the same node: an engine bug
        self.untracked = 0  # a Deliver of an envelope the simulation did not publish
        self.unknown_hops = 0  # delivered from a peer that had not delivered it itself
        self.per_node = [0] * nodes  # messages each node holds (authored or delivered)

    def __len__(self) -> int:
        return len(self.published_at)

    def message(self, envelope_id: bytes) -> int | None:
        return self._index.get(envelope_id)

    def publish(self, envelope_id: bytes, size: int, author: int, now: float, phase: str = "") -> int:
        """Record a publish (the author holds it at hop 0); return the message's index."""
        index = len(self.published_at)
        self._index[envelope_id] = index
        self.published_at.append(now)
        self.authors.append(author)
        self.sizes.append(size)
        self.phases.append(phase)
        self.got.append({author: (now, 0)})
        self.per_node[author] += 1
        return index

    def deliver(self, envelope_id: bytes, node: int, peer: object, now: float) -> int | None:
        """Record a Deliver at ``node`` from ``peer``; return the message index if this was its first."""
        index = self._index.get(envelope_id)
        if index is None:
            self.untracked += 1
            return None
        got = self.got[index]
        if node in got:
            if got[node][1] != 0 or self.authors[index] != node:
                self.duplicates += 1
            return None
        sender = got.get(peer) if isinstance(peer, int) else None
        if sender is None:
            self.unknown_hops += 1
            hops = 1
        else:
            hops = sender[1] + 1
        got[node] = (now, hops)
        self.per_node[node] += 1
        return index


def summarize(log: DeliveryLog, online_at_end: Sequence[int], totals: Mapping[str, int],
              arrived_bytes: int) -> dict[str, Any]:
    """The contract figures of ``meshcare sim --json`` (see the module docstring).

    ``arrived_bytes``: every byte the simulator handed to an engine as ``DataReceived``.
    """
    expected = delivered = 0
    latencies: list[float] = []
    hops: list[int] = []
    for index, got in enumerate(log.got):
        author, published = log.authors[index], log.published_at[index]
        for node, (when, hop) in got.items():
            if node != author:
                latencies.append((when - published) * 1000.0)
                hops.append(hop)
        for node in online_at_end:
            if node != author:
                expected += 1
                if node in got:
                    delivered += 1
    deliveries = len(latencies)

    def per(key: str) -> float | None:
        return round(totals.get(key, 0) / deliveries, 3) if deliveries else None

    control = totals.get("control_bytes_in")
    if control is None:
        control = arrived_bytes - totals.get("payload_bytes_in", 0)

    def ms(value: float | None) -> float | None:
        return None if value is None else round(value, 3)

    return {
        "delivery_ratio": round(delivered / expected, 6) if expected else 1.0,
        "expected_deliveries": expected,
        "deliveries": deliveries,
        "latency_ms": {"p50": ms(percentile(latencies, 50)), "p99": ms(percentile(latencies, 99)),
                       "max": ms(max(latencies, default=None))},
        "hops": {"p50": percentile(hops, 50), "max": max(hops, default=None)},
        "copies_per_delivered": per("envelopes_received"),
        "payload_bytes_per_delivered": per("payload_bytes_in"),
        "control_bytes_per_delivered": round(control / deliveries, 3) if deliveries else None,
        "control_bytes_counted_by": "engine" if "control_bytes_in" in totals else "simulator",
        "duplicate_delivers": log.duplicates,
        "untracked_delivers": log.untracked,
    }


class CatchupProbe:
    """Measures one node's catch-up after it returns (see the module docstring)."""

    __slots__ = ("node", "want", "missing_bytes", "started", "finished", "wire_in", "wire_out", "after_in",
                 "after_out",
                 "_stats_at_start", "result_stats", "_awaiting", "exchanges")

    def __init__(self, node: int) -> None:
        self.node = node
        self.want: set[int] = set()  # message indexes the node must get
        self.missing_bytes = 0
        self.started: float | None = None
        self.finished: float | None = None
        self.wire_in = 0
        self.wire_out = 0
        self.after_in = 0  # bytes that kept coming (and going) after it held everything, until the end
        self.after_out = 0
        self._stats_at_start: dict[str, int] = {}
        self.result_stats: dict[str, int] = {}
        self._awaiting: dict[object, bool] = {}
        self.exchanges: dict[object, int] = {}

    @property
    def active(self) -> bool:
        """From the node's return until it holds every missing envelope."""
        return self.started is not None and self.finished is None

    @property
    def watching(self) -> bool:
        """From the node's return until the end of the run."""
        return self.started is not None

    def missing(self, index: int, size: int) -> None:
        """A message published while the node is away: it must fetch it."""
        self.want.add(index)
        self.missing_bytes += size

    def start(self, now: float, stats: Mapping[str, int]) -> None:
        self.started = now
        self._stats_at_start = dict(stats)

    def sent(self, peer: object, size: int) -> None:
        if self.finished is not None:
            self.after_out += size
        elif size:
            self.wire_out += size
            self._awaiting[peer] = True

    def received(self, peer: object, size: int) -> None:
        if self.finished is not None:
            self.after_in += size
            return
        self.wire_in += size
        if self._awaiting.get(peer):
            self._awaiting[peer] = False
            self.exchanges[peer] = self.exchanges.get(peer, 0) + 1

    def got(self, index: int, now: float, stats: Mapping[str, int]) -> bool:
        """The node delivered message ``index``; True once it holds every missing one."""
        self.want.discard(index)
        if self.want or self.finished is not None:
            return False
        self.finished = now
        self.result_stats = {k: v - self._stats_at_start.get(k, 0) for k, v in stats.items()}
        if "control_bytes_in" not in self.result_stats:
            self.result_stats["control_bytes_in"] = self.wire_in - self.result_stats.get("payload_bytes_in", 0)
        return True

    def report(self, k: int) -> dict[str, Any]:
        """The ``catchup`` object of the JSON output."""
        started, finished = self.started, self.finished
        seconds = None if started is None or finished is None else round(finished - started, 6)
        return {
            "messages": k,
            "complete": seconds is not None,
            "bytes": self.wire_in,
            "bytes_out": self.wire_out,
            "payload_bytes": self.result_stats.get("payload_bytes_in"),
            "control_bytes": self.result_stats.get("control_bytes_in"),
            "missing_bytes": self.missing_bytes,
            "bytes_after": self.after_in,
            "bytes_out_after": self.after_out,
            "round_trips": max(self.exchanges.values(), default=0),
            "round_trips_total": sum(self.exchanges.values()),
            "seconds": seconds,
        }
