"""The commands of a circle's membership: create, invite, join, members, verify, ...

Theory of operation
-------------------
Every command here is a thin client of the daemon's control operations, as ``cli/common.py`` describes
(typed requests, words for people or ``--json``, exit codes 1 and 2). Calls for support, check-ins and
availability are in ``calls``, the support plan in ``plans``; what they share is in ``common``.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .. import config, vocab
if TYPE_CHECKING:  # the control API's records load with the command that uses them
    from ..control.views import Circle, Invite
from ..text import for_terminal
from .common import EXIT_OK, Handler, add_command, ask_daemon, emit, number_in, short, table, when

# --- circles --------------------------------------------------------------------------------------

#: What a refused join tells the person (invites.REFUSAL_REASONS), calm and with the next step.
REFUSALS: Mapping[str, str] = {
    "used": "this invite was already used. Ask the person who invited you for a new one.",
    "revoked": "this invite was withdrawn. Ask the person who invited you for a new one.",
    "expired": "this invite has expired. Ask the person who invited you for a new one.",
    "invalid": ("this invite is not valid: whoever made it can no longer invite people to this circle. "
                "Ask someone in the circle for a new one."),
}


def _circle_line(c: Circle) -> tuple[str, ...]:
    return (c.name, short(c.id), c.role or "-", c.status,
            f"{c.members}" + (f" (+{c.relays} relay)" if c.relays else ""))


def cmd_circle_create(args: argparse.Namespace, settings: config.Settings) -> int:
    from ..control.requests import CircleCreate

    answer = ask_daemon(settings, CircleCreate(
        name=args.name, member_name=args.my_name, retention_days=args.retention_days, rotate_days=args.rotate_days,
        share_history=args.share_history, members_invite=args.members_invite))
    c = answer.result.circle
    emit(args, answer.data, f"Created the circle {c.name} (id {short(c.id)}); you are its facilitator.\n"
                            f"Invite people with: meshcare circle invite {shlex.quote(c.name)} --qr")
    return EXIT_OK


def cmd_circle_list(args: argparse.Namespace, settings: config.Settings) -> int:
    from ..control.requests import CircleList

    answer = ask_daemon(settings, CircleList())
    circles = answer.result.circles
    lines = []
    if circles:
        lines.append(table([("CIRCLE", "ID", "ROLE", "STATUS", "MEMBERS"), *[_circle_line(c) for c in circles]]))
    for j in answer.result.joining:
        name = j.circle_name or "a circle"
        if j.refused:
            lines.append(f"Could not join {name}: {REFUSALS.get(j.refused, j.refused)}")
        else:
            lines.append(f"Asked to join {name} at {when(j.since)}: waiting for a member to come online.")
    lines += [f"You were removed from {c.name}, so you see nothing new from it." for c in circles
              if c.status == "removed"]
    emit(args, answer.data, "\n".join(lines) or "You are in no circle yet. Start one with "
                                               "`meshcare circle create NAME`, or join with an invite token.")
    return EXIT_OK


def _qr_text(token: str) -> str:
    import io

    import segno  # the QR code is pure Python: small, no dependencies

    out = io.StringIO()
    segno.make(token, error="m", micro=False).terminal(out=out, compact=True)
    return out.getvalue()


def cmd_circle_invite(args: argparse.Namespace, settings: config.Settings) -> int:
    from ..control.requests import CircleInvite

    answer = ask_daemon(settings, CircleInvite(circle=args.circle, role=args.role, valid_hours=args.hours))
    invite = answer.result
    if args.qr:
        answer.data["qr"] = _qr_text(invite.token)
    text = (f"An invite for one {invite.role}, valid until {when(invite.expires)} (invite "
            f"{short(invite.invite)}). Give them this token (it lets one person ask to join):\n\n"
            f"{invite.token}\n\nThey run: meshcare circle join TOKEN")
    emit(args, answer.data, text + ("\n\n" + answer.data["qr"].rstrip("\n") if args.qr else ""))
    return EXIT_OK


def cmd_circle_invites(args: argparse.Namespace, settings: config.Settings) -> int:
    from ..control.requests import CircleInvites, CircleMembers

    answer = ask_daemon(settings, CircleInvites(circle=args.circle))
    invites = answer.result.invites

    names: dict[str, str] = {}
    if any(i.used_by for i in invites) and not args.json:   # used_by comes without a name
        names = {m.id: m.name for m in ask_daemon(settings, CircleMembers(circle=args.circle)).result.members}

    def state(i: Invite) -> str:
        if i.revoked:
            return "revoked"
        if i.used_by:
            return f"used by {names.get(i.used_by) or short(i.used_by)}"
        return "open" if i.open else "expired"
    rows = [(short(i.invite), i.role, i.by_name or short(i.by), when(i.expires), state(i)) for i in invites]
    emit(args, answer.data, table([("INVITE", "ROLE", "BY", "EXPIRES", "STATE"), *rows]) if rows
         else "No invites for this circle yet.")
    return EXIT_OK


def cmd_circle_revoke(args: argparse.Namespace, settings: config.Settings) -> int:
    from ..control.requests import CircleRevoke

    answer = ask_daemon(settings, CircleRevoke(circle=args.circle, invite=args.invite))
    emit(args, answer.data, f"Revoked the invite {short(answer.result.invite)}: nobody can join with it now.")
    return EXIT_OK


def cmd_circle_join(args: argparse.Namespace, settings: config.Settings) -> int:
    from ..control.requests import CircleJoin, CircleList

    token = sys.stdin.read() if args.token == "-" else args.token
    answer = ask_daemon(settings, CircleJoin(token="".join(token.split()), name=args.name))
    data, circle = answer.data, answer.result.circle
    deadline = time.monotonic() + args.wait
    while args.wait > 0:                # the CLI watches circle.list and says how the request went
        listing = ask_daemon(settings, CircleList()).result
        if any(c.id == circle and c.status == "member" for c in listing.circles):
            data["status"] = "joined"
            break
        refused = [j.refused for j in listing.joining if j.circle == circle and j.refused]
        if refused:
            data.update(status="refused", refused=refused[0])
            break
        if time.monotonic() >= deadline:
            break
        time.sleep(0.2)
    name = answer.result.name or "the circle"
    if data["status"] == "joined":
        text = f"Joined {name}."
    elif data["status"] == "refused":
        text = f"Could not join {name}: {REFUSALS.get(data['refused'], data['refused'])}"
    else:
        text = (f"Asked to join {name}. The request is waiting for a member of the circle to come online; "
                "it goes through by itself then (`meshcare circle list` shows when).")
    emit(args, data, text)
    return EXIT_OK


def cmd_circle_members(args: argparse.Namespace, settings: config.Settings) -> int:
    from ..control.requests import CircleMembers

    answer = ask_daemon(settings, CircleMembers(circle=args.circle))
    rows = []
    for m in answer.result.members:
        status = m.status + (f" until {when(m.until)}" if m.until else "")
        mark = "(you)" if m.me else "✓ verified" if m.verified else "not verified"
        rows.append((m.name, m.role, status, mark, " ".join(m.fingerprint.split()[:3]) + " …"))
    text = table([("NAME", "ROLE", "STATUS", "VERIFIED", "FINGERPRINT"), *rows])
    name = answer.result.name
    emit(args, answer.data, f"{name}\n{text}\nCompare fingerprints in person with: "
                            f"meshcare circle verify {shlex.quote(name)} NAME")
    return EXIT_OK


def cmd_circle_remove(args: argparse.Namespace, settings: config.Settings) -> int:
    from ..control.requests import CircleRemove

    answer = ask_daemon(settings, CircleRemove(circle=args.circle, member=args.member))
    emit(args, answer.data, f"Removed {args.member} from the circle; the circle moves to new keys they do not get.")
    return EXIT_OK


def cmd_circle_leave(args: argparse.Namespace, settings: config.Settings) -> int:
    from ..control.requests import CircleLeave

    answer = ask_daemon(settings, CircleLeave(circle=args.circle))
    emit(args, answer.data, f"You left {args.circle}. Take care.")
    return EXIT_OK


def cmd_circle_role(args: argparse.Namespace, settings: config.Settings) -> int:
    from ..control.requests import CircleRole

    answer = ask_daemon(settings, CircleRole(circle=args.circle, member=args.member, role=args.role))
    emit(args, answer.data, f"{args.member} is now a {answer.result.role} of the circle.")
    return EXIT_OK


def cmd_circle_verify(args: argparse.Namespace, settings: config.Settings) -> int:
    from ..control.requests import CircleVerify

    answer = ask_daemon(settings, CircleVerify(circle=args.circle, member=args.member, confirm=args.confirm,
                                               unverify=args.unverify))
    result = answer.result
    name = result.name
    ask = not (args.json or args.confirm or args.unverify or result.verified) and sys.stdin.isatty()
    theirs, mine = f"{name}'s fingerprint:", "your fingerprint:"
    width = max(len(theirs), len(mine)) + 2
    shown = (f"Compare these numbers with {name}, in person or on a call you trust:\n"
             f"  {theirs.ljust(width)}{result.their_fingerprint}\n"
             f"  {mine.ljust(width)}{result.my_fingerprint}\n"
             f"{name} sees the same two numbers, the other way round (`meshcare id` shows their own).")
    if ask:
        print(for_terminal(shown))
        if input(for_terminal(f"Do the numbers match what {name} sees? [y/N] ")).strip().lower() in ("y", "yes"):
            answer = ask_daemon(settings, CircleVerify(circle=args.circle, member=args.member, confirm=True))
            result = answer.result
        shown = ""
    if result.verified:
        tail = f"{name} is verified on this node."
    elif args.unverify:
        tail = f"{name} is no longer marked verified."
    else:
        tail = (f"{name} is not verified yet. When the numbers match, run: meshcare circle verify "
                f"{shlex.quote(args.circle)} {shlex.quote(args.member)} --confirm")
    emit(args, answer.data, f"{shown}\n{tail}".strip())
    return EXIT_OK


# --- the parsers ----------------------------------------------------------------------------------

def _add_circle_commands(circle_sub: Any) -> None:
    def add(name: str, handler: Handler, summary: str, example: str, more: str = "") -> argparse.ArgumentParser:
        return add_command(circle_sub, name, handler, summary, example, prog=f"circle {name}", more=more)

    p = add("create", cmd_circle_create, "start a new circle; you become its first facilitator",
            "meshcare circle create 'Elm St' --my-name 'Ana (3rd floor)' --retention-days 14")
    p.add_argument("name", metavar="NAME", help="the circle's name, as members will see it")
    p.add_argument("--my-name", metavar="N", help="your name in this circle (default: your node's name)")
    p.add_argument("--retention-days", type=number_in(vocab.MIN_RETENTION_DAYS, vocab.MAX_RETENTION_DAYS, int),
                   default=vocab.DEFAULT_RETENTION_DAYS, metavar="D",
                   help=f"days calls and posts are kept ({vocab.MIN_RETENTION_DAYS}-{vocab.MAX_RETENTION_DAYS}, "
                        f"default {vocab.DEFAULT_RETENTION_DAYS})")
    p.add_argument("--rotate-days", type=number_in(0, vocab.MAX_ROTATE_DAYS, int), default=vocab.DEFAULT_ROTATE_DAYS,
                   metavar="D", help=f"days between key rotations (0 = off, default {vocab.DEFAULT_ROTATE_DAYS})")
    p.add_argument("--share-history", action="store_true", help="new members can read what was said before")
    p.add_argument("--members-invite", action="store_true", help="members, not only facilitators, may invite")

    add("list", cmd_circle_list, "list your circles (and requests to join still waiting)", "meshcare circle list")

    p = add("invite", cmd_circle_invite, "make an invite token for one person (a member, facilitator or relay)",
            "meshcare circle invite 'Elm St' --hours 24 --qr",
            "Give the token to the person in a way you trust (in person, or scan the QR code). It works once.")
    p.add_argument("circle", metavar="CIRCLE", help="circle name or the start of its id")
    p.add_argument("--role", choices=("member", "facilitator", "relay"), default="member",
                   help="what the invited node becomes (a relay carries messages it cannot read)")
    p.add_argument("--hours", type=number_in(0.01, vocab.MAX_INVITE_HOURS), default=vocab.DEFAULT_INVITE_HOURS,
                   metavar="H", help=f"how long the token is valid (default {vocab.DEFAULT_INVITE_HOURS}, "
                                     f"at most {vocab.MAX_INVITE_HOURS})")
    p.add_argument("--qr", action="store_true", help="also print the token as a QR code in the terminal")

    p = add("invites", cmd_circle_invites, "list a circle's invites and whether each is open, used or revoked",
            "meshcare circle invites 'Elm St'")
    p.add_argument("circle", metavar="CIRCLE", help="circle name or the start of its id")

    p = add("revoke", cmd_circle_revoke, "revoke an invite so nobody can join with it",
            "meshcare circle revoke 'Elm St' 3f2a9c1d")
    p.add_argument("circle", metavar="CIRCLE", help="circle name or the start of its id")
    p.add_argument("invite", metavar="INVITE", help="the invite's id or its first 4+ characters")

    p = add("join", cmd_circle_join, "ask to join a circle with an invite token",
            "meshcare circle join MC1ABCD...\n  echo MC1ABCD... | meshcare circle join - --name Bo --wait 0",
            "A member of the circle who is online admits you; this waits for that (--wait).")
    p.add_argument("token", metavar="TOKEN", help="the invite token (MC1...), or - to read it from stdin")
    p.add_argument("--name", metavar="N", help="your name in the circle (default: your node's name)")
    p.add_argument("--wait", type=number_in(0, 86400), default=60.0, metavar="SECONDS",
                   help="how long to wait to be admitted (default 60; 0 = do not wait)")

    p = add("members", cmd_circle_members, "list a circle's members: role, availability, verified or not",
            "meshcare circle members 'Elm St'")
    p.add_argument("circle", metavar="CIRCLE", help="circle name or the start of its id")

    p = add("remove", cmd_circle_remove, "remove someone from a circle (facilitators only)",
            "meshcare circle remove 'Elm St' bo")
    p.add_argument("circle", metavar="CIRCLE", help="circle name or the start of its id")
    p.add_argument("member", metavar="MEMBER", help="their name in the circle or the start of their id")

    p = add("leave", cmd_circle_leave, "leave a circle", "meshcare circle leave 'Elm St'")
    p.add_argument("circle", metavar="CIRCLE", help="circle name or the start of its id")

    p = add("role", cmd_circle_role, "make someone a facilitator, or a member again (facilitators only)",
            "meshcare circle role 'Elm St' bo facilitator")
    p.add_argument("circle", metavar="CIRCLE", help="circle name or the start of its id")
    p.add_argument("member", metavar="MEMBER", help="their name in the circle or the start of their id")
    p.add_argument("role", choices=vocab.GRANTED_ROLES, help="the new role")

    p = add("verify", cmd_circle_verify, "compare fingerprints with a member in person and mark them verified",
            "meshcare circle verify 'Elm St' bo\n  meshcare circle verify 'Elm St' bo --confirm",
            "Shows their fingerprint and yours. In a terminal it asks whether the numbers match; "
            "--confirm marks them verified without asking, --unverify takes the mark away.")
    p.add_argument("circle", metavar="CIRCLE", help="circle name or the start of its id")
    p.add_argument("member", metavar="MEMBER", help="their name in the circle or the start of their id")
    flag = p.add_mutually_exclusive_group()
    flag.add_argument("--confirm", action="store_true", help="the numbers match: mark them verified")
    flag.add_argument("--unverify", action="store_true", help="take the verified mark away")

    from .onion import add_circle_reach
    add_circle_reach(add)


def register(sub: Any) -> None:
    """Add the ``circle`` command group to the top-level subparsers ``sub``.

    ``plan`` is added by ``cli.plans.register``, apart, so that ``meshcare --help`` keeps listing it after
    the commands of ``cli_calls`` (``cli.build_parser`` calls the three in that order).
    """
    circle = sub.add_parser("circle", help="create, join and look after circles (circle --help lists them)",
                            description="Create, join and look after circles.", prog="meshcare circle")
    circle_sub = circle.add_subparsers(dest="circle_command", metavar="SUBCOMMAND", required=True)
    _add_circle_commands(circle_sub)
