"""The node's facts as control events: ``event_of(fact, node, now)`` is the one place a ``Tell`` effect's
fact (``circles/changes.py``, ids as bytes) becomes the control API's typed event record
(``control/events.py``, ids as hex). Pure.

A fact says what changed; the event adds what a screen shows of it, built by the presenters
(``ops/present.py``) from the node as it is when the event is made: a call's or check-in's full view
(exactly what ``call.show`` / ``checkin.show`` answer at that moment; null once it is gone), a member's
row of ``circle.members``, the circle a welcome let this node into, and the circle's and member's names.
So a client applies an event without asking again, and a later event about the same thing always
carries a view at least as new: events are idempotent, and the last one wins.

The shell publishes ``record.NAME`` with ``record.to_data()`` to its subscribers (numbering them,
``seq``); nothing else decides what a client is told. ``peer_event`` is the same for the shell's own
fact, a link opened or ended.
"""

from __future__ import annotations

from ..circles import changes as ch
from ..circles.circle import Circle
from ..control import events as ev
from ..control import views as v
from ..node import Node
from .gatherings import gathering_view
from .present import call_view, checkin_view, circle_view, member_view

__all__ = ["event_of", "peer_event"]


def _hex(value: bytes | None) -> str | None:
    return None if value is None else value.hex()


def event_of(fact: ch.Fact, node: Node, now: float) -> ev.Event:
    """The control event that tells ``fact``, with what ``node`` shows of it at ``now``."""
    circle = node.registry.circles.get(fact.circle)
    circle_name = None if circle is None or not circle.roster.exists else circle.roster.name
    if isinstance(fact, ch.MemberChanged):
        return ev.MemberEvent(circle=fact.circle.hex(), change=fact.change, member=fact.member.hex(), name=fact.name,
                              role=fact.role, was=fact.was, circle_name=circle_name,
                              view=None if circle is None else member_view(node, circle, fact.member, int(now)),
                              previous_name=fact.previous_name)
    if isinstance(fact, ch.InviteChanged):
        return ev.InviteEvent(circle=fact.circle.hex(), change=fact.change, invite=fact.invite.hex(),
                              by=fact.by.hex(), mine=fact.mine, member=_hex(fact.member), name=fact.name,
                              circle_name=circle_name)
    if isinstance(fact, ch.JoinAnswered):
        joined = circle if fact.outcome == "welcome" else None
        return ev.JoinEvent(circle=fact.circle.hex(), name=fact.name, outcome=fact.outcome, reason=fact.reason,
                            view=None if joined is None else circle_view(node, joined))
    if isinstance(fact, ch.PresenceChanged):
        return ev.PresenceEvent(circle=fact.circle.hex(), member=fact.member.hex(), status=fact.status,
                                until=fact.until, cap=fact.cap, name=_member_name(circle, fact.member),
                                circle_name=circle_name)
    if isinstance(fact, ch.SyncChanged):
        return ev.SyncEvent(circle=fact.circle.hex(), state="catching_up" if fact.catching_up else "caught_up",
                            circle_name=circle_name)
    if isinstance(fact, ch.Notice):
        return ev.NoticeEvent(circle=fact.circle.hex(), circle_name=fact.circle_name, kind=fact.kind,
                              member=fact.member.hex(), name=fact.name, previous=_hex(fact.previous),
                              about=_hex(fact.about))
    if isinstance(fact, ch.GatheringSoon):
        state = None if circle is None else node.registry.view(circle).gatherings.get(fact.gathering)
        return ev.GatheringReminderEvent(
            circle=fact.circle.hex(), gathering=fact.gathering.hex(), when=fact.when,
            view=None if circle is None or state is None else gathering_view(node, circle, fact.gathering, now))
    if isinstance(fact, ch.CareChanged):
        return ev.CareChangedEvent(circle=fact.circle.hex(), what=fact.what, id=fact.id.hex(), change=fact.change)
    if isinstance(fact, ch.CallChanged):
        return ev.CallChangedEvent(circle=fact.circle.hex(), call=fact.call.hex(), change=fact.change,
                                   parts=fact.parts, view=_call(node, circle, fact.call))
    return ev.CheckinChangedEvent(circle=fact.circle.hex(), checkin=fact.checkin.hex(), change=fact.change,
                                  members=tuple(m.hex() for m in fact.members),
                                  view=_checkin(node, circle, fact.checkin))


def _member_name(circle: Circle | None, member: bytes) -> str | None:
    m = None if circle is None else circle.roster.members.get(member)
    return None if m is None else m.name


def _call(node: Node, circle: Circle | None, call: bytes) -> v.Call | None:
    """The call as ``call.show`` answers now; None once it is gone."""
    if circle is None or call not in node.registry.view(circle).calls:
        return None
    return call_view(node, circle, call)


def _checkin(node: Node, circle: Circle | None, checkin: bytes) -> v.Checkin | None:
    """The check-in as ``checkin.show`` answers now; None once it is gone."""
    if circle is None or checkin not in node.registry.view(circle).checkins:
        return None
    return checkin_view(node, circle, checkin)


def peer_event(address: str, node_id: bytes, linked: bool, via: str = "direct") -> ev.PeerEvent:
    """A link to ``node_id`` at ``address`` (host:port) opened (``linked``) or ended; ``via``: the link's way.
    Only a link through Tor says so (``via`` "onion"): a direct link's event reads as it did before Tor."""
    return ev.PeerEvent(address=address, node_id=node_id.hex(), linked=linked, via="onion" if via == "onion" else None)
