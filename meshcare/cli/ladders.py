"""Consent-based ladders and "who not to involve" at the command line (issue 13, item 2).

``meshcare ladder add|list|requests|accept|decline|remove`` and ``meshcare avoid [CIRCLE [MEMBER]]
[--remove]``: thin clients of the ``ladder.*`` and ``avoid.*`` control ops, as ``cli/common.py``
describes (typed requests, words for people or ``--json``, exit 1 for a refusal, 2 for bad usage).
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from .. import config, vocab
if TYPE_CHECKING:  # the control API's records load with the command that uses them
    from ..control.views_ladders import LadderRequest
from . import reach
from .common import EXIT_OK, EXIT_USAGE, add_command, ask_daemon, emit, number_in, short, table


def _request_line(r: LadderRequest) -> str:
    from ..control.views_ladders import asked_words

    answer = vocab.LADDER_ANSWER_WORDS.get(r.state, r.state)
    note = f' "{r.text}"' if r.text else ""
    return f"{short(r.id)}  {r.circle_name}: {asked_words(r)}{note} ({answer})"


def cmd_ladder_add(args: argparse.Namespace, settings: config.Settings) -> int:
    from ..control.requests_ladders import LadderAdd
    from ..control.views_ladders import step_words

    answer = ask_daemon(settings, LadderAdd(circle=args.circle, member=args.member, ladder=args.ladder,
                                            step=args.step, note=args.note or ""))
    r = answer.result.request
    emit(args, answer.data, f"Asked {r.member_name or short(r.member)} to be {step_words(r.step, r.ladder)} "
                            f"(request {short(r.id)}). They show as pending until they answer; a call only uses "
                            "people who said yes." + reach.posted_note(answer.result.linked))
    return EXIT_OK


def cmd_ladder_list(args: argparse.Namespace, settings: config.Settings) -> int:
    from ..control.requests_ladders import LadderList
    from ..control.views_ladders import ORDINALS

    answer = ask_daemon(settings, LadderList(circle=args.circle))
    lines: list[str] = []
    for ladder in answer.result.ladders:
        lines.append(f"{ladder.circle_name}, ladder \"{ladder.name}\":")
        rows = [(f"{r.step} ({ORDINALS[r.step]})" if r.step < len(ORDINALS) else str(r.step),
                 r.name or short(r.member), vocab.LADDER_STATE_WORDS.get(r.state, r.state), short(r.request))
                for r in ladder.rungs]
        lines += ["  " + line for line in table([("STEP", "WHO", "ANSWER", "REQUEST"), *rows]).splitlines()]
    emit(args, answer.data, "\n".join(lines) if lines else
         "You have no ladders yet. Ask someone with: meshcare ladder add CIRCLE MEMBER")
    return EXIT_OK


def cmd_ladder_requests(args: argparse.Namespace, settings: config.Settings) -> int:
    from ..control.requests_ladders import LadderRequests

    answer = ask_daemon(settings, LadderRequests(circle=args.circle))
    lines = [_request_line(r) for r in answer.result.requests]
    if lines:
        lines.append("Answer with: meshcare ladder accept REQUEST (or decline). You can change your mind later.")
    emit(args, answer.data, "\n".join(lines) if lines else "Nobody has asked you to be on their ladder.")
    return EXIT_OK


def _answer(args: argparse.Namespace, settings: config.Settings, answer_word: str) -> int:
    from ..control.requests_ladders import LadderAnswer
    from ..control.views_ladders import step_words

    answer = ask_daemon(settings, LadderAnswer(request=args.request, answer=answer_word))
    r = answer.result.request
    who = r.requester_name or "them"
    said = (f"You said yes: you are {step_words(r.step, r.ladder)} for {who}." if answer_word == "accept"
            else f"You said no; {who}'s calls will not come to you through this ladder.")
    emit(args, answer.data, said + reach.posted_note(answer.result.linked))
    return EXIT_OK


def cmd_ladder_accept(args: argparse.Namespace, settings: config.Settings) -> int:
    return _answer(args, settings, "accept")


def cmd_ladder_decline(args: argparse.Namespace, settings: config.Settings) -> int:
    return _answer(args, settings, "decline")


def cmd_ladder_remove(args: argparse.Namespace, settings: config.Settings) -> int:
    from ..control.requests_ladders import LadderRemove

    answer = ask_daemon(settings, LadderRemove(request=args.request))
    r = answer.result.request
    emit(args, answer.data, f"Took {r.member_name or short(r.member)} off your ladder \"{r.ladder}\"."
                            + reach.posted_note(answer.result.linked))
    return EXIT_OK


def cmd_avoid(args: argparse.Namespace, settings: config.Settings) -> int:
    from ..control.requests_ladders import AvoidAdd, AvoidList, AvoidRemove

    if args.member is None:
        if args.remove:
            print("meshcare avoid: --remove needs CIRCLE and MEMBER (e.g. meshcare avoid --remove 'Elm St' bob)",
                  file=sys.stderr)
            return EXIT_USAGE
        listed = ask_daemon(settings, AvoidList(circle=args.circle))
        rows = [(e.circle_name, e.name or short(e.member)) for e in listed.result.avoid]
        emit(args, listed.data, table([("CIRCLE", "WHO"), *rows]) + "\nOnly this node knows this list." if rows else
             "Nobody is on your \"who not to involve\" list.")
        return EXIT_OK
    if args.remove:
        removed = ask_daemon(settings, AvoidRemove(circle=args.circle, member=args.member))
        e = removed.result.entry
        who = e.name or short(e.member)
        emit(args, removed.data, f"{who} is off your \"who not to involve\" list in {e.circle_name}; later calls "
                                 "may reach them." if removed.result.removed else f"{who} was not on your list.")
        return EXIT_OK
    added = ask_daemon(settings, AvoidAdd(circle=args.circle, member=args.member))
    e = added.result.entry
    emit(args, added.data, f"{e.name or short(e.member)} will not receive your calls in {e.circle_name}, at any "
                           "step, the whole circle included. Only this node knows this list; others may see that a "
                           "call is \"not for everyone\", never who was left out.")
    return EXIT_OK


def register(sub: Any) -> None:
    """Add ``ladder ...`` and ``avoid`` to the top-level subparsers ``sub``."""
    ladder = sub.add_parser("ladder", help="your ladders: who you would like to hear from first when you call "
                                           "(ladder --help lists the commands)",
                            description="Your ladders: people you ask, who say yes or no. A call built from a "
                                        "ladder (meshcare call CIRCLE TEXT --ladder-name NAME) uses only the "
                                        "people who said yes.", prog="meshcare ladder")
    ladder_sub = ladder.add_subparsers(dest="ladder_command", metavar="SUBCOMMAND", required=True)
    p = add_command(ladder_sub, "add", cmd_ladder_add, "ask someone for a place on one of your ladders",
                    "meshcare ladder add 'Elm St' bob --step 0 --note 'you always know what to say'\n"
                    "  meshcare ladder add 'Elm St' cat --ladder practical", prog="ladder add",
                    more="They get a request and answer yes or no; until then they show as pending.")
    p.add_argument("circle", metavar="CIRCLE", help="circle name or the start of its id")
    p.add_argument("member", metavar="MEMBER", help="their name or the start of their id")
    p.add_argument("--step", type=number_in(0, vocab.MAX_LADDER_STEPS - 1, int), default=0, metavar="N",
                   help=f"0 (first contacted, the default) to {vocab.MAX_LADDER_STEPS - 1} (contacted last)")
    p.add_argument("--ladder", default=vocab.DEFAULT_LADDER, metavar="NAME",
                   help=f"which ladder (default {vocab.DEFAULT_LADDER}; e.g. practical)")
    p.add_argument("--note", metavar="TEXT", help="a few words to them")
    for name, handler, summary, example in (
            ("list", cmd_ladder_list, "show your ladders: who is on each and whether they said yes",
             "meshcare ladder list"),
            ("requests", cmd_ladder_requests, "show who asked you to be on their ladder",
             "meshcare ladder requests")):
        p = add_command(ladder_sub, name, handler, summary, example, prog=f"ladder {name}")
        p.add_argument("--circle", metavar="CIRCLE", help="only this circle")
    for name, handler, summary in (
            ("accept", cmd_ladder_accept, "say yes to a request to be on someone's ladder"),
            ("decline", cmd_ladder_decline, "say no to a request (or change a yes to a no)"),
            ("remove", cmd_ladder_remove, "take someone off your ladder (withdraw your request)")):
        p = add_command(ladder_sub, name, handler, summary, f"meshcare ladder {name} 3f2a9c1d", prog=f"ladder {name}")
        p.add_argument("request", metavar="REQUEST", help="the request's id or first 4+ characters "
                                                          "(ladder list / ladder requests show them)")
    p = add_command(sub, "avoid", cmd_avoid, "who not to involve: people your calls never reach",
                    "meshcare avoid 'Elm St' bob\n  meshcare avoid\n  meshcare avoid --remove 'Elm St' bob",
                    more="Kept on this node only, never sent: none of your calls in that circle reaches them, "
                         "at any step, the whole circle included. Without MEMBER it lists your list.")
    p.add_argument("circle", metavar="CIRCLE", nargs="?", help="circle name or the start of its id")
    p.add_argument("member", metavar="MEMBER", nargs="?", help="their name or the start of their id")
    p.add_argument("--remove", action="store_true", help="take them off the list")
