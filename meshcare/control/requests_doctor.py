"""What `meshcare doctor` asks the running daemon (``requests.py`` lists it in ``REQUESTS``)."""

from __future__ import annotations

from dataclasses import dataclass

from . import names as n
from . import results_doctor as r
from .request_base import Request

__all__ = ["NodeHealth"]


@dataclass(frozen=True, slots=True, kw_only=True)
class NodeHealth(Request[r.NodeHealthResult]):
    """What only the running daemon can tell about its health: links, mDNS discovery, and how far the
    clocks of linked peers seem to be from its own. Read-only."""

    OP = n.OP_NODE_HEALTH
