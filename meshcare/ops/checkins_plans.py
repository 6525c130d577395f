"""Check-in, availability and support-plan ops. Pure."""

from __future__ import annotations

from typing import Any

from ..circles import plans as pl
from ..control import requests as rq
from ..control import results as rs
from ..errors import BadInput, NotFound
from ..node import Node
from ..node_events import Effect, SaveState
from ..vocab import MIN_ID_PREFIX, PERSON_ROLES, SUGGEST_CALL_OPTION
from .common import find_call, find_checkin, linked, post, validated
from .present import checkin_view, circle_roster_view, own_share_views, plan_view

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


# --- support plan ------------------------------------------------------------------------------------


def plan_show(node: Node, req: rq.PlanShow, now: float) -> tuple[rs.PlanShowResult, list[Effect]]:
    plan = None if node.state.plan is None else plan_view(pl.Plan.from_dict(node.state.plan))
    return rs.PlanShowResult(plan=plan, shares=own_share_views(node)), []


def plan_edit(node: Node, req: rq.PlanEdit, now: float) -> tuple[rs.PlanEditResult, list[Effect]]:
    """Change the parts the request gives (empty text clears a part); the others stay."""
    was = pl.Plan.from_dict(node.state.plan or {})
    plan = pl.Plan(helps=was.helps if req.helps is None else req.helps,
                   avoid=was.avoid if req.avoid is None else req.avoid,
                   contact=was.contact if req.contact is None else req.contact,
                   other=was.other if req.other is None else req.other)
    node.state.plan = plan.to_dict()
    return rs.PlanEditResult(plan=plan_view(plan)), [SaveState(node.state)]


def plan_share(node: Node, req: rq.PlanShare, now: float) -> tuple[rs.PlanShareResult, list[Effect]]:
    """Share with whoever has one of this person's calls (``call``), or with a whole circle."""
    plan = node.state.plan
    if not plan:
        raise BadInput("you have no support plan yet; write one with `meshcare plan edit`")
    if req.call:
        circle, _, state = find_call(node, req.call)
        if state.caller != node.registry.me:
            raise BadInput("you can share your plan in your own calls")
        if state.claimer is None:
            raise BadInput("nobody has this call yet; share your plan once someone claims it")
        body = validated("plan_share", {"to": "call", "call": state.id, "plan": plan})
        e, effects = post(node, circle, "plan_share", body, now, [state.claimer])
    else:
        circle = node.registry.find(req.circle or "")       # (the request names a circle when no call)
        e, effects = post(node, circle, "plan_share", validated("plan_share", {"to": "circle", "call": None,
                                                                               "plan": plan}), now)
    return rs.PlanShareResult(share=e.id.hex(), circle=circle.topic.hex(), linked=linked(node, circle)), effects


def plan_retract(node: Node, req: rq.PlanRetract, now: float) -> tuple[rs.PlanRetractResult, list[Effect]]:
    ref = req.share.lower()
    for circle in node.registry.circles.values():
        for sid, s in node.registry.view(circle).shares.items():
            if len(ref) >= MIN_ID_PREFIX and sid.hex().startswith(ref) and s.author == node.registry.me:
                e, effects = post(node, circle, "plan_retract", validated("plan_retract", {"share": sid}), now)
                return rs.PlanRetractResult(retracted=sid.hex(), id=e.id.hex()), effects
    raise NotFound("no share of your plan starts with that; `meshcare plan show` lists them")
