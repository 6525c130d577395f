"""``node.health``, the node's part: its linked peers' clock offsets, what it held back, its links and the
addresses it knows. Pure. The daemon answers the op with this and adds what only its shell knows (the
address it listens on, its static peers, mDNS discovery: ``transport/health.py``), as it does for
``node.rename``. `meshcare doctor` reads it (docs/operations.md)."""

from __future__ import annotations

from ..circles.circle import FUTURE_SLACK
from ..control import requests as rq
from ..control import results as rs
from ..control.views_doctor import DiscoveryHealth, PeerClock
from ..node import Node
from ..node_events import Effect

#: What a node without a shell says of discovery: it has none.
NO_DISCOVERY = DiscoveryHealth(enabled=False, running=False, interfaces=(), registered=False, advertised=(), found=0,
                               last_error="")


def node_health(node: Node, req: rq.NodeHealth, now: float) -> tuple[rs.NodeHealthResult, list[Effect]]:
    """The node's health as the node alone knows it; ``listen`` is empty and discovery off until the
    shell fills them in."""
    stats = node.statistics()
    clocks = tuple(PeerClock(node_id=p.peer.hex(), offset_s=round(p.offset_s, 3), samples=p.samples,
                             age_s=round(max(0.0, now - p.last_at), 3))
                   for p in node.engine.clock_skew.offsets(now) if isinstance(p.peer, bytes) and len(p.peer) == 32)
    return rs.NodeHealthResult(listen="", links=int(stats.get("links", 0)), known=len(node.known), static_peers=0,
                               discovery=NO_DISCOVERY, clocks=clocks, future_slack_s=FUTURE_SLACK,
                               deferred=int(stats.get("deferred", 0))), []
