"""Follow-up and responder-care commands: ``followup ask|done``, ``followups``, ``off-tonight``, ``load``,
``safety start|there|ok|end|list``. Each is a thin client of one or two control operations
(``followup.*``, ``safety.*``, ``me.load``, ``presence.set``), like the call commands (cli/calls.py).

Words: plain and unhurried. A follow-up is "a check-in"; a safety timer says "I'm there" and "I'm OK";
the load view is the person's own and says so.
"""

from __future__ import annotations

import argparse
import time
from typing import TYPE_CHECKING, Any

from .. import config
if TYPE_CHECKING:  # the control API's records load with the command that uses them
    from ..control.views import Followup, Timer
from ..control.when import next_hour, tomorrow_morning
from ..vocab import (FOLLOWUP_AGAIN_DAYS, LOAD_DAYS, MAX_NOTE, MAX_SAFETY_EVERY, MIN_SAFETY_EVERY, OFF_TONIGHT_HOUR,
                     SAFETY_STATUSES, SAFETY_WORDS, TOMORROW_HOUR)
from . import reach
from .common import EXIT_OK, add_command, ask_daemon, datetime_arg, emit, number_in, short, table, when

__all__ = ["followup_words", "register", "timer_words"]

DAY = 86_400


# --- words (pure) -------------------------------------------------------------------------------------

def followup_words(f: Followup, now: float) -> str:
    """One follow-up in a line: whom, when, done or not. Never what the call said (there is nothing)."""
    if f.mine:
        head = f"check in on {f.asker_name or short(f.asker)}"
    elif f.asked:
        head = f"{f.who_name or short(f.who)} checks in on you"
    else:
        head = f"{f.who_name or short(f.who)} checks in on {f.asker_name or short(f.asker)}"
    parts = [f"{head} ({f.circle_name})"]
    if f.done_at is None:
        parts.append(("due now" if f.todo == "first" else f"due {when(f.due, now)}"))
    else:
        parts.append(f"done {when(f.done_at, now)}")
    if f.again is not None:
        if f.again_done_at is not None:
            parts.append(f"second check-in done {when(f.again_done_at, now)}")
        else:
            parts.append("second check-in due now" if f.todo == "again" else f"again {when(f.again, now)}")
    return ", ".join(parts) + f"  [call {short(f.call)}]"


def timer_words(t: Timer, now: float) -> str:
    """One timer in a line: whose, the countdown or how it ended."""
    who = "you" if t.mine else (t.name or short(t.person))
    head = f"{who} ({t.circle_name}), every {t.every} min"
    if t.ended_at is not None:
        return f"{head}: ended {when(t.ended_at, now)}"
    if t.overdue:
        return f"{head}: ⚠ NO \"I'm OK\" since {when(t.last, now)}, the facilitators were alerted"
    left = max(0, int((t.next_ok_at or now) - now))
    there = f", there since {when(t.there_at, now)}" if t.there_at is not None else ""
    return f"{head}{there}: next \"I'm OK\" in {left // 60} min {left % 60:02d} s"


# --- commands -------------------------------------------------------------------------------------

def cmd_followup_ask(args: argparse.Namespace, settings: config.Settings) -> int:
    from ..control.requests_care import FollowupAsk

    now = time.time()
    due = args.at if args.at is not None else tomorrow_morning(now, TOMORROW_HOUR)
    again = None if args.again is None else due + int(args.again) * DAY
    answer = ask_daemon(settings, FollowupAsk(call=args.call, who=args.who, due=due, again=again))
    f = answer.result.followup
    text = f"{f.who_name or short(f.who)} will check in on you {when(f.due, now)}"
    text += f", and again {when(f.again, now)}" if f.again is not None else ""
    text += (". The facilitators see only who and when, never what the call said."
             + reach.posted_note(answer.result.linked))
    emit(args, answer.data, text)
    return EXIT_OK


def cmd_followup_done(args: argparse.Namespace, settings: config.Settings) -> int:
    from ..control.requests_care import FollowupDone

    answer = ask_daemon(settings, FollowupDone(call=args.call))
    f = answer.result.followup
    which = "the second check-in" if answer.result.which == "again" else "the check-in"
    text = f"Marked {which} with {f.asker_name or short(f.asker)} done. Thank you for checking in."
    if answer.result.which == "first" and f.again is not None:
        text += f" A second one is due {when(f.again)}."
    emit(args, answer.data, text + reach.posted_note(answer.result.linked))
    return EXIT_OK


def cmd_followups(args: argparse.Namespace, settings: config.Settings) -> int:
    from ..control.requests_care import FollowupList

    answer = ask_daemon(settings, FollowupList(all=args.all))
    now = time.time()
    lines = [followup_words(f, now) for f in answer.result.followups]
    emit(args, answer.data, "\n".join(lines) if lines else "No follow-up check-ins to do or wait for.")
    return EXIT_OK


def cmd_off_tonight(args: argparse.Namespace, settings: config.Settings) -> int:
    from ..control.requests import CircleList, PresenceSet

    until = next_hour(time.time(), OFF_TONIGHT_HOUR)
    answer = ask_daemon(settings, PresenceSet(status="away", until=until, circle=args.circle))
    text = ""
    if not args.json:
        known = {c.id: c.name for c in ask_daemon(settings, CircleList()).result.circles}
        names = ", ".join(known.get(i, short(i)) for i in answer.result.circles)
        text = (f"You're off until {when(until)} for {names}: no calls will be asked of you tonight. "
                "Rest well." + reach.posted_note(answer.result.linked))
    emit(args, answer.data, text)
    return EXIT_OK


def cmd_load(args: argparse.Namespace, settings: config.Settings) -> int:
    from ..control.requests_care import Load

    answer = ask_daemon(settings, Load(days=args.days))
    r = answer.result
    calls = "call" if r.took == 1 else "calls"
    text = f"You took {r.took} {calls} in the last {r.days} days"
    text += f"; you hold {r.holding} now." if r.holding else "."
    text += " Only you see this."
    if r.took >= 3:
        text += " That is a lot to carry: `meshcare off-tonight` if you need a rest."
    emit(args, answer.data, text)
    return EXIT_OK


def cmd_safety_start(args: argparse.Namespace, settings: config.Settings) -> int:
    from ..control.requests_care import SafetyStart

    answer = ask_daemon(settings, SafetyStart(circle=args.circle, every=args.every, note=args.note or ""))
    r = answer.result
    people = "facilitator" if r.facilitators == 1 else "facilitators"
    text = (f"Safety timer on: say \"I'm there\" when you arrive (`meshcare safety there`) and \"I'm OK\" every "
            f"{r.timer.every} minutes (`meshcare safety ok`); the first is due {when(r.timer.next_ok_at)}. If "
            f"nothing comes, the circle's {r.facilitators} {people} are alerted, nobody else. "
            "`meshcare safety end` when you are done." + reach.posted_note(r.linked))
    emit(args, answer.data, text)
    return EXIT_OK


def cmd_safety_ping(args: argparse.Namespace, settings: config.Settings) -> int:
    from ..control.requests_care import SafetyPing

    status = args.safety_command
    answer = ask_daemon(settings, SafetyPing(status=status, timer=args.timer))
    t = answer.result.timer
    if status == "end":
        text = "Timer ended. Thank you for letting the facilitators know you're OK."
    else:
        text = f"Sent \"{SAFETY_WORDS[status]}\". Next \"I'm OK\" due {when(t.next_ok_at)}."
    emit(args, answer.data, text + reach.posted_note(answer.result.linked))
    return EXIT_OK


def cmd_safety_list(args: argparse.Namespace, settings: config.Settings) -> int:
    from ..control.requests_care import SafetyList

    answer = ask_daemon(settings, SafetyList(all=args.all))
    now = time.time()
    rows = [timer_words(t, now) + (f"  [{short(t.id)}] {t.note}" if t.note else f"  [{short(t.id)}]")
            for t in answer.result.timers]
    emit(args, answer.data, "\n".join(rows) if rows else "No safety timer running.")
    return EXIT_OK


# --- the parsers ----------------------------------------------------------------------------------

def register(sub: Any) -> None:
    """Add ``followup``, ``followups``, ``off-tonight``, ``load`` and ``safety`` to the subparsers ``sub``."""
    lo, hi = FOLLOWUP_AGAIN_DAYS
    group = sub.add_parser("followup", help="ask for a check-in after your call, or mark one you did done",
                           description="Follow-up check-ins after a call.", prog="meshcare followup")
    fsub = group.add_subparsers(dest="followup_command", metavar="SUBCOMMAND", required=True)
    p = add_command(fsub, "ask", cmd_followup_ask, "after your call: ask someone to check in on you tomorrow",
                    "meshcare followup ask 3f2a9c1d --again 4", prog="followup ask",
                    more="Only the person who made the call decides. By default whoever took the call checks in, "
                         "tomorrow morning. The facilitators see only who and when, never what the call said.")
    p.add_argument("call", metavar="CALL", help="your call's id or its first 4+ characters")
    p.add_argument("--who", metavar="MEMBER", help="who checks in (default: whoever took the call)")
    p.add_argument("--at", type=datetime_arg, metavar="\"YYYY-MM-DD HH:MM\"",
                   help=f"when (default: tomorrow at {TOMORROW_HOUR:02d}:00)")
    p.add_argument("--again", type=number_in(lo, hi, int), metavar="DAYS",
                   help=f"a second check-in this many days after the first ({lo} to {hi})")
    p = add_command(fsub, "done", cmd_followup_done, "mark a check-in you were asked to do as done",
                    "meshcare followup done 3f2a9c1d", prog="followup done")
    p.add_argument("call", metavar="CALL", help="the call's id or its first 4+ characters (`meshcare followups`)")

    p = add_command(sub, "followups", cmd_followups, "check-ins to do, asked for, or (facilitators) due and done",
                    "meshcare followups")
    p.add_argument("--all", action="store_true", help="those that are done too")

    p = add_command(sub, "off-tonight", cmd_off_tonight, "take yourself off for tonight (away until tomorrow "
                    f"{OFF_TONIGHT_HOUR:02d}:00)", "meshcare off-tonight")
    p.add_argument("--circle", metavar="CIRCLE", help="only this circle (default: all of yours)")

    p = add_command(sub, "load", cmd_load, "how many calls you took lately (only you see it)", "meshcare load")
    p.add_argument("--days", type=number_in(1, 31, int), default=LOAD_DAYS, metavar="N",
                   help=f"how many days back (default {LOAD_DAYS})")

    group = sub.add_parser("safety", help="a safety timer when you go to someone in person",
                           description="A safety timer when you go to someone in person: \"I'm there\", then "
                                       "\"I'm OK\" every few minutes; if nothing comes, the circle's "
                                       "facilitators are alerted, nobody else.", prog="meshcare safety")
    ssub = group.add_subparsers(dest="safety_command", metavar="SUBCOMMAND", required=True)
    p = add_command(ssub, "start", cmd_safety_start, "start a safety timer before you go",
                    "meshcare safety start 'Elm St' --every 20 --note 'at Sam's, 4th floor'", prog="safety start")
    p.add_argument("circle", metavar="CIRCLE", help="the circle whose facilitators keep an eye on it")
    p.add_argument("--every", type=number_in(MIN_SAFETY_EVERY, MAX_SAFETY_EVERY, int), required=True,
                   metavar="MIN", help=f"minutes between \"I'm OK\"s ({MIN_SAFETY_EVERY} to {MAX_SAFETY_EVERY})")
    p.add_argument("--note", metavar="TEXT", help=f"for the facilitators: where, with whom (up to {MAX_NOTE} "
                                                   "characters)")
    for status in SAFETY_STATUSES:
        p = add_command(ssub, status, cmd_safety_ping, f"say \"{SAFETY_WORDS[status]}\" on your running timer",
                        f"meshcare safety {status}", prog=f"safety {status}")
        p.add_argument("--timer", metavar="TIMER", help="which timer, if several of yours run (`safety list`)")
    p = add_command(ssub, "list", cmd_safety_list, "your timer, and (facilitators) those of your circles",
                    "meshcare safety list", prog="safety list")
    p.add_argument("--all", action="store_true", help="ended ones too")
