"""What the mailbox ops answer (``mailbox.*``): this person's mailboxes, each with the circles it serves,
whether a link to it is open and how, when something last came from it, and what it cannot do for them.
``results.RESULTS`` lists them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Final

from . import names as n
from .result_base import Result
from .schema import Choice, Flag, Maybe, Record, Seq, View, key
from .shapes import Hex, Text, Time

__all__ = ["Mailbox", "MailboxClearResult", "MailboxSetResult", "MailboxStatusResult", "RESULTS_MAILBOX",
           "VIAS", "VIEWS_MAILBOX"]

#: How a link to a mailbox runs: over a LAN or an IP overlay, or through Tor (``Link.via`` in the daemon).
VIAS: Final = ("direct", "onion")
_ID: Final = Hex(32)
_TEXT: Final = Text()


@dataclass(frozen=True, slots=True, kw_only=True)
class Mailbox(Record):
    """One of this person's mailboxes: an always-on node (a relay in their circles) their node keeps linked,
    so what others post while this node is away waits there for it."""

    WHAT: ClassVar[str] = "a mailbox"
    node_id: str = key(_ID, "the mailbox's node id")
    name: str | None = key(Maybe(_TEXT), "its name in the circles (null: in none of this node's circles now)")
    circles: tuple[str, ...] = key(Seq(_TEXT), "the circles it is a relay in, by name: it holds their "
                                   "envelopes for this person")
    linked: bool = key(Flag(), "a link to it is open now")
    via: str | None = key(Maybe(Choice(VIAS)), "how that link runs: `direct` (LAN or overlay) or `onion` (Tor); "
                          "null while not linked, or when the node cannot tell")
    since: int | None = key(Maybe(Time()), "linked: when the link opened")
    last_synced: int | None = key(Maybe(Time()), "when an envelope new to this node last came from it (null: "
                                  "none since the daemon started)")
    warnings: tuple[str, ...] = key(Seq(_TEXT), "what it cannot do for this person, in words: each of their "
                                    "circles where it is not a relay (not in it at all: nothing of that circle "
                                    "waits there; or a member, who reads it), or no address known to reach it by")


@dataclass(frozen=True, slots=True, kw_only=True)
class MailboxSetResult(Result):
    """The mailbox chosen, as `mailbox.status` shows it, and the mailboxes this person has now."""

    OP: ClassVar[str] = n.OP_MAILBOX_SET
    WHAT: ClassVar[str] = "the mailbox"
    mailbox: Mailbox = key(View(Mailbox), "the mailbox set")
    mailboxes: tuple[str, ...] = key(Seq(_ID), "every mailbox of this person now, by node id")
    replaced: tuple[str, ...] = key(Seq(_ID), "mailboxes it replaced (none with `add`)")


@dataclass(frozen=True, slots=True, kw_only=True)
class MailboxClearResult(Result):
    """Which mailboxes are no longer kept linked."""

    OP: ClassVar[str] = n.OP_MAILBOX_CLEAR
    WHAT: ClassVar[str] = "the mailboxes cleared"
    cleared: tuple[str, ...] = key(Seq(_ID), "node ids no longer this person's mailboxes (empty: there were none)")
    mailboxes: tuple[str, ...] = key(Seq(_ID), "the mailboxes left")


@dataclass(frozen=True, slots=True, kw_only=True)
class MailboxStatusResult(Result):
    """This person's mailboxes."""

    OP: ClassVar[str] = n.OP_MAILBOX_STATUS
    WHAT: ClassVar[str] = "the mailboxes"
    mailboxes: tuple[Mailbox, ...] = key(Seq(View(Mailbox), item_noun="mailbox"),
                                         "each mailbox (empty: none set: `mailbox.set` names one)")


RESULTS_MAILBOX = (MailboxSetResult, MailboxClearResult, MailboxStatusResult)
#: The records the mailbox results nest (docs/control.md lists them with the other views).
VIEWS_MAILBOX: Final = (Mailbox,)
