"""The mutual-aid board at the command line: `need`, `needs`, `take`, `done`, `board` (and `release` for
an item, through the call command of that name: ``release_item``).

Each command is a thin client of one control op of the board (``control/requests_board.py``), as
``cli/common.py`` describes: words for people, or ``--json`` with the daemon's result as it is; a refusal
exits 1 with the daemon's words, bad usage exits 2.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .. import config, vocab
if TYPE_CHECKING:  # the control API's records load with the command that uses them
    from ..control.views_board import Board, Need
from ..errors import BadInput
from . import reach
from .common import EXIT_OK, add_command, ask_daemon, emit, short, shorten, table, when, word

__all__ = ["item_line", "register", "release_item"]


def _poster(n: Need) -> str:
    if n.mine:
        return "you" + (" (no name shown)" if n.anonymous else "")
    if n.anonymous or n.author is None:
        return "someone (no name shown)"
    return n.names.get(n.author) or short(n.author)


def _person(who: str | None, n: Need, me_too: bool = False) -> str:
    if who is None:
        return "nobody"
    if me_too:
        return "you"
    return n.names.get(who) or short(who)


def status_words(n: Need, me: str | None = None) -> str:
    """``open``, ``taken by bob``, ``done (by you)``, or why a withheld item is not shown."""
    if n.status == "taken":
        return f"taken by {_person(n.taker, n, n.taker is not None and n.taker == me)}"
    if n.status == "done":
        return "done" if n.done_by is None else f"done (by {_person(n.done_by, n, n.done_by == me)})"
    return vocab.NEED_STATE_WORDS.get(n.status, n.status)


def item_line(n: Need) -> tuple[str, ...]:
    """One row of the `needs` table."""
    me = n.author if n.mine else n.taker if n.taken_by_me else None
    return (short(n.id), n.circle_name, n.kind, vocab.NEED_CATEGORY_WORDS.get(n.category, n.category), _poster(n),
            status_words(n, me), shorten(n.when, 16) or "-", shorten(n.text, 40))


def _reach_lines(needs: Sequence[Need]) -> list[str]:
    """How to reach the poster of each item this person took (only they and the poster see it)."""
    return [f"how to reach {_poster(n)} about {short(n.id)}: {n.reach}" for n in needs
            if n.reach and n.taken_by_me and n.status == "taken"]


# --- commands --------------------------------------------------------------------------------------

def cmd_need(args: argparse.Namespace, settings: config.Settings) -> int:
    from ..control.requests_board import NeedCreate

    answer = ask_daemon(settings, NeedCreate(circle=args.circle, text=args.text, category=args.category,
                                             kind="offer" if args.offer else "need", when=args.when or "",
                                             reach=args.reach or "", anonymous=args.anonymous))
    n = answer.result.need
    what = "offer" if n.kind == "offer" else "need"
    name = " with no name shown" if n.anonymous else ""
    kept = ("Whoever takes it will be sent how to reach you; nobody else sees it." if answer.result.reach_kept else
            "You left no way to be reached: whoever takes it will see your name on the board"
            + (" only as someone" if n.anonymous else "") + ".")
    emit(args, answer.data, f"Your {what} is on the board of {n.circle_name}{name} (item {short(n.id)}). {kept}"
                            + reach.posted_note(answer.result.linked))
    return EXIT_OK


def cmd_needs(args: argparse.Namespace, settings: config.Settings) -> int:
    from ..control.requests_board import NeedList

    answer = ask_daemon(settings, NeedList(all=args.all, circle=args.circle))
    needs = answer.result.needs
    if not needs:
        text = "Nothing open on the board." + ("" if args.all else " (--all shows done items too)")
    else:
        text = table([("ITEM", "CIRCLE", "KIND", "ABOUT", "FROM", "STATUS", "WHEN", "TEXT"),
                      *(item_line(n) for n in needs)])
        text = "\n".join([text, *_reach_lines(needs)])
    emit(args, answer.data, text)
    return EXIT_OK


def cmd_take(args: argparse.Namespace, settings: config.Settings) -> int:
    from ..control.requests_board import NeedTake

    answer = ask_daemon(settings, NeedTake(need=args.need))
    n = answer.result.need
    then = (f" How to reach them: {n.reach}" if n.reach else
            " Their node will send you how to reach them, if they left a way (`meshcare needs` shows it).")
    emit(args, answer.data, f"You'll take this (item {short(n.id)}): the circle sees it.{then}"
                            + reach.posted_note(answer.result.linked))
    return EXIT_OK


def cmd_done(args: argparse.Namespace, settings: config.Settings) -> int:
    from ..control.requests_board import NeedDone

    answer = ask_daemon(settings, NeedDone(need=args.need))
    emit(args, answer.data, f"Marked done (item {short(answer.result.need.id)})."
                            + reach.posted_note(answer.result.linked))
    return EXIT_OK


def release_item(args: argparse.Namespace, settings: config.Settings, ref: str) -> int:
    """`meshcare release ITEM` for a board item (the taker gives it back, or the poster reopens it)."""
    from ..control.requests_board import NeedRelease

    answer = ask_daemon(settings, NeedRelease(need=ref))
    n = answer.result.need
    words = "Reopened your item" if n.mine else "You gave it back"
    emit(args, answer.data, f"{words} (item {short(n.id)}); it is open for others again."
                            + reach.posted_note(answer.result.linked))
    return EXIT_OK


def _board_text(b: Board) -> str:
    allowed = "allows anonymous posts" if b.anonymous else "does not allow anonymous posts"
    return f"The board of {b.circle_name} {allowed}; {b.open} item{'s' if b.open != 1 else ''} open or taken."


def cmd_board(args: argparse.Namespace, settings: config.Settings) -> int:
    from ..control.requests_board import BoardSet, NeedList

    if args.anonymous is None:
        answer = ask_daemon(settings, NeedList(circle=args.circle))
        if not answer.result.boards:
            raise BadInput("this node is not a member of that circle (a relay has no board)")
        emit(args, {"boards": answer.data["boards"]}, _board_text(answer.result.boards[0]))
        return EXIT_OK
    setting = ask_daemon(settings, BoardSet(circle=args.circle, anonymous=args.anonymous == "on"))
    emit(args, setting.data, _board_text(setting.result.board) + " What was posted before stays as it was."
                             + reach.posted_note(setting.result.linked))
    return EXIT_OK


def _on_off(text: str) -> str:
    value = text.strip().lower()
    if value not in ("on", "off"):
        raise argparse.ArgumentTypeError(f"write on or off (not {text!r})")
    return value


# --- the parsers -----------------------------------------------------------------------------------

def register(sub: Any) -> None:
    """Add `need`, `needs`, `take`, `done` and `board` to the top-level subparsers ``sub`` (`release`
    is the call command's, which hands a board item to ``release_item``)."""
    categories = ", ".join(vocab.NEED_CATEGORIES)
    p = add_command(sub, "need", cmd_need, "put a need or an offer on a circle's mutual-aid board",
                    "meshcare need 'Elm St' 'a ride to the clinic' --category ride --when 'Tue 9:00' "
                    "--reach 'call 555-0100'\n  meshcare need 'Elm St' 'soup for two' --category food --offer",
                    more=f"Categories: {categories}. --reach stays on your node and is sent, sealed, only to "
                         "whoever takes it. --anonymous shows no name on the board where the circle allows "
                         "it (your node still signs the post: a modified app could see who).")
    p.add_argument("circle", metavar="CIRCLE", help="circle name or the start of its id")
    p.add_argument("text", metavar="TEXT", help="what you need or offer")
    p.add_argument("--category", required=True, type=word, choices=vocab.NEED_CATEGORIES, metavar="CATEGORY",
                   help=f"what it is about: {categories}")
    p.add_argument("--offer", action="store_true", help="an offer (you give), not a need (you ask)")
    p.add_argument("--when", metavar="TEXT", help="when, in a few words")
    p.add_argument("--reach", metavar="TEXT", help="how whoever takes it can reach you (only they see it)")
    p.add_argument("--anonymous", action="store_true", help="show no name on the board (if the circle allows it)")

    p = add_command(sub, "needs", cmd_needs, "list the mutual-aid boards of your circles (open and taken items)",
                    "meshcare needs --circle 'Elm St' --all")
    p.add_argument("--all", action="store_true", help="done items too")
    p.add_argument("--circle", metavar="CIRCLE", help="only this circle")

    p = add_command(sub, "take", cmd_take, "say \"I'll take this\" for an item on the board",
                    "meshcare take 3f2a9c1d")
    p.add_argument("need", metavar="ITEM", help="the item's id or its first 4+ characters (`meshcare needs`)")

    p = add_command(sub, "done", cmd_done, "mark an item on the board done (its poster or whoever took it)",
                    "meshcare done 3f2a9c1d")
    p.add_argument("need", metavar="ITEM", help="the item's id or its first 4+ characters (`meshcare needs`)")

    p = add_command(sub, "board", cmd_board, "show a circle's board settings, or allow anonymous posts (facilitators)",
                    "meshcare board 'Elm St'\n  meshcare board 'Elm St' --anonymous on",
                    more="Anonymous posts are off until a facilitator allows them. Turning them off later does "
                         "not change what was posted.")
    p.add_argument("circle", metavar="CIRCLE", help="circle name or the start of its id")
    p.add_argument("--anonymous", type=_on_off, metavar="on|off", help="allow (on) or stop (off) anonymous posts")
