"""Views and results of the private-request and library ops (``request.*``, ``library.*``).

A private request is shown only to its people (the asker and the facilitators asked); its view says who
they are (``people``), so a screen can say "Ana and Bo will see this". A library text is shown to every
member; ``can_edit`` says whether this person may change it (facilitators only).
"""

from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Sequence
from typing import ClassVar, Final

from .. import vocab
from . import names as n
from .result_base import Result, linked as _linked
from .schema import Choice, Flag, Int, Maybe, Record, Seq, View, key
from .views import CIRCLE_ID, COUNT, ID, NAMES, TEXT, WHEN

__all__ = ["together", "readers_but", "LibraryEditResult", "LibraryListResult", "LibraryNote", "LibraryRemoveResult", "LibraryShowResult",
           "LibraryStartersResult", "LibraryVersion", "PrivateRequest", "RequestCloseResult", "RequestCreateResult",
           "RequestListResult", "RequestMessage", "RequestReplyResult", "RequestShowResult"]


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestMessage(Record):
    """One reply in a private request's thread."""

    WHAT: ClassVar[str] = "a reply in a request's thread"
    id: str = key(ID, "the reply's id")
    author: str = key(ID, "who wrote it")
    text: str = key(TEXT, "what they wrote")
    created: int = key(WHEN, "when (by the writer's clock)")


@dataclass(frozen=True, slots=True, kw_only=True)
class PrivateRequest(Record):
    """A private request to one or two facilitators, with its thread: only its people can read it."""

    WHAT: ClassVar[str] = "a private request"
    id: str = key(ID, "the request's id")
    circle: str = key(CIRCLE_ID, "the circle it was sent in")
    circle_name: str = key(TEXT, "that circle's name")
    asker: str = key(ID, "who asked")
    to: tuple[str, ...] = key(Seq(ID), "the facilitators asked")
    people: tuple[str, ...] = key(Seq(ID), "everyone who can read the thread: the asker, then those asked")
    about: str = key(Choice(vocab.REQUEST_ABOUT), "what it is about")
    text: str = key(TEXT, "what the asker wrote")
    created: int = key(WHEN, "when it was sent")
    replies: tuple[RequestMessage, ...] = key(Seq(View(RequestMessage), item_noun="reply"), "the thread, in order")
    closed: bool = key(Flag(), "the asker closed it (nothing more can be added)")
    closed_at: int | None = key(Maybe(WHEN), "when it was closed")
    mine: bool = key(Flag(), "this person asked it")
    me: str = key(ID, "this person's id (one of `people`)")
    waiting: bool = key(Flag(), "open, and the last word is someone else's: this person may want to answer")
    names: dict[str, str] = key(NAMES, "id -> name of the people in it")


@dataclass(frozen=True, slots=True, kw_only=True)
class LibraryVersion(Record):
    """One version of a library text."""

    WHAT: ClassVar[str] = "a version of a library text"
    id: str = key(ID, "the post that wrote it")
    author: str = key(ID, "who wrote it")
    title: str = key(TEXT, "its title then")
    text: str = key(TEXT, "its text then")
    created: int = key(WHEN, "when it was written")


@dataclass(frozen=True, slots=True, kw_only=True)
class LibraryNote(Record):
    """One text of a circle's library, as it reads now, with its earlier versions."""

    WHAT: ClassVar[str] = "a library text"
    id: str = key(ID, "the text's id (its first version's, for good)")
    circle: str = key(CIRCLE_ID, "the circle it belongs to")
    circle_name: str = key(TEXT, "that circle's name")
    title: str = key(TEXT, "its title")
    text: str = key(TEXT, "its text now")
    author: str = key(ID, "who wrote the current version")
    created: int = key(WHEN, "when the current version was written")
    edits: int = key(COUNT, "how many times it was changed after it was first written")
    versions: tuple[LibraryVersion, ...] = key(Seq(View(LibraryVersion), item_noun="version"),
                                               "every version, oldest first (the last is the current one)")
    can_edit: bool = key(Flag(), "this person may change or remove it (a facilitator of the circle)")
    names: dict[str, str] = key(NAMES, "id -> name of the people who wrote it")


# --- private requests ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestCreateResult(Result):
    """The request, as it went out (sealed to the facilitators asked)."""

    OP: ClassVar[str] = n.OP_REQUEST_CREATE
    request: PrivateRequest = key(View(PrivateRequest), "the new request")
    linked: int | None = _linked()


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestListResult(Result):
    """Every private request this node can read: this person's, and those asked of them."""

    OP: ClassVar[str] = n.OP_REQUEST_LIST
    requests: tuple[PrivateRequest, ...] = key(Seq(View(PrivateRequest), item_noun="request"),
                                               "open ones first, then newest first")


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestShowResult(Result):
    """One private request and its thread."""

    OP: ClassVar[str] = n.OP_REQUEST_SHOW
    request: PrivateRequest = key(View(PrivateRequest), "the request")


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestReplyResult(Result):
    """The reply posted (sealed to the thread's other people)."""

    OP: ClassVar[str] = n.OP_REQUEST_REPLY
    id: str = key(ID, "the reply's id")
    request: PrivateRequest = key(View(PrivateRequest), "the request as it is now")
    linked: int | None = _linked()


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestCloseResult(Result):
    """The request, closed."""

    OP: ClassVar[str] = n.OP_REQUEST_CLOSE
    id: str = key(ID, "the close's id")
    request: PrivateRequest = key(View(PrivateRequest), "the request as it is now")
    linked: int | None = _linked()


# --- the library ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class LibraryListResult(Result):
    """A circle's library."""

    OP: ClassVar[str] = n.OP_LIBRARY_LIST
    circle: str = key(CIRCLE_ID, "the circle")
    circle_name: str = key(TEXT, "its name")
    notes: tuple[LibraryNote, ...] = key(Seq(View(LibraryNote), item_noun="text"), "its texts, by title")
    can_edit: bool = key(Flag(), "this person may add, change and remove texts (a facilitator)")
    starters: tuple[str, ...] = key(Seq(TEXT), "titles of starter texts not in the library yet "
                                    "(`library.starters` adds them)")


@dataclass(frozen=True, slots=True, kw_only=True)
class LibraryShowResult(Result):
    """One text of a circle's library."""

    OP: ClassVar[str] = n.OP_LIBRARY_SHOW
    note: LibraryNote = key(View(LibraryNote), "the text")


@dataclass(frozen=True, slots=True, kw_only=True)
class LibraryEditResult(Result):
    """The text, as it reads now."""

    OP: ClassVar[str] = n.OP_LIBRARY_EDIT
    note: LibraryNote = key(View(LibraryNote), "the text as it reads now")
    new: bool = key(Flag(), "it is a new text (not an edit of one with that title)")
    changed: bool = key(Flag(), "something was posted (false: the text was already exactly that)")
    linked: int | None = _linked()


@dataclass(frozen=True, slots=True, kw_only=True)
class LibraryRemoveResult(Result):
    """The text removed."""

    OP: ClassVar[str] = n.OP_LIBRARY_REMOVE
    removed: str = key(ID, "the text's id")
    title: str = key(TEXT, "its title")
    linked: int | None = _linked()


@dataclass(frozen=True, slots=True, kw_only=True)
class LibraryStartersResult(Result):
    """Starter texts added to a circle's library."""

    OP: ClassVar[str] = n.OP_LIBRARY_STARTERS
    added: tuple[str, ...] = key(Seq(TEXT), "titles added (those already there are left as they are)")
    notes: int = key(Int(0), "texts in the library now")
    linked: int | None = _linked()


RESULTS_REQUESTS: Final[tuple[type[Result], ...]] = (
    RequestCreateResult, RequestListResult, RequestShowResult, RequestReplyResult, RequestCloseResult,
    LibraryListResult, LibraryShowResult, LibraryEditResult, LibraryRemoveResult, LibraryStartersResult)


def together(names: Sequence[str]) -> str:
    """``Ana``, ``Ana and Bo``, ``Ana, Bo and Cy``: the people who can read something, as a person says
    it (the CLI and the TUI both say "Ana and Bo will see this" with it)."""
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def readers_but(request: PrivateRequest, me: str) -> list[str]:
    """The names of a request's people other than ``me`` (an id), in the thread's order."""
    return [request.names.get(m) or m[:8] for m in request.people if m != me]

#: The views these results nest (``views.VIEWS`` lists the others).
VIEWS_REQUESTS: Final = (PrivateRequest, RequestMessage, LibraryNote, LibraryVersion)
