"""Private requests to facilitators at the command line: ``ask``, ``requests``, ``request show|reply|close``.

A member asks one or two facilitators of their choice for a conversation, a debrief or help with a
conflict; the thread stays between those people (the daemon seals every post of it to them only). Each
command is a thin client of one ``request.*`` op (``cli/common.py``: words for people or ``--json``,
exit 1 on a refusal, 2 on bad usage). ``request show`` and friends are two-word commands dispatched by
``calls.rewrite_argv`` (``request show`` -> the hidden ``request-show``).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from .. import config, vocab
if TYPE_CHECKING:  # the control API's records load with the command that uses them
    from ..control.results_requests import PrivateRequest
from . import reach
from .common import EXIT_OK, add_command, ask_daemon, emit, named, short, shorten, table, when, word

#: What a request is about, in words.
ABOUT_WORDS = {"conversation": "a conversation", "debrief": "a debrief", "conflict": "help with a conflict"}
#: The hint where to find the ids.
LIST_HINT = "`meshcare requests` lists them"


def _status(r: PrivateRequest) -> str:
    if r.closed:
        return "closed"
    return "new reply" if r.waiting and r.replies else "waiting for you" if r.waiting else "open"


def request_text(r: PrivateRequest, me: str | None) -> str:
    """A request and its thread, for ``request show``."""
    from ..control.results_requests import together

    who = named(r.asker, r.names, me)
    asked = together([named(m, r.names, me) for m in r.to])
    lines = [f"Private request {short(r.id)} in {r.circle_name}, from {who} to {asked}, {when(r.created)}",
             f"about: {ABOUT_WORDS.get(r.about, r.about)}",
             f"only {together([named(m, r.names, me) for m in r.people])} can read it",
             f"{who}:", *["  " + line for line in r.text.splitlines()]]
    for m in r.replies:
        lines.append(f"{named(m.author, r.names, me)}, {when(m.created)}:")
        lines += ["  " + line for line in m.text.splitlines()]
    if r.closed:
        lines.append(f"closed by {who} at {when(r.closed_at)}")
    return "\n".join(lines)


def cmd_ask(args: argparse.Namespace, settings: config.Settings) -> int:
    from ..control.requests_requests import RequestCreate
    from ..control.results_requests import readers_but, together

    to = tuple(dict.fromkeys([args.facilitator, *args.also]))
    answer = ask_daemon(settings, RequestCreate(circle=args.circle, to=to, about=args.about, text=args.text))
    r = answer.result.request
    others = together(readers_but(r, r.asker))
    emit(args, answer.data, f"Sent your request for {ABOUT_WORDS.get(r.about, r.about)} to {others} "
                            f"(request {short(r.id)}). Only {together(['you', *readers_but(r, r.asker)])} "
                            "can read it.\n"
                            f"See their answers with: meshcare request show {short(r.id)}"
                            + reach.posted_note(answer.result.linked))
    return EXIT_OK


def cmd_requests(args: argparse.Namespace, settings: config.Settings) -> int:
    from ..control.requests_requests import RequestList

    answer = ask_daemon(settings, RequestList(circle=args.circle, all=not args.open))
    rows = []
    for r in answer.result.requests:
        me = r.me
        rows.append((short(r.id), r.circle_name, named(r.asker, r.names, me),
                     ", ".join(named(m, r.names, me) for m in r.to), r.about, _status(r),
                     when(max([r.created, *(m.created for m in r.replies)])), shorten(r.text, 30)))
    emit(args, answer.data, table([("REQUEST", "CIRCLE", "FROM", "TO", "ABOUT", "STATUS", "LAST", "TEXT"), *rows])
         if rows else "No private requests." + ("" if args.open else
                                               " Ask a facilitator with: meshcare ask CIRCLE FACILITATOR TEXT"))
    return EXIT_OK


def cmd_request_show(args: argparse.Namespace, settings: config.Settings) -> int:
    from ..control.requests_requests import RequestShow

    answer = ask_daemon(settings, RequestShow(request=args.request))
    r = answer.result.request
    emit(args, answer.data, request_text(r, r.me))
    return EXIT_OK


def cmd_request_reply(args: argparse.Namespace, settings: config.Settings) -> int:
    from ..control.requests_requests import RequestReply
    from ..control.results_requests import readers_but, together

    answer = ask_daemon(settings, RequestReply(request=args.request, text=args.text))
    r = answer.result.request
    readers = together(readers_but(r, r.me))
    emit(args, answer.data, f"Replied in request {short(r.id)}; only {readers} can read it besides you."
                            + reach.posted_note(answer.result.linked))
    return EXIT_OK


def cmd_request_close(args: argparse.Namespace, settings: config.Settings) -> int:
    from ..control.requests_requests import RequestClose
    from ..control.results_requests import readers_but, together

    answer = ask_daemon(settings, RequestClose(request=args.request))
    r = answer.result.request
    emit(args, answer.data, f"Closed your request {short(r.id)}; {together(readers_but(r, r.asker))} see it is "
                            "closed. It is kept until the circle's retention ends, then deleted everywhere."
                            + reach.posted_note(answer.result.linked))
    return EXIT_OK


def register(sub: Any) -> None:
    """Add ``ask``, ``requests`` and ``request show|reply|close`` to the top-level subparsers ``sub``."""
    p = add_command(sub, "ask", cmd_ask, "ask a facilitator, privately, for a conversation, a debrief or help "
                                         "with a conflict",
                    "meshcare ask 'Elm St' ana 'Could we talk this week?'\n"
                    "  meshcare ask 'Elm St' ana --also bo --about debrief 'After last night'",
                    more="Only you and the facilitators you name can read the request and its thread; "
                         "only you can close it. `meshcare request show|reply|close REQUEST` follows it up.")
    p.add_argument("circle", metavar="CIRCLE", help="circle name or the start of its id")
    p.add_argument("facilitator", metavar="FACILITATOR", help="a facilitator of the circle: name or start of id")
    p.add_argument("text", metavar="TEXT", help="what you would like, in your words")
    p.add_argument("--also", action="append", default=[], metavar="FACILITATOR",
                   help=f"a second facilitator (at most {vocab.MAX_REQUEST_TO} in all)")
    p.add_argument("--about", type=word, choices=vocab.REQUEST_ABOUT, default="conversation",
                   help="conversation (default), debrief or conflict")

    p = add_command(sub, "requests", cmd_requests, "list your private requests and those asked of you",
                    "meshcare requests --open")
    p.add_argument("--circle", metavar="CIRCLE", help="only this circle")
    p.add_argument("--open", action="store_true", help="only those not closed")

    for name, handler, summary, example in (
            ("show", cmd_request_show, "show a private request and its thread", "meshcare request show 3f2a9c1d"),
            ("reply", cmd_request_reply, "answer in a private request's thread (its people only)",
             "meshcare request reply 3f2a9c1d 'Thursday at 6 works'"),
            ("close", cmd_request_close, "close your private request (only the one who asked can)",
             "meshcare request close 3f2a9c1d")):
        p = add_command(sub, f"request-{name}", handler, summary, example, prog=f"request {name}", listed=False)
        p.add_argument("request", metavar="REQUEST", help=f"the request's id or its first 4+ characters ({LIST_HINT})")
        if name == "reply":
            p.add_argument("text", metavar="TEXT", help="what to say")
