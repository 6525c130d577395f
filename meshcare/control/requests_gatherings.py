"""Requests of the gathering and agreements ops (``requests.REQUESTS`` lists them with the others).

A **gathering** is named by at least ``vocab.MIN_ID_PREFIX`` hex digits of its id (``gathering.list``
shows them). Times are unix seconds; the CLI turns "YYYY-MM-DD HH:MM" (local time) into them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from .. import vocab
from ..errors import BadInput
from . import names as n
from . import results_gatherings as r
from .names import BAD_REQUEST, NOT_FOUND
from .request_base import CIRCLE_REF, MEMBER_REF, NO_CIRCLE, NO_MEMBER, Request, circle_arg, id_ref
from .schema import Choice, Flag, Int, Maybe, Seq, Text, Time, arg

__all__ = ["AgreementsSet", "AgreementsShow", "GatheringCancel", "GatheringCreate", "GatheringList", "GatheringRsvp",
           "GatheringShow", "REQUESTS_GATHERINGS"]

NO_GATHERING: Final = (NOT_FOUND, "no gathering this node can read starts with that (fewer than 4 digits, or several "
                                  "match: bad-request)")
_WHEN: Final = Time(0, vocab.TIME_MAX)
_ITEMS: Final = Seq(Text(1, vocab.MAX_ITEM_TEXT), 1, vocab.MAX_LIST_ITEMS, distinct=True, or_empty=True,
                    item_noun="item")


def gathering_arg() -> Any:
    """The ``gathering`` argument of the ops on one gathering."""
    return arg(id_ref("`meshcare gatherings --all` lists them"), "the gathering: the start of its id",
               noun="the gathering")


@dataclass(frozen=True, slots=True, kw_only=True)
class GatheringCreate(Request[r.GatheringCreateResult]):
    """Organise a gathering of the circle: a support group, a workshop, a walk, a shared meal. The organiser
    hosts it, with the members they name; the people who say yes or maybe are reminded `remind` minutes before."""

    OP = n.OP_GATHERING_CREATE
    ERRORS = (
        NO_CIRCLE, NO_MEMBER,
        (BAD_REQUEST, "it would start in the past or after the circle stops keeping posts (its retention), ends "
                      "before it starts, or names too many hosts; text blank once control characters are removed"))
    circle: str = circle_arg()
    title: str = arg(Text(1, vocab.MAX_TITLE), "what it is called (one line)", noun="the title")
    when: int = arg(_WHEN, "when it starts", noun="the start")
    ends: int | None = arg(Maybe(_WHEN), "when it ends (null: not said)", noun="the end", default=None)
    where: str = arg(Text(0, vocab.MAX_NOTE), "where to meet (members only)", noun="where", default="")
    kind: str = arg(Choice(vocab.GATHERING_KINDS), "what kind of gathering", noun="the kind", default="group")
    about: str = arg(Text(0, vocab.MAX_GATHERING_TEXT), "what it is about", noun="what it is about", default="")
    hosts: tuple[str, ...] = arg(Seq(MEMBER_REF, 0, vocab.MAX_GATHERING_HOSTS - 1, distinct=True, item_noun="host"),
                                 "members who host it with the organiser (none: the organiser alone)",
                                 noun="the hosts", default=())
    agreements: tuple[str, ...] = arg(_ITEMS, "the group's agreements (none: the circle's template)",
                                      noun="the agreements", default=())
    format: tuple[str, ...] = arg(_ITEMS, "its shape, in order (none: " + "; ".join(vocab.DEFAULT_FORMAT) + ")",
                                  noun="the rounds", default=())
    aftercare: str = arg(Text(0, vocab.MAX_GATHERING_TEXT), "who to contact if something came up for someone",
                         noun="the aftercare", default="")
    remind: int = arg(Int(0, vocab.MAX_REMIND_MINUTES), "minutes before it starts to remind the people coming "
                      "(0: no reminder)", noun="the reminder", default=60)

    def check_rules(self) -> None:
        if self.ends is not None and self.ends < self.when:
            raise BadInput("the end is before the start")


@dataclass(frozen=True, slots=True, kw_only=True)
class GatheringList(Request[r.GatheringListResult]):
    """The circles' gatherings this node can read: those to come (and under way), soonest first."""

    OP = n.OP_GATHERING_LIST
    ERRORS = (NO_CIRCLE,)
    all: bool = arg(Flag(), "past and called-off ones too", noun="all", default=False)
    circle: str | None = arg(Maybe(CIRCLE_REF), "only this circle (null: every circle)", noun="the circle",
                             default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class GatheringShow(Request[r.GatheringShowResult]):
    """One gathering: agreements, shape, where, aftercare, who is coming."""

    OP = n.OP_GATHERING_SHOW
    ERRORS = (NO_GATHERING,)
    gathering: str = gathering_arg()


@dataclass(frozen=True, slots=True, kw_only=True)
class GatheringCancel(Request[r.GatheringCancelResult]):
    """Call a gathering off (its organiser, a host, or a facilitator of the circle)."""

    OP = n.OP_GATHERING_CANCEL
    ERRORS = (NO_GATHERING, (BAD_REQUEST, "this person may not call it off, or it is already called off"))
    gathering: str = gathering_arg()


@dataclass(frozen=True, slots=True, kw_only=True)
class GatheringRsvp(Request[r.GatheringRsvpResult]):
    """Say whether this person is coming (a later answer replaces an earlier one)."""

    OP = n.OP_GATHERING_RSVP
    ERRORS = (NO_GATHERING, (BAD_REQUEST, "the gathering was called off or is over"))
    gathering: str = gathering_arg()
    answer: str = arg(Choice(vocab.RSVP_ANSWERS), "yes, no or maybe", noun="the answer")


@dataclass(frozen=True, slots=True, kw_only=True)
class AgreementsShow(Request[r.AgreementsShowResult]):
    """A circle's group agreements: what new gatherings start from."""

    OP = n.OP_AGREEMENTS_SHOW
    ERRORS = (NO_CIRCLE,)
    circle: str = circle_arg()


@dataclass(frozen=True, slots=True, kw_only=True)
class AgreementsSet(Request[r.AgreementsSetResult]):
    """Change a circle's group agreements (facilitators); gatherings already posted keep theirs."""

    OP = n.OP_AGREEMENTS_SET
    ERRORS = (NO_CIRCLE, (BAD_REQUEST, "this person is not a facilitator of the circle"))
    circle: str = circle_arg()
    items: tuple[str, ...] = arg(Seq(Text(1, vocab.MAX_ITEM_TEXT), 1, vocab.MAX_LIST_ITEMS, distinct=True,
                                     item_noun="agreement"), "the agreements, in order", noun="the agreements")


REQUESTS_GATHERINGS: Final[tuple[type[Request[Any]], ...]] = (
    GatheringCreate, GatheringList, GatheringShow, GatheringCancel, GatheringRsvp, AgreementsShow, AgreementsSet)
