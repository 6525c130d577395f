"""Presenters: the views a client sees (``control.views``), built from the domain's folded states. Pure.

The one place views are built. The domain folds posts into states with member ids as bytes and sets;
a view is what one JSON object of an answer holds, with ids as lowercase hex, sets as sorted lists and a
``names`` map for the people it mentions. The ops (and anything else that shows state: a snapshot,
events) build their answers from these functions and nothing else, so a call looks the same in
``call.create``, ``calls.list`` and ``call.show``.

Two layers: functions over domain states alone (``call_from``, ``checkin_from``, ``share_view``,
``roster_rows``), which the domain's unit tests use too, and functions over the node (``call_view``,
``checkin_view``, ``circle_view``, ...) that gather what a view needs from the registry (names, who a
call reached, shared plans) and call the first layer. Views are built by keyword and never check what
they are given: the folds' output already holds the rules, and the ids are ours to write as hex.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Set

from ..circles import calls as cl
from ..circles import checkins as ck
from ..circles import plans as pl
from ..circles import presence as pr
from ..circles.folded import presence_at
from ..circles.registry import View
from ..circles.circle import Circle
from ..circles.membership import CircleSettings, Invite, Member
from ..control import views as v
from ..crypto.keys import fingerprint
from ..node import Node
from ..vocab import PRESENCE_STATES

__all__ = ["call_from", "call_view", "checkin_from", "checkin_view", "circle_roster_view", "circle_view",
           "invite_views", "joining_views", "member_view", "member_views", "own_share_views", "plan_view",
           "roster_rows", "settings_view", "share_view"]


def _hex(value: bytes | None) -> str | None:
    return None if value is None else value.hex()


def _sorted_hex(values: Iterable[bytes]) -> tuple[str, ...]:
    return tuple(sorted(value.hex() for value in values))


def _names(known: Mapping[bytes, str], people: Iterable[bytes]) -> dict[str, str]:
    """id (hex) -> name of the ``people`` this node knows a name for, in the order given."""
    return {m.hex(): known[m] for m in people if m in known}


# --- support plans ----------------------------------------------------------------------------------


def plan_view(plan: pl.Plan) -> v.PlanParts:
    """Every section of a support plan."""
    return v.PlanParts(**plan.to_dict())


def share_view(state: pl.ShareState, names: Mapping[bytes, str]) -> v.Share:
    """A shared support plan, with its author's name when known and the sections it carries."""
    return v.Share(id=state.id.hex(), author=state.author.hex(), name=names.get(state.author), to=state.to,
                   call=_hex(state.call), plan=plan_view(state.plan), created=state.created,
                   sections=state.sections)


def own_share_views(node: Node) -> tuple[v.OwnShare, ...]:
    """The live shares of this node's own plan, circle by circle, each in its fold order, each with who
    can read it: the one person a call share was sealed to, or (no readers) everyone in the circle."""
    registry, out = node.registry, []
    names = registry.names()
    for c in registry.circles.values():
        for s in registry.view(c).shares.values():
            if s.author == registry.me:
                readers = () if s.reader is None else (v.Reader(id=s.reader.hex(), name=names.get(s.reader)),)
                out.append(v.OwnShare(id=s.id.hex(), author=s.author.hex(), name=names.get(s.author), to=s.to,
                                      call=_hex(s.call), plan=plan_view(s.plan), created=s.created,
                                      sections=s.sections, circle=c.topic.hex(), circle_name=c.roster.name,
                                      readers=readers))
    return tuple(out)


# --- calls ------------------------------------------------------------------------------------------


def call_from(state: cl.CallState, names: Mapping[bytes, str], *, circle_id: str, circle_name: str,
            audience: Set[bytes], me: bytes, plans: Iterable[pl.ShareState] = (), busy: bool = False) -> v.Call:
    """A call as this node shows it. ``audience``: who the ladder reached so far (the circle as it was
    when the call was made, ``Registry.audience_then``), for ``reached`` and ``waiting_on``; ``me`` this
    node's member id; ``plans`` the support plans to show in its thread."""
    waiting = sorted(audience - state.received_by - {state.caller})
    shown = _names(names, sorted(cl.people(state)))
    shown.update(_names(names, waiting))
    return v.Call(
        id=state.id.hex(), caller=state.caller.hex(), text=state.text, urgency=state.urgency, needs=state.needs,
        reach=state.reach, consent=state.consent, consent_note=state.consent_note, created=state.created,
        status=state.status, claimer=_hex(state.claimer), claimed_at=state.claimed_at,
        also_claimed=_sorted_hex(state.also_claimed),
        offers=tuple(v.Offer(id=o.id.hex(), author=o.author.hex(), kind=o.kind, text=o.text, created=o.created,
                             accepted=o.accepted) for o in state.offers),
        accepted=_sorted_hex(state.accepted),
        updates=tuple(v.Update(id=u.id.hex(), author=u.author.hex(), text=u.text, created=u.created)
                      for u in state.updates),
        resolved_by=_hex(state.resolved_by), resolved_at=state.resolved_at, followup_at=state.followup_at,
        step=state.step, received_by=_sorted_hex(state.received_by),
        ladder=tuple(v.LadderStep(after=s.after, to=s.to, members=tuple(m.hex() for m in s.members))
                     for s in state.ladder),
        checkins=tuple(c.hex() for c in state.checkins), names=shown,
        circle=circle_id, circle_name=circle_name, audience=len(audience - {state.caller}),
        reached=len((state.received_by & audience) - {state.caller}), waiting_on=tuple(m.hex() for m in waiting),
        mine=state.caller == me, claimed_too=me in state.also_claimed,
        plans=tuple(share_view(s, names) for s in plans), narrowed=state.narrowed, busy=busy)


def call_view(node: Node, circle: Circle, call_id: bytes) -> v.Call:
    """Call ``call_id`` of ``circle`` as this node shows it now."""
    registry = node.registry
    view = registry.view(circle)
    state = view.calls[call_id]
    return call_from(state, registry.names(), circle_id=circle.topic.hex(), circle_name=circle.roster.name,
                   audience=registry.audience_then(circle, state), me=registry.me,
                   plans=pl.shares_for_call(view.shares, call_id, state.caller), busy=_busy(view, state, registry.me))


def _busy(view: View, state: cl.CallState, me: bytes) -> bool:
    """Whether this person was at their load cap when someone else's open call came: their node does
    not notify them (notify/rules.py). Cheap unless they set a cap."""
    mine = view.presence.get(me)
    if state.caller == me or state.status != "open" or mine is None or mine.cap is None:
        return False
    return pr.is_full(presence_at(view.presence, state.created), view.calls, me)


# --- check-ins --------------------------------------------------------------------------------------


def checkin_from(state: ck.CheckinState, names: Mapping[bytes, str], asked: Iterable[bytes], *, circle_id: str,
               circle_name: str) -> v.Checkin:
    """A check-in with the answers this node may see and their tally; ``asked``: the members it asks
    (for ``not_answered``)."""
    missing = ck.not_answered(state, asked)
    return v.Checkin(
        id=state.id.hex(), author=state.author.hex(), prompt=state.prompt, options=state.options,
        visibility=state.visibility, call=_hex(state.call), closes_at=state.closes_at, created=state.created,
        replies=tuple(v.Reply(id=r.id.hex(), member=r.member.hex(), option=r.option, option_text=r.option_text,
                              text=r.text, created=r.created, late=r.late, suggest_call=r.suggest_call)
                      for r in state.replies),
        tally=ck.tally(state), answered=len(state.replies), not_answered=tuple(m.hex() for m in missing),
        names=_names(names, sorted({state.author} | ck.answered(state) | set(missing))),
        circle=circle_id, circle_name=circle_name)


def checkin_view(node: Node, circle: Circle, checkin_id: bytes) -> v.Checkin:
    """Check-in ``checkin_id`` of ``circle``: it asks everyone who reads the circle but its author."""
    state = node.registry.view(circle).checkins[checkin_id]
    return checkin_from(state, node.registry.names(), circle.roster.readers - {state.author},
                      circle_id=circle.topic.hex(), circle_name=circle.roster.name)


# --- circles ----------------------------------------------------------------------------------------


def settings_view(value: CircleSettings) -> v.CircleSettings:
    return v.CircleSettings(retention_days=value.retention_days, rotate_days=value.rotate_days,
                            share_history=value.share_history, members_invite=value.members_invite)


def circle_view(node: Node, circle: Circle) -> v.Circle:
    """A circle and this node's place in it (member, left, removed, or still joining)."""
    roster, me = circle.roster, node.registry.me
    role = roster.role(me)
    status = "member" if role else (circle.departure(me) or "left") if me in roster.ever else "joining"
    people = roster.members.values()
    return v.Circle(id=circle.topic.hex(), name=roster.name, role=role, status=status,
                    members=sum(1 for m in people if m.role != "relay"),
                    relays=sum(1 for m in people if m.role == "relay"),
                    facilitators=len(roster.facilitators), settings=settings_view(roster.settings),
                    created=roster.created, epoch=roster.current)


def joining_views(node: Node, now: int) -> tuple[v.Joining, ...]:
    """This node's requests to join that wait for a member or were refused (an expired token counts as
    refused)."""
    registry, out = node.registry, []
    for entry in registry.joining.values():
        if entry.token is None:
            continue
        saved = registry.state.joining.get(entry.token.invite_key)
        refused = entry.refused or ("expired" if now >= entry.token.expires else None)
        out.append(v.Joining(circle=entry.token.topic.hex(), circle_name=entry.token.circle_name,
                             invite=entry.token.invite_key.hex(), expires=entry.token.expires,
                             since=saved.since if saved else None, status="refused" if refused else "waiting",
                             refused=refused))
    return tuple(out)


def _invite_view(key: bytes, invite: Invite, names: Mapping[bytes, str], now: int) -> v.Invite:
    return v.Invite(invite=key.hex(), role=invite.role, expires=invite.expires, by=invite.by.hex(),
                    by_name=names.get(invite.by), used_by=_hex(invite.used_by),
                    used_by_name=names.get(invite.used_by) if invite.used_by else None,
                    revoked=invite.revoked, open=invite.open_at(now))


def invite_views(node: Node, circle: Circle, now: int) -> tuple[v.Invite, ...]:
    """A circle's invites, by invite id."""
    names = node.registry.names()
    return tuple(_invite_view(k, i, names, now) for k, i in sorted(circle.roster.invites.items()))


def _presence(node: Node, circle: Circle, now: int) -> dict[bytes, pr.PresenceState]:
    return node.registry.presence(circle, now)


def _member(node: Node, circle: Circle, m: Member, presence: Mapping[bytes, pr.PresenceState]) -> v.Member:
    registry = node.registry
    p = presence.get(m.id)
    return v.Member(id=m.id.hex(), name=m.name, role=m.role, fingerprint=fingerprint(m.id),
                    verified=m.id in registry.state.circles[circle.topic].verified, me=m.id == registry.me,
                    status=p.status if p else "unknown", until=p.until if p else None,
                    load=pr.load(presence, registry.view(circle).calls, m.id),
                    onion=circle.roster.reach.get(m.id) or None)


def member_views(node: Node, circle: Circle, now: int) -> tuple[v.Member, ...]:
    """A circle's members by name: role, fingerprint, whether this node verified them, availability."""
    presence = _presence(node, circle, now)
    return tuple(_member(node, circle, m, presence)
                 for m in sorted(circle.roster.members.values(), key=lambda m: (m.name, m.id)))


def member_view(node: Node, circle: Circle, member: bytes, now: int) -> v.Member | None:
    """One member of ``circle`` as ``member_views`` shows them; None once they are not in it."""
    m = circle.roster.members.get(member)
    return None if m is None else _member(node, circle, m, _presence(node, circle, now))


# --- availability -----------------------------------------------------------------------------------


def roster_rows(presence: Mapping[bytes, pr.PresenceState], calls: Mapping[bytes, cl.CallState],
                members: Iterable[bytes] | None = None,
                names: Mapping[bytes, str] | None = None) -> tuple[v.RosterRow, ...]:
    """One row per member of ``members`` (the circle's current members: someone removed or gone must
    never show as available), or, without it, per member in ``presence``. Available first, then away,
    then unknown; by name, then id."""
    known = names or {}
    rows = []
    for member in set(presence) if members is None else set(members):
        state = presence.get(member, pr.PresenceState(member))
        rows.append(v.RosterRow(member=member.hex(), name=known.get(member), status=state.status, until=state.until,
                                cap=state.cap, load=pr.load(presence, calls, member),
                                full=pr.is_full(presence, calls, member)))
    rows.sort(key=lambda r: (PRESENCE_STATES.index(r.status), r.name or "", r.member))
    return tuple(rows)


def circle_roster_view(node: Node, circle: Circle, now: int) -> v.CircleRoster:
    """Who is available in one circle."""
    rows = roster_rows(node.registry.presence(circle, now), node.registry.view(circle).calls, circle.roster.readers,
                       node.registry.names())
    return v.CircleRoster(circle=circle.topic.hex(), name=circle.roster.name, roster=rows)
