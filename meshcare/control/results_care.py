"""What the follow-up and responder-care ops answer (``followup.*``, ``safety.*``, ``me.load``).

``results.RESULTS`` lists these with the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from . import names as n
from .result_base import Result, linked as _linked
from .schema import Choice, Int, Maybe, Seq, View, key
from .views import COUNT, ID, WHEN
from .views import Followup, Timer

__all__ = ["FollowupAskResult", "FollowupDoneResult", "FollowupListResult", "LoadResult", "SafetyListResult",
           "SafetyPingResult", "SafetyStartResult"]


@dataclass(frozen=True, slots=True, kw_only=True)
class FollowupAskResult(Result):
    """The follow-up as it went out (sealed to who checks in and the circle's facilitators)."""

    OP: ClassVar[str] = n.OP_FOLLOWUP_ASK
    followup: Followup = key(View(Followup), "the follow-up")
    linked: int | None = _linked()


@dataclass(frozen=True, slots=True, kw_only=True)
class FollowupDoneResult(Result):
    """The check-in marked done."""

    OP: ClassVar[str] = n.OP_FOLLOWUP_DONE
    id: str = key(ID, "the post's id")
    which: str = key(Choice(("first", "again")), "which check-in it closed")
    followup: Followup = key(View(Followup), "the follow-up as it is now")
    linked: int | None = _linked()


@dataclass(frozen=True, slots=True, kw_only=True)
class FollowupListResult(Result):
    """Follow-ups this person does, asked for, or (facilitators) keeps an eye on; due ones first."""

    OP: ClassVar[str] = n.OP_FOLLOWUP_LIST
    followups: tuple[Followup, ...] = key(Seq(View(Followup), item_noun="follow-up"), "the follow-ups")


@dataclass(frozen=True, slots=True, kw_only=True)
class SafetyStartResult(Result):
    """The timer as it started, and how many facilitators it went to."""

    OP: ClassVar[str] = n.OP_SAFETY_START
    timer: Timer = key(View(Timer), "the timer")
    facilitators: int = key(COUNT, "facilitators it is sealed to (nobody else can read it)")
    linked: int | None = _linked()


@dataclass(frozen=True, slots=True, kw_only=True)
class SafetyPingResult(Result):
    """The sign sent, and the timer as it is now."""

    OP: ClassVar[str] = n.OP_SAFETY_PING
    id: str = key(ID, "the post's id")
    timer: Timer = key(View(Timer), "the timer as it is now")
    linked: int | None = _linked()


@dataclass(frozen=True, slots=True, kw_only=True)
class SafetyListResult(Result):
    """Safety timers this node can read: this person's own, and (facilitators) those sealed to them;
    running ones first."""

    OP: ClassVar[str] = n.OP_SAFETY_LIST
    timers: tuple[Timer, ...] = key(Seq(View(Timer), item_noun="timer"), "the timers")


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadResult(Result):
    """This person's own load, for their eyes only: computed on their node, never sent anywhere."""

    OP: ClassVar[str] = n.OP_ME_LOAD
    days: int = key(Int(1, None), "how many days back it looks")
    since: int = key(WHEN, "from when")
    took: int = key(COUNT, "calls this person took (held) or resolved for someone in that time")
    holding: int = key(COUNT, "calls they hold now")
    last: int | None = key(Maybe(WHEN), "when they last took or resolved one (null: none in that time)")
