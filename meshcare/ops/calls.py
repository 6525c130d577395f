"""Call ops: create, list, show, and the thread (offer, claim, release, accept, update, resolve). Pure.

The permission checks here say in a person's words why an op does not apply; the call fold
(``circles/calls.py``) applies the same rules to whatever arrives, on every node.
"""

from __future__ import annotations

from typing import Any

from ..circles import posts as ps
from ..control import requests as rq
from ..control import results as rs
from ..control import views as v
from ..errors import BadInput, NotFound
from ..node import Node
from ..node_events import Effect
from ..vocab import MIN_ID_PREFIX
from .ladders import check_not_avoided, ladder_from_rungs
from .common import find_call, linked, member_of, post, resolved_by, validated
from .present import call_view


def call_create(node: Node, req: rq.CallCreate, now: float) -> tuple[rs.CallCreateResult, list[Effect]]:
    """A call: its ladder as written, or built from this person's ladder ``ladder_name`` (accepted rungs
    only). Their "who not to involve" list narrows it (``Registry.call_audience``, the call's
    ``narrowed`` flag); chosen members at their load cap are skipped, not pinged."""
    circle = node.registry.find(req.circle)
    if req.ladder_name is not None:
        if req.ladder:
            raise BadInput("give either a ladder or the name of one of your ladders, not both")
        ladder = ladder_from_rungs(node, circle, req.ladder_name, req.ladder_every, req.ladder_then)
    else:
        ladder = [{"after": s.after, "to": s.to, "members": [member_of(circle, m) for m in s.members]}
                  for s in req.ladder] or ps.default_ladder()
        check_not_avoided(node, circle, ladder)
    body = validated("call", {"text": req.text, "urgency": req.urgency, "needs": list(req.needs), "reach": req.reach,
                              "consent": list(req.consent), "consent_note": req.consent_note, "ladder": ladder,
                              "narrowed": bool(node.registry.avoided(circle))})
    audience = node.registry.call_audience(circle, body["ladder"], 0, int(now))
    e, effects = post(node, circle, "call", body, now, audience)
    return rs.CallCreateResult(call=call_view(node, circle, e.id), linked=linked(node, circle)), effects


def calls_list(node: Node, req: rq.CallsList, now: float) -> tuple[rs.CallsListResult, list[Effect]]:
    only = node.registry.find(req.circle) if req.circle is not None else None
    out = [call_view(node, circle, cid) for circle in node.registry.circles.values()
           if only is None or circle is only
           for cid, state in node.registry.view(circle).calls.items() if req.all or state.status != "resolved"]
    out.sort(key=lambda c: (c.status == "resolved", -c.created))
    return rs.CallsListResult(calls=tuple(out)), []


def call_show(node: Node, req: rq.CallShow, now: float) -> tuple[rs.CallShowResult, list[Effect]]:
    circle, _, state = find_call(node, req.call)
    return rs.CallShowResult(call=call_view(node, circle, state.id)), []


def _thread(node: Node, ref: str, now: float, kind: str,
            extra: dict[str, Any]) -> tuple[str, v.Call, int, list[Effect]]:
    """Post ``kind`` in the thread of the call ``ref`` names: the post's id, the call as it is now, the
    links that carry it (``linked``), the effects. Refused (BadInput) on a resolved call: the fold would
    ignore it on every node, so posting it would only say something that never shows."""
    circle, _, state = find_call(node, ref)
    if state.status == "resolved":
        raise BadInput(f"this call was resolved {resolved_by(node, state)}; nothing more can be added to it. "
                       "If someone needs support again, start a new call")
    e, effects = post(node, circle, kind, validated(kind, {"call": state.id, **extra}), now)
    return e.id.hex(), call_view(node, circle, state.id), linked(node, circle), effects


def call_offer(node: Node, req: rq.CallOffer, now: float) -> tuple[rs.CallOfferResult, list[Effect]]:
    _, _, state = find_call(node, req.call)
    if state.caller == node.registry.me:
        raise BadInput("this is your own call; others offer support in it (post an update instead)")
    post_id, call, carriers, effects = _thread(node, req.call, now, "offer", {"kind": req.kind, "text": req.text})
    return rs.CallOfferResult(id=post_id, call=call, linked=carriers), effects


def call_claim(node: Node, req: rq.CallClaim, now: float) -> tuple[rs.CallClaimResult, list[Effect]]:
    """Claim a call. ``have_it`` says whether this node holds it now: in a race the claim first in
    the circle's order wins on every node, and the result names who has it."""
    circle, _, state = find_call(node, req.call)
    me = node.registry.me
    if state.caller == me:
        raise BadInput("this is your own call; others claim it")
    if state.claimer is not None and state.claimer != me and state.status != "resolved":
        raise BadInput(f"{node.registry.names().get(state.claimer, 'someone')} already has this call; "
                       "offer help in its thread instead")
    post_id, call, carriers, effects = _thread(node, req.call, now, "claim", {})
    have_it = call.claimer == me.hex()
    if not have_it:
        node.duties.claim_told(circle.topic, state.id)
    return rs.CallClaimResult(id=post_id, call=call, have_it=have_it, linked=carriers), effects


def call_release(node: Node, req: rq.CallRelease, now: float) -> tuple[rs.CallReleaseResult, list[Effect]]:
    _, _, state = find_call(node, req.call)
    if state.status != "resolved" and node.registry.me not in ({state.claimer} | state.also_claimed):
        raise BadInput("you have not claimed this call, so there is nothing to let go of")
    post_id, call, carriers, effects = _thread(node, req.call, now, "release", {})
    return rs.CallReleaseResult(id=post_id, call=call, linked=carriers), effects


def call_accept(node: Node, req: rq.CallAccept, now: float) -> tuple[rs.CallAcceptResult, list[Effect]]:
    _, _, state = find_call(node, req.call)
    if state.caller != node.registry.me:
        raise BadInput("only the person who made the call accepts offers")
    ref = req.offer.lower()
    offers = [o.id for o in state.offers if len(ref) >= MIN_ID_PREFIX and o.id.hex().startswith(ref)]
    if len(offers) != 1:
        raise NotFound("no single offer starts with that; `meshcare call show CALL` lists them")
    post_id, call, carriers, effects = _thread(node, req.call, now, "accept", {"offer": offers[0]})
    return rs.CallAcceptResult(id=post_id, call=call, linked=carriers), effects


def call_update(node: Node, req: rq.CallUpdate, now: float) -> tuple[rs.CallUpdateResult, list[Effect]]:
    post_id, call, carriers, effects = _thread(node, req.call, now, "update", {"text": req.text})
    return rs.CallUpdateResult(id=post_id, call=call, linked=carriers), effects


def call_resolve(node: Node, req: rq.CallResolve, now: float) -> tuple[rs.CallResolveResult, list[Effect]]:
    """Resolve a call: its caller, whoever has it, or a facilitator (a call whose claimer is gone
    must not stay open for ever). Resolving a resolved call posts nothing and says so
    (``already_resolved``)."""
    circle, _, state = find_call(node, req.call)
    if state.status == "resolved":
        return rs.CallResolveResult(id=None, already_resolved=True, call=call_view(node, circle, state.id),
                                  linked=linked(node, circle)), []
    me = node.registry.me
    if me not in (state.caller, state.claimer) and me not in circle.roster.facilitators:
        raise BadInput("the person who made the call, whoever has it, or a facilitator resolves it")
    if req.followup_at is not None and req.followup_at <= int(now):
        raise BadInput("a follow-up time must be in the future")
    post_id, call, carriers, effects = _thread(node, req.call, now, "resolve", {"followup_at": req.followup_at})
    return rs.CallResolveResult(id=post_id, already_resolved=False, call=call, linked=carriers), effects
