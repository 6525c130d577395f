"""The mutual-aid board as the control API shows it: one item (a need or an offer) and one circle's board.

Apart from ``views.py`` (which lists them in ``VIEWS``) so the board's views live with the board; this
module imports only ``schema`` and ``vocab``, so ``views.py`` can import it without a cycle.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Final

from .. import vocab
from .schema import Choice, Flag, Hex, Int, Map, Maybe, Record, Text, Time, key

__all__ = ["Board", "Need"]

_ID: Final = Hex(32)
_CIRCLE_ID: Final = Hex(16)
_TEXT: Final = Text()


@dataclass(frozen=True, slots=True, kw_only=True)
class Need(Record):
    """A need or an offer on a circle's board, as this node may show it. An anonymous item names nobody
    (`author` is null; the board hides the name, but the poster's node signed it: a modified client could
    see who). How to reach the poster (`reach`) is shown only to whoever took it, once the poster's node
    sent it to them, and to the poster."""

    WHAT: ClassVar[str] = "a board item"
    id: str = key(_ID, "the item's id (name it in `need.take`, `need.done`, `need.release`)")
    circle: str = key(_CIRCLE_ID, "the circle it is on")
    circle_name: str = key(_TEXT, "that circle's name")
    kind: str = key(Choice(vocab.BOARD_KINDS), "a need (someone asks) or an offer (someone gives)")
    category: str = key(Choice(vocab.NEED_CATEGORIES), "what it is about (`vocab.NEED_CATEGORY_WORDS`)")
    text: str = key(_TEXT, "what they wrote")
    when: str = key(_TEXT, "when, in their words (or empty)")
    status: str = key(Choice(vocab.NEED_STATES), "`open`, `taken` (someone said \"I'll take this\"), `done`, or "
                      "`withheld` (an anonymous post the circle did not allow then: only its poster sees it)")
    anonymous: bool = key(Flag(), "the board shows no name for it")
    author: str | None = key(Maybe(_ID), "who posted it (null when anonymous)")
    mine: bool = key(Flag(), "this person posted it")
    taker: str | None = key(Maybe(_ID), "who took it (null while open)")
    taken_by_me: bool = key(Flag(), "this person took it", default=False)
    done_by: str | None = key(Maybe(_ID), "who marked it done: the poster or the taker (null until then, and when "
                            "the poster of an anonymous item did)")
    reach: str | None = key(Maybe(_TEXT), "how to reach the poster: for the taker (once it arrived) and the poster "
                            "only; null for everyone else")
    created: int = key(Time(), "when it was posted (the poster's clock)")
    names: dict[str, str] = key(Map(_ID, _TEXT), "id -> name of the people it names")


@dataclass(frozen=True, slots=True, kw_only=True)
class Board(Record):
    """One circle's board settings, and what this person may do with them."""

    WHAT: ClassVar[str] = "a circle's board"
    circle: str = key(_CIRCLE_ID, "the circle's id")
    circle_name: str = key(_TEXT, "its name")
    anonymous: bool = key(Flag(), "anonymous posts are allowed now (a facilitator chose it; off until one does)")
    facilitator: bool = key(Flag(), "this person is a facilitator there (they may change it: `board.set`)")
    open: int = key(Int(0), "items open or taken there now")
