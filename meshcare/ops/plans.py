"""Support-plan ops: show, edit (one section or many), share (all of it or chosen sections), retract. Pure.

The plan itself stays on this node (``node.state.plan``, a dict of sections); only a share leaves it, as a
``plan_share`` post carrying the sections chosen (the others empty), sealed to the person who has the
call or readable by the whole circle. What the owner sees (``plan.show``) says, per share, which sections
it carries and who can read it, so "who can read what" is never a guess.
"""

from __future__ import annotations

from datetime import datetime

from ..circles import plans as pl
from ..control import requests as rq
from ..control import results as rs
from ..errors import BadInput, NotFound
from ..node import Node
from ..node_events import Effect, SaveState
from ..vocab import MIN_ID_PREFIX, PLAN_REVIEW_FIELD, PLAN_SECTION_WORDS
from .common import find_call, linked, post, validated
from .present import own_share_views, plan_view


def _saved(node: Node) -> pl.Plan:
    """This person's plan as saved (empty when none was written; a four-part plan reads as it was)."""
    return pl.Plan.from_dict(node.state.plan or {})


def plan_show(node: Node, req: rq.PlanShow, now: float) -> tuple[rs.PlanShowResult, list[Effect]]:
    """The plan, its live shares with their sections and readers, and whether the review date passed
    (by this computer's calendar: the date the person wrote is in their own days)."""
    plan = None if node.state.plan is None else _saved(node)
    due = plan is not None and plan.review_due(datetime.fromtimestamp(now).date())
    return rs.PlanShowResult(plan=None if plan is None else plan_view(plan), shares=own_share_views(node),
                             review_due=due), []


def plan_edit(node: Node, req: rq.PlanEdit, now: float) -> tuple[rs.PlanEditResult, list[Effect]]:
    """Change the sections the request gives (empty text clears one); the others stay. The review date
    is taken without the spaces around it (what a person types is " 2027-06-01" as often as not)."""
    changes = req.changes()
    if PLAN_REVIEW_FIELD in changes:
        changes[PLAN_REVIEW_FIELD] = changes[PLAN_REVIEW_FIELD].strip()
    plan = _saved(node).edited(changes)
    node.state.plan = plan.to_dict()
    return rs.PlanEditResult(plan=plan_view(plan)), [SaveState(node.state)]


def _to_share(node: Node, sections: tuple[str, ...] | None) -> pl.Plan:
    """The plan as a share carries it: every section, or only those asked for. Refuses an empty share."""
    if not node.state.plan:
        raise BadInput("you have no support plan yet; write one with `meshcare plan edit`")
    plan = _saved(node)
    if sections is None:
        if plan.is_empty():
            raise BadInput("your support plan is empty; write something in it first with `meshcare plan edit`")
        return plan
    empty = [key for key in sections if not getattr(plan, key).strip()]
    if empty:
        raise BadInput("nothing is written in " + ", ".join(f"{k!r} ({PLAN_SECTION_WORDS[k]})" for k in empty)
                       + "; write it first with `meshcare plan edit --section NAME TEXT`, or leave it out")
    return plan.only(sections)


def plan_share(node: Node, req: rq.PlanShare, now: float) -> tuple[rs.PlanShareResult, list[Effect]]:
    """Share with whoever has one of this person's calls (``call``), or with a whole circle; every section
    that holds something, or only ``sections``."""
    plan = _to_share(node, req.sections).to_dict()
    if req.call:
        circle, _, state = find_call(node, req.call)
        if state.caller != node.registry.me:
            raise BadInput("you can share your plan in your own calls")
        if state.claimer is None:
            raise BadInput("nobody has this call yet; share your plan once someone claims it")
        body = validated("plan_share", {"to": "call", "call": state.id, "plan": plan, "reader": state.claimer})
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
