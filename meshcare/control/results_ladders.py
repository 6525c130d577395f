"""What the ladder and "who not to involve" ops answer (issue 13, item 2; the views: views_ladders.py).

A ladder request is private to two people (the one who asks and the one asked), so every view here is
only ever built from what this node can read: its own ladders and the requests made to it. The avoid
list never leaves this node; ``avoid.*`` answers only what it holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Final

from . import names as n
from .result_base import Result
from .schema import Flag, Int, Maybe, Seq, View, key
from .views import ID
from .views_ladders import AvoidEntry, LadderRequest, MyLadder

__all__ = ["AvoidAddResult", "AvoidListResult", "AvoidRemoveResult", "LADDER_RESULTS", "LadderAddResult",
           "LadderAnswerResult", "LadderListResult", "LadderRemoveResult", "LadderRequestsResult"]


def _linked() -> Any:
    return key(Maybe(Int(0)), "links open now to nodes that share the circle: 0 means it is kept here and goes "
               "when one of them is reachable", default=None)


# --- results ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class LadderAddResult(Result):
    """The request as it went out (pending until they answer)."""

    OP: ClassVar[str] = n.OP_LADDER_ADD
    request: LadderRequest = key(View(LadderRequest), "the new request")
    linked: int | None = _linked()


@dataclass(frozen=True, slots=True, kw_only=True)
class LadderListResult(Result):
    """This person's ladders, with who is on each and whether they said yes."""

    OP: ClassVar[str] = n.OP_LADDER_LIST
    ladders: tuple[MyLadder, ...] = key(Seq(View(MyLadder)), "by circle, then in the order they were started")


@dataclass(frozen=True, slots=True, kw_only=True)
class LadderRequestsResult(Result):
    """Requests others made to this person (withdrawn ones left out), oldest first."""

    OP: ClassVar[str] = n.OP_LADDER_REQUESTS
    requests: tuple[LadderRequest, ...] = key(Seq(View(LadderRequest)), "the requests")


@dataclass(frozen=True, slots=True, kw_only=True)
class LadderAnswerResult(Result):
    """The answer as it went out, and the request as it stands now."""

    OP: ClassVar[str] = n.OP_LADDER_ANSWER
    id: str = key(ID, "the answer's id")
    request: LadderRequest = key(View(LadderRequest), "the request")
    linked: int | None = _linked()


@dataclass(frozen=True, slots=True, kw_only=True)
class LadderRemoveResult(Result):
    """The request, withdrawn (the person asked is told; they are off the ladder)."""

    OP: ClassVar[str] = n.OP_LADDER_REMOVE
    id: str = key(ID, "the withdrawal's id")
    request: LadderRequest = key(View(LadderRequest), "the request")
    linked: int | None = _linked()


@dataclass(frozen=True, slots=True, kw_only=True)
class AvoidAddResult(Result):
    """Who was added to this person's "who not to involve" list (kept on this node, never posted)."""

    OP: ClassVar[str] = n.OP_AVOID_ADD
    entry: AvoidEntry = key(View(AvoidEntry), "the entry")
    added: bool = key(Flag(), "false: they were on the list already")


@dataclass(frozen=True, slots=True, kw_only=True)
class AvoidRemoveResult(Result):
    """Who was taken off the list."""

    OP: ClassVar[str] = n.OP_AVOID_REMOVE
    entry: AvoidEntry = key(View(AvoidEntry), "the entry")
    removed: bool = key(Flag(), "false: they were not on the list")


@dataclass(frozen=True, slots=True, kw_only=True)
class AvoidListResult(Result):
    """This person's "who not to involve" lists (only this node has them)."""

    OP: ClassVar[str] = n.OP_AVOID_LIST
    avoid: tuple[AvoidEntry, ...] = key(Seq(View(AvoidEntry)), "by circle, then by name")


LADDER_RESULTS: Final[tuple[type[Result], ...]] = (
    LadderAddResult, LadderListResult, LadderRequestsResult, LadderAnswerResult, LadderRemoveResult,
    AvoidAddResult, AvoidRemoveResult, AvoidListResult)
