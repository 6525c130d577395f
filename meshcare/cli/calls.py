"""Calls for support, check-ins and availability: what asking for and giving help looks like at the command line.

Theory of operation
-------------------
Every command here is a thin client of the daemon's control operations, as ``cli/common.py`` describes
(typed requests, words for people or ``--json``, exit codes 1 and 2). The pure helpers
(``parse_ladder``, ``next_occurrence``) are unit-tested without a daemon.

``call`` and ``checkin`` have two shapes each (``call CIRCLE TEXT`` and ``call show CALL``); ``rewrite_argv``
turns ``call show`` into the hidden command ``call-show`` before argparse sees it (a circle literally named
"show" or "reply" is addressed by the start of its id).
"""

from __future__ import annotations

import argparse
import re
import shlex
import sys
import time
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from .. import config, vocab
if TYPE_CHECKING:  # the control API's records load with the command that uses them
    from ..control.views import Call, Checkin
from ..control.when import tomorrow_morning
from ..control.names import NOT_FOUND
from ..errors import BadInput, NotFound, RequestFailed
from ..vocab import CONSENT_WORDS, NEED_WORDS, OFFER_WORDS, PLAN_SECTION_WORDS, URGENCY_WORDS
from . import reach
from .common import (EXIT_OK, EXIT_USAGE, Answer, add_command, ask_daemon, datetime_arg, emit, named, number_in,
                     short, shorten, table, when, word)

#: Two-word commands dispatched to hidden parsers: ``call show`` -> ``call-show``.
SPLIT_COMMANDS: Mapping[str, tuple[str, ...]] = {"call": ("show",), "checkin": ("reply", "show"),
                                                 "gathering": ("show", "cancel"),
                                                 "request": ("show", "reply", "close"),      # cli/requests.py
                                                 "library": ("edit", "remove")}               # cli/library.py

# --- pure helpers ---------------------------------------------------------------------------------

def rewrite_argv(argv: Sequence[str]) -> list[str]:
    """``[--home D] call show X`` -> ``[--home D] call-show X`` (likewise ``checkin reply|show``)."""
    out = list(argv)
    i = 0
    while i < len(out) and out[i].startswith("-"):
        i += 2 if out[i] == "--home" else 1
    if i + 1 < len(out) and out[i + 1] in SPLIT_COMMANDS.get(out[i], ()):
        out[i:i + 2] = [f"{out[i]}-{out[i + 1]}"]
    return out


def parse_ladder(spec: str) -> list[dict[str, Any]]:
    """``chosen:ann+bob@0,facilitators@10,circle@20`` -> ladder steps ``{after, to, members}``.

    Each step is ``TO[:MEMBERS]@MINUTES``: TO is chosen, facilitators or circle; MEMBERS (names or id
    prefixes joined by ``+``) only for chosen; MINUTES after the call (the first step may leave out ``@0``).
    Raises ValueError with a message for the person who wrote the spec.
    """
    steps: list[dict[str, Any]] = []
    for i, part in enumerate(p.strip() for p in spec.split(",")):
        m = re.fullmatch(r"(?P<to>[A-Za-z]+)(?::(?P<members>[^@]*))?(?:@(?P<after>\S*))?", part)
        to = m["to"].lower() if m else ""
        if not m or to not in vocab.LADDER_TARGETS:
            raise ValueError(f"cannot read the step {part!r}: write TO[:NAMES]@MINUTES with TO one of "
                             f"{', '.join(vocab.LADDER_TARGETS)}, e.g. chosen:ann+bob@0,circle@15")
        if m["after"] is None and i == 0:
            after = 0
        elif m["after"] is not None and m["after"].isdigit():
            after = int(m["after"])
        else:
            raise ValueError(f"the step {part!r} needs @MINUTES (minutes after the call, e.g. {to}@10)")
        members = list(dict.fromkeys(x.strip() for x in (m["members"] or "").split("+") if x.strip()))
        if to == "chosen" and not members:
            raise ValueError(f"the step {part!r} goes to chosen people but names none (chosen:ann+bob@0)")
        if to != "chosen" and members:
            raise ValueError(f"the step {part!r} goes to the {to} and cannot name people; use chosen:NAMES")
        if i == 0 and after != 0:
            raise ValueError("the first step goes out straight away: end it with @0")
        if steps and after <= steps[-1]["after"]:
            raise ValueError(f"the step {part!r} must come later than the one before it")
        if after > vocab.MAX_LADDER_AFTER:
            raise ValueError(f"a ladder spans at most {vocab.MAX_LADDER_AFTER} minutes (one day)")
        steps.append({"after": after, "to": to, "members": members})
    if len(steps) > vocab.MAX_LADDER_STEPS:
        raise ValueError(f"a ladder has at most {vocab.MAX_LADDER_STEPS} steps")
    return steps


def next_occurrence(hhmm: str, now: float) -> int:
    """Unix seconds of the next local HH:MM strictly after ``now`` (today or tomorrow). ValueError if malformed."""
    m = re.fullmatch(r"(\d{1,2}):(\d{2})", hhmm.strip())
    if not m or int(m[1]) > 23 or int(m[2]) > 59:
        raise ValueError(f"give the time as HH:MM in 24-hour form, e.g. 22:30 (not {hhmm!r})")
    start = datetime.fromtimestamp(now)
    target = start.replace(hour=int(m[1]), minute=int(m[2]), second=0, microsecond=0)
    if target.timestamp() <= now:
        target += timedelta(days=1)
    return int(target.timestamp())


# --- argument types (ValueError / ArgumentTypeError -> exit 2) ------------------------------------

def _ladder_arg(text: str) -> list[dict[str, Any]]:
    try:
        return parse_ladder(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _hhmm_arg(text: str) -> str:
    try:
        next_occurrence(text, 0)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


# --- calls ----------------------------------------------------------------------------------------

def cmd_call(args: argparse.Namespace, settings: config.Settings) -> int:
    from ..control.requests import CallCreate, CallShow, LadderStepArg

    if args.ladder and args.ladder_name:
        print("meshcare call: give either --ladder or --ladder-name, not both", file=sys.stderr)
        return EXIT_USAGE
    ladder = tuple(LadderStepArg.from_data(step) for step in args.ladder or ())
    answer = ask_daemon(settings, CallCreate(
        circle=args.circle, text=args.text, urgency=args.urgency, needs=tuple(dict.fromkeys(args.need)),
        reach=args.reach, consent=tuple(dict.fromkeys(args.consent)), consent_note=args.consent_note,
        ladder=ladder, ladder_name=args.ladder_name, ladder_every=args.ladder_every, ladder_then=args.ladder_then))
    c, linked = answer.result.call, answer.result.linked
    wait = args.wait if args.wait is not None else (reach.DEFAULT_WAIT if sys.stdout.isatty() and not args.json else 0)
    if not args.json:
        c = reach.wait_for_receipts(c, linked, wait, lambda: ask_daemon(settings, CallShow(call=c.id)).result.call)
    emit(args, answer.data, f"Your call for support in {c.circle_name} (call {short(c.id)}): "
                            f"{reach.call_state(c, linked)}.\n"
                            f"See who answers with: meshcare call show {short(c.id)}")
    return EXIT_OK


def cmd_calls(args: argparse.Namespace, settings: config.Settings) -> int:
    from ..control.requests import CallsList

    answer = ask_daemon(settings, CallsList(all=args.all, circle=args.circle))
    rows = []
    for c in answer.result.calls:
        me = c.caller if c.mine else None
        status = f"{named(c.claimer, c.names, me)} has it" if c.status == "claimed" else c.status
        rows.append((short(c.id), c.circle_name, named(c.caller, c.names, me), c.urgency,
                     status, when(c.created), shorten(c.text, 40)))
    emit(args, answer.data, table([("CALL", "CIRCLE", "FROM", "URGENCY", "STATUS", "WHEN", "TEXT"), *rows])
         if rows else "No open calls for support." + ("" if args.all else " (--all shows resolved ones too)"))
    return EXIT_OK


def _call_text(c: Call, names: Mapping[str, str]) -> str:
    from ..control.views import caller_wishes

    me = c.caller if c.mine else None

    def name(who: str | None) -> str:
        return named(who, names, me)
    lines = [f"Call for support {short(c.id)} in {c.circle_name}, from {name(c.caller)}, {when(c.created)}",
             *["  " + line for line in c.text.splitlines()]]
    wishes = caller_wishes(c)
    if wishes:      # the caller's own wishes from their plan come first, before anything a responder does
        lines += [f"{'Your' if c.mine else name(c.caller) + chr(39) + 's'} wishes (from the support plan):",
                  *["  " + line for text in wishes for line in text.splitlines()]]
    lines.append(f"urgency: {URGENCY_WORDS.get(c.urgency, c.urgency)}")
    if c.needs:
        lines.append("needs: " + ", ".join(NEED_WORDS.get(n, n) for n in c.needs))
    if c.reach:
        lines.append(f"how to reach: {c.reach}")
    if c.consent or c.consent_note:
        lines.append("wishes: " + "; ".join([*(CONSENT_WORDS.get(x, x) for x in c.consent),
                                             *([c.consent_note] if c.consent_note else [])]))
    second = "; your claim came after theirs, so you are next if they let go" if c.claimed_too else ""
    status = {"open": "open, nobody has it yet",
              "claimed": f"{name(c.claimer)} has it since {when(c.claimed_at)}{second}",
              "resolved": f"resolved by {name(c.resolved_by)} at {when(c.resolved_at)}",
              }.get(c.status, c.status)
    if c.followup_at:
        status += f"; a follow-up check-in at {when(c.followup_at)}"
    lines.append(f"status: {status}")
    waiting = c.waiting_on
    if c.audience:
        lines.append(f"reached {c.reached} of {c.audience}" + (
            f", waiting on {len(waiting)} ({', '.join(name(w) for w in waiting)})" if waiting else ""))
    else:
        lines.append("nobody else can read it (your \"who not to involve\" list)" if c.narrowed
                     else "nobody else is in the circle yet")
    if c.narrowed and not c.mine:
        lines.append("not for everyone: the caller chose who to involve")
    if c.offers:
        lines.append("offers:")
        lines += [f"  {short(o.id)}  {name(o.author)}: {OFFER_WORDS.get(o.kind, o.kind)}"
                  + (f", \"{o.text}\"" if o.text else "") + ("  (accepted)" if o.accepted else "")
                  for o in c.offers]
    if c.updates:
        lines.append("updates:")
        lines += [f"  {when(u.created)}  {name(u.author)}: {u.text}" for u in c.updates]
    for share in c.plans:
        whose = "Your" if name(share.author) == "you" else f"{name(share.author)}'s"
        lines.append(f"{whose} support plan (shared {when(share.created)}):")
        lines += [f"  {PLAN_SECTION_WORDS.get(k, k)}: " + str(v).replace("\n", "\n    ")
                  for k, v in share.plan.to_data().items() if v]
    return "\n".join(lines)


def cmd_call_show(args: argparse.Namespace, settings: config.Settings) -> int:
    from ..control.requests import CallShow, CircleMembers

    answer = ask_daemon(settings, CallShow(call=args.call))
    c = answer.result.call
    names = dict(c.names)
    if c.waiting_on and not args.json:       # waiting_on's names are not in the call's names map
        members = ask_daemon(settings, CircleMembers(circle=c.circle)).result.members
        names.update({m.id: m.name for m in members if m.id not in names})
    emit(args, answer.data, _call_text(c, names))
    return EXIT_OK


def _thread_done(args: argparse.Namespace, answer: Answer[Any], text: str) -> int:
    emit(args, answer.data, f"{text} (call {short(answer.result.call.id)})" + reach.posted_note(answer.result.linked))
    return EXIT_OK


def cmd_offer(args: argparse.Namespace, settings: config.Settings) -> int:
    from ..control.requests import CallOffer

    answer = ask_daemon(settings, CallOffer(call=args.call, kind=args.kind, text=args.text or ""))
    return _thread_done(args, answer, f"Offered: {OFFER_WORDS[args.kind]} (offer {short(answer.result.id)})")


def cmd_claim(args: argparse.Namespace, settings: config.Settings) -> int:
    from ..control.requests import CallClaim

    answer = ask_daemon(settings, CallClaim(call=args.call))
    if answer.result.have_it:
        return _thread_done(args, answer, "You have this call now; the circle sees that someone is on it")
    holder = named(answer.result.call.claimer, answer.result.call.names)
    return _thread_done(args, answer, f"{holder} has this call: their claim came first. "
                                      "You are next in line if they let go; you can still offer help")


def cmd_release(args: argparse.Namespace, settings: config.Settings) -> int:
    """A call, or else an item of the mutual-aid board (``cli/board.py``): ids never collide."""
    from ..control.requests import CallRelease

    try:
        answer = ask_daemon(settings, CallRelease(call=args.call))
    except RequestFailed as exc:
        if exc.kind != NOT_FOUND:
            raise
        from .board import release_item
        try:
            return release_item(args, settings, args.call)
        except RequestFailed as again:
            if again.kind != NOT_FOUND:
                raise
            raise NotFound(f"no call or board item {args.call!r} that this node can read; `meshcare calls --all` "
                           "and `meshcare needs --all` list them") from None
    return _thread_done(args, answer, "You let go of this call; it is open for others again")


def cmd_accept(args: argparse.Namespace, settings: config.Settings) -> int:
    from ..control.requests import CallAccept

    answer = ask_daemon(settings, CallAccept(call=args.call, offer=args.offer))
    return _thread_done(args, answer, "Accepted the offer; they see it in the call's thread")


def cmd_update(args: argparse.Namespace, settings: config.Settings) -> int:
    from ..control.requests import CallUpdate

    answer = ask_daemon(settings, CallUpdate(call=args.call, text=args.text))
    return _thread_done(args, answer, "Posted the update")


def cmd_resolve(args: argparse.Namespace, settings: config.Settings) -> int:
    from ..control.requests import CallResolve, CallShow

    followup = args.followup_at
    if args.followup_in is not None:
        followup = int(time.time() + args.followup_in * 3600)
    if followup is not None and followup <= time.time():
        raise BadInput("the follow-up time has already passed; pick a time in the future")
    asked: dict[str, Any] = {}
    if getattr(args, "check_in", None) is not None:      # the caller's "would you like someone to check in?"
        who = args.check_in or ask_daemon(settings, CallShow(call=args.call)).result.call.claimer
        if not who:
            raise BadInput("nobody took this call; name who you would like to check in: --check-in MEMBER")
        due = tomorrow_morning(time.time(), vocab.TOMORROW_HOUR)
        asked = {"followup_by": who, "followup_due": due,
                 "followup_again": None if args.again is None else due + args.again * 86_400}
    elif getattr(args, "again", None) is not None:
        print("meshcare resolve: --again goes with --check-in (a second check-in after the first)", file=sys.stderr)
        return EXIT_USAGE
    answer = ask_daemon(settings, CallResolve(call=args.call, followup_at=followup, **asked))
    if answer.result.already_resolved:
        c = answer.result.call
        by = named(c.resolved_by, c.names, c.caller if c.mine else None)
        return _thread_done(args, answer, f"This call was already resolved by {by} at {when(c.resolved_at)}")
    extra = f"; a follow-up check-in is planned for {when(followup)}" if followup else ""
    f = answer.result.followup
    if f is not None:
        extra += (f"; {f.who_name or short(f.who)} will check in on you {when(f.due)}"
                  + (f" and again {when(f.again)}" if f.again is not None else ""))
    return _thread_done(args, answer, f"Marked the call resolved{extra}")


# --- check-ins ------------------------------------------------------------------------------------

def cmd_checkin(args: argparse.Namespace, settings: config.Settings) -> int:
    from ..control.requests import CheckinCreate

    if args.option and not vocab.MIN_OPTIONS <= len(args.option) <= vocab.MAX_OPTIONS:
        print(f"meshcare checkin: give {vocab.MIN_OPTIONS} to {vocab.MAX_OPTIONS} --option answers "
              "(or none for the default ones)", file=sys.stderr)
        return EXIT_USAGE
    answer = ask_daemon(settings, CheckinCreate(circle=args.circle, prompt=args.prompt, options=tuple(args.option),
                                                visibility=args.visibility))
    c = answer.result.checkin
    who = "the facilitators" if c.visibility == "facilitators" else "the whole circle"
    emit(args, answer.data, f"Sent the check-in {short(c.id)} to {c.circle_name}; answers are seen by {who}.\n"
                            f"See the answers with: meshcare checkin show {short(c.id)}"
                            + reach.posted_note(answer.result.linked))
    return EXIT_OK


def cmd_checkin_reply(args: argparse.Namespace, settings: config.Settings) -> int:
    from ..control.requests import CheckinReply

    answer = ask_daemon(settings, CheckinReply(checkin=args.checkin, option=args.option, text=args.text or ""))
    text = f"Thank you, your answer \"{answer.result.option}\" is in." + reach.posted_note(answer.result.linked)
    if answer.result.suggest_call:
        text += ("\nIf you want, you can ask the circle for support now: meshcare call "
                 f"{shlex.quote(answer.result.checkin.circle_name)} \"...\"")
    emit(args, answer.data, text)
    return EXIT_OK


def _checkin_text(c: Checkin) -> str:
    names = c.names
    lines = [f"Check-in {short(c.id)} in {c.circle_name} from {named(c.author, names)}, {when(c.created)}:",
             f"  {c.prompt}"]
    for i, option in enumerate(c.options, 1):
        lines.append(f"  {i}. {option}: {c.tally.get(option, 0)}")
    lines.append(f"answered: {c.answered}" + (" (answers are seen by the facilitators)"
                                              if c.visibility == "facilitators" else ""))
    for r in c.replies:
        if r.option_text is not None:
            said = f", \"{r.text}\"" if r.text else ""
            lines.append(f"  {named(r.member, names)}: {r.option_text}{said}")
    if c.not_answered:
        lines.append("not answered yet: " + ", ".join(named(m, names) for m in c.not_answered))
    return "\n".join(lines)


def cmd_checkin_show(args: argparse.Namespace, settings: config.Settings) -> int:
    from ..control.requests import CheckinShow

    answer = ask_daemon(settings, CheckinShow(checkin=args.checkin))
    emit(args, answer.data, _checkin_text(answer.result.checkin))
    return EXIT_OK


def cmd_checkins(args: argparse.Namespace, settings: config.Settings) -> int:
    from ..control.requests import CheckinList

    answer = ask_daemon(settings, CheckinList())
    rows = [(short(c.id), c.circle_name, named(c.author, c.names), when(c.created), str(c.answered),
             shorten(c.prompt, 40)) for c in answer.result.checkins]
    emit(args, answer.data, table([("CHECK-IN", "CIRCLE", "FROM", "WHEN", "ANSWERS", "PROMPT"), *rows])
         if rows else "No check-ins yet.")
    return EXIT_OK


# --- availability ---------------------------------------------------------------------------------

def _circle_names(settings: config.Settings, ids: Sequence[str]) -> str:
    from ..control.requests import CircleList

    known = {c.id: c.name for c in ask_daemon(settings, CircleList()).result.circles}
    return ", ".join(known.get(i, short(i)) for i in ids)


def cmd_available(args: argparse.Namespace, settings: config.Settings) -> int:
    from ..control.requests import PresenceSet

    until = None if args.until is None else next_occurrence(args.until, time.time())
    answer = ask_daemon(settings, PresenceSet(status="available", until=until, cap=args.cap, circle=args.circle))
    text = ""
    if not args.json:
        text = f"You are available to {_circle_names(settings, answer.result.circles)}"
        text += f" until {when(until)}" if until else ""
        text += f", for at most {args.cap} call{'s' if args.cap != 1 else ''} at a time" if args.cap else ""
        text += ". `meshcare away` when you need a break." + reach.posted_note(answer.result.linked)
    emit(args, answer.data, text)
    return EXIT_OK


def cmd_away(args: argparse.Namespace, settings: config.Settings) -> int:
    from ..control.requests import PresenceSet

    answer = ask_daemon(settings, PresenceSet(status="away", circle=args.circle))
    names = "" if args.json else _circle_names(settings, answer.result.circles)
    emit(args, answer.data, f"You are away for {names}: the circle sees you are taking a break. "
                            "`meshcare available` when you are back. Rest well."
                            + reach.posted_note(answer.result.linked))
    return EXIT_OK


def cmd_roster(args: argparse.Namespace, settings: config.Settings) -> int:
    from ..control.requests import Roster

    answer = ask_daemon(settings, Roster(circle=args.circle))
    blocks = []
    for c in answer.result.circles:
        rows = [(r.name or short(r.member), r.status, when(r.until) if r.until else "",
                 ("full" if r.full else f"{r.load}") + (f" of {r.cap}" if r.cap else "")) for r in c.roster]
        blocks.append(c.name + "\n" + table([("NAME", "STATUS", "UNTIL", "CALLS"), *rows]))
    emit(args, answer.data, "\n\n".join(blocks) or "You are in no circle yet.")
    return EXIT_OK


# --- the parsers ----------------------------------------------------------------------------------

def register(sub: Any) -> None:
    """Add the commands of this module (call ... roster) to the top-level subparsers ``sub``."""
    p = add_command(sub, "call", cmd_call, "ask your circle for support",
             "meshcare call 'Elm St' \"Rough night, could someone come by?\" --urgency now --need company\n"
             "  meshcare call 'Elm St' 'need a ride to the clinic' --ladder chosen:ann+bob@0,circle@20",
             more="`meshcare call show CALL` shows a call (a circle literally named \"show\" is named by the "
                  "start of its id). --ladder says who hears first: comma-separated steps TO[:NAMES]@MINUTES "
                  "with TO chosen, facilitators or circle, NAMES joined by +; without it the whole circle "
                  "hears at once.")
    p.add_argument("circle", metavar="CIRCLE", help="circle name or the start of its id")
    p.add_argument("text", metavar="TEXT", help="what is going on, in your words")
    p.add_argument("--urgency", choices=vocab.URGENCIES, default="today", help="how soon (default today)")
    p.add_argument("--need", action="append", default=[], type=word, choices=vocab.NEEDS,
                   help="what would help (repeatable)")
    p.add_argument("--reach", metavar="TEXT", help="how to reach you, e.g. 'flat 3B, ring twice'")
    p.add_argument("--consent", action="append", default=[], type=word,
                   choices=vocab.CONSENTS, help="your wishes for how others act (repeatable)")
    p.add_argument("--consent-note", metavar="TEXT", help="anything else about your wishes")
    p.add_argument("--ladder", type=_ladder_arg, metavar="SPEC", help="who hears first and who later (see above)")
    p.add_argument("--ladder-name", metavar="NAME", help="use your ladder NAME instead (meshcare ladder list): "
                                                         "only the people who said yes, step by step")
    p.add_argument("--ladder-every", type=number_in(1, vocab.MAX_LADDER_AFTER // vocab.MAX_LADDER_STEPS, int),
                   default=vocab.DEFAULT_LADDER_EVERY, metavar="MINUTES",
                   help=f"with --ladder-name: minutes between its steps (default {vocab.DEFAULT_LADDER_EVERY})")
    p.add_argument("--ladder-then", choices=vocab.LADDER_THEN,
                   help="with --ladder-name: where the call goes after the ladder's last step")
    p.add_argument("--wait", type=number_in(0, 60), metavar="SECONDS",
                   help=f"wait up to this long for your circle's nodes to confirm they have it (default "
                        f"{reach.DEFAULT_WAIT:g} in a terminal, else 0; not with --json)")

    p = add_command(sub, "call-show", cmd_call_show, "show a call for support: offers, updates, who it reached",
             "meshcare call show 3f2a9c1d", prog="call show", listed=False)
    p.add_argument("call", metavar="CALL", help="the call's id or its first 4+ characters")

    p = add_command(sub, "calls", cmd_calls, "list calls for support in your circles (open ones unless --all)",
             "meshcare calls --circle 'Elm St' --all")
    p.add_argument("--all", action="store_true", help="resolved calls too")
    p.add_argument("--circle", metavar="CIRCLE", help="only this circle")

    kinds = ", ".join(f"{k} ({OFFER_WORDS[k]})" for k in vocab.OFFER_KINDS)
    for name, handler, summary, example in (
            ("offer", cmd_offer, "offer help in a call's thread", "meshcare offer 3f2a9c1d come-over 'in 10 min'"),
            ("claim", cmd_claim, "say you have this call (others see someone is on it)", "meshcare claim 3f2a9c1d"),
            ("release", cmd_release, "let go of a call you claimed (or give back an item of the board)",
             "meshcare release 3f2a9c1d"),
            ("accept", cmd_accept, "accept an offer in your own call", "meshcare accept 3f2a9c1d 77b0e412"),
            ("update", cmd_update, "post an update in a call's thread", "meshcare update 3f2a9c1d 'on my way'"),
            ("resolve", cmd_resolve, "mark a call resolved (the caller or whoever has it)",
             "meshcare resolve 3f2a9c1d --followup-in 24")):
        p = add_command(sub, name, handler, summary, example, more=f"Kinds of offer: {kinds}." if name == "offer" else "")
        p.add_argument("call", metavar="CALL", help="the call's id or its first 4+ characters"
                       + (" (or an item of the board's)" if name == "release" else ""))
        if name == "offer":
            p.add_argument("kind", metavar="KIND", type=word, choices=vocab.OFFER_KINDS,
                           help="call, come_over (or come-over), listening, text or second_person "
                                "(come over with a second person)")
            p.add_argument("text", metavar="TEXT", nargs="?", help="a few words, e.g. when")
        elif name == "accept":
            p.add_argument("offer", metavar="OFFER", help="the offer's id or first 4+ characters (call show)")
        elif name == "update":
            p.add_argument("text", metavar="TEXT", help="the update")
        elif name == "resolve":
            when_group = p.add_mutually_exclusive_group()
            when_group.add_argument("--followup-in", type=number_in(0.01, 24 * 365), metavar="HOURS",
                                    help="plan a follow-up check-in this many hours from now")
            when_group.add_argument("--followup-at", type=datetime_arg, metavar="\"YYYY-MM-DD HH:MM\"",
                                    help="plan a follow-up check-in at this local time")
            p.add_argument("--check-in", nargs="?", const="", metavar="MEMBER", dest="check_in",
                           help="your own call: ask someone to check in on you tomorrow (default: whoever "
                                "took it; `meshcare followup ask` for more)")
            p.add_argument("--again", type=number_in(3, 7, int), metavar="DAYS",
                           help="with --check-in: a second check-in this many days later (3 to 7)")

    p = add_command(sub, "checkin", cmd_checkin, "ask the circle how they are doing (facilitators)",
             "meshcare checkin 'Elm St' 'How is everyone this week?'\n"
             "  meshcare checkin 'Elm St' 'Dinner Sunday?' --option yes --option no --visibility circle",
             more="`meshcare checkin reply CHECKIN OPTION [TEXT]` answers one and `meshcare checkin show "
                  "CHECKIN` shows the answers (a circle named \"reply\" or \"show\" is named by the start of "
                  "its id). Without --option the answers are: " + "; ".join(vocab.DEFAULT_OPTIONS) + ".")
    p.add_argument("circle", metavar="CIRCLE", help="circle name or the start of its id")
    p.add_argument("prompt", metavar="PROMPT", help="the question")
    p.add_argument("--option", action="append", default=[], metavar="TEXT",
                   help=f"a possible answer (repeat {vocab.MIN_OPTIONS} to {vocab.MAX_OPTIONS} times)")
    p.add_argument("--visibility", choices=vocab.CHECKIN_VISIBILITY, default="facilitators",
                   help="who sees the answers (default facilitators)")

    p = add_command(sub, "checkin-reply", cmd_checkin_reply, "answer a check-in",
             "meshcare checkin reply 5c1e0b7a 1\n  meshcare checkin reply 5c1e0b7a 'could use' 'a chat tonight?'",
             prog="checkin reply", listed=False)
    p.add_argument("checkin", metavar="CHECKIN", help="the check-in's id or its first 4+ characters")
    p.add_argument("option", metavar="OPTION", help="the answer's number (1, 2, ...) or the start of its text")
    p.add_argument("text", metavar="TEXT", nargs="?", help="a few words, if you like")

    p = add_command(sub, "checkin-show", cmd_checkin_show, "show a check-in: answers so far and who has not answered",
             "meshcare checkin show 5c1e0b7a", prog="checkin show", listed=False)
    p.add_argument("checkin", metavar="CHECKIN", help="the check-in's id or its first 4+ characters")

    add_command(sub, "checkins", cmd_checkins, "list check-ins in your circles", "meshcare checkins")

    p = add_command(sub, "available", cmd_available, "tell your circles you are available to help",
             "meshcare available --until 22:30 --cap 1")
    p.add_argument("--until", type=_hhmm_arg, metavar="HH:MM", help="until this local time (today or tomorrow)")
    p.add_argument("--cap", type=number_in(1, vocab.MAX_PRESENCE_CAP, int), metavar="N",
                   help="at most N calls at a time")
    p.add_argument("--circle", metavar="CIRCLE", help="only this circle (default: all of yours)")

    p = add_command(sub, "away", cmd_away, "tell your circles you are away (taking a break)", "meshcare away")
    p.add_argument("--circle", metavar="CIRCLE", help="only this circle (default: all of yours)")

    p = add_command(sub, "roster", cmd_roster, "who is available in your circles right now", "meshcare roster 'Elm St'")
    p.add_argument("circle", metavar="CIRCLE", nargs="?", help="only this circle (default: all of yours)")
