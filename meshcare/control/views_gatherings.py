"""What results and events show of a gathering (a support group, a workshop, a walk, a shared meal) and
of a circle's group agreements, as typed records (``schema`` explains the fields).

Who sees what is decided by the daemon when it builds these (circles/gatherings.py): ``rsvps`` names who
answered what only for the gathering's hosts and the circle's facilitators; everyone else gets ``counts``
and their own answer (``mine``). That is what the interface shows, not a secret: an RSVP's author is
visible to every member's node (docs/circles.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Final

from .. import vocab
from .schema import Choice, Flag, Map, Maybe, Record, Seq, View, key
from .views import CIRCLE_ID, COUNT, ID, NAMES, TEXT, WHEN

__all__ = ["Agreements", "Gathering", "GatheringAnswer", "VIEWS_GATHERINGS"]


@dataclass(frozen=True, slots=True, kw_only=True)
class GatheringAnswer(Record):
    """One member's current answer to a gathering (shown to its hosts and the circle's facilitators)."""

    WHAT: ClassVar[str] = "an RSVP"
    member: str = key(ID, "who answered")
    answer: str = key(Choice(vocab.RSVP_ANSWERS), "their latest answer")
    created: int = key(WHEN, "when they gave it (their clock)")


@dataclass(frozen=True, slots=True, kw_only=True)
class Gathering(Record):
    """A gathering of the circle: what, when, where (members only), its agreements and shape, aftercare,
    and who is coming (names for hosts and facilitators, counts for everyone)."""

    WHAT: ClassVar[str] = "a gathering"
    id: str = key(ID, "the gathering's id")
    circle: str = key(CIRCLE_ID, "the circle it is in")
    circle_name: str = key(TEXT, "that circle's name")
    author: str = key(ID, "who organised it")
    title: str = key(TEXT, "its title")
    kind: str = key(Choice(vocab.GATHERING_KINDS), "a group, a workshop, a walk, a meal, or other")
    when: int = key(WHEN, "when it starts")
    ends: int | None = key(Maybe(WHEN), "when it ends, if the organiser said")
    where: str = key(TEXT, "where (only members of the circle can read it)")
    about: str = key(TEXT, "what it is about, or empty")
    hosts: tuple[str, ...] = key(Seq(ID), "its facilitators (the organiser and one more, by default)")
    agreements: tuple[str, ...] = key(Seq(TEXT), "the group's agreements")
    format: tuple[str, ...] = key(Seq(TEXT), "its shape, in order (check-in round, topic, closing round, ...)")
    aftercare: str = key(TEXT, "who to contact if something came up for you, or empty")
    remind: int = key(COUNT, "minutes before it starts that the people coming are reminded (0: not)")
    created: int = key(WHEN, "when it was posted")
    cancelled: bool = key(Flag(), "it was called off")
    cancelled_by: str | None = key(Maybe(ID), "who called it off")
    started: bool = key(Flag(), "it has started (show the aftercare from then)")
    over: bool = key(Flag(), "it has ended (at `over_at`)")
    over_at: int = key(WHEN, "when it is over: its `ends`, or two hours after it starts")
    counts: dict[str, int] = key(Map(Choice(vocab.RSVP_ANSWERS), COUNT), "yes / maybe / no -> how many answered so")
    mine: str | None = key(Maybe(Choice(vocab.RSVP_ANSWERS)), "this person's answer, if any")
    hosting: bool = key(Flag(), "this person is one of its hosts")
    sees_names: bool = key(Flag(), "this person is shown who answered (a host or a facilitator)")
    may_cancel: bool = key(Flag(), "this person may call it off (its organiser, a host or a facilitator)")
    rsvps: tuple[GatheringAnswer, ...] = key(Seq(View(GatheringAnswer), item_noun="RSVP"),
                                           "who answered what (empty unless `sees_names`)")
    names: dict[str, str] = key(NAMES, "id -> name of the people it shows")


@dataclass(frozen=True, slots=True, kw_only=True)
class Agreements(Record):
    """A circle's template of group agreements: what a new gathering starts from."""

    WHAT: ClassVar[str] = "group agreements"
    circle: str = key(CIRCLE_ID, "the circle")
    circle_name: str = key(TEXT, "its name")
    items: tuple[str, ...] = key(Seq(TEXT), "the agreements, in order")
    default: bool = key(Flag(), "no facilitator has set them yet: these are meshcare's defaults")
    may_edit: bool = key(Flag(), "this person may change them (a facilitator)")


VIEWS_GATHERINGS: Final = (Gathering, GatheringAnswer, Agreements)
