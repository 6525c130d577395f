"""Gathering and agreements ops, and the presenter of a gathering. Pure.

The permission rules are the fold's (circles/gatherings.py); the ops refuse locally what the fold would
ignore anyway (a cancel by someone without the right, an RSVP to a gathering called off), so a person
hears why instead of posting something that counts for nothing.
"""

from __future__ import annotations

from typing import Any

from ..circles import gatherings as gt
from ..circles.circle import Circle
from ..control import requests_gatherings as rq
from ..control import results_gatherings as rs
from ..control import views_gatherings as vg
from ..errors import BadInput, NotFound
from ..node import Node
from ..node_events import Effect
from ..vocab import DEFAULT_AGREEMENTS, DEFAULT_FORMAT, MIN_ID_PREFIX
from .common import linked, member_of, post, validated

#: How far in the past a new gathering may start (a clock a little behind, a form filled in slowly).
PAST_SLACK = 3600

# --- presenting ----------------------------------------------------------------------------------------


def gathering_from(state: gt.GatheringState, me: bytes, circle: Circle, names: dict[bytes, str],
                   now: int) -> vg.Gathering:
    """A gathering as ``me`` is shown it: names behind the RSVPs only for its hosts and the circle's
    facilitators (``gatherings.sees_names``), counts and their own answer for everyone."""
    roster = circle.roster
    members, facilitators = roster.members, roster.facilitators
    sees = gt.sees_names(state, me, members, facilitators)
    rsvps = state.rsvps if sees else ()
    people = [state.author, *state.hosts, *(r.member for r in rsvps)]
    if state.cancelled_by is not None:
        people.append(state.cancelled_by)
    return vg.Gathering(
        id=state.id.hex(), circle=circle.topic.hex(), circle_name=roster.name, author=state.author.hex(),
        title=state.title, kind=state.kind, when=state.when, ends=state.ends, where=state.where, about=state.about,
        hosts=tuple(h.hex() for h in state.hosts), agreements=state.agreements, format=state.format,
        aftercare=state.aftercare, remind=state.remind, created=state.created, cancelled=state.cancelled,
        cancelled_by=None if state.cancelled_by is None else state.cancelled_by.hex(),
        started=gt.is_over(state, now), over=now >= gt.end_of(state), over_at=gt.end_of(state), counts=gt.counts(state),
        mine=gt.answer_of(state, me), hosting=me in state.hosts and me in members, sees_names=sees,
        may_cancel=gt.may_cancel(state, me, members, facilitators),
        rsvps=tuple(vg.GatheringAnswer(member=r.member.hex(), answer=r.answer, created=r.created) for r in rsvps),
        names={m.hex(): names[m] for m in dict.fromkeys(people) if m in names})


def gathering_view(node: Node, circle: Circle, gathering_id: bytes, now: float) -> vg.Gathering:
    """Gathering ``gathering_id`` of ``circle``, as this node's person is shown it at ``now``."""
    state = node.registry.view(circle).gatherings[gathering_id]
    return gathering_from(state, node.registry.me, circle, node.registry.names(), int(now))


def agreements_view(node: Node, circle: Circle) -> vg.Agreements:
    items = node.registry.view(circle).agreements
    return vg.Agreements(circle=circle.topic.hex(), circle_name=circle.roster.name, items=items,
                         default=items == DEFAULT_AGREEMENTS,
                         may_edit=circle.roster.role(node.registry.me) == "facilitator")


# --- finding -------------------------------------------------------------------------------------------


def find_gathering(node: Node, ref: str) -> tuple[Circle, gt.GatheringState]:
    """One gathering, across all circles, by the start of its id."""
    ref = ref.strip().lower()
    hint = "`meshcare gatherings --all` lists them"
    if len(ref) < MIN_ID_PREFIX:
        raise BadInput(f"name a gathering by at least {MIN_ID_PREFIX} characters of its id ({hint})")
    found = [(circle, state) for circle in node.registry.circles.values()
             for key, state in node.registry.view(circle).gatherings.items() if key.hex().startswith(ref)]
    if not found:
        raise NotFound(f"no gathering {ref!r} that this node can read; {hint}")
    if len(found) > 1:
        raise BadInput(f"{ref!r} matches several gatherings; use more of the id")
    return found[0]


# --- ops -----------------------------------------------------------------------------------------------


def gathering_create(node: Node, req: rq.GatheringCreate, now: float
                     ) -> tuple[rs.GatheringCreateResult, list[Effect]]:
    """Post a gathering hosted by this person and the members named. It must start before the circle's
    posts expire (its retention), or it would be gone before it happens."""
    circle = node.registry.find(req.circle)
    me = node.registry.me
    keep = circle.roster.settings.retention_days * 86_400
    if req.when < now - PAST_SLACK:
        raise BadInput("that time has passed; choose when it starts")
    if req.when >= now + keep:
        raise BadInput(f"{circle.roster.name!r} keeps posts for {circle.roster.settings.retention_days} days, so a "
                       f"gathering must start within that time (it would be gone before it happens)")
    hosts = [me, *(h for h in (member_of(circle, ref) for ref in req.hosts) if h != me)]
    body: dict[str, Any] = {
        "title": req.title, "kind": req.kind, "when": req.when, "ends": req.ends, "where": req.where,
        "about": req.about, "hosts": list(dict.fromkeys(hosts)),
        "agreements": list(req.agreements or node.registry.view(circle).agreements),
        "format": list(req.format or DEFAULT_FORMAT), "aftercare": req.aftercare, "remind": req.remind}
    e, effects = post(node, circle, "gathering", validated("gathering", body), now)
    return rs.GatheringCreateResult(gathering=gathering_view(node, circle, e.id, now),
                                    linked=linked(node, circle)), effects


def gathering_list(node: Node, req: rq.GatheringList, now: float) -> tuple[rs.GatheringListResult, list[Effect]]:
    """Upcoming (and under way) gatherings soonest first; with ``all``, the past and called-off ones after
    them, the latest first."""
    circles = [node.registry.find(req.circle)] if req.circle else list(node.registry.circles.values())
    me, names, t = node.registry.me, node.registry.names(), int(now)
    coming, rest = [], []
    for circle in circles:
        for state in node.registry.view(circle).gatherings.values():
            if gt.is_upcoming(state, t):
                coming.append((state.when, gathering_from(state, me, circle, names, t)))
            elif req.all:
                rest.append((-state.when, gathering_from(state, me, circle, names, t)))
    coming.sort(key=lambda pair: (pair[0], pair[1].id))
    rest.sort(key=lambda pair: (pair[0], pair[1].id))
    return rs.GatheringListResult(gatherings=tuple(g for _, g in coming + rest)), []


def gathering_show(node: Node, req: rq.GatheringShow, now: float) -> tuple[rs.GatheringShowResult, list[Effect]]:
    circle, state = find_gathering(node, req.gathering)
    return rs.GatheringShowResult(gathering=gathering_view(node, circle, state.id, now)), []


def gathering_cancel(node: Node, req: rq.GatheringCancel, now: float
                     ) -> tuple[rs.GatheringCancelResult, list[Effect]]:
    circle, state = find_gathering(node, req.gathering)
    roster = circle.roster
    if state.cancelled:
        raise BadInput("this gathering is already called off")
    if not gt.may_cancel(state, node.registry.me, roster.members, roster.facilitators):
        raise BadInput("a gathering is called off by its organiser, one of its hosts, or a facilitator")
    e, effects = post(node, circle, "gathering_cancel", validated("gathering_cancel", {"gathering": state.id}), now)
    return rs.GatheringCancelResult(id=e.id.hex(), gathering=gathering_view(node, circle, state.id, now),
                                    linked=linked(node, circle)), effects


def gathering_rsvp(node: Node, req: rq.GatheringRsvp, now: float) -> tuple[rs.GatheringRsvpResult, list[Effect]]:
    circle, state = find_gathering(node, req.gathering)
    if state.cancelled:
        raise BadInput("this gathering was called off")
    if now >= gt.end_of(state):
        raise BadInput("this gathering is over")
    e, effects = post(node, circle, "rsvp", validated("rsvp", {"gathering": state.id, "answer": req.answer}), now)
    return rs.GatheringRsvpResult(id=e.id.hex(), gathering=gathering_view(node, circle, state.id, now),
                                  linked=linked(node, circle)), effects


def agreements_show(node: Node, req: rq.AgreementsShow, now: float) -> tuple[rs.AgreementsShowResult, list[Effect]]:
    return rs.AgreementsShowResult(agreements=agreements_view(node, node.registry.find(req.circle))), []


def agreements_set(node: Node, req: rq.AgreementsSet, now: float) -> tuple[rs.AgreementsSetResult, list[Effect]]:
    circle = node.registry.find(req.circle)
    if circle.roster.role(node.registry.me) != "facilitator":
        raise BadInput("the group agreements are set by the circle's facilitators")
    e, effects = post(node, circle, "agreements", validated("agreements", {"items": list(req.items)}), now)
    return rs.AgreementsSetResult(id=e.id.hex(), agreements=agreements_view(node, circle),
                                  linked=linked(node, circle)), effects
