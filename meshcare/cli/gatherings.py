"""Gatherings (support groups, workshops, walks, shared meals) and the circle's group agreements at the
command line: thin clients of the ``gathering.*`` and ``agreements.*`` ops (``cli/common.py`` explains the
shape every command shares: typed requests, words or ``--json``, exit codes 1 and 2).

``gathering`` has three shapes: ``gathering CIRCLE TITLE --when ...`` organises one, ``gathering show G``
and ``gathering cancel G`` act on one (``cli/calls.py``'s ``rewrite_argv`` turns them into the hidden
commands ``gathering-show`` / ``gathering-cancel``; a circle literally named "show" or "cancel" is named by
the start of its id).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from .. import config, vocab
if TYPE_CHECKING:  # the control API's records load with the command that uses them
    from ..control.views_gatherings import Agreements, Gathering
from . import reach
from .common import EXIT_OK, add_command, ask_daemon, datetime_arg, emit, named, number_in, short, shorten, table, when

#: The words for an RSVP answer, for the person who gave it.
ANSWER_WORDS = {"yes": "coming", "maybe": "maybe coming", "no": "not coming"}

# --- words ---------------------------------------------------------------------------------------------


def coming_text(g: Gathering) -> str:
    """"3 coming, 1 maybe" (and how many said no, when any did)."""
    parts = [f"{g.counts.get('yes', 0)} coming", f"{g.counts.get('maybe', 0)} maybe"]
    if g.counts.get("no", 0):
        parts.append(f"{g.counts['no']} not coming")
    return ", ".join(parts)


def status_text(g: Gathering) -> str:
    if g.cancelled:
        return "called off"
    if g.over:
        return "over"
    return "under way" if g.started else "upcoming"


def gathering_text(g: Gathering) -> str:
    """A gathering as a person reads it: what, when, where, agreements, shape, who is coming, aftercare."""
    ends = f" to {when(g.ends)}" if g.ends is not None else ""
    lines = [f"{g.title} ({g.kind}) in {g.circle_name}: {status_text(g)}",
             f"  when:  {when(g.when)}{ends}", f"  where: {g.where or '(not said)'}",
             f"  hosts: {', '.join(named(h, g.names) for h in g.hosts)}"]
    if g.cancelled:
        lines.append(f"  called off by {named(g.cancelled_by, g.names)}")
    if g.about:
        lines += ["", g.about]
    if g.agreements:
        lines += ["", "Our agreements:", *(f"  - {a}" for a in g.agreements)]
    if g.format:
        lines += ["", "How it goes:", *(f"  {i}. {r}" for i, r in enumerate(g.format, 1))]
    lines += ["", f"Coming: {coming_text(g)}"]
    if g.sees_names:
        for answer in ("yes", "maybe", "no"):
            who = [named(r.member, g.names) for r in g.rsvps if r.answer == answer]
            if who:
                lines.append(f"  {ANSWER_WORDS[answer]}: {', '.join(who)}")
    lines.append(f"  you: {ANSWER_WORDS[g.mine] if g.mine else 'not answered yet'}"
                 + ("" if g.cancelled or g.over else f" (meshcare rsvp {short(g.id)} yes|no|maybe)"))
    if g.aftercare and g.started:
        lines += ["", "If something came up for you:", f"  {g.aftercare}"]
    elif g.aftercare:
        lines += ["", f"Afterwards, if something came up for you: {g.aftercare}"]
    return "\n".join(lines)


def agreements_text(a: Agreements) -> str:
    head = f"Group agreements of {a.circle_name}" + (" (meshcare's defaults)" if a.default else "") + ":"
    return "\n".join([head, *(f"  - {item}" for item in a.items)])


# --- commands ------------------------------------------------------------------------------------------


def cmd_gathering(args: argparse.Namespace, settings: config.Settings) -> int:
    from ..control.requests_gatherings import GatheringCreate

    answer = ask_daemon(settings, GatheringCreate(
        circle=args.circle, title=args.title, when=args.when, ends=args.ends, where=args.where or "",
        kind=args.kind, about=args.about or "", hosts=tuple(args.host), agreements=tuple(args.agreement),
        format=tuple(args.round), aftercare=args.aftercare or "", remind=args.remind))
    g = answer.result.gathering
    emit(args, answer.data, f"Gathering {short(g.id)} posted: {g.title}, {when(g.when)}"
         + reach.posted_note(answer.result.linked))
    return EXIT_OK


def cmd_gathering_show(args: argparse.Namespace, settings: config.Settings) -> int:
    from ..control.requests_gatherings import GatheringShow

    answer = ask_daemon(settings, GatheringShow(gathering=args.gathering))
    emit(args, answer.data, gathering_text(answer.result.gathering))
    return EXIT_OK


def cmd_gathering_cancel(args: argparse.Namespace, settings: config.Settings) -> int:
    from ..control.requests_gatherings import GatheringCancel

    answer = ask_daemon(settings, GatheringCancel(gathering=args.gathering))
    g = answer.result.gathering
    emit(args, answer.data, f"Called off: {g.title} ({short(g.id)})" + reach.posted_note(answer.result.linked))
    return EXIT_OK


def cmd_gatherings(args: argparse.Namespace, settings: config.Settings) -> int:
    from ..control.requests_gatherings import GatheringList

    answer = ask_daemon(settings, GatheringList(all=args.all, circle=args.circle))
    rows = [(short(g.id), when(g.when), g.circle_name, g.kind, shorten(g.title, 36), coming_text(g),
             ANSWER_WORDS[g.mine] if g.mine else "-", status_text(g)) for g in answer.result.gatherings]
    emit(args, answer.data, table([("GATHERING", "WHEN", "CIRCLE", "KIND", "TITLE", "COMING", "YOU", "STATUS"),
                                   *rows]) if rows else
         "No gatherings coming up." + ("" if args.all else " (--all shows past ones)"))
    return EXIT_OK


def cmd_rsvp(args: argparse.Namespace, settings: config.Settings) -> int:
    from ..control.requests_gatherings import GatheringRsvp

    answer = ask_daemon(settings, GatheringRsvp(gathering=args.gathering, answer=args.answer))
    g = answer.result.gathering
    emit(args, answer.data, f"You are {ANSWER_WORDS[args.answer]}: {g.title}, {when(g.when)}"
         + reach.posted_note(answer.result.linked))
    return EXIT_OK


def cmd_agreements(args: argparse.Namespace, settings: config.Settings) -> int:
    from ..control.requests_gatherings import AgreementsSet, AgreementsShow

    if args.set:
        changed = ask_daemon(settings, AgreementsSet(circle=args.circle, items=tuple(args.set)))
        emit(args, changed.data, agreements_text(changed.result.agreements) + reach.posted_note(changed.result.linked))
        return EXIT_OK
    answer = ask_daemon(settings, AgreementsShow(circle=args.circle))
    emit(args, answer.data, agreements_text(answer.result.agreements))
    return EXIT_OK


def register(sub: Any) -> None:
    """Add ``gathering``, ``gathering show|cancel``, ``gatherings``, ``rsvp`` and ``agreements``."""
    p = add_command(sub, "gathering", cmd_gathering, "organise a gathering: a support group, workshop, walk or meal",
                    "meshcare gathering 'Elm St' 'Tuesday group' --when '2027-01-19 18:30' --where 'the back room' "
                    "--host bob\n"
                    "  meshcare gathering 'Elm St' 'Walk by the river' --kind walk --when '2027-01-23 10:00' "
                    "--remind 120",
                    more="You host it, with the members you name (--host). The group's agreements are the "
                         "circle's (`meshcare agreements CIRCLE`) unless you give --agreement; the shape is "
                         "check-in round, topic, closing round unless you give --round. Where to meet is only "
                         "readable by members. `meshcare gathering show G` and `meshcare gathering cancel G` act "
                         "on one (a circle literally named \"show\" or \"cancel\" is named by the start of its id).")
    p.add_argument("circle", metavar="CIRCLE", help="circle name or the start of its id")
    p.add_argument("title", metavar="TITLE", help="what it is called")
    p.add_argument("--when", required=True, type=datetime_arg, metavar="\"YYYY-MM-DD HH:MM\"",
                   help="when it starts (local time)")
    p.add_argument("--ends", type=datetime_arg, metavar="\"YYYY-MM-DD HH:MM\"", help="when it ends (local time)")
    p.add_argument("--where", metavar="TEXT", help="where to meet (members only)")
    p.add_argument("--kind", choices=vocab.GATHERING_KINDS, default="group", help="what kind (default group)")
    p.add_argument("--about", metavar="TEXT", help="what it is about")
    p.add_argument("--host", action="append", default=[], metavar="MEMBER",
                   help="a member who hosts it with you (repeatable; name or start of id)")
    p.add_argument("--agreement", action="append", default=[], metavar="TEXT",
                   help="one of the group's agreements (repeatable; default: the circle's)")
    p.add_argument("--round", action="append", default=[], metavar="TEXT",
                   help="one part of how it goes, in order (repeatable; default: "
                        + "; ".join(vocab.DEFAULT_FORMAT) + ")")
    p.add_argument("--aftercare", metavar="TEXT", help="who to contact if something came up for someone")
    p.add_argument("--remind", type=number_in(0, vocab.MAX_REMIND_MINUTES, int), default=60, metavar="MINUTES",
                   help="remind the people coming this many minutes before (default 60; 0: no reminder)")

    p = add_command(sub, "gathering-show", cmd_gathering_show,
                    "show a gathering: agreements, how it goes, where, who is coming, aftercare",
                    "meshcare gathering show 5c1e0a9b", prog="gathering show", listed=False)
    p.add_argument("gathering", metavar="GATHERING", help="the gathering's id or its first 4+ characters")
    p = add_command(sub, "gathering-cancel", cmd_gathering_cancel,
                    "call a gathering off (its organiser, a host, or a facilitator)",
                    "meshcare gathering cancel 5c1e0a9b", prog="gathering cancel", listed=False)
    p.add_argument("gathering", metavar="GATHERING", help="the gathering's id or its first 4+ characters")

    p = add_command(sub, "gatherings", cmd_gatherings, "list your circles' gatherings (coming up unless --all)",
                    "meshcare gatherings --all")
    p.add_argument("--all", action="store_true", help="past and called-off ones too")
    p.add_argument("--circle", metavar="CIRCLE", help="only this circle")

    p = add_command(sub, "rsvp", cmd_rsvp, "say whether you are coming to a gathering (you can change it)",
                    "meshcare rsvp 5c1e0a9b yes",
                    more="Its hosts and the circle's facilitators see who answered; others see how many.")
    p.add_argument("gathering", metavar="GATHERING", help="the gathering's id or its first 4+ characters")
    p.add_argument("answer", metavar="ANSWER", type=str.lower, choices=vocab.RSVP_ANSWERS, help="yes, no or maybe")

    p = add_command(sub, "agreements", cmd_agreements, "show a circle's group agreements, or set them (facilitators)",
                    "meshcare agreements 'Elm St'\n"
                    "  meshcare agreements 'Elm St' --set 'Anyone may pass' --set 'What is said here stays here'",
                    more="New gatherings start from these; gatherings already posted keep theirs.")
    p.add_argument("circle", metavar="CIRCLE", help="circle name or the start of its id")
    p.add_argument("--set", action="append", default=[], metavar="TEXT",
                   help="one agreement, in order (repeatable; replaces them all)")
