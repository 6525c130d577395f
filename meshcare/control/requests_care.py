"""Requests of the follow-up and responder-care ops: a caller's follow-up, the check-in done, the
safety timer, the private load view. ``requests.REQUESTS`` lists them with the rest."""

from __future__ import annotations

from dataclasses import dataclass

from .. import vocab
from . import names as n
from . import results_care as r
from .names import BAD_REQUEST, NOT_FOUND
from .request_base import MEMBER_REF, NO_CALL, NO_CIRCLE, NO_MEMBER, Request, call_arg, circle_arg, id_ref
from .schema import Choice, Flag, Int, Maybe, Text, Time, arg

__all__ = ["FollowupAsk", "FollowupDone", "FollowupList", "Load", "SafetyList", "SafetyPing", "SafetyStart"]


@dataclass(frozen=True, slots=True, kw_only=True)
class FollowupAsk(Request[r.FollowupAskResult]):
    """The person who made a call asks someone to check in on them (by default whoever took the call),
    at `due` (default: a day from now), and optionally again a few days later. Only they decide; asking
    again replaces the earlier answer. Sealed to who checks in and the circle's facilitators, who see
    only who, when and whether it is done."""

    OP = n.OP_FOLLOWUP_ASK
    ERRORS = (NO_CALL, NO_MEMBER, (BAD_REQUEST, "this person did not make the call; nobody took it and no `who` "
                                                "is given; `who` is this person; `due` is not within a week "
                                                "from now; `again` is not after `due` or more than 8 days away"))
    call: str = call_arg()
    who: str | None = arg(Maybe(MEMBER_REF), "who checks in (null: whoever took the call)", noun="who checks in",
                          default=None)
    due: int | None = arg(Maybe(Time()), "when (null: a day from now)", noun="the check-in time", default=None)
    again: int | None = arg(Maybe(Time()), "a second check-in, 3 to 7 days later (null: none)",
                            noun="the second check-in time", default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class FollowupDone(Request[r.FollowupDoneResult]):
    """Who checks in says they did: the first check-in, or the second once the first is done."""

    OP = n.OP_FOLLOWUP_DONE
    ERRORS = ((NOT_FOUND, "no follow-up this node can read for a call starting with that"),
              (BAD_REQUEST, "this person is not the one who checks in; every check-in is done already"))
    call: str = arg(id_ref("`meshcare followups` lists them"), "the call the follow-up is for: the start of "
                    "its id", noun="the call")


@dataclass(frozen=True, slots=True, kw_only=True)
class FollowupList(Request[r.FollowupListResult]):
    """The follow-ups this node can read: those this person does or asked for, and, for facilitators,
    every follow-up of their circles (who, when, done or not; never what the call said)."""

    OP = n.OP_FOLLOWUP_LIST
    all: bool = arg(Flag(), "include those that are done", noun="all", default=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class SafetyStart(Request[r.SafetyStartResult]):
    """Start a safety timer before going to someone in person: say "I'm OK" every `every` minutes; if
    nothing comes (plus a few minutes' grace), the circle's facilitators are alerted. Nobody outside
    the circle is ever contacted. Sealed to the facilitators only."""

    OP = n.OP_SAFETY_START
    ERRORS = (NO_CIRCLE, (BAD_REQUEST, "the circle has no facilitator besides this person; a timer of theirs "
                                        "is already running in that circle"))
    circle: str = circle_arg()
    every: int = arg(Int(vocab.MIN_SAFETY_EVERY, vocab.MAX_SAFETY_EVERY), "minutes between \"I'm OK\"s",
                     noun="the minutes between signs")
    note: str = arg(Text(0, vocab.MAX_NOTE), "a note for the facilitators (where, with whom)", noun="the note",
                    default="")


@dataclass(frozen=True, slots=True, kw_only=True)
class SafetyPing(Request[r.SafetyPingResult]):
    """A sign on this person's running timer: `there` (arrived), `ok` (still fine), `end` (done)."""

    OP = n.OP_SAFETY_PING
    ERRORS = ((NOT_FOUND, "this person has no running timer (or none starts with `timer`)"),
              (BAD_REQUEST, "several timers of theirs are running: name one"))
    status: str = arg(Choice(vocab.SAFETY_STATUSES), "there, ok or end", noun="the sign")
    timer: str | None = arg(Maybe(id_ref("`meshcare safety list` lists them")), "which timer (null: the running "
                            "one)", noun="the timer", default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class SafetyList(Request[r.SafetyListResult]):
    """Safety timers: this person's own, and (facilitators) those of their circles."""

    OP = n.OP_SAFETY_LIST
    all: bool = arg(Flag(), "include ended ones", noun="all", default=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Load(Request[r.LoadResult]):
    """This person's own load ("you took 4 calls in 7 days"), from the calls this node folded. Only they
    see it; nobody else's node can compute it for them and no count is ever sent."""

    OP = n.OP_ME_LOAD
    days: int = arg(Int(1, 31), "how many days back", noun="the days", default=vocab.LOAD_DAYS)
