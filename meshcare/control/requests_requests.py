"""Requests of the private-request and library ops (``request.*``, ``library.*``).

A **private request** goes to one or two facilitators of a circle, chosen by the asker, and its thread
stays between those people. A **library text** is named by its title in its circle (or the start of its
id, at least ``vocab.MIN_ID_PREFIX`` hex digits); only facilitators write, change and remove them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from .. import vocab
from . import names as n
from . import results_requests as r
from .names import BAD_REQUEST, NOT_FOUND
from .request_base import MEMBER_REF, NO_CIRCLE, NO_MEMBER, Request, circle_arg, id_ref
from .schema import Choice, Flag, Maybe, Seq, Text, arg

__all__ = ["LibraryEdit", "LibraryList", "LibraryRemove", "LibraryShow", "LibraryStarters", "RequestClose",
           "RequestCreate", "RequestList", "RequestReply", "RequestShow"]

_REQUEST_HINT = "`meshcare requests` lists them"
NO_REQUEST = (NOT_FOUND, "no private request this node can read starts with that (fewer than 4 digits, or "
                         "several match: bad-request)")
NO_NOTE = (NOT_FOUND, "no text by that title (or id start) in the circle's library")
NOT_FACILITATOR = (BAD_REQUEST, "this person is not a facilitator of the circle (only facilitators write the "
                                "library)")


def _request_arg() -> Any:
    return arg(id_ref(_REQUEST_HINT), "the request: the start of its id", noun="the request")


# --- private requests ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestCreate(Request[r.RequestCreateResult]):
    """Ask one or two facilitators of a circle, privately, for a conversation, a debrief or help with a
    conflict. Only they and the asker can read it and its thread."""

    OP = n.OP_REQUEST_CREATE
    ERRORS = (NO_CIRCLE, NO_MEMBER,
              (BAD_REQUEST, "someone named is not a facilitator of the circle, or is this person"))
    circle: str = circle_arg()
    to: tuple[str, ...] = arg(Seq(MEMBER_REF, 1, vocab.MAX_REQUEST_TO, distinct=True, item_noun="facilitator"),
                              f"the facilitators asked (1 to {vocab.MAX_REQUEST_TO}): names or starts of ids",
                              noun="the facilitators asked")
    about: str = arg(Choice(vocab.REQUEST_ABOUT), "what it is about", noun="what it is about",
                     default="conversation")
    text: str = arg(Text(1, vocab.MAX_REQUEST_TEXT), "what to say", noun="the request's text")


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestList(Request[r.RequestListResult]):
    """Every private request this node can read: this person's own, and those asked of them."""

    OP = n.OP_REQUEST_LIST
    ERRORS = (NO_CIRCLE,)
    circle: str | None = arg(Maybe(Text(1, vocab.MAX_REF, strip=True)), "only this circle (null: every circle)",
                             noun="the circle", default=None)
    all: bool = arg(Flag(), "closed ones too", noun="all", default=True)


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestShow(Request[r.RequestShowResult]):
    """One private request and its thread."""

    OP = n.OP_REQUEST_SHOW
    ERRORS = (NO_REQUEST,)
    request: str = _request_arg()


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestReply(Request[r.RequestReplyResult]):
    """Answer in a private request's thread (its people only: the asker and the facilitators asked)."""

    OP = n.OP_REQUEST_REPLY
    ERRORS = (NO_REQUEST, (BAD_REQUEST, "the asker closed it"))
    request: str = _request_arg()
    text: str = arg(Text(1, vocab.MAX_REQUEST_TEXT), "what to say", noun="the reply's text")


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestClose(Request[r.RequestCloseResult]):
    """Close a private request (only the asker can): nothing more can be added to it."""

    OP = n.OP_REQUEST_CLOSE
    ERRORS = (NO_REQUEST, (BAD_REQUEST, "this person did not ask it, or it is closed already"))
    request: str = _request_arg()


# --- the library ---------------------------------------------------------------------------------------


def _note_arg() -> Any:
    return arg(Text(1, vocab.MAX_REF, strip=True), "the text: its title, or the start of its id",
               noun="the text")


@dataclass(frozen=True, slots=True, kw_only=True)
class LibraryList(Request[r.LibraryListResult]):
    """A circle's library: its texts, by title."""

    OP = n.OP_LIBRARY_LIST
    ERRORS = (NO_CIRCLE,)
    circle: str = circle_arg()


@dataclass(frozen=True, slots=True, kw_only=True)
class LibraryShow(Request[r.LibraryShowResult]):
    """One text of a circle's library, with its earlier versions."""

    OP = n.OP_LIBRARY_SHOW
    ERRORS = (NO_CIRCLE, NO_NOTE)
    circle: str = circle_arg()
    note: str = _note_arg()


@dataclass(frozen=True, slots=True, kw_only=True)
class LibraryEdit(Request[r.LibraryEditResult]):
    """Write a text of a circle's library, or change the one with that title (a new version; the earlier
    ones stay listed). Facilitators only."""

    OP = n.OP_LIBRARY_EDIT
    ERRORS = (NO_CIRCLE, NOT_FACILITATOR, (BAD_REQUEST, "several texts have that title: name it by id"))
    circle: str = circle_arg()
    title: str = arg(Text(1, vocab.MAX_TITLE, strip=True), "its title", noun="the title")
    text: str = arg(Text(0, vocab.MAX_LIBRARY_TEXT), "its text", noun="the text")
    note: str | None = arg(Maybe(Text(vocab.MIN_ID_PREFIX, vocab.MAX_REF, strip=True)),
                           "the text to change, by the start of its id, when its title changes too "
                           "(null: the text with this title, or a new one)", noun="the text to change",
                           default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class LibraryRemove(Request[r.LibraryRemoveResult]):
    """Remove a text from a circle's library (facilitators only; members' nodes forget it)."""

    OP = n.OP_LIBRARY_REMOVE
    ERRORS = (NO_CIRCLE, NO_NOTE, NOT_FACILITATOR)
    circle: str = circle_arg()
    note: str = _note_arg()


@dataclass(frozen=True, slots=True, kw_only=True)
class LibraryStarters(Request[r.LibraryStartersResult]):
    """Add meshcare's starter texts (house agreements, how we respond, words we use, coming off
    medication, reaching outside help) that the library does not have yet; facilitators then change
    them as the circle likes."""

    OP = n.OP_LIBRARY_STARTERS
    ERRORS = (NO_CIRCLE, NOT_FACILITATOR)
    circle: str = circle_arg()
    titles: tuple[str, ...] = arg(Seq(Text(1, vocab.MAX_TITLE, strip=True), 0, 20, distinct=True, item_noun="title"),
                                  "only these starters (none: every one missing)", noun="the titles", default=())


REQUESTS_REQUESTS: Final[tuple[type[Request[Any]], ...]] = (
    RequestCreate, RequestList, RequestShow, RequestReply, RequestClose,
    LibraryList, LibraryShow, LibraryEdit, LibraryRemove, LibraryStarters)
