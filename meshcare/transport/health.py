"""``node.health``: what only the running daemon can tell `meshcare doctor` (its links, its mDNS discovery,
its linked peers' clocks). Read-only: it never changes the node.

``DiscoveryWatch`` is the daemon's window on discovery: ``service._discover`` fills it (enabled, the
interfaces, the running ``Discovery``'s statistics, the last error that made it retry), so this op reads
discovery's state without reaching into its threads.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..circles.circle import FUTURE_SLACK
from ..control import requests as rq
from ..control import results_doctor as rd
from ..control import views_doctor as cvd
from ..node import Node
from ..node_events import Effect
from . import links
from .discovery_records import DiscoveryStatistics

if TYPE_CHECKING:
    from .daemon import Daemon


@dataclass(slots=True)
class DiscoveryWatch:
    """The discovery state the daemon shows: set by ``service._discover``, read by ``node.health``."""

    enabled: bool = False
    interfaces: tuple[str, ...] = ()
    #: the running Discovery's ``statistics`` (None while it is not running)
    statistics: Callable[[], DiscoveryStatistics] | None = None
    last_error: str = ""

    def view(self) -> cvd.DiscoveryHealth:
        stats = self.statistics() if self.statistics is not None else None
        if stats is None:
            return cvd.DiscoveryHealth(enabled=self.enabled, running=False, interfaces=self.interfaces,
                                      registered=False, advertised=(), found=0, last_error=self.last_error)
        return cvd.DiscoveryHealth(enabled=self.enabled, running=True, interfaces=self.interfaces,
                                  registered=stats.registered, advertised=stats.advertised,
                                  instance_name=stats.instance_name, found=stats.found,
                                  last_error=stats.last_error or self.last_error)


def node_health(daemon: Daemon, node: Node, now: float) -> rd.NodeHealthResult:
    """The ``node.health`` answer for ``daemon`` at ``now``."""
    linked = {link.address for link in daemon.links.values()}
    known = sum(1 for key in node.known if (address := links.as_address(key)) is not None and address not in linked)
    clocks = tuple(cvd.PeerClock(node_id=bytes(p.peer).hex(),
                                offset_s=round(p.offset_s, 3), samples=p.samples,
                                age_s=round(max(0.0, now - p.last_at), 3))
                   for p in node.engine.clock_skew.offsets(now) if isinstance(p.peer, bytes))
    return rd.NodeHealthResult(listen=f"{daemon.listen[0]}:{daemon.port}", links=len(daemon.links), known=known,
                               static_peers=len(daemon.static_peers), discovery=daemon.discovery_watch.view(),
                               clocks=clocks, future_slack_s=FUTURE_SLACK,
                               deferred=int(node.statistics().get("deferred", 0)))


def health_op(daemon: Daemon) -> Callable[[Node, rq.NodeHealth, float], tuple[rd.NodeHealthResult, list[Effect]]]:
    """The op table handler of ``node.health`` for ``daemon``."""
    def handler(node: Node, req: rq.NodeHealth, now: float) -> tuple[rd.NodeHealthResult, list[Effect]]:
        return node_health(daemon, node, now), []
    return handler
