"""What ``node.health`` answers (``results.py`` lists it in ``RESULTS``): what `meshcare doctor` asks the
running daemon, because only the daemon knows it: its links, its mDNS discovery, and its linked peers'
clocks as the envelopes they authored show them (``meshcare/sync/clock_skew.py``).

Apart from ``results.py`` so the doctor's records live together; derives from ``result_base`` only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from . import names as n
from .result_base import Result
from .schema import Int, Maybe, Seq, Text, View, key
from .views_doctor import DiscoveryHealth, PeerClock, TorStatus

__all__ = ["NodeHealthResult"]

_COUNT = Int(0)


@dataclass(frozen=True, slots=True, kw_only=True)
class NodeHealthResult(Result):
    """What only the running daemon can tell about its health (`meshcare doctor` reads it)."""

    OP: ClassVar[str] = n.OP_NODE_HEALTH
    WHAT: ClassVar[str] = "the health"
    listen: str = key(Text(), "host:port it accepts links on")
    links: int = key(_COUNT, "links open now")
    known: int = key(_COUNT, "addresses known but not linked (static peers, mDNS, invites)")
    static_peers: int = key(_COUNT, "static peers configured (`--peer`, `peers` in config.toml)")
    discovery: DiscoveryHealth = key(View(DiscoveryHealth), "mDNS discovery")
    clocks: tuple[PeerClock, ...] = key(Seq(View(PeerClock), item_noun="peer clock"),
                                        "linked peers' clock offsets, largest first")
    future_slack_s: int = key(_COUNT, "a post created this many seconds ahead of a node's clock waits there "
                                      "until its clock gets there")
    deferred: int = key(_COUNT, "envelopes held back since start (ahead of our clock, or waiting for a key)")
    tor: TorStatus | None = key(Maybe(View(TorStatus)), "tor, as `status` shows it (null: Tor is off)", default=None)
