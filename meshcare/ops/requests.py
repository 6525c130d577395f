"""Private-request ops: ask one or two facilitators, list, show, reply, close. Pure.

Every post of a thread is sealed to its people only ("private" scheme, sealing.py); the rules of who
may reply and who closes live in circles/requests.py, and these ops check them first only to tell a
person in plain words why nothing was sent.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..circles import requests as rqs
from ..circles.circle import Circle
from ..control import requests_requests as rq
from ..control import results_requests as rs
from ..errors import BadInput, NotFound
from ..node import Node
from ..node_events import Effect
from ..vocab import MIN_ID_PREFIX
from .common import linked, member_of, post, validated

_HINT = "`meshcare requests` lists them"


def request_from(state: rqs.RequestState, me: bytes, names: Mapping[bytes, str], *, circle: Circle) -> rs.PrivateRequest:
    """The view of one request, as ``me`` sees it."""
    people = (state.asker, *state.to)
    speakers = {r.author for r in state.replies}
    return rs.PrivateRequest(
        id=state.id.hex(), circle=circle.topic.hex(), circle_name=circle.roster.name, asker=state.asker.hex(),
        to=tuple(m.hex() for m in state.to), people=tuple(m.hex() for m in people), about=state.about,
        text=state.text, created=state.created,
        replies=tuple(rs.RequestMessage(id=r.id.hex(), author=r.author.hex(), text=r.text, created=r.created)
                      for r in state.replies),
        closed=state.closed, closed_at=state.closed_at, mine=state.asker == me, me=me.hex(), waiting=rqs.waiting_on(state, me),
        names={m.hex(): names[m] for m in sorted(set(people) | speakers) if m in names})


def request_view(node: Node, circle: Circle, request_id: bytes) -> rs.PrivateRequest:
    state = node.registry.view(circle).requests[request_id]
    return request_from(state, node.registry.me, node.registry.names(), circle=circle)


def find_request(node: Node, ref: str) -> tuple[Circle, rqs.RequestState]:
    """One request this node can read, across circles, by the start of its id."""
    ref = ref.strip().lower()
    if len(ref) < MIN_ID_PREFIX:
        raise BadInput(f"name a request by at least {MIN_ID_PREFIX} characters of its id ({_HINT})")
    found = [(c, s) for c in node.registry.circles.values()
             for rid, s in node.registry.view(c).requests.items() if rid.hex().startswith(ref)]
    if not found:
        raise NotFound(f"no private request {ref!r} that this node can read; {_HINT}")
    if len(found) > 1:
        raise BadInput(f"{ref!r} matches several requests; use more of the id")
    return found[0]


def request_create(node: Node, req: rq.RequestCreate, now: float) -> tuple[rs.RequestCreateResult, list[Effect]]:
    circle = node.registry.find(req.circle)
    me = node.registry.me
    roster = circle.roster
    to = [member_of(circle, ref) for ref in req.to]
    if len(set(to)) != len(to):
        raise BadInput("the same facilitator is named twice")
    if me in to:
        raise BadInput("you cannot send a private request to yourself")
    for member in to:
        if member not in roster.facilitators:
            names = ", ".join(sorted(roster.members[f].name for f in roster.facilitators if f != me)) or "nobody yet"
            raise BadInput(f"{roster.members[member].name} is not a facilitator of {roster.name!r}; "
                           f"you can ask: {names}")
    body = validated("request", {"to": to, "about": req.about, "text": req.text})
    e, effects = post(node, circle, "request", body, now)
    return rs.RequestCreateResult(request=request_view(node, circle, e.id), linked=linked(node, circle)), effects


def request_list(node: Node, req: rq.RequestList, now: float) -> tuple[rs.RequestListResult, list[Effect]]:
    circles = [node.registry.find(req.circle)] if req.circle else list(node.registry.circles.values())
    me, names = node.registry.me, node.registry.names()
    out = [request_from(s, me, names, circle=c) for c in circles for s in node.registry.view(c).requests.values()
           if req.all or not s.closed]
    out.sort(key=lambda r: (r.closed, -max([r.created, *(m.created for m in r.replies)])))
    return rs.RequestListResult(requests=tuple(out)), []


def request_show(node: Node, req: rq.RequestShow, now: float) -> tuple[rs.RequestShowResult, list[Effect]]:
    circle, state = find_request(node, req.request)
    return rs.RequestShowResult(request=request_view(node, circle, state.id)), []


def request_reply(node: Node, req: rq.RequestReply, now: float) -> tuple[rs.RequestReplyResult, list[Effect]]:
    circle, state = find_request(node, req.request)
    me = node.registry.me
    if me not in state.people:
        raise BadInput("only the people of this request can answer in it")
    if state.closed:
        raise BadInput("this request was closed by the person who asked; nothing more can be added")
    others = sorted(state.people - {me})
    body = validated("request_reply", {"to": others, "request": state.id, "text": req.text})
    e, effects = post(node, circle, "request_reply", body, now)
    return rs.RequestReplyResult(id=e.id.hex(), request=request_view(node, circle, state.id),
                                 linked=linked(node, circle)), effects


def request_close(node: Node, req: rq.RequestClose, now: float) -> tuple[rs.RequestCloseResult, list[Effect]]:
    circle, state = find_request(node, req.request)
    if state.asker != node.registry.me:
        raise BadInput("only the person who asked can close this request")
    if state.closed:
        raise BadInput("this request is closed already")
    body = validated("request_close", {"to": list(state.to), "request": state.id})
    e, effects = post(node, circle, "request_close", body, now)
    return rs.RequestCloseResult(id=e.id.hex(), request=request_view(node, circle, state.id),
                                 linked=linked(node, circle)), effects
