"""What the mutual-aid board's ops answer (``results.py`` lists them in ``RESULTS``).

Apart from ``results.py`` so the board's records live together; it derives from ``result_base`` only,
so either module may be imported first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from . import names as n
from .result_base import Result, linked as _linked
from .schema import Flag, Hex, Seq, View, key
from .views_board import Board, Need

__all__ = ["BoardSetResult", "NeedCreateResult", "NeedDoneResult", "NeedListResult", "NeedReleaseResult",
           "NeedTakeResult"]


@dataclass(frozen=True, slots=True, kw_only=True)
class NeedCreateResult(Result):
    """The need or offer, as it went out."""

    OP: ClassVar[str] = n.OP_NEED_CREATE
    need: Need = key(View(Need), "the new item")
    reach_kept: bool = key(Flag(), "a way to reach this person was kept on this node, for whoever takes it")
    linked: int | None = _linked()


@dataclass(frozen=True, slots=True, kw_only=True)
class NeedListResult(Result):
    """The board of every circle (or one)."""

    OP: ClassVar[str] = n.OP_NEED_LIST
    needs: tuple[Need, ...] = key(Seq(View(Need), item_noun="board item"),
                                  "open and taken items (with `all`, done ones too), newest first")
    boards: tuple[Board, ...] = key(Seq(View(Board), item_noun="board"), "each circle's board settings")


@dataclass(frozen=True, slots=True, kw_only=True)
class NeedTakeResult(Result):
    """"I'll take this", posted."""

    OP: ClassVar[str] = n.OP_NEED_TAKE
    id: str = key(Hex(32), "the post's id")
    need: Need = key(View(Need), "the item as it is now")
    linked: int | None = _linked()


@dataclass(frozen=True, slots=True, kw_only=True)
class NeedReleaseResult(Result):
    """The item given back (it is open again)."""

    OP: ClassVar[str] = n.OP_NEED_RELEASE
    id: str = key(Hex(32), "the post's id")
    need: Need = key(View(Need), "the item as it is now")
    linked: int | None = _linked()


@dataclass(frozen=True, slots=True, kw_only=True)
class NeedDoneResult(Result):
    """The item marked done."""

    OP: ClassVar[str] = n.OP_NEED_DONE
    id: str = key(Hex(32), "the post's id")
    need: Need = key(View(Need), "the item as it is now")
    linked: int | None = _linked()


@dataclass(frozen=True, slots=True, kw_only=True)
class BoardSetResult(Result):
    """The circle's board settings as they are now."""

    OP: ClassVar[str] = n.OP_BOARD_SET
    id: str = key(Hex(32), "the settings post's id")
    board: Board = key(View(Board), "the board's settings")
    linked: int | None = _linked()
