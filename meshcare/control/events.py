"""What the daemon tells a subscribed client as it happens: one typed event per name, ``EVENTS`` maps
event name -> class.

Events say what changed and show what a screen shows of it: a call's or check-in's full view (as
``call.show`` / ``checkin.show`` answer when the event is sent), a member's row, names. Each event
sets the state of the thing it names, so applying one twice, or an older one before a newer one about
the same thing, ends in the same state: the last event about a thing is the latest word on it. The
daemon numbers the events it sends (``seq``), and ``snapshot`` answers the whole state with the
number of the last event before it; a client that (re)connects subscribes, takes a snapshot, and
applies the events numbered after it (``SnapshotResult`` says so for the client). Their data keys are
contracts like result keys: added to, never renamed. A client ignores event names it does not know (a
newer daemon may send more).

Two kinds. Per envelope and per link (``envelope``, ``circle``, ``peer``): raw, one per envelope taken in
or link opened. Per change (``member``, ``invite``, ``join``, ``presence``, ``sync``, ``notice``,
``call.changed``, ``checkin.changed``): the node compares what each circle shows before and after, so
one change is one event however it came (a post from the network, an op, a duty, an expiry), however
many envelopes carried it; changes within a quarter of a second of each other in one circle come
together. These are what a screen lives on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar, Final

from .. import vocab
from . import names as n
from .schema import Choice, Flag, Int, Maybe, Record, Seq, Text, View, key
from .views import CIRCLE_ID, COUNT, ID, TEXT, WHEN, Call, Checkin, Circle, Member
from .views_gatherings import Gathering

__all__ = ["CallChangedEvent", "CareChangedEvent", "CallEvent", "CheckinChangedEvent", "CircleEvent", "EVENTS", "EnvelopeEvent", "Event", "GatheringReminderEvent",
           "InviteEvent", "JoinEvent", "MemberEvent", "NoticeEvent", "PeerEvent", "PresenceEvent", "SyncEvent"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Event(Record):
    """Base of every event; ``NAME`` is its name on the wire. ``seq`` is the daemon's number for it."""

    WHAT: ClassVar[str] = "the event"
    NAME: ClassVar[str] = ""
    seq: int | None = key(Maybe(Int(1)), "the daemon's number for this event: 1, 2, 3, ... in the order it sends "
                          "them, from 1 each time it starts (`snapshot` answers the number of the last event "
                          "before it)", omit_none=True)


@dataclass(frozen=True, slots=True, kw_only=True)
class PeerEvent(Event):
    """A link to another node opened or ended."""

    NAME: ClassVar[str] = n.EV_PEER
    address: str = key(Text(), "host:port of the link")
    node_id: str = key(ID, "the other node's id")
    linked: bool = key(Flag(), "true: the link opened; false: it ended")
    via: str | None = key(Maybe(Choice(("direct", "onion"))), "`onion` when the link runs through Tor; absent "
                          "for a direct link (TCP: the LAN or an address), as before Tor", omit_none=True)


@dataclass(frozen=True, slots=True, kw_only=True)
class EnvelopeEvent(Event):
    """An envelope was stored: this node's own, or one received."""

    NAME: ClassVar[str] = n.EV_ENVELOPE
    id: str = key(ID, "the envelope's id")
    topic: str = key(CIRCLE_ID, "the topic it belongs to (a circle's id, or a lobby's)")
    author: str = key(ID, "who signed it")
    lane: int = key(COUNT, "its priority lane (calls for support travel in the urgent lane)")


@dataclass(frozen=True, slots=True, kw_only=True)
class CircleEvent(Event):
    """An envelope of a circle this node is in (or joining) was taken in: ask again for what it shows."""

    NAME: ClassVar[str] = n.EV_CIRCLE
    circle: str = key(CIRCLE_ID, "the circle's id (or the lobby's, while joining)")
    author: str = key(ID, "who signed it")
    id: str = key(ID, "the envelope's id")
    roster: bool = key(Flag(), "it is a roster operation (members, roles, invites, keys)")


@dataclass(frozen=True, slots=True, kw_only=True)
class CallEvent(Event):
    """Something this person should know about one call. ``claim_lost``: they claimed it while apart
    from someone whose claim came first in the circle's order; both were told "you have this call" at
    first; this says who has it. Sent once per call, and not when ``call.claim`` already answered
    ``have_it: false``."""

    NAME: ClassVar[str] = n.EV_CALL
    event: str = key(Choice(vocab.CALL_NOTICES), "what happened")
    circle: str = key(CIRCLE_ID, "the circle's id")
    call: str = key(ID, "the call's id")
    claimer: str = key(ID, "who has the call")


@dataclass(frozen=True, slots=True, kw_only=True)
class MemberEvent(Event):
    """Someone joined a circle, left it, was removed, got another role, or renamed themself (`renamed`:
    `name` is the new name, `previous_name` the one before; this node's own rename too). This node's own
    removal comes as a `notice` (`removed`) instead; its own leaving as `left`."""

    NAME: ClassVar[str] = n.EV_MEMBER
    circle: str = key(CIRCLE_ID, "the circle's id")
    change: str = key(Choice(vocab.MEMBER_CHANGES), "what happened")
    member: str = key(ID, "who")
    name: str = key(TEXT, "their name in the circle")
    role: str | None = key(Maybe(Choice(vocab.ROLES)), "their role now (null once they are gone)")
    was: str | None = key(Maybe(Choice(vocab.ROLES)), "their role before (null when they joined)")
    circle_name: str | None = key(Maybe(TEXT), "the circle's name", default=None)
    view: Member | None = key(Maybe(View(Member)), "the member as `circle.members` lists them now (null once "
                              "they are gone)", default=None)
    previous_name: str | None = key(Maybe(TEXT), "renamed: the name they had before (null otherwise)", default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class InviteEvent(Event):
    """An invite of a circle was used (someone joined with it: "used by Bo") or revoked."""

    NAME: ClassVar[str] = n.EV_INVITE
    circle: str = key(CIRCLE_ID, "the circle's id")
    change: str = key(Choice(vocab.INVITE_CHANGES), "what happened")
    invite: str = key(ID, "the invite's id (as `circle.invites` lists it)")
    by: str = key(ID, "who made the invite")
    mine: bool = key(Flag(), "this node made it")
    member: str | None = key(Maybe(ID), "who used it (null when revoked)")
    name: str | None = key(Maybe(TEXT), "their name in the circle (null when revoked)")
    circle_name: str | None = key(Maybe(TEXT), "the circle's name", default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class JoinEvent(Event):
    """This node's request to join a circle (`circle.join`) was answered: `welcome` (it is in the circle
    now, `view` shows it) or `refused` (with the reason; ask for a new invite)."""

    NAME: ClassVar[str] = n.EV_JOIN
    circle: str = key(CIRCLE_ID, "the circle's id")
    name: str = key(TEXT, "the circle's name, as the invite gave it")
    outcome: str = key(Choice(vocab.JOIN_OUTCOMES), "the answer")
    reason: str | None = key(Maybe(Choice(vocab.REFUSAL_REASONS)), "why it was refused (null: welcome)")
    view: Circle | None = key(Maybe(View(Circle)), "welcome: the circle as `circle.list` shows it now (null when "
                              "refused)", default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class PresenceEvent(Event):
    """A member's availability changed, or ran out (`unknown`)."""

    NAME: ClassVar[str] = n.EV_PRESENCE
    circle: str = key(CIRCLE_ID, "the circle's id")
    member: str = key(ID, "whose availability")
    status: str = key(Choice(vocab.PRESENCE_STATES), "available, away, or unknown (ran out)")
    until: int | None = key(Maybe(WHEN), "until when it holds (null: unknown)")
    cap: int | None = key(Maybe(Int(1, vocab.MAX_PRESENCE_CAP)), "the most calls they take at a time")
    name: str | None = key(Maybe(TEXT), "their name in the circle", default=None)
    circle_name: str | None = key(Maybe(TEXT), "the circle's name", default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncEvent(Event):
    """This node started catching up on a circle (a link began sharing it, or what it missed is
    arriving), or is caught up: nothing more is arriving (the neighbours it reconciled with had nothing
    more for it, or their links ended: see `peer`). A periodic check that finds nothing is not told."""

    NAME: ClassVar[str] = n.EV_SYNC
    circle: str = key(CIRCLE_ID, "the circle's id")
    state: str = key(Choice(vocab.SYNC_STATES), "catching up, or caught up")
    circle_name: str | None = key(Maybe(TEXT), "the circle's name", default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class NoticeEvent(Event):
    """Something the person should see as a banner. `removed`: this node was removed from the circle
    (`member` is this node; what it held of the circle is deleted within ten minutes). `key_changed`:
    `member` joined under the name of `previous`, who left or was removed: most likely that person on a
    new device, possibly someone else; compare fingerprints in person (`circle.verify`). A
    `claim_lost` notice comes as a `call` event. `safety_overdue` (to the circle's facilitators only):
    `member`, on a safety timer, sent no "I'm OK" in time (`about`: the timer). `followup_due` (to the
    person who checks in): `member` asked for a check-in after a call and it is due now (`about`: the
    call)."""

    NAME: ClassVar[str] = n.EV_NOTICE
    circle: str = key(CIRCLE_ID, "the circle's id")
    circle_name: str = key(TEXT, "the circle's name")
    kind: str = key(Choice(vocab.NOTICES), "what to tell the person")
    member: str = key(ID, "whom it is about")
    name: str = key(TEXT, "their name in the circle")
    previous: str | None = key(Maybe(ID), "key_changed: the id that name had before")
    about: str | None = key(Maybe(ID), "safety_overdue: the timer's id (`safety.list`); followup_due: the "
                            "call's id (`followup.list`)", default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class CallChangedEvent(Event):
    """A call this node can read appeared, changed (`plans`: a support plan was shared in its thread or
    taken back), was resolved, or is gone (expired). `view` is the call
    as `call.show` answers at the moment the event is sent, so a screen updates without asking."""

    NAME: ClassVar[str] = n.EV_CALL_CHANGED
    circle: str = key(CIRCLE_ID, "the circle's id")
    call: str = key(ID, "the call's id")
    change: str = key(Choice(vocab.CALL_CHANGES), "what happened")
    parts: tuple[str, ...] = key(Seq(Choice(vocab.CALL_PARTS)),
                                 "updated or resolved: which parts changed (claim, offers, reach, ...)")
    view: Call | None = key(Maybe(View(Call)), "the call as it is now (null when it is gone)", default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckinChangedEvent(Event):
    """A check-in appeared, got replies, had its tally change otherwise (a reply went), asks other
    members (`asked`: someone joined or left the circle, so who has not answered changed), or is gone
    (expired). `view` is the check-in as `checkin.show` answers at the moment the event is sent, tally
    included."""

    NAME: ClassVar[str] = n.EV_CHECKIN_CHANGED
    circle: str = key(CIRCLE_ID, "the circle's id")
    checkin: str = key(ID, "the check-in's id")
    change: str = key(Choice(vocab.CHECKIN_CHANGES), "what happened")
    members: tuple[str, ...] = key(Seq(ID), "reply: whose answer is new or changed")
    view: Checkin | None = key(Maybe(View(Checkin)), "the check-in as it is now, with its tally (null when it is "
                               "gone)", default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class CareChangedEvent(Event):
    """Something of the circle's care life this node can read appeared, changed or went: a ladder request
    or answer, a follow-up, a safety timer, a gathering or an RSVP to it, a need or offer on the board, a
    private request, a library text (`what`). The event names it; the list op of that object
    (`ladder.list`, `gathering.list`, `need.list`, `request.list`, ...) answers what it is now."""

    NAME: ClassVar[str] = n.EV_CARE_CHANGED
    circle: str = key(CIRCLE_ID, "the circle's id")
    what: str = key(Choice(vocab.CARE_OBJECTS), "which kind of thing")
    id: str = key(ID, "its id (a ladder request's, a gathering's, a need's, ...)")
    change: str = key(Choice(vocab.CARE_CHANGES), "what happened")


@dataclass(frozen=True, slots=True, kw_only=True)
class GatheringReminderEvent(Event):
    """A gathering this person said yes or maybe to, or hosts, starts soon: `remind` minutes before it
    (told once; a reminder due while the daemon was off is told when it starts, if the gathering has not).
    `view` is the gathering as `gathering.show` answers."""

    NAME: ClassVar[str] = n.EV_GATHERING_REMINDER
    circle: str = key(CIRCLE_ID, "the circle's id")
    gathering: str = key(ID, "the gathering's id")
    when: int = key(WHEN, "when it starts")
    view: Gathering | None = key(Maybe(View(Gathering)), "the gathering as it is now", default=None)


_ALL: Final[tuple[type[Event], ...]] = (PeerEvent, EnvelopeEvent, CircleEvent, CallEvent, MemberEvent, InviteEvent,
                                        JoinEvent, PresenceEvent, SyncEvent, NoticeEvent, CallChangedEvent,
                                        CheckinChangedEvent, CareChangedEvent, GatheringReminderEvent)

#: Event name -> the class of its data.
EVENTS: Final[Mapping[str, type[Event]]] = {cls.NAME: cls for cls in _ALL}
