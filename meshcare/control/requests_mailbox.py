"""Requests of the mailbox ops (``mailbox.*``). ``requests.REQUESTS`` lists them with the rest.

A mailbox is an always-on node (a Pi, usually with an onion service) that is a relay in this person's
circles; naming it here makes their node keep a link to it whenever it can (docs/mailbox.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from . import names as n
from . import results_mailbox as r
from .names import BAD_REQUEST, NOT_FOUND
from .request_base import CIRCLE_REF, MEMBER_REF, Request
from .schema import Flag, Maybe, arg

__all__ = ["MailboxClear", "MailboxSet", "MailboxStatus", "REQUESTS_MAILBOX"]


@dataclass(frozen=True, slots=True, kw_only=True)
class MailboxSet(Request[r.MailboxSetResult]):
    """Name a node as this person's mailbox: this node then dials it before anyone else, at every address
    known to be its (LAN first, else its onion address), and never lets that link go for another. The node
    must be a relay (or a member) in at least one of this person's circles; `mailbox.status` warns about
    the circles where it is not a relay. Replaces the mailboxes named before, unless `add`."""

    OP = n.OP_MAILBOX_SET
    ERRORS = ((NOT_FOUND, "nobody by that name or id in this person's circles (or in `circle`); no circle by "
                          "that name or id"),
              (BAD_REQUEST, "several match (name the circle, or use more of the id); this node itself; "
                            "already 4 mailboxes (with `add`)"))
    member: str = arg(MEMBER_REF, "the mailbox node: its name in the circle or the start of its node id",
                      noun="the mailbox")
    circle: str | None = arg(Maybe(CIRCLE_REF), "look the name up in this circle only (null: in every circle)",
                             noun="the circle", default=None)
    add: bool = arg(Flag(), "keep the mailboxes named before, and add this one", noun="add", default=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class MailboxClear(Request[r.MailboxClearResult]):
    """Stop keeping a mailbox linked: one (`member`) or all of them. The mailbox stays a relay in the
    circles (a facilitator removes it there); this node just treats it as any other peer again."""

    OP = n.OP_MAILBOX_CLEAR
    ERRORS = ((NOT_FOUND, "`member` names none of this person's mailboxes"),
              (BAD_REQUEST, "`member` matches several of them"))
    member: str | None = arg(Maybe(MEMBER_REF), "only this mailbox: its name or the start of its node id (null: all)",
                             noun="the mailbox", default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class MailboxStatus(Request[r.MailboxStatusResult]):
    """This person's mailboxes: for each, the circles it is a relay in, whether it is linked now and how
    (direct or over Tor), when an envelope last came from it, and warnings (circles where it is not a
    relay, no address known)."""

    OP = n.OP_MAILBOX_STATUS


REQUESTS_MAILBOX = (MailboxSet, MailboxClear, MailboxStatus)
