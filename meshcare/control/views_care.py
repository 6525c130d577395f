"""The views of follow-ups and safety timers (issue 13, items 3 and 4), shared by their results, the
call ops (``call.resolve`` answers the follow-up it asked for) and the clients.

What each view holds is what its reader may see: a follow-up has no content at all (who checks in on
whom, when, done or not), which is all a facilitator ever learns of it; a timer carries the note its
person wrote for the facilitators it is sealed to.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Final

from .. import vocab
from .schema import Choice, Flag, Int, Maybe, Record, key
from .views import CIRCLE_ID, ID, TEXT, WHEN

__all__ = ["Followup", "Timer", "VIEWS"]

#: Which check-in of a follow-up is due now: the first, or the second a few days later.
FOLLOWUP_WHICH: Final = ("first", "again")


@dataclass(frozen=True, slots=True, kw_only=True)
class Followup(Record):
    """A check-in someone asked for after their call: who does it, when, and whether it is done. Never
    what the call said."""

    WHAT: ClassVar[str] = "a follow-up"
    id: str = key(ID, "the follow-up's id (the asker's latest answer)")
    call: str = key(ID, "the call it follows")
    circle: str = key(CIRCLE_ID, "the circle")
    circle_name: str = key(TEXT, "the circle's name")
    asker: str = key(ID, "who made the call and asked for the check-in")
    asker_name: str | None = key(Maybe(TEXT), "their name")
    who: str = key(ID, "who checks in")
    who_name: str | None = key(Maybe(TEXT), "their name")
    due: int = key(WHEN, "when the check-in is due")
    again: int | None = key(Maybe(WHEN), "when a second check-in is due (null: none asked)")
    done_at: int | None = key(Maybe(WHEN), "when the first check-in was marked done (null: not yet)")
    again_done_at: int | None = key(Maybe(WHEN), "when the second was marked done (null: not yet, or none)")
    todo: str | None = key(Maybe(Choice(FOLLOWUP_WHICH)), "which check-in is due now and not done (null: none)")
    mine: bool = key(Flag(), "this person is the one who checks in")
    asked: bool = key(Flag(), "this person asked for it")


@dataclass(frozen=True, slots=True, kw_only=True)
class Timer(Record):
    """A safety timer: someone went in person and says "I'm OK" every few minutes. Its person and the
    circle's facilitators see it; nobody else."""

    WHAT: ClassVar[str] = "a safety timer"
    id: str = key(ID, "the timer's id")
    circle: str = key(CIRCLE_ID, "the circle")
    circle_name: str = key(TEXT, "the circle's name")
    person: str = key(ID, "who is on the timer")
    name: str | None = key(Maybe(TEXT), "their name")
    every: int = key(Int(vocab.MIN_SAFETY_EVERY, vocab.MAX_SAFETY_EVERY), "minutes between \"I'm OK\"s")
    note: str = key(TEXT, "their note for the facilitators (may be empty)")
    started: int = key(WHEN, "when it started")
    last: int = key(WHEN, "the start or the latest sign from them")
    there_at: int | None = key(Maybe(WHEN), "when they said \"I'm there\"")
    ended_at: int | None = key(Maybe(WHEN), "when they ended it (null: running)")
    next_ok_at: int | None = key(Maybe(WHEN), "when the next \"I'm OK\" is due (null: ended)")
    overdue_at: int | None = key(Maybe(WHEN), "when the facilitators are alerted if nothing comes (null: ended)")
    overdue: bool = key(Flag(), "nothing came in time: the facilitators were alerted")
    mine: bool = key(Flag(), "this person is on the timer")


VIEWS: Final = (Followup, Timer)
