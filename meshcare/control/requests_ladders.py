"""Requests of the consent-based ladder ops and the "who not to involve" list (issue 13, item 2).

Putting someone on a ladder asks them (``ladder.add``); they answer (``ladder.answer``); only accepted
rungs are ever used when a call is built from a ladder (``call.create`` with ``ladder_name``). The avoid
list (``avoid.*``) is kept on this node only and never posted: every call this node makes leaves those
members out, at every step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from .. import vocab
from . import names as n
from . import results_ladders as r
from .names import BAD_REQUEST, NOT_FOUND
from .request_base import CIRCLE_REF, MEMBER_REF, NO_CIRCLE, NO_MEMBER, Request, circle_arg, id_ref
from .schema import Choice, Int, Maybe, Text, arg

__all__ = ["AvoidAdd", "AvoidList", "AvoidRemove", "LADDER_REQUESTS", "LadderAdd", "LadderAnswer", "LadderList",
           "LadderRemove", "LadderRequests"]

#: A ladder's name, as people type it.
LADDER_NAME: Final = Text(1, vocab.MAX_LADDER_NAME, strip=True)
NO_REQUEST: Final = (NOT_FOUND, "no ladder request this node can read starts with that (several match: "
                                "bad-request)")


def _request_arg() -> Any:
    return arg(id_ref("`meshcare ladder list` and `meshcare ladder requests` list them"),
               "the request: the start of its id", noun="the request")


def _only_circle() -> Any:
    return arg(Maybe(CIRCLE_REF), "only this circle (null: every circle)", noun="the circle", default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class LadderAdd(Request[r.LadderAddResult]):
    """Ask a member for a place on one of this person's ladders (sealed to the two of them). They show
    as pending until they answer; a call never uses a rung they did not accept."""

    OP = n.OP_LADDER_ADD
    ERRORS = (NO_CIRCLE, NO_MEMBER,
              (BAD_REQUEST, "it names this person, a relay, someone on their \"who not to involve\" list, or "
                            "the ladder is full"))
    circle: str = circle_arg()
    member: str = arg(MEMBER_REF, "who to ask: their name or the start of their id", noun="the member")
    ladder: str = arg(LADDER_NAME, "which ladder (e.g. calls, practical)", noun="the ladder's name",
                      default=vocab.DEFAULT_LADDER)
    step: int = arg(Int(0, vocab.MAX_LADDER_STEPS - 1), "their step (0: first contacted)", noun="the step",
                    default=0)
    note: str = arg(Text(0, vocab.MAX_NOTE), "a few words to them", noun="the note", default="")


@dataclass(frozen=True, slots=True, kw_only=True)
class LadderList(Request[r.LadderListResult]):
    """This person's ladders: who is on each, at which step, and whether they said yes."""

    OP = n.OP_LADDER_LIST
    ERRORS = (NO_CIRCLE,)
    circle: str | None = _only_circle()


@dataclass(frozen=True, slots=True, kw_only=True)
class LadderRequests(Request[r.LadderRequestsResult]):
    """Requests others made to this person: who asked, for which ladder and step, and the answer so far."""

    OP = n.OP_LADDER_REQUESTS
    ERRORS = (NO_CIRCLE,)
    circle: str | None = _only_circle()


@dataclass(frozen=True, slots=True, kw_only=True)
class LadderAnswer(Request[r.LadderAnswerResult]):
    """Accept or decline a request made to this person (they may change their mind later)."""

    OP = n.OP_LADDER_ANSWER
    ERRORS = (NO_REQUEST, (BAD_REQUEST, "the request was not made to this person, or was withdrawn"))
    request: str = _request_arg()
    answer: str = arg(Choice(vocab.LADDER_ANSWERS), "accept or decline", noun="the answer")


@dataclass(frozen=True, slots=True, kw_only=True)
class LadderRemove(Request[r.LadderRemoveResult]):
    """Take someone off one of this person's ladders (withdraw the request; they are told)."""

    OP = n.OP_LADDER_REMOVE
    ERRORS = (NO_REQUEST, (BAD_REQUEST, "the request is someone else's, or already withdrawn"))
    request: str = _request_arg()


@dataclass(frozen=True, slots=True, kw_only=True)
class AvoidAdd(Request[r.AvoidAddResult]):
    """Add a member to this person's "who not to involve" list in a circle: kept on this node only, never
    posted; none of this person's calls there reaches them, at any step, "the whole circle" included."""

    OP = n.OP_AVOID_ADD
    ERRORS = (NO_CIRCLE, NO_MEMBER, (BAD_REQUEST, "it names this person"))
    circle: str = circle_arg()
    member: str = arg(MEMBER_REF, "who: their name or the start of their id", noun="the member")


@dataclass(frozen=True, slots=True, kw_only=True)
class AvoidRemove(Request[r.AvoidRemoveResult]):
    """Take a member off this person's "who not to involve" list (later calls may reach them again)."""

    OP = n.OP_AVOID_REMOVE
    ERRORS = (NO_CIRCLE, NO_MEMBER)
    circle: str = circle_arg()
    member: str = arg(MEMBER_REF, "who: their name or the start of their id (also someone who left)",
                      noun="the member")


@dataclass(frozen=True, slots=True, kw_only=True)
class AvoidList(Request[r.AvoidListResult]):
    """This person's "who not to involve" lists."""

    OP = n.OP_AVOID_LIST
    ERRORS = (NO_CIRCLE,)
    circle: str | None = _only_circle()


LADDER_REQUESTS: Final = (LadderAdd, LadderList, LadderRequests, LadderAnswer, LadderRemove, AvoidAdd, AvoidRemove,
                          AvoidList)
