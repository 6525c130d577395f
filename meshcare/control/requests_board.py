"""What a client may ask of the mutual-aid board (``requests.py`` lists these in ``REQUESTS``).

An item (a need or an offer) is named by at least ``vocab.MIN_ID_PREFIX`` hex digits of its id
(`need.list` shows them). Who may take, release or close an item is the fold's rule (circles/board.py);
the daemon refuses early, with a reason, what the fold would ignore.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from .. import vocab
from . import names as n
from . import results_board as r
from .names import BAD_REQUEST, NOT_FOUND
from .request_base import CIRCLE_REF, NO_CIRCLE, Request, circle_arg, id_ref
from .schema import Choice, Flag, Maybe, Text, arg

__all__ = ["BoardSet", "NeedCreate", "NeedDone", "NeedList", "NeedRelease", "NeedTake"]

NO_NEED: Final = (NOT_FOUND, "no board item this node can read starts with that (fewer than 4 digits, or several "
                             "match: bad-request)")
_HINT: Final = "`meshcare needs --all` lists them"


def _need_arg() -> Any:
    return arg(id_ref(_HINT), "the item: the start of its id", noun="the item")


@dataclass(frozen=True, slots=True, kw_only=True)
class NeedCreate(Request[r.NeedCreateResult]):
    """Put a need ("I need a ride on Tuesday") or an offer ("I can cook for two") on a circle's board.
    `reach` (how whoever takes it can reach this person) stays on this node and is sent, sealed, only to
    whoever takes it."""

    OP = n.OP_NEED_CREATE
    ERRORS = (NO_CIRCLE, (BAD_REQUEST, "anonymous, and the circle does not allow anonymous posts; the text is blank "
                                       "once control characters are removed; this node keeps too many ways to be "
                                       "reached already"))
    circle: str = circle_arg()
    text: str = arg(Text(1, vocab.MAX_NEED_TEXT), "what is needed or offered", noun="the text")
    category: str = arg(Choice(vocab.NEED_CATEGORIES), "what it is about", noun="the category")
    kind: str = arg(Choice(vocab.BOARD_KINDS), "`need` (asking) or `offer` (giving)", noun="the kind", default="need")
    when: str = arg(Text(0, vocab.MAX_NOTE), "when, in a few words", noun="when", default="")
    reach: str = arg(Text(0, vocab.MAX_NOTE), "how whoever takes it can reach this person (only they will see it)",
                     noun="how to reach you", default="")
    anonymous: bool = arg(Flag(), "show no name on the board (where the circle allows it)", noun="anonymous",
                          default=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class NeedList(Request[r.NeedListResult]):
    """The boards: items open or taken (`all`: done ones too), newest first, and each circle's settings."""

    OP = n.OP_NEED_LIST
    ERRORS = (NO_CIRCLE,)
    all: bool = arg(Flag(), "done items too", noun="all", default=False)
    circle: str | None = arg(Maybe(CIRCLE_REF), "only this circle (null: every circle)", noun="the circle",
                             default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class NeedTake(Request[r.NeedTakeResult]):
    """Say "I'll take this": the circle sees who took it; the poster's node sends how to reach them."""

    OP = n.OP_NEED_TAKE
    ERRORS = (NO_NEED, (BAD_REQUEST, "it is this person's own, someone else took it already, or it is done"))
    need: str = _need_arg()


@dataclass(frozen=True, slots=True, kw_only=True)
class NeedRelease(Request[r.NeedReleaseResult]):
    """Give an item back (the taker), or reopen it (the poster): it is open again for anyone."""

    OP = n.OP_NEED_RELEASE
    ERRORS = (NO_NEED, (BAD_REQUEST, "nobody has it, or this person is neither its taker nor its poster"))
    need: str = _need_arg()


@dataclass(frozen=True, slots=True, kw_only=True)
class NeedDone(Request[r.NeedDoneResult]):
    """Mark an item done (its poster, or whoever took it)."""

    OP = n.OP_NEED_DONE
    ERRORS = (NO_NEED, (BAD_REQUEST, "it is done already, or this person is neither its poster nor its taker"))
    need: str = _need_arg()


@dataclass(frozen=True, slots=True, kw_only=True)
class BoardSet(Request[r.BoardSetResult]):
    """Allow or stop anonymous posts on a circle's board (facilitators). What was posted stays as it was."""

    OP = n.OP_BOARD_SET
    ERRORS = (NO_CIRCLE, (BAD_REQUEST, "this person is not a facilitator of that circle"))
    circle: str = circle_arg()
    anonymous: bool = arg(Flag(), "allow anonymous posts", noun="anonymous")
