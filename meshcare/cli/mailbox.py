"""Mailboxes at the command line: ``mailbox set|clear|status``.

Each command is a thin client of one ``mailbox.*`` op (``cli/common.py``: words or ``--json``, exit 1 on a
refusal, 2 on bad usage). The words are built by ``status_text`` and ``mailbox_line``, pure functions of
the typed result, tested without a daemon. ``mailbox`` is a command group, like ``circle``.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from .. import config
from .common import EXIT_OK, add_command, ask_daemon, emit, short, when

if TYPE_CHECKING:  # the control API's records load with the command that uses them
    from ..control.results_mailbox import Mailbox, MailboxStatusResult


def mailbox_line(m: Mailbox, now: float | None = None) -> str:
    """One mailbox in words: who, where it serves, linked or not (and how), last synced, then its warnings."""
    who = f"{m.name} ({short(m.node_id)})" if m.name else short(m.node_id)
    serves = f"relay in {', '.join(m.circles)}" if m.circles else "a relay in none of your circles"
    if m.linked:
        how = {"onion": " over Tor", "direct": " directly"}.get(m.via or "", "")
        link = f"linked{how}" + (f" since {when(m.since, now)}" if m.since is not None else "")
    else:
        link = "NOT linked now (this node keeps trying)"
    synced = (f"last synced {when(m.last_synced, now)}" if m.last_synced is not None
              else "nothing new from it since this node started")
    lines = [f"{who}: {serves}; {link}; {synced}."]
    lines += [f"  warning: {w}" for w in m.warnings]
    return "\n".join(lines)


def status_text(result: MailboxStatusResult, now: float | None = None) -> str:
    if not result.mailboxes:
        return ("You have no mailbox. A mailbox is an always-on node (a Pi) that is a relay in your circles: "
                "name it with `meshcare mailbox set NAME` (docs/mailbox.md).")
    return "\n".join(mailbox_line(m, now) for m in result.mailboxes)


def cmd_set(args: argparse.Namespace, settings: config.Settings) -> int:
    from ..control.requests_mailbox import MailboxSet

    answer = ask_daemon(settings, MailboxSet(member=args.member, circle=args.circle, add=args.add))
    r = answer.result
    others = len(r.mailboxes) - 1
    text = (f"Your mailbox is now {r.mailbox.name or short(r.mailbox.node_id)}: this node keeps a link to it "
            "whenever it can (over the LAN, else over Tor)"
            + (f", beside {others} other mailbox{'es' if others > 1 else ''}" if others > 0 else "")
            + (f"; it replaces {', '.join(short(x) for x in r.replaced)}" if r.replaced else "") + ".\n"
            + mailbox_line(r.mailbox))
    emit(args, answer.data, text)
    return EXIT_OK


def cmd_clear(args: argparse.Namespace, settings: config.Settings) -> int:
    from ..control.requests_mailbox import MailboxClear

    answer = ask_daemon(settings, MailboxClear(member=args.member))
    r = answer.result
    if not r.cleared:
        text = "You had no mailbox; nothing changed."
    else:
        text = (f"Cleared {', '.join(short(x) for x in r.cleared)}: this node treats "
                f"{'it' if len(r.cleared) == 1 else 'them'} as any other peer now (still a relay in your circles "
                "until a facilitator removes it).")
        if r.mailboxes:
            text += f" Mailboxes left: {', '.join(short(x) for x in r.mailboxes)}."
    emit(args, answer.data, text)
    return EXIT_OK


def cmd_status(args: argparse.Namespace, settings: config.Settings) -> int:
    from ..control.requests_mailbox import MailboxStatus

    answer = ask_daemon(settings, MailboxStatus())
    emit(args, answer.data, status_text(answer.result))
    return EXIT_OK


def register(top: Any) -> None:
    """Add the ``mailbox`` command group (set, clear, status) to the top-level subparsers."""
    group = top.add_parser("mailbox", help="your mailbox: an always-on relay (a Pi) your node keeps linked, so "
                                           "nothing waits on you being home (mailbox --help lists the commands)",
                           description="Your mailbox: an always-on node (a Pi, usually reachable over Tor) that is "
                                       "a relay in your circles. Your node keeps a link to it whenever it can, so "
                                       "what others post while you are away waits there and reaches you as soon "
                                       "as your node is back, wherever it is (docs/mailbox.md).",
                           prog="meshcare mailbox")
    sub = group.add_subparsers(dest="mailbox_command", metavar="SUBCOMMAND", required=True)
    p = add_command(sub, "set", cmd_set, "name a node as your mailbox (a relay in your circles)",
                    "meshcare mailbox set home-pi\n  meshcare mailbox set centre-pi --circle 'Elm St' --add",
                    prog="mailbox set",
                    more="Your node then dials it before anyone else, at every address it knows is its (the LAN "
                         "first, else its onion address), and never drops that link for another. It must be a "
                         "relay (or a member) in at least one of your circles: a facilitator invites it with "
                         "`meshcare circle invite CIRCLE --role relay`, and `meshcare circle join` runs on it. "
                         "Replaces your mailbox unless --add.")
    p.add_argument("member", metavar="MEMBER|NODE-ID",
                   help="the mailbox: its name in your circles, or the start of its node id")
    p.add_argument("--circle", metavar="CIRCLE", default=None,
                   help="look the name up in this circle only (when two circles have nodes of the same name)")
    p.add_argument("--add", action="store_true", help="keep your other mailboxes and add this one (at most 4)")

    p = add_command(sub, "clear", cmd_clear, "stop keeping your mailbox (or one of them) linked",
                    "meshcare mailbox clear\n  meshcare mailbox clear home-pi", prog="mailbox clear",
                    more="It stays a relay in your circles (a facilitator removes it there with `meshcare circle "
                         "remove`); your node just treats it as any other peer again.")
    p.add_argument("member", metavar="MEMBER|NODE-ID", nargs="?", default=None,
                   help="only this mailbox: its name or the start of its node id (default: all)")

    add_command(sub, "status", cmd_status, "show your mailboxes: linked or not, how, and when they last synced",
                "meshcare mailbox status", prog="mailbox status",
                more="For each mailbox: the circles it is a relay in, whether a link to it is open now and how "
                     "(directly or over Tor), when something new last came from it, and warnings: circles of "
                     "yours where it is not a relay (what is posted there does not wait for you on it), or no "
                     "address known to reach it by.")
