"""Check-in and availability ops. Pure. (The support plan's ops are in ``plans``.)"""

from __future__ import annotations

from typing import Any

from ..control import requests as rq
from ..control import results as rs
from ..errors import BadInput, NotFound
from ..node import Node
from ..node_events import Effect
from ..vocab import PERSON_ROLES, SUGGEST_CALL_OPTION
from .common import find_checkin, linked, post, validated
from .present import checkin_view, circle_roster_view

# --- check-ins ---------------------------------------------------------------------------------------


def checkin_create(node: Node, req: rq.CheckinCreate, now: float) -> tuple[rs.CheckinCreateResult, list[Effect]]:
    circle = node.registry.find(req.circle)
    if circle.roster.role(node.registry.me) != "facilitator":
        raise BadInput("check-ins are sent by facilitators")
    body: dict[str, Any] = {"prompt": req.prompt, "visibility": req.visibility}
    if req.options:
        body["options"] = list(req.options)
    e, effects = post(node, circle, "checkin", validated("checkin", body), now)
    return rs.CheckinCreateResult(checkin=checkin_view(node, circle, e.id), linked=linked(node, circle)), effects


def checkin_reply(node: Node, req: rq.CheckinReply, now: float) -> tuple[rs.CheckinReplyResult, list[Effect]]:
    """Answer by the option's number (1, 2, ...; as a number or digits) or the start of its text."""
    circle, _, state = find_checkin(node, req.checkin)
    options = list(state.options)
    if isinstance(req.option, str) and not req.option.isdigit():
        matches = [i for i, o in enumerate(options) if o.lower().startswith(req.option.lower())]
        if len(matches) != 1:
            raise BadInput(f"choose one of: {'; '.join(f'{i + 1} {o}' for i, o in enumerate(options))}")
        index = matches[0]
    else:
        index = int(req.option) - 1
    if not 0 <= index < len(options):
        raise BadInput(f"choose 1 to {len(options)}")
    e, effects = post(node, circle, "checkin_reply", validated("checkin_reply", {
        "checkin": state.id, "option": index, "text": req.text}), now)
    suggest = index == len(options) - 1 and options[-1] == SUGGEST_CALL_OPTION
    return rs.CheckinReplyResult(id=e.id.hex(), checkin=checkin_view(node, circle, state.id), option=options[index],
                                 suggest_call=suggest, linked=linked(node, circle)), effects


def checkin_show(node: Node, req: rq.CheckinShow, now: float) -> tuple[rs.CheckinShowResult, list[Effect]]:
    circle, _, state = find_checkin(node, req.checkin)
    return rs.CheckinShowResult(checkin=checkin_view(node, circle, state.id)), []


def checkin_list(node: Node, req: rq.CheckinList, now: float) -> tuple[rs.CheckinListResult, list[Effect]]:
    out = [checkin_view(node, c, cid) for c in node.registry.circles.values()
           for cid in node.registry.view(c).checkins]
    out.sort(key=lambda c: -c.created)
    return rs.CheckinListResult(checkins=tuple(out)), []


# --- availability ------------------------------------------------------------------------------------


def presence_set(node: Node, req: rq.PresenceSet, now: float) -> tuple[rs.PresenceSetResult, list[Effect]]:
    """Say it in one circle, or in every circle where this person takes calls (not where this node is a
    relay)."""
    body = validated("presence", {"status": req.status, "until": req.until, "cap": req.cap})
    me = node.registry.me
    circles = [node.registry.find(req.circle)] if req.circle else [
        c for c in node.registry.circles.values() if c.roster.role(me) in PERSON_ROLES]
    if not circles:
        raise NotFound("this node is in no circle yet")
    effects: list[Effect] = []
    for circle in circles:
        effects += post(node, circle, "presence", body, now)[1]
    return rs.PresenceSetResult(status=req.status, until=body["until"], cap=body["cap"],
                                circles=tuple(c.topic.hex() for c in circles), linked=linked(node, *circles)), effects


def roster(node: Node, req: rq.Roster, now: float) -> tuple[rs.RosterResult, list[Effect]]:
    circles = [node.registry.find(req.circle)] if req.circle else list(node.registry.circles.values())
    return rs.RosterResult(circles=tuple(circle_roster_view(node, c, int(now)) for c in circles)), []
