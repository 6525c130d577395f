"""Check-in, availability and support-plan ops. Pure."""

from __future__ import annotations

from typing import Any

from ..circles import plans as pl
from ..errors import BadInput, NotFound
from ..node import Node
from ..node_events import Effect, SaveState
from . import present
from .common import (Args, Result, circle_of, find_call, find_checkin, int_or_none, items, post, text,
                     validated)

# --- check-ins ---------------------------------------------------------------------------------------


def checkin_create(node: Node, args: Args, now: float) -> tuple[Result, list[Effect]]:
    circle = circle_of(node, args)
    if circle.roster.role(node.registry.me) != "facilitator":
        raise BadInput("check-ins are sent by facilitators")
    body: dict[str, Any] = {"prompt": text(args, "prompt"),
                            "visibility": text(args, "visibility", required=False, default="facilitators")}
    if args.get("options"):
        body["options"] = items(args, "options")
    e, effects = post(node, circle, "checkin", validated("checkin", body), now)
    return {"checkin": present.checkin_view(node, circle, e.id).to_data()}, effects


def checkin_reply(node: Node, args: Args, now: float) -> tuple[Result, list[Effect]]:
    circle, _, state = find_checkin(node, text(args, "checkin"))
    option = args.get("option")
    options = list(state.options)
    if isinstance(option, str) and not option.isdigit():
        matches = [i for i, o in enumerate(options) if o.lower().startswith(option.lower())]
        if len(matches) != 1:
            raise BadInput(f"choose one of: {'; '.join(f'{i + 1} {o}' for i, o in enumerate(options))}")
        index = matches[0]
    elif isinstance(option, str) or (type(option) is int):
        index = int(option) - 1
    else:
        raise BadInput("choose an option by its number or its text")
    if not 0 <= index < len(options):
        raise BadInput(f"choose 1 to {len(options)}")
    e, effects = post(node, circle, "checkin_reply", validated("checkin_reply", {
        "checkin": state.id, "option": index, "text": text(args, "text", required=False)}), now)
    suggest = index == len(options) - 1 and options[-1] == "need support now"
    return {"id": e.id.hex(), "checkin": present.checkin_view(node, circle, state.id).to_data(), "option": options[index],
            "suggest_call": suggest}, effects


def checkin_show(node: Node, args: Args, now: float) -> tuple[Result, list[Effect]]:
    circle, _, state = find_checkin(node, text(args, "checkin"))
    return {"checkin": present.checkin_view(node, circle, state.id).to_data()}, []


def checkin_list(node: Node, args: Args, now: float) -> tuple[Result, list[Effect]]:
    out = [present.checkin_view(node, c, cid).to_data() for c in node.registry.circles.values()
           for cid in node.registry.view(c).checkins]
    out.sort(key=lambda c: -c["created"])
    return {"checkins": out}, []


# --- availability ------------------------------------------------------------------------------------


def presence_set(node: Node, args: Args, now: float) -> tuple[Result, list[Effect]]:
    status = text(args, "status")
    body = validated("presence", {"status": status, "until": int_or_none(args, "until"),
                                  "cap": int_or_none(args, "cap")})
    me = node.registry.me
    circles = [circle_of(node, args)] if args.get("circle") else [
        c for c in node.registry.circles.values() if c.roster.role(me) in ("member", "facilitator")]
    if not circles:
        raise NotFound("this node is in no circle yet")
    effects: list[Effect] = []
    for circle in circles:
        effects += post(node, circle, "presence", body, now)[1]
    return {"status": status, "until": body["until"], "cap": body["cap"],
            "circles": [c.topic.hex() for c in circles]}, effects


def roster(node: Node, args: Args, now: float) -> tuple[Result, list[Effect]]:
    circles = [circle_of(node, args)] if args.get("circle") else list(node.registry.circles.values())
    return {"circles": [present.circle_roster_view(node, c, int(now)).to_data() for c in circles]}, []


# --- support plan ------------------------------------------------------------------------------------


def plan_show(node: Node, args: Args, now: float) -> tuple[Result, list[Effect]]:
    return {"plan": node.state.plan, "shares": [s.to_data() for s in present.own_share_views(node)]}, []


def plan_edit(node: Node, args: Args, now: float) -> tuple[Result, list[Effect]]:
    current = dict(node.state.plan or {})
    for key in ("helps", "avoid", "contact", "other"):
        if key in args and args[key] is not None:
            current[key] = text(args, key)
    node.state.plan = pl.Plan.from_dict(current).to_dict()
    return {"plan": node.state.plan}, [SaveState(node.state)]


def plan_share(node: Node, args: Args, now: float) -> tuple[Result, list[Effect]]:
    plan = node.state.plan
    if not plan:
        raise BadInput("you have no support plan yet; write one with `meshcare plan edit`")
    if args.get("call"):
        circle, _, state = find_call(node, text(args, "call"))
        if state.caller != node.registry.me:
            raise BadInput("you can share your plan in your own calls")
        if state.claimer is None:
            raise BadInput("nobody has this call yet; share your plan once someone claims it")
        e, effects = post(node, circle, "plan_share", validated("plan_share", {"to": "call", "call": state.id,
                                                                               "plan": plan}), now, [state.claimer])
    else:
        circle = circle_of(node, args)
        e, effects = post(node, circle, "plan_share", validated("plan_share", {"to": "circle", "call": None,
                                                                               "plan": plan}), now)
    return {"share": e.id.hex(), "circle": circle.topic.hex()}, effects


def plan_retract(node: Node, args: Args, now: float) -> tuple[Result, list[Effect]]:
    ref = text(args, "share").lower()
    for circle in node.registry.circles.values():
        for sid, s in node.registry.view(circle).shares.items():
            if len(ref) >= 4 and sid.hex().startswith(ref) and s.author == node.registry.me:
                e, effects = post(node, circle, "plan_retract", validated("plan_retract", {"share": sid}), now)
                return {"retracted": sid.hex(), "id": e.id.hex()}, effects
    raise NotFound("no share of your plan starts with that; `meshcare plan show` lists them")
