"""The ``plan`` commands: write a support plan section by section, see who can read what, share all of it
or chosen sections with whoever has your call or a circle, and take a share back.

Theory of operation
-------------------
Every command is a thin client of the daemon's ``plan.*`` ops (``cli/common.py``: typed requests, words
for people or ``--json``, exit codes 1 and 2). The section keys and their labels live once, in
``vocab.PLAN_FIELDS`` and ``vocab.PLAN_SECTION_WORDS``; the TUI and the docs use the same words. The pure
helpers (``plan_template`` / ``parse_plan_text`` for $EDITOR, ``readers_by_section`` for "who can read
what") are unit-tested without a daemon.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import config, vocab
if TYPE_CHECKING:  # the control API's records load with the command that uses them
    from ..control.views import OwnShare, PlanParts
from ..errors import BadInput
from . import reach
from .common import EXIT_OK, EXIT_USAGE, add_command, ask_daemon, emit, short, when, word

WORDS = vocab.PLAN_SECTION_WORDS

# --- pure helpers ---------------------------------------------------------------------------------

PLAN_HEADER = """\
# Your support plan: what the people who come to help you should know.
# Write under each heading (several lines are fine). Lines starting with # are ignored;
# a part left empty stays empty. Every part is optional. Save and close the editor when you are done.
# Nothing is shared until you run `meshcare plan share` (all of it, or --section NAME for one part).
"""


def plan_template(plan: Mapping[str, Any] | None) -> str:
    """The text opened in $EDITOR: the header, then every section in plan order, its label as a comment
    and its key as the heading (``when_well:``, ``helps:``, ... ``review_by:``)."""
    parts = [PLAN_HEADER]
    for key in vocab.PLAN_FIELDS:
        text = str((plan or {}).get(key) or "").strip()
        parts.append(f"# {label(key)}\n{key}:\n" + (text + "\n" if text else "") + "\n")
    return "".join(parts)


def parse_plan_text(text: str) -> dict[str, str]:
    """Every section of an edited template (missing ones empty). BadInput for text before any heading."""
    found: dict[str, list[str]] = {}
    current: str | None = None
    heading = re.compile(r"\s*(" + "|".join(vocab.PLAN_FIELDS) + r")\s*:\s?(.*)", re.IGNORECASE)
    for line in text.splitlines():
        if line.lstrip().startswith("#"):
            continue
        m = heading.fullmatch(line)
        if m:
            current = m[1].lower()
            found.setdefault(current, [])
            if m[2].strip():
                found[current].append(m[2])
        elif current is not None:
            found[current].append(line)
        elif line.strip():
            raise BadInput(f"your plan has text before the first heading ({line.strip()[:30]!r}); "
                           f"write it under one of: {', '.join(f'{k}:' for k in vocab.PLAN_FIELDS)}")
    return {key: "\n".join(found.get(key, [])).strip() for key in vocab.PLAN_FIELDS}


def label(key: str) -> str:
    """A section's label with its hint: "Wishes (e.g. no police, no hospital unless I ask)"."""
    hint = vocab.PLAN_SECTION_HINTS.get(key)
    return f"{WORDS[key]} ({hint})" if hint else WORDS[key]


def section_key(name: str) -> str | None:
    """The section ``name`` means (``when-well``, ``When_Well`` -> ``when_well``), or None."""
    key = word(name)
    return key if key in vocab.PLAN_FIELDS else None


def share_readers(share: OwnShare, circle_names: Mapping[str, str] | None = None) -> str:
    """Who can read one share, in words: "shared with Bo (call 3f2a9c1d)" or "everyone in Elm St"."""
    if share.to == "call":
        who = ", ".join(r.name or short(r.id) for r in share.readers) or "whoever had the call"
        return vocab.PLAN_READERS_CALL.format(name=who, call=short(share.call))
    circle = share.circle_name or (circle_names or {}).get(share.circle) or short(share.circle)
    return vocab.PLAN_READERS_CIRCLE.format(circle=circle)


def readers_by_section(plan: PlanParts | None, shares: Iterable[OwnShare],
                       circle_names: Mapping[str, str] | None = None) -> list[tuple[str, str]]:
    """(section key, who can read it) for every section that is written or shared, in plan order."""
    written = plan.to_data() if plan else {}
    shares = list(shares)
    out = []
    for key in vocab.PLAN_FIELDS:
        carrying = [share_readers(s, circle_names) for s in shares if key in s.sections]
        if carrying or str(written.get(key) or "").strip():
            out.append((key, "; ".join(dict.fromkeys(carrying)) or vocab.PLAN_READERS_NONE))
    return out


def plan_text(plan: PlanParts | None) -> str:
    """The sections that hold something, each under its label."""
    parts = plan.to_data() if plan else {}
    lines = [f"{WORDS[key]}: " + parts[key].replace("\n", "\n  ") for key in vocab.PLAN_FIELDS if parts.get(key)]
    return "\n".join(lines) if lines else "Your support plan is empty."


# --- commands -------------------------------------------------------------------------------------

def _edit_in_editor(settings: config.Settings, initial: str) -> str:
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    settings.home.mkdir(parents=True, exist_ok=True, mode=0o700)
    with tempfile.TemporaryDirectory(dir=settings.home, prefix="plan-") as folder:   # 0700, not in /tmp
        path = Path(folder) / "support-plan.txt"
        path.write_text(initial, encoding="utf-8")
        try:
            code = subprocess.run([*shlex.split(editor), str(path)], check=False).returncode
        except OSError:
            raise BadInput(f"cannot start the editor {editor!r}; set $EDITOR, or use --section NAME TEXT, "
                           "--helps, --avoid, --contact, --other") from None
        if code != 0:
            raise BadInput(f"the editor stopped with status {code}; your plan is unchanged")
        return path.read_text(encoding="utf-8")


def _usage(command: str, message: str) -> int:
    print(f"meshcare {command}: {message}", file=sys.stderr)
    return EXIT_USAGE


def _names_list() -> str:
    return ", ".join(vocab.PLAN_FIELDS)


def cmd_plan_edit(args: argparse.Namespace, settings: config.Settings) -> int:
    from ..control.requests import PlanEdit, PlanShow

    named = {key: getattr(args, key) for key in ("helps", "avoid", "contact", "other")
             if getattr(args, key) is not None}
    sections: dict[str, str] = {}
    for name, text in args.section or ():
        key = section_key(name)
        if key is None:
            return _usage("plan edit", f"there is no section {name!r}; the sections are: {_names_list()}")
        if sections.get(key, text) != text or named.get(key, text) != text:
            return _usage("plan edit", f"the section {key!r} is given twice with different texts; give it once")
        sections[key] = text
    if not named and not sections:
        if not (sys.stdin.isatty() and sys.stdout.isatty()):
            return _usage("plan edit", "say what to write with --section NAME TEXT (e.g. --section wishes "
                          "'no police'), --helps, --avoid, --contact or --other (e.g. --helps 'a walk and tea'), "
                          "or run it in a terminal to open your $EDITOR")
        current = ask_daemon(settings, PlanShow()).result.plan
        sections = parse_plan_text(_edit_in_editor(settings, plan_template(current.to_data() if current else None)))
    answer = ask_daemon(settings, PlanEdit.from_data({**named, "sections": sections or None}))
    emit(args, answer.data, "Saved your support plan (kept on this node; `meshcare plan share` shares it):\n"
                            + plan_text(answer.result.plan))
    return EXIT_OK


def cmd_plan_show(args: argparse.Namespace, settings: config.Settings) -> int:
    from ..control.requests import CircleList, PlanShow

    answer = ask_daemon(settings, PlanShow())
    plan, shares = answer.result.plan, answer.result.shares
    if not plan and not shares:
        emit(args, answer.data, "You have no support plan yet. Write one with: meshcare plan edit")
        return EXIT_OK
    lines = [plan_text(plan)]
    if answer.result.review_due:
        lines += ["", vocab.PLAN_REVIEW_PROMPT + " (meshcare plan edit)"]
    if not args.json:
        circles = {c.id: c.name for c in ask_daemon(settings, CircleList()).result.circles}
        rows = readers_by_section(plan, shares, circles)
        if rows:
            lines += ["", "Who can read what:"] + [f"  {WORDS[key]}: {who}" for key, who in rows]
        if shares:
            lines += ["", "Shares (take one back with: meshcare plan retract SHARE):"]
            lines += [f"  {short(s.id)}  {share_readers(s, circles)}, {when(s.created)}: "
                      + ", ".join(WORDS[k] for k in s.sections) for s in shares]
    emit(args, answer.data, "\n".join(lines))
    return EXIT_OK


def cmd_plan_share(args: argparse.Namespace, settings: config.Settings) -> int:
    from ..control.requests import PlanShare

    sections = tuple(dict.fromkeys(args.section)) if args.section else None
    answer = ask_daemon(settings, PlanShare(call=args.call, circle=args.circle, sections=sections))
    share = answer.result.share
    who = f"whoever has the call {args.call}" if args.call else f"everyone in {args.circle}"
    what = "your support plan" if sections is None else "these parts of your support plan (" + ", ".join(
        WORDS[k] for k in sections) + ")"
    emit(args, answer.data, f"Shared {what} with {who} (share {short(share)}).\n"
                            f"Take it back any time with: meshcare plan retract {short(share)}"
                            + reach.posted_note(answer.result.linked))
    return EXIT_OK


def cmd_plan_retract(args: argparse.Namespace, settings: config.Settings) -> int:
    from ..control.requests import PlanRetract

    answer = ask_daemon(settings, PlanRetract(share=args.share))
    emit(args, answer.data, f"Took back the share {short(answer.result.retracted)}; members' nodes forget it.")
    return EXIT_OK


# --- the parser -----------------------------------------------------------------------------------

def _section_name(text: str) -> str:
    key = section_key(text)
    if key is None:
        raise argparse.ArgumentTypeError(f"there is no section {text!r}; the sections are: {_names_list()}")
    return key


def register(sub: Any) -> None:
    """Add the ``plan`` command group (the support plan) to the top-level subparsers ``sub``."""
    sections = "\n".join(f"  {key:<19}{label(key)}" for key in vocab.PLAN_FIELDS)
    plan = sub.add_parser("plan", help="your support plan: what helps, what to avoid, who to contact",
                          description="Your support plan: kept on this node, shared only when you say so.",
                          prog="meshcare plan")
    plan_sub = plan.add_subparsers(dest="plan_command", metavar="SUBCOMMAND", required=True)
    p = add_command(plan_sub, "edit", cmd_plan_edit, "write or change your support plan", prog="plan edit",
                    example="meshcare plan edit --section wishes 'no police; no hospital unless I ask'\n"
                            "meshcare plan edit --section review_by 2027-03-01\n"
                            "meshcare plan edit --helps 'tea, a walk' --avoid 'crowds' --contact 'my sister Eva'",
                    more="Without flags, in a terminal, it opens $EDITOR on your plan. An empty text clears a "
                         "part. Every section is optional. The sections:\n\n" + sections)
    p.add_argument("--section", nargs=2, action="append", metavar=("NAME", "TEXT"),
                   help="write one section (repeat for more); NAME as listed above")
    for key, words in (("helps", "what helps you"), ("avoid", "what to avoid"),
                       ("contact", "who to contact, and how"), ("other", "anything else")):
        p.add_argument(f"--{key}", metavar="TEXT", help=f"{words} (the same as --section {key} TEXT)")
    add_command(plan_sub, "show", cmd_plan_show, "show your support plan and who can read each part",
                "meshcare plan show", prog="plan show")
    p = add_command(plan_sub, "share", cmd_plan_share,
                    "share your support plan, or some sections of it, with whoever has your call, or a circle",
                    "meshcare plan share --call 3f2a9c1d\n"
                    "meshcare plan share --section wishes --section practical --call 3f2a9c1d\n"
                    "meshcare plan share --circle 'Elm St'", prog="plan share",
                    more="Without --section it shares every section you have written. The sections:\n\n"
                         + sections)
    p.add_argument("--section", action="append", type=_section_name, metavar="NAME",
                   help="share only this section (repeat for more)")
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("--call", metavar="CALL", help="your call (goes to whoever has it)")
    target.add_argument("--circle", metavar="CIRCLE", help="everyone in this circle")
    p = add_command(plan_sub, "retract", cmd_plan_retract, "take back a share of your support plan",
                    "meshcare plan retract 9d8e7f6a", prog="plan retract")
    p.add_argument("share", metavar="SHARE", help="the share's id or first 4+ characters (plan show lists them)")
