"""``node.health`` in the daemon: the node's part (``ops/doctor.py``: peers' clocks) with what only the shell
knows (its listen address, links, static peers, mDNS discovery). Read-only: it never changes the node.

``DiscoveryWatch`` is the daemon's window on discovery: ``service._discover`` fills it (enabled, the
interfaces, the running ``Discovery``'s statistics, the last error that made it retry), so this op reads
discovery's state without reaching into its threads.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from typing import TYPE_CHECKING

from ..control import requests as rq
from ..control import results_doctor as rd
from ..control import views_doctor as cvd
from ..node import Node
from ..node_events import Effect
from ..ops.doctor import node_health as ops_health
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


def node_health(daemon: Daemon, node: Node, req: rq.NodeHealth,
                now: float) -> tuple[rd.NodeHealthResult, list[Effect]]:
    """The ``node.health`` answer: the node's part (``ops/doctor.py``) with what this shell knows."""
    result, effects = ops_health(node, req, now)
    linked = {link.address for link in daemon.links.values()}
    known = sum(1 for key in node.known if (address := links.as_address(key)) is not None and address not in linked)
    return replace(result, listen=f"{daemon.listen[0]}:{daemon.port}", links=len(daemon.links), known=known,
                   static_peers=len(daemon.static_peers), discovery=daemon.discovery_watch.view(),
                   tor=daemon.tor_status()), effects


def health_op(daemon: Daemon) -> Callable[[Node, rq.NodeHealth, float], tuple[rd.NodeHealthResult, list[Effect]]]:
    """The op table handler of ``node.health`` for ``daemon``."""
    return partial(node_health, daemon)
