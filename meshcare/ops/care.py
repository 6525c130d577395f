"""Follow-up and responder-care ops: a caller's follow-up, the check-in done, the safety timer, the
private load view. Pure.

Permission checks here say in a person's words why an op does not apply; the folds
(``circles/followups.py``, ``circles/safety.py``) apply the same rules to whatever arrives, on every node.
Who can read what is decided by whom each post is sealed to (scheme "private"): a follow-up to who
checks in and the circle's facilitators, its "done" to the caller and the facilitators, a timer and its
signs to the facilitators only. The load view is computed here from the calls this node folded and
goes nowhere but to this person's own client.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

from ..circles import calls as cl
from ..circles import followups as fu
from ..circles import safety as sf
from ..circles.circle import Circle
from ..control import requests_care as rq
from ..control import results_care as rs
from ..control import views as vc
from ..errors import BadInput, NotFound
from ..node import Node
from ..node_events import Effect
from ..vocab import FOLLOWUP_AGAIN_DAYS, MIN_ID_PREFIX
from .common import Valid, find_call, linked, member_of, post, validated

__all__ = ["followup_ask", "followup_body", "followup_done", "followup_list", "followup_view", "me_load",
           "post_followup", "safety_list", "safety_ping", "safety_start", "timer_view"]

DAY: Final = 86_400
#: A follow-up is due within a week of being asked; a second one at most this far from now.
MAX_DUE: Final = 7 * DAY
MAX_AGAIN: Final = (FOLLOWUP_AGAIN_DAYS[1] + 1) * DAY


# --- views -----------------------------------------------------------------------------------------


def followup_view(node: Node, circle: Circle, state: fu.FollowupState, now: int) -> vc.Followup:
    """A follow-up as a client sees it: who, when, done or not; never what the call said."""
    names, me = node.registry.names(), node.registry.me
    todo = fu.due_now(state, now)
    return vc.Followup(id=state.id.hex(), call=state.call.hex(), circle=circle.topic.hex(),
                       circle_name=circle.roster.name, asker=state.asker.hex(), asker_name=names.get(state.asker),
                       who=state.who.hex(), who_name=names.get(state.who), due=state.due, again=state.again,
                       done_at=state.done_at, again_done_at=state.again_done_at,
                       todo=None if todo is None else "again" if todo else "first",
                       mine=state.who == me, asked=state.asker == me)


def timer_view(node: Node, circle: Circle, state: sf.TimerState, now: int) -> vc.Timer:
    """A safety timer as its person and the facilitators see it."""
    return vc.Timer(id=state.id.hex(), circle=circle.topic.hex(), circle_name=circle.roster.name,
                    person=state.person.hex(), name=node.registry.names().get(state.person), every=state.every,
                    note=state.text, started=state.started, last=state.last, there_at=state.there_at,
                    ended_at=state.ended_at, next_ok_at=sf.next_ok_at(state), overdue_at=sf.overdue_at(state),
                    overdue=sf.is_overdue(state, now), mine=state.person == node.registry.me)


# --- follow-up ---------------------------------------------------------------------------------------


def followup_body(node: Node, circle: Circle, call: cl.CallState, who_ref: str | None, due: int | None,
                  again: int | None, now: float) -> Valid:
    """The ``followup`` post the caller of ``call`` asks for, checked: only the caller decides; ``who``
    defaults to whoever took the call; the times are bounded."""
    me, t = node.registry.me, int(now)
    if call.caller != me:
        raise BadInput("only the person who made the call decides whether someone checks in on them")
    if who_ref is not None and who_ref.strip():
        who = member_of(circle, who_ref)
    elif call.claimer is not None:
        who = call.claimer
    else:
        raise BadInput("nobody took this call; name who you would like to check in on you")
    if who == me:
        raise BadInput("name someone else to check in on you")
    due = t + DAY if due is None else due
    if not t < due <= t + MAX_DUE:
        raise BadInput("a check-in is due within a week from now")
    if again is not None and not due < again <= t + MAX_AGAIN:
        raise BadInput(f"a second check-in comes after the first, at most {FOLLOWUP_AGAIN_DAYS[1] + 1} days away")
    to = sorted({who, *circle.roster.facilitators} - {me})
    return validated("followup", {"to": to, "call": call.id, "who": who, "due": due, "again": again})


def post_followup(node: Node, circle: Circle, body: Valid, now: float) -> tuple[vc.Followup, list[Effect]]:
    """Post a checked ``followup`` body; the follow-up as it now reads."""
    _, effects = post(node, circle, "followup", body, now)
    state = node.registry.view(circle).followups[body["call"]]
    return followup_view(node, circle, state, int(now)), effects


def followup_ask(node: Node, req: rq.FollowupAsk, now: float) -> tuple[rs.FollowupAskResult, list[Effect]]:
    circle, _, call = find_call(node, req.call)
    body = followup_body(node, circle, call, req.who, req.due, req.again, now)
    view, effects = post_followup(node, circle, body, now)
    return rs.FollowupAskResult(followup=view, linked=linked(node, circle)), effects


def _find_followup(node: Node, ref: str) -> tuple[Circle, fu.FollowupState]:
    ref = ref.strip().lower()
    if len(ref) < MIN_ID_PREFIX:
        raise BadInput(f"name the call by at least {MIN_ID_PREFIX} characters of its id (`meshcare followups`)")
    found = [(c, s) for c in node.registry.circles.values()
             for key, s in node.registry.view(c).followups.items() if key.hex().startswith(ref)]
    if not found:
        raise NotFound(f"no follow-up for a call {ref!r} that this node can read; `meshcare followups` lists them")
    if len(found) > 1:
        raise BadInput(f"{ref!r} matches several calls; use more of the id")
    return found[0]


def followup_done(node: Node, req: rq.FollowupDone, now: float) -> tuple[rs.FollowupDoneResult, list[Effect]]:
    """Mark the next open check-in done (the first, then the second), early or on time."""
    circle, state = _find_followup(node, req.call)
    me = node.registry.me
    if state.who != me:
        raise BadInput("only the person asked to check in marks it done")
    if state.done_at is None:
        again = False
    elif state.again is not None and state.again_done_at is None:
        again = True
    else:
        raise BadInput("every check-in of this follow-up is done already")
    to = sorted({state.asker, *circle.roster.facilitators} - {me})
    body = validated("followup_done", {"to": to, "followup": state.id, "call": state.call, "again": again})
    e, effects = post(node, circle, "followup_done", body, now)
    after = node.registry.view(circle).followups[state.call]
    return rs.FollowupDoneResult(id=e.id.hex(), which="again" if again else "first",
                                 followup=followup_view(node, circle, after, int(now)),
                                 linked=linked(node, circle)), effects


def followup_list(node: Node, req: rq.FollowupList, now: float) -> tuple[rs.FollowupListResult, list[Effect]]:
    t = int(now)
    out = [followup_view(node, c, s, t) for c in node.registry.circles.values()
           for s in node.registry.view(c).followups.values() if req.all or not s.finished]
    out.sort(key=lambda f: (f.todo is None, not f.mine, f.due))
    return rs.FollowupListResult(followups=tuple(out)), []


# --- safety timers -------------------------------------------------------------------------------------


def _mine_running(node: Node, circles: Iterable[Circle]) -> list[tuple[Circle, sf.TimerState]]:
    me = node.registry.me
    return [(c, s) for c in circles for s in node.registry.view(c).safety.values() if s.person == me and s.running]


def safety_start(node: Node, req: rq.SafetyStart, now: float) -> tuple[rs.SafetyStartResult, list[Effect]]:
    """Start a timer sealed to the circle's facilitators (and nobody else)."""
    circle = node.registry.find(req.circle)
    me = node.registry.me
    to = sorted(circle.roster.facilitators - {me})
    if not to:
        raise BadInput("this circle has no facilitator besides you, so nobody would be alerted; "
                       "ask the circle to name one (`meshcare circle role`)")
    if _mine_running(node, [circle]):
        raise BadInput("a timer of yours is already running in this circle; end it first (`meshcare safety end`)")
    body = validated("safety", {"to": to, "every": req.every, "text": req.note})
    e, effects = post(node, circle, "safety", body, now)
    state = node.registry.view(circle).safety[e.id]
    return rs.SafetyStartResult(timer=timer_view(node, circle, state, int(now)), facilitators=len(to),
                                linked=linked(node, circle)), effects


def safety_ping(node: Node, req: rq.SafetyPing, now: float) -> tuple[rs.SafetyPingResult, list[Effect]]:
    running = _mine_running(node, node.registry.circles.values())
    if req.timer is not None:
        ref = req.timer.strip().lower()
        running = [(c, s) for c, s in running if s.id.hex().startswith(ref)]
    if not running:
        raise NotFound("you have no safety timer running (`meshcare safety start CIRCLE --every MIN`)")
    if len(running) > 1:
        raise BadInput("several timers of yours are running; name one (`meshcare safety list`)")
    circle, state = running[0]
    body: dict[str, Any] = {"to": list(state.readers), "timer": state.id, "status": req.status}
    e, effects = post(node, circle, "safety_ping", validated("safety_ping", body), now)
    after = node.registry.view(circle).safety[state.id]
    return rs.SafetyPingResult(id=e.id.hex(), timer=timer_view(node, circle, after, int(now)),
                               linked=linked(node, circle)), effects


def safety_list(node: Node, req: rq.SafetyList, now: float) -> tuple[rs.SafetyListResult, list[Effect]]:
    t = int(now)
    out = [timer_view(node, c, s, t) for c in node.registry.circles.values()
           for s in node.registry.view(c).safety.values() if req.all or s.running]
    out.sort(key=lambda x: (x.ended_at is not None, not x.overdue, -x.started))
    return rs.SafetyListResult(timers=tuple(out)), []


# --- load ------------------------------------------------------------------------------------------------


def me_load(node: Node, req: rq.Load, now: float) -> tuple[rs.LoadResult, list[Effect]]:
    """Calls this person held (claimed, in any state since) or resolved for someone else in the last
    ``days`` days, and those they hold now. From this node's own folds; sent to nobody."""
    me, t = node.registry.me, int(now)
    since = t - req.days * DAY
    took, holding = 0, 0
    last: int | None = None
    for circle in node.registry.circles.values():
        for call in node.registry.view(circle).calls.values():
            times = []
            if call.claimer == me and call.claimed_at is not None and call.claimed_at >= since:
                times.append(call.claimed_at)
            if call.resolved_by == me and call.caller != me and call.resolved_at is not None \
                    and call.resolved_at >= since:
                times.append(call.resolved_at)
            if times:
                took += 1
                last = max(times) if last is None else max(last, *times)
            if call.status == "claimed" and call.claimer == me:
                holding += 1
    return rs.LoadResult(days=req.days, since=since, took=took, holding=holding, last=last), []
