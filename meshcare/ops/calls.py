"""Call ops: create, list, show, and the thread (offer, claim, release, accept, update, resolve). Pure.

The permission checks here say in a person's words why an op does not apply; the call fold
(``circles/calls.py``) applies the same rules to whatever arrives, on every node.
"""

from __future__ import annotations

from typing import Any

from ..errors import BadInput, NotFound
from ..node import Node
from ..node_events import Effect
from ..vocab import OFFER_KINDS
from . import present
from .common import (Args, Result, circle_of, find_call, int_or_none, items, member_of, post, resolved_by,
                     text, validated)


def call_create(node: Node, args: Args, now: float) -> tuple[Result, list[Effect]]:
    circle = circle_of(node, args)
    ladder = args.get("ladder") or [{"after": 0, "to": "circle", "members": []}]
    if not isinstance(ladder, list):
        raise BadInput("ladder must be a list of steps")
    steps = []
    for step in ladder:
        if not isinstance(step, dict):
            raise BadInput("each ladder step is {after, to, members}")
        refs = step.get("members") or []
        steps.append({"after": step.get("after", 0), "to": step.get("to", "circle"),
                      "members": [member_of(circle, r) if isinstance(r, str) else r for r in refs]})
    body = {"text": text(args, "text"), "urgency": text(args, "urgency", required=False, default="today"),
            "needs": items(args, "needs"), "reach": args.get("reach"), "consent": items(args, "consent"),
            "consent_note": args.get("consent_note"), "ladder": steps}
    body = validated("call", body)
    audience = circle.call_audience(node.registry.me, body["ladder"], 0)
    e, effects = post(node, circle, "call", body, now, audience)
    return {"call": present.call_view(node, circle, e.id).to_data()}, effects


def calls_list(node: Node, args: Args, now: float) -> tuple[Result, list[Effect]]:
    show_all = bool(args.get("all"))
    only = node.registry.find(text(args, "circle")) if args.get("circle") is not None else None
    out = []
    for circle in node.registry.circles.values():
        if only is not None and circle is not only:
            continue
        for cid, state in node.registry.view(circle).calls.items():
            if show_all or state.status != "resolved":
                out.append(present.call_view(node, circle, cid).to_data())
    out.sort(key=lambda c: (c["status"] == "resolved", -c["created"]))
    return {"calls": out}, []


def call_show(node: Node, args: Args, now: float) -> tuple[Result, list[Effect]]:
    circle, _, state = find_call(node, text(args, "call"))
    return {"call": present.call_view(node, circle, state.id).to_data()}, []


def _thread(node: Node, args: Args, now: float, kind: str, extra: dict[str, Any]) -> tuple[Result, list[Effect]]:
    """Post ``kind`` in a call's thread. Refused (BadInput) on a resolved call: the fold would ignore
    it on every node, so posting it would only say something that never shows."""
    circle, _, state = find_call(node, text(args, "call"))
    if state.status == "resolved":
        raise BadInput(f"this call was resolved {resolved_by(node, state)}; nothing more can be added to it. "
                       "If someone needs support again, start a new call")
    e, effects = post(node, circle, kind, validated(kind, {"call": state.id, **extra}), now)
    return {"id": e.id.hex(), "call": present.call_view(node, circle, state.id).to_data()}, effects


def call_offer(node: Node, args: Args, now: float) -> tuple[Result, list[Effect]]:
    kind = text(args, "kind")
    if kind not in OFFER_KINDS:
        raise BadInput(f"an offer is one of {', '.join(OFFER_KINDS)}")
    _, _, state = find_call(node, text(args, "call"))
    if state.caller == node.registry.me:
        raise BadInput("this is your own call; others offer support in it (post an update instead)")
    return _thread(node, args, now, "offer", {"kind": kind, "text": text(args, "text", required=False)})


def call_claim(node: Node, args: Args, now: float) -> tuple[Result, list[Effect]]:
    """Claim a call. ``have_it`` says whether this node holds it now: in a race the claim first in
    the circle's order wins on every node, and the result names who has it."""
    circle, _, state = find_call(node, text(args, "call"))
    me = node.registry.me
    if state.caller == me:
        raise BadInput("this is your own call; others claim it")
    if state.claimer is not None and state.claimer != me and state.status != "resolved":
        raise BadInput(f"{node.registry.names().get(state.claimer, 'someone')} already has this call; "
                       "offer help in its thread instead")
    out, effects = _thread(node, args, now, "claim", {})
    out["have_it"] = out["call"]["claimer"] == me.hex()
    if not out["have_it"]:
        node.duties.claim_told(circle.topic, state.id)
    return out, effects


def call_release(node: Node, args: Args, now: float) -> tuple[Result, list[Effect]]:
    _, _, state = find_call(node, text(args, "call"))
    if state.status != "resolved" and node.registry.me not in ({state.claimer} | state.also_claimed):
        raise BadInput("you have not claimed this call, so there is nothing to let go of")
    return _thread(node, args, now, "release", {})


def call_accept(node: Node, args: Args, now: float) -> tuple[Result, list[Effect]]:
    _, _, state = find_call(node, text(args, "call"))
    if state.caller != node.registry.me:
        raise BadInput("only the person who made the call accepts offers")
    ref = text(args, "offer").lower()
    offers = [o.id for o in state.offers if len(ref) >= 4 and o.id.hex().startswith(ref)]
    if len(offers) != 1:
        raise NotFound("no single offer starts with that; `meshcare call show CALL` lists them")
    return _thread(node, args, now, "accept", {"offer": offers[0]})


def call_update(node: Node, args: Args, now: float) -> tuple[Result, list[Effect]]:
    return _thread(node, args, now, "update", {"text": text(args, "text")})


def call_resolve(node: Node, args: Args, now: float) -> tuple[Result, list[Effect]]:
    """Resolve a call: its caller, whoever has it, or a facilitator (a call whose claimer is gone
    must not stay open for ever). Resolving a resolved call posts nothing and says so
    (``already_resolved``)."""
    circle, _, state = find_call(node, text(args, "call"))
    if state.status == "resolved":
        return {"id": None, "already_resolved": True, "call": present.call_view(node, circle, state.id).to_data()}, []
    me = node.registry.me
    if me not in (state.caller, state.claimer) and me not in circle.roster.facilitators:
        raise BadInput("the person who made the call, whoever has it, or a facilitator resolves it")
    followup = int_or_none(args, "followup_at")
    if followup is not None and followup <= int(now):
        raise BadInput("a follow-up time must be in the future")
    out, effects = _thread(node, args, now, "resolve", {"followup_at": followup})
    out["already_resolved"] = False
    return out, effects

