"""The views of consent-based ladders and "who not to involve" lists (issue 13, item 2).

A ladder request is private to two people (the one who asks and the one asked), so every view here is
only ever built from what this node can read: its own ladders and the requests made to it. The avoid
list never leaves this node.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Final

from .. import vocab
from .schema import Choice, Flag, Int, Maybe, Record, Seq, View, key
from .shapes import Hex, Text, Time

__all__ = ["AvoidEntry", "LADDER_VIEWS", "LadderRequest", "LadderRung", "MyLadder", "ORDINALS", "asked_words",
           "step_words"]

ID: Final = Hex(32)
CIRCLE_ID: Final = Hex(16)
TEXT: Final = Text()
WHEN: Final = Time()
STEP: Final = Int(0, vocab.MAX_LADDER_STEPS - 1)
ORDINALS: Final = ("first", "second", "third", "fourth", "fifth")


@dataclass(frozen=True, slots=True, kw_only=True)
class LadderRung(Record):
    """Someone on one of this person's ladders, and whether they said yes."""

    WHAT: ClassVar[str] = "a ladder rung"
    request: str = key(ID, "the request that asked them (name it in `ladder.remove`)")
    member: str = key(ID, "who")
    name: str | None = key(Maybe(TEXT), "their name")
    step: int = key(STEP, "their step on the ladder (0: first contacted)")
    state: str = key(Choice(vocab.LADDER_STATES), "pending until they answer; only accepted rungs are used")


@dataclass(frozen=True, slots=True, kw_only=True)
class MyLadder(Record):
    """One of this person's ladders in one circle (e.g. "calls" for company, "practical")."""

    WHAT: ClassVar[str] = "a ladder"
    circle: str = key(CIRCLE_ID, "the circle's id")
    circle_name: str = key(TEXT, "the circle's name")
    name: str = key(TEXT, "the ladder's name")
    rungs: tuple[LadderRung, ...] = key(Seq(View(LadderRung)), "who is on it, by step")


@dataclass(frozen=True, slots=True, kw_only=True)
class LadderRequest(Record):
    """A request for a place on someone's ladder: one this person made, or one made to them."""

    WHAT: ClassVar[str] = "a ladder request"
    id: str = key(ID, "the request's id (name it in `ladder.answer` or `ladder.remove`)")
    circle: str = key(CIRCLE_ID, "the circle's id")
    circle_name: str = key(TEXT, "the circle's name")
    requester: str = key(ID, "who asked")
    requester_name: str | None = key(Maybe(TEXT), "their name")
    member: str = key(ID, "who is asked")
    member_name: str | None = key(Maybe(TEXT), "their name")
    ladder: str = key(TEXT, "which ladder")
    step: int = key(STEP, "which step (0: first contacted)")
    text: str = key(TEXT, "a note from the one who asked, or empty")
    state: str = key(Choice(vocab.LADDER_STATES), "where it stands")
    created: int = key(WHEN, "when it was asked (their clock)")
    mine: bool = key(Flag(), "this person asked")


@dataclass(frozen=True, slots=True, kw_only=True)
class AvoidEntry(Record):
    """Someone this person asked never to be involved in their calls in one circle (kept on this node)."""

    WHAT: ClassVar[str] = "an avoid entry"
    circle: str = key(CIRCLE_ID, "the circle's id")
    circle_name: str = key(TEXT, "the circle's name")
    member: str = key(ID, "who")
    name: str | None = key(Maybe(TEXT), "their name (null: nobody this node knows any more)")


def step_words(step: int, ladder: str) -> str:
    """"a first contact for calls": what a step of a ladder means, in plain words."""
    ordinal = ORDINALS[step] if 0 <= step < len(ORDINALS) else f"step {step + 1}"
    return f"a {ordinal} contact for {ladder}"


def asked_words(request: LadderRequest) -> str:
    """The question a request asks its member, in plain words ("Mo would like you as a first contact
    for calls."). Peer text: the caller escapes it for where it shows it."""
    who = request.requester_name or "Someone"
    return f"{who} would like you as {step_words(request.step, request.ladder)}."


LADDER_VIEWS: Final = (LadderRung, MyLadder, LadderRequest, AvoidEntry)
