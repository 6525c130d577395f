"""Ladder and "who not to involve" ops, and the ladder a call builds from accepted rungs. Pure.

Ladder requests, answers and withdrawals are private posts (only the two people read them); the rules
of who may answer or withdraw live in the fold (``circles/ladders.py``), and the ops say in a person's
words why something does not apply. The avoid list is this node's ``LocalState.avoid``: changed here,
saved (``SaveState``), never posted; ``Registry.call_audience`` applies it to every call this node makes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import vocab
from ..circles import ladders as ld
from ..circles.circle import Circle
from ..control import requests_ladders as rq
from ..control import results_ladders as rs
from ..control import views_ladders as v
from ..errors import BadInput, NotFound
from ..node import Node
from ..node_events import Effect, SaveState
from .common import linked, member_of, post, validated


# --- views --------------------------------------------------------------------------------------------


def request_view(node: Node, circle: Circle, state: ld.LadderRequest) -> v.LadderRequest:
    names = node.registry.names()
    return v.LadderRequest(id=state.id.hex(), circle=circle.topic.hex(), circle_name=circle.roster.name,
                           requester=state.requester.hex(), requester_name=names.get(state.requester),
                           member=state.member.hex(), member_name=names.get(state.member), ladder=state.ladder,
                           step=state.step, text=state.text, state=state.state, created=state.created,
                           mine=state.requester == node.registry.me)


def _ladders(node: Node, circle: Circle) -> list[v.MyLadder]:
    names = node.registry.names()
    out = []
    for ladder in ld.ladders_of(node.registry.view(circle).ladders, node.registry.me):
        rungs = tuple(v.LadderRung(request=r.request.hex(), member=r.member.hex(), name=names.get(r.member),
                                   step=r.step, state=r.state) for r in ladder.rungs)
        out.append(v.MyLadder(circle=circle.topic.hex(), circle_name=circle.roster.name, name=ladder.name,
                              rungs=rungs))
    return out


def _circles(node: Node, ref: str | None) -> list[Circle]:
    if ref is not None:
        return [node.registry.find(ref)]
    return sorted(node.registry.circles.values(), key=lambda c: (c.roster.name, c.topic))


def _find_request(node: Node, ref: str) -> tuple[Circle, ld.LadderRequest]:
    ref = ref.strip().lower()
    if len(ref) < vocab.MIN_ID_PREFIX:
        raise BadInput(f"name a ladder request by at least {vocab.MIN_ID_PREFIX} characters of its id "
                       "(`meshcare ladder list` and `meshcare ladder requests` list them)")
    found = [(circle, state) for circle in node.registry.circles.values()
             for rid, state in node.registry.view(circle).ladders.items() if rid.hex().startswith(ref)]
    if not found:
        raise NotFound(f"no ladder request {ref!r} that this node can read; `meshcare ladder list` and "
                       "`meshcare ladder requests` list them")
    if len(found) > 1:
        raise BadInput(f"{ref!r} matches several ladder requests; use more of the id")
    return found[0]


# --- ladders ------------------------------------------------------------------------------------------


def ladder_add(node: Node, req: rq.LadderAdd, now: float) -> tuple[rs.LadderAddResult, list[Effect]]:
    circle = node.registry.find(req.circle)
    me = node.registry.me
    member = member_of(circle, req.member)
    if member == me:
        raise BadInput("you cannot put yourself on your own ladder; ask someone in the circle")
    if circle.roster.role(member) == "relay":
        raise BadInput("that is the circle's relay: it carries messages but takes no calls")
    if member in node.registry.avoided(circle):
        raise BadInput("that person is on your \"who not to involve\" list; take them off it first "
                       "(`meshcare avoid --remove`)")
    ladders = {lad.name: lad for lad in ld.ladders_of(node.registry.view(circle).ladders, me)}
    ladder = ladders.get(req.ladder)
    if ladder is None and len(ladders) >= ld.MAX_LADDERS:
        raise BadInput(f"you keep {ld.MAX_LADDERS} ladders in this circle already; add to one of them")
    if ladder is not None and len(ladder.rungs) >= vocab.MAX_STEP_MEMBERS and all(
            r.member != member for r in ladder.rungs):
        raise BadInput(f"a ladder holds at most {vocab.MAX_STEP_MEMBERS} people")
    body = validated("ladder_request", {"to": [member], "ladder": req.ladder, "step": req.step, "text": req.note})
    e, effects = post(node, circle, "ladder_request", body, now)
    state = node.registry.view(circle).ladders[e.id]
    return rs.LadderAddResult(request=request_view(node, circle, state), linked=linked(node, circle)), effects


def ladder_list(node: Node, req: rq.LadderList, now: float) -> tuple[rs.LadderListResult, list[Effect]]:
    return rs.LadderListResult(ladders=tuple(lad for c in _circles(node, req.circle) for lad in _ladders(node, c))), []


def ladder_requests(node: Node, req: rq.LadderRequests, now: float) -> tuple[rs.LadderRequestsResult, list[Effect]]:
    me = node.registry.me
    out = [request_view(node, c, state) for c in _circles(node, req.circle)
           for state in ld.requests_to(node.registry.view(c).ladders, me)]
    return rs.LadderRequestsResult(requests=tuple(out)), []


def ladder_answer(node: Node, req: rq.LadderAnswer, now: float) -> tuple[rs.LadderAnswerResult, list[Effect]]:
    circle, state = _find_request(node, req.request)
    if state.member != node.registry.me:
        raise BadInput("that request was not made to you; only the person asked answers it")
    if state.state == "withdrawn":
        raise BadInput("that request was withdrawn; there is nothing to answer")
    body = validated("ladder_answer", {"to": [state.requester], "request": state.id, "answer": req.answer})
    e, effects = post(node, circle, "ladder_answer", body, now)
    now_state = node.registry.view(circle).ladders[state.id]
    return rs.LadderAnswerResult(id=e.id.hex(), request=request_view(node, circle, now_state),
                                 linked=linked(node, circle)), effects


def ladder_remove(node: Node, req: rq.LadderRemove, now: float) -> tuple[rs.LadderRemoveResult, list[Effect]]:
    circle, state = _find_request(node, req.request)
    if state.requester != node.registry.me:
        raise BadInput("that request is someone else's; decline it instead (`meshcare ladder decline`)")
    if state.state == "withdrawn":
        raise BadInput("that request is withdrawn already")
    body = validated("ladder_withdraw", {"to": [state.member], "request": state.id})
    e, effects = post(node, circle, "ladder_withdraw", body, now)
    now_state = node.registry.view(circle).ladders[state.id]
    return rs.LadderRemoveResult(id=e.id.hex(), request=request_view(node, circle, now_state),
                                 linked=linked(node, circle)), effects


# --- who not to involve -------------------------------------------------------------------------------


def _entry(node: Node, circle: Circle, member: bytes, names: Mapping[bytes, str] | None = None) -> v.AvoidEntry:
    names = node.registry.names() if names is None else names
    return v.AvoidEntry(circle=circle.topic.hex(), circle_name=circle.roster.name, member=member.hex(),
                        name=names.get(member))


def avoid_add(node: Node, req: rq.AvoidAdd, now: float) -> tuple[rs.AvoidAddResult, list[Effect]]:
    circle = node.registry.find(req.circle)
    member = member_of(circle, req.member)
    if member == node.registry.me:
        raise BadInput("you are always part of your own calls")
    avoid = node.state.avoid.setdefault(bytes(circle.topic), set())
    added = member not in avoid
    avoid.add(member)
    return rs.AvoidAddResult(entry=_entry(node, circle, member), added=added), [SaveState(node.state)]


def avoid_remove(node: Node, req: rq.AvoidRemove, now: float) -> tuple[rs.AvoidRemoveResult, list[Effect]]:
    circle = node.registry.find(req.circle)
    avoid = node.state.avoid.get(bytes(circle.topic), set())
    ref = req.member.strip()
    names = node.registry.names()
    # someone who left can still be on the list: find them there too, by name or id prefix
    listed = [m for m in avoid if names.get(m) == ref] or [m for m in avoid if m.hex().startswith(ref.lower())]
    member = listed[0] if len(listed) == 1 else member_of(circle, req.member)
    removed = member in avoid
    avoid.discard(member)
    if not avoid:
        node.state.avoid.pop(bytes(circle.topic), None)
    return rs.AvoidRemoveResult(entry=_entry(node, circle, member, names), removed=removed), [SaveState(node.state)]


def avoid_list(node: Node, req: rq.AvoidList, now: float) -> tuple[rs.AvoidListResult, list[Effect]]:
    names = node.registry.names()
    out = [_entry(node, c, m, names) for c in _circles(node, req.circle)
           for m in sorted(node.state.avoid.get(bytes(c.topic), ()), key=lambda m: (names.get(m, ""), m))]
    return rs.AvoidListResult(avoid=tuple(out)), []


# --- a call's ladder from accepted rungs --------------------------------------------------------------


def ladder_from_rungs(node: Node, circle: Circle, name: str, every: int, then: str | None) -> list[dict[str, Any]]:
    """The ladder of a call built from this person's ladder ``name``: its accepted rungs only, step by
    step, ``every`` minutes apart, then ``then`` (facilitators, the circle) if given. Members on the
    avoid list, and who is no longer in the circle, are left out. BadInput if nobody is left at all."""
    readers = circle.roster.readers
    avoided = node.registry.avoided(circle)
    steps = [[m for m in members if m in readers and m not in avoided]
             for members in ld.accepted_steps(node.registry.view(circle).ladders, node.registry.me, name)]
    steps = [s for s in steps if s][: vocab.MAX_LADDER_STEPS - (1 if then else 0)]
    ladder: list[dict[str, Any]] = [{"after": i * every, "to": "chosen", "members": members}
                                    for i, members in enumerate(steps)]
    if then is not None:
        ladder.append({"after": len(steps) * every, "to": then, "members": []})
    if not ladder:
        raise BadInput(f"nobody on your ladder {name!r} in {circle.roster.name!r} has accepted yet; "
                       "send the call without it, or say where it goes then (the facilitators, the circle)")
    return ladder


def check_not_avoided(node: Node, circle: Circle, ladder: list[dict[str, Any]]) -> None:
    """A ladder a person wrote out that names someone on their own avoid list is a mistake to point out,
    not to fix silently (the core leaves them out anyway)."""
    avoided = node.registry.avoided(circle)
    named = [m for step in ladder for m in step["members"] if m in avoided]
    if named:
        who = node.registry.names().get(named[0], "someone")
        raise BadInput(f"{who} is on your \"who not to involve\" list in {circle.roster.name!r}; "
                       "take them off the ladder, or off the list (`meshcare avoid --remove`)")
