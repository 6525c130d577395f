"""``snapshot``: everything a client shows, in one answer, for a client that (re)connects. Pure.

Built from the very ops a client would otherwise send one by one (``circle.list``, ``circle.members``,
``roster``, ``circle.invites``, ``calls.list``, ``checkin.list``, ``plan.show``, ``gathering.list``,
``need.list``), so each part is what its own op answers for the same state. The sync state of each circle
is what the last ``sync`` event said
(``Changes.catching_up``). Two parts belong to the shell: the peers (links and sockets) and the number
of the last event it sent (``seq``); the daemon registers the op and passes both in (``Daemon._snapshot``).
"""

from __future__ import annotations

from collections.abc import Sequence

from ..control import requests as rq
from ..control import requests_board as rb
from ..control import requests_gatherings as rqg
from ..control import results as rs
from ..control import views as v
from ..node import Node
from .board import need_list
from .calls import calls_list
from .checkins_plans import checkin_list
from .plans import plan_show
from .circles import circle_list
from .gatherings import gathering_list
from .present import circle_roster_view, invite_views, member_views

__all__ = ["snapshot"]


def snapshot(node: Node, req: rq.Snapshot, now: float, *, peers: Sequence[v.Peer] = (),
             seq: int = 0) -> rs.SnapshotResult:
    """The state of ``node`` (of one circle, with ``req.circle``) as a reconnecting client needs it.
    Raises NotFound (BadInput) when ``req.circle`` names no circle (several)."""
    only = None if req.circle is None else node.registry.find(req.circle).topic.hex()
    listed, _ = circle_list(node, rq.CircleList(), now)
    circles = [c for c in listed.circles if only is None or c.id == only]
    catching_up = node.changes.catching_up
    by_id = {c.topic.hex(): c for c in node.registry.circles.values()}     # what circle_list lists
    parts = []
    for shown in circles:
        circle = by_id[shown.id]
        parts.append(v.CircleSnapshot(
            circle=shown, members=member_views(node, circle, int(now)),
            roster=circle_roster_view(node, circle, int(now)).roster, invites=invite_views(node, circle, int(now)),
            sync="catching_up" if circle.topic in catching_up else "caught_up"))
    calls, _ = calls_list(node, rq.CallsList(all=req.all_calls, circle=req.circle), now)
    checkins, _ = checkin_list(node, rq.CheckinList(), now)
    plan, _ = plan_show(node, rq.PlanShow(), now)
    gatherings, _ = gathering_list(node, rqg.GatheringList(circle=req.circle), now)
    board, _ = need_list(node, rb.NeedList(all=True, circle=req.circle), now)
    return rs.SnapshotResult(
        seq=seq, node_id=node.identity.node_id.hex(), name=node.identity.name, circles=tuple(parts),
        joining=tuple(j for j in listed.joining if only is None or j.circle == only),
        calls=calls.calls, checkins=tuple(c for c in checkins.checkins if only is None or c.circle == only),
        plan=plan.plan, shares=tuple(s for s in plan.shares if only is None or s.circle == only),
        peers=tuple(peers), gatherings=gatherings.gatherings, needs=board.needs, boards=board.boards)
