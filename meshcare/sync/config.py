"""``SyncConfig``: the sync engine's settings, one frozen record shared by the engine and its collaborators.

Apart from ``engine.py`` so that ``neighbours.py`` and ``catchup.py`` can read it without importing the
engine that owns them. Times are seconds of the ``now`` the engine is handed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import LocalProtocolError
from .budget import Limits


@dataclass(frozen=True, slots=True)
class SyncConfig:
    """Engine settings. Times are seconds."""

    gossip: str = "plumtree"            # or "flood": naive flooding over the same links (benchmarks)
    target_links: int = 5               # links this node dials towards
    max_links: int = 10                 # links it accepts at most (dialled + accepted)
    graft_timeout: float = 0.25         # wait this long for an announced envelope before pulling it
    fresh_window: float = 120.0         # envelopes younger than this are gossiped; older ones reconciled
    tick: float = 1.0                   # neighbour maintenance period
    ping_interval: float = 15.0
    dead_after: float = 45.0            # silent this long: the link is dead (liveness is links, not mDNS)
    #: the same two for slow links (``LinkOpened.slow``: through Tor, where a rendezvous circuit can stall for
    #: tens of seconds before it recovers; dropping it sooner only makes a new, slower circuit)
    ping_interval_slow: float = 30.0
    dead_after_slow: float = 120.0
    anti_entropy_interval: float = 60.0
    rotate_interval: float = 30.0       # dial one extra random peer this often, then trim: heals partitions
    catchup_debounce: float = 0.5
    recent_window: float = 2.0          # a peer that starts sharing a topic hears of envelopes this recent
                                        # (at most 64 ids; reconciliation finds anything older)
    reconcile_quiet: float = 2.0        # a reconciliation with no message for this long is over
    flood_urgent: bool = True           # calls for support go to every neighbour, not only the tree
    heads_on_open: bool = False         # per-author heads exchange before reconciling (see docs/protocol.md)
    redial_backoff: float = 2.0         # first backoff after a failed dial, doubling up to 300 s
    misbehaviour_backoff: float = 60.0
    queue_limit: int = 4 << 20          # bytes queued per link before bulk frames are dropped
    limits: Limits = field(default_factory=Limits)

    def __post_init__(self) -> None:
        if self.gossip not in ("plumtree", "flood"):
            raise LocalProtocolError("SyncConfig.gossip must be 'plumtree' or 'flood'")
