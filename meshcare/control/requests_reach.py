"""Requests of finding each other over Tor (issue 15): whether this node's onion address is shared.

A node with an onion service tells each of its circles where to dial it (a ``reach`` roster operation:
circles/reach.py); ``circle.reach`` turns that off (or on again) for one circle. The choice is kept on
this node only; turning it off makes the node post an empty address there.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import names as n
from . import results_reach as r
from .names import BAD_REQUEST
from .request_base import NO_CIRCLE, Request, circle_arg
from .schema import Flag, arg

__all__ = ["CircleReach", "REQUESTS_REACH"]


@dataclass(frozen=True, slots=True, kw_only=True)
class CircleReach(Request[r.CircleReachResult]):
    """Share this node's onion address with a circle's members and relays, or stop sharing it (they then
    reach this node only over the LAN, or through a node that is linked to it). Default: shared, when
    the node runs an onion service."""

    OP = n.OP_CIRCLE_REACH
    ERRORS = (NO_CIRCLE, (BAD_REQUEST, "this node is not a member or relay of that circle"))
    circle: str = circle_arg()
    share: bool = arg(Flag(), "true: members may dial this node's onion address; false: the circle is told "
                      "it has none", noun="share")


REQUESTS_REACH = (CircleReach,)
