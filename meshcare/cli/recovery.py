"""Social recovery at the command line: ``recovery setup|status|request|release``.

Each command is a thin client of one ``recovery.*`` op (``cli/common.py``: words or ``--json``, exit 1 on a
refusal, 2 on bad usage). Two steps happen here rather than in the daemon: asking the holder to confirm
they compared the fingerprint in person (``release``), and, on the new device, restoring the opened
backup (``request --status``): a daemon cannot replace its own identity while it runs, so the command
stops it, restores the data directory (the throwaway node is kept beside it) and says how to start
again. ``recovery`` is a command group, like ``circle``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .. import config
from .common import EXIT_ERROR, EXIT_OK, add_command, ask_daemon, emit, short, table, when

def _members(text: str) -> tuple[str, ...]:
    members = tuple(m.strip() for m in text.split(",") if m.strip())
    if not 2 <= len(members) <= 10:
        raise argparse.ArgumentTypeError("name 2 to 10 members, separated by commas (e.g. bob,cat,dan)")
    return members


def cmd_setup(args: argparse.Namespace, settings: config.Settings) -> int:
    from ..control.requests_recovery import RecoverySetup

    answer = ask_daemon(settings, RecoverySetup(circle=args.circle, members=args.members, threshold=args.threshold))
    s = answer.result.setup
    names = ", ".join(h.name for h in s.holders)
    replaced = (f"\nIt replaces your earlier setup {answer.result.replaced}: its holders drop the old shares "
                "when the new ones reach them.") if answer.result.replaced else ""
    emit(args, answer.data,
         f"Social recovery is set up: any {s.threshold} of {names} can give you back your identity and "
         f"circles on a new device.\nEach holds a share sealed to them alone, with your backup (as of now) "
         f"sealed with the recovery key.{replaced}\n"
         "Tell them: if you ever ask, they meet you (or call you on video), compare the fingerprint your new "
         "device shows, and only then run `meshcare recovery release`.\n"
         "Run the setup again after your circles change, so the backup they hold is fresh.")
    return EXIT_OK


def cmd_status(args: argparse.Namespace, settings: config.Settings) -> int:
    from ..control.requests_recovery import RecoveryStatus

    answer = ask_daemon(settings, RecoveryStatus())
    r = answer.result
    lines = []
    if r.setup is None:
        lines.append("You have no social recovery set up (`meshcare recovery setup CIRCLE --members A,B,C "
                     "--threshold 2`).")
    else:
        s = r.setup
        lines.append(f"Your recovery (set up {when(s.created)} through {s.circle_name or short(s.circle)}): any "
                     f"{s.threshold} of {len(s.holders)} holders: {', '.join(h.name for h in s.holders)}.")
    if r.holding:
        lines.append("You hold shares for:")
        lines.append(table([("WHOSE", "ID", "NEEDED", "SET UP", "RECEIVED"),
                            *[(h.name, short(h.owner), f"{h.threshold} of {h.holders}", when(h.created),
                               when(h.received)) for h in r.holding]]))
    else:
        lines.append("You hold no shares for anyone.")
    if r.serving:
        lines.append(f"You released a share to {r.serving} request(s) in the last day.")
    if r.requesting:
        lines.append("This device has a recovery request open: `meshcare recovery request --status` shows it.")
    emit(args, answer.data, "\n".join(lines))
    return EXIT_OK


def cmd_request(args: argparse.Namespace, settings: config.Settings) -> int:
    if args.status:
        return _request_status(args, settings)
    from ..control.requests_recovery import RecoveryRequest

    owner = args.owner.strip().lower() if args.owner else None
    answer = ask_daemon(settings, RecoveryRequest(owner=owner, name=args.name, new=args.new))
    r = answer.result
    emit(args, answer.data,
         f"Your recovery request:\n\n{r.request}\n\n"
         f"FINGERPRINT: {r.fingerprint}\n\n"
         "Give the request to the people holding your shares any way you like (message, QR, paper). Then "
         "meet each of them, or call them on video, and read the fingerprint aloud: they release your share "
         "only if theirs shows the same digits.\n"
         "Keep this node running; `meshcare recovery request --status` shows what arrived and, once enough "
         "shares came, restores your identity and circles here.")
    return EXIT_OK


def _request_status(args: argparse.Namespace, settings: config.Settings) -> int:
    from ..control.requests_recovery import RecoveryCollect

    answer = ask_daemon(settings, RecoveryCollect())
    data = {k: v for k, v in answer.data.items() if k != "bundle"}     # the opened backup is never printed
    p = answer.result.progress
    lines = [f"Recovery request, fingerprint {p.fingerprint}."]
    if p.owner is None:
        lines.append("No valid share has arrived yet.")
    else:
        lines.append(f"Recovering {p.name} ({short(p.owner)}): {len(p.released)} of {p.threshold} shares "
                     f"({', '.join(h.name for h in p.released) or 'none yet'}).")
        if p.needed:
            lines.append(f"{p.needed} more needed; nothing opens until then.")
    for refused in p.refused:
        lines.append(f"Refused a release from {short(refused.holder) if refused.holder else 'someone'}: "
                     f"{refused.reason}.")
    if not p.complete or answer.result.bundle is None:
        emit(args, data, "\n".join(lines))
        return EXIT_OK
    lock = None
    if args.identity_passphrase_file is not None:
        from ..crypto.keystore import read_passphrase_file
        lock = read_passphrase_file(args.identity_passphrase_file)
    report = _restore(settings, bytes.fromhex(answer.result.bundle), lock)
    data["restored"] = report
    lines.append(f"Enough shares came: your backup opened. Restored {report['name']} into {report['home']}"
                 + (f" (the temporary node is kept in {report['moved_aside']})" if report["moved_aside"] else "")
                 + ".\nStart your node again: `meshcare` (or `meshcare daemon`). It rejoins "
                 f"{', '.join(report['circles']) or 'your circles'} and catches up from the others.\n"
                 "If your old device may be in someone else's hands, ask a facilitator to remove that "
                 "identity and join again with a new one (docs/backup-and-recovery.md).")
    emit(args, data, "\n".join(lines))
    return EXIT_OK


def _restore(settings: config.Settings, bundle_bytes: bytes, lock: bytes | None) -> dict[str, Any]:
    """Stop this data dir's daemon (the throwaway node) and restore the bundle in its place (the identity
    locked with ``lock``, when given)."""
    from .. import launch
    from ..backup.bundle import Bundle
    from ..backup.datadir import restore

    bundle = Bundle.from_bytes(bundle_bytes)
    if launch.running_pid(settings) is not None:
        launch.stop(settings)
    report = restore(bundle, settings.home, replace=True, passphrase=lock)
    return {"home": str(report.data_dir), "name": report.name, "node_id": report.node_id.hex(),
            "circles": list(report.circles), "moved_aside": str(report.moved_aside) if report.moved_aside else None,
            "restart": True}


def cmd_release(args: argparse.Namespace, settings: config.Settings) -> int:
    from ..control.requests_recovery import RecoveryRelease
    from ..errors import BadInput

    if not args.yes:
        if not sys.stdin.isatty():
            raise BadInput("confirm you compared the fingerprint in person: run this at a terminal, or pass "
                           "--yes once you have")
        check = ask_daemon(settings, RecoveryRelease(request=args.request, owner=args.owner, check_only=True)).result
        from ..text import for_terminal   # the name is the owner's own words: escaped like every peer string
        print(for_terminal(f"This is a request to recover {check.name} ({short(check.owner)}).\n"
                           f"FINGERPRINT: {check.fingerprint}\n"
                           f"Only release if {check.name} is with you (or on a video call you trust) and their "
                           "new device shows exactly these digits."))
        reply = input("Did you compare the fingerprint with them in person? [y/N] ").strip().lower()
        if reply not in ("y", "yes"):
            print("Nothing was released.")
            return EXIT_ERROR
    answer = ask_daemon(settings, RecoveryRelease(request=args.request, owner=args.owner))
    r = answer.result
    sent = ("It goes out as soon as this node reaches their new device"
            if not r.linked else "Their new device is linked: it has it now")
    emit(args, answer.data, f"Released your share of {r.name}'s recovery to their new device. {sent}; "
                            f"this node serves it until {when(r.until)}.")
    return EXIT_OK


def register(top: Any) -> None:
    """Add the ``recovery`` command group (setup, status, request, release) to the top-level subparsers."""
    group = top.add_parser("recovery", help="social recovery: your circle helps you back in when a device is lost "
                                            "(recovery --help lists the commands)",
                           description="Social recovery: a recovery key split among circle members you trust, "
                                       "who give it back to your new device after checking it in person.",
                           prog="meshcare recovery")
    sub = group.add_subparsers(dest="recovery_command", metavar="SUBCOMMAND", required=True)
    p = add_command(sub, "setup", cmd_setup, "set up social recovery: split a recovery key among "
                                                      "circle members you trust",
                    "meshcare recovery setup 'Elm St' --members bob,cat,dan --threshold 2", prog="recovery setup",
                    more="Your current backup (identity, circles, plan, settings) is sealed with a new recovery "
                         "key; each chosen member gets a share of the key, sealed to them alone. Any THRESHOLD "
                         "of them together can give it back to a new device you show them in person; fewer "
                         "learn nothing. Choose people who will not all lose their devices at once, and "
                         "know that THRESHOLD of them together could open your backup. A new setup replaces "
                         "the old one.")
    p.add_argument("circle", metavar="CIRCLE", help="the circle the holders are in: its name or the start of its id")
    p.add_argument("--members", type=_members, required=True, metavar="A,B,C",
                   help="2 to 10 members who hold a share, by name or start of id, separated by commas")
    p.add_argument("--threshold", type=int, required=True, metavar="K",
                   help="how many of them must release their shares (2 to the number of members)")

    add_command(sub, "status", cmd_status, "show your recovery setup and the shares you hold for others",
                "meshcare recovery status", prog="recovery status")

    p = add_command(sub, "request", cmd_request, "on a NEW device: ask your holders for your identity back",
                    "meshcare --home ~/new recovery request\n  meshcare --home ~/new recovery request --status",
                    prog="recovery request",
                    more="Run it on a fresh node (its own data dir, a daemon running with a temporary "
                         "identity). It prints a REQUEST code to give your holders and a FINGERPRINT to compare "
                         "with each of them in person. With --status it shows what arrived; once enough "
                         "shares came it stops this node, restores your identity and circles in its place "
                         "(keeping the temporary node beside it) and tells you to start it again.")
    p.add_argument("--owner", metavar="ID", help="your old identity (64 hex digits, from `meshcare id`), if you know it")
    p.add_argument("--name", metavar="NAME", help="your name as the holders know it (default: this node's name)")
    p.add_argument("--new", action="store_true", help="replace an open request with a new one")
    p.add_argument("--status", action="store_true", help="show what arrived; restore once enough shares came")
    p.add_argument("--identity-passphrase-file", type=Path, metavar="F",
                   help="with --status: lock the restored identity with the passphrase on the first line of F")

    p = add_command(sub, "release", cmd_release, "as a holder: release your share to someone's new device",
                    "meshcare recovery release MCR1...\n  meshcare recovery release MCR1... --yes --json",
                    prog="recovery release",
                    more="Shows whose recovery it is and the request's fingerprint, and asks you to confirm you "
                         "compared the fingerprint with them IN PERSON (or on a video call you trust). Only then "
                         "is your share sealed to their new device and sent. Someone who only has the request "
                         "code gets nothing unless enough holders release.")
    p.add_argument("request", metavar="REQUEST", help="the REQUEST code their new device shows (MCR1...)")
    p.add_argument("--owner", metavar="ID", help="whose share, by the start of their identity, when the request "
                                                 "does not say (see `meshcare recovery status`)")
    p.add_argument("--yes", action="store_true", help="you compared the fingerprint in person: do not ask")
