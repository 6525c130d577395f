"""The ``meshcare`` command: the composition root that knows every layer.

Each subcommand parses its flags, loads Settings once, calls into the library, and prints either words
for people or, with ``--json``, one JSON object for scripts (the keys are a contract: docs/cli.md).
Commands that talk to the daemon use only the control API (``meshcare.control``) and ``meshcare.vocab``;
the identity commands load the keystore, and ``daemon``/``run``/``sim`` the node itself, only when they run.
Errors of the meshcare family become a one-line message on stderr and exit status 1; bad usage exits 2
(argparse's convention). Any other error (a file the system refuses, a bug) is one line too, naming it;
``--debug`` adds the traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .. import __version__, config
from ..errors import MeshcareError
from ..text import for_terminal
from .common import EXIT_ERROR, EXIT_OK, EXIT_USAGE, Handler, ask_daemon, emit, table


DESCRIPTION = """\
meshcare: peer-to-peer messaging for community support circles.

Every household runs a node; nodes find each other on the local network, keep encrypted links,
and pass a circle's signed, end-to-end encrypted messages along, with no server.
meshcare is not an emergency service: it never contacts anyone outside your circle.
"""

EPILOG = """\
Run `meshcare` alone to begin: the first time it asks your name, then it starts your node in the
background and opens the terminal UI. `meshcare demo` shows it all with three neighbours on this computer.

The node's data lives in $MESHCARE_HOME, or in your user data directory when that is not set.
Run several nodes on one machine by giving each its own MESHCARE_HOME.
"""


def _read_passphrase(path: Path | None) -> bytes | None:
    """The passphrase from a file (first line), from $MESHCARE_PASSPHRASE_FILE, or None."""
    from ..crypto import keystore  # the keys load only for the commands that need them

    if path is None and os.environ.get("MESHCARE_PASSPHRASE_FILE"):
        path = Path(os.environ["MESHCARE_PASSPHRASE_FILE"])
    if path is None:
        return None
    return keystore.read_passphrase_file(path)


def _identity_json(name: str, node_id: bytes, protected: bool) -> dict[str, Any]:
    from ..crypto import keys

    return {"name": name, "node_id": node_id.hex(), "fingerprint": keys.fingerprint(node_id),
            "passphrase_protected": protected}


def cmd_init(args: argparse.Namespace, settings: config.Settings) -> int:
    from ..crypto import keys, keystore

    identity = keys.Identity.generate(args.name)
    passphrase = _read_passphrase(args.passphrase_file)
    settings.home.mkdir(parents=True, exist_ok=True, mode=0o700)
    keystore.create(settings.keystore_path, identity, passphrase)
    data = _identity_json(identity.name, identity.node_id, passphrase is not None)
    data["home"] = str(settings.home)
    emit(args, data, f"Created the identity of {identity.name} in {settings.home}\n"
                      f"node id:     {identity.node_id.hex()}\n"
                      f"fingerprint: {data['fingerprint']}\n"
                      "Compare the fingerprint in person when someone adds you to a circle.")
    return EXIT_OK


def cmd_id(args: argparse.Namespace, settings: config.Settings) -> int:
    from ..crypto import keystore

    name, node_id, protected = keystore.read_public(settings.keystore_path)
    data = _identity_json(name, node_id, protected)
    emit(args, data, f"{name}\nnode id:     {node_id.hex()}\nfingerprint: {data['fingerprint']}")
    return EXIT_OK


def cmd_run(args: argparse.Namespace, settings: config.Settings) -> int:
    """The node in the foreground, with an identity made on first use (what ``make run`` did before
    ``meshcare start``; kept for scripts and services)."""
    from ..crypto import keys, keystore

    if not settings.keystore_path.exists():
        name = args.name or os.environ.get("USER") or "me"
        identity = keys.Identity.generate(name)
        settings.home.mkdir(parents=True, exist_ok=True, mode=0o700)
        keystore.create(settings.keystore_path, identity, _read_passphrase(settings.passphrase_file))
        print(f"Created a new identity for {identity.name} in {settings.home}")
    name, node_id, _ = keystore.read_public(settings.keystore_path)
    print(f"{name}  node id {node_id.hex()[:16]}...  fingerprint {keys.fingerprint(node_id)}", flush=True)
    print("Starting the node in the foreground (Ctrl-C stops it); open the terminal UI with `meshcare tui`.\n"
          "(`meshcare` alone runs the node in the background and opens the terminal UI.)", flush=True)
    from ..transport import command as daemon_cli

    return daemon_cli.run(args, settings)


def _count(value: Any) -> str:
    """A number for people: counts as they are, collections by their size."""
    return str(len(value)) if isinstance(value, (list, dict)) else str(value)


def _duration(seconds: Any) -> str:
    if not isinstance(seconds, (int, float)):
        return "?"
    s = int(seconds)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min"
    if s < 86400:
        return f"{s // 3600} h {s % 3600 // 60} min"
    return f"{s // 86400} d {s % 86400 // 3600} h"


def _flatten(data: dict[str, Any], prefix: str = "") -> list[str]:
    lines: list[str] = []
    for key in sorted(data):
        value = data[key]
        if isinstance(value, dict):
            lines += _flatten(value, f"{prefix}{key}.")
        elif not isinstance(value, list):
            lines.append(f"  {prefix}{key}: {value}")
    return lines


def cmd_status(args: argparse.Namespace, settings: config.Settings) -> int:
    from ..control.requests import Status  # the records load with the command (`meshcare --help` stays fast)

    from ..control import reachability as reach

    answer = ask_daemon(settings, Status())
    s = answer.result
    # the split only where Tor is in play: a LAN-only node's line stays as it always was
    tor_used = s.tor is not None or bool(s.links_onion)
    links = reach.link_split(s.links, s.links_direct, s.links_onion) if tor_used else _count(s.links)
    lines = [f"{s.name}  node id {s.node_id[:16]}...", f"listening on {s.listen}, up {_duration(s.uptime_s)}",
             f"links {links}, envelopes {_count(s.envelopes)}, topics {_count(s.topics)}"]
    if tor_used:
        lines.append(reach.tor_line(s.tor))
    if s.disk_full is not None:
        lines.append(f"WARNING: {s.disk_full}")
    if s.statistics:
        lines += ["statistics:", *_flatten(s.statistics)]
    emit(args, answer.data, "\n".join(lines))
    return EXIT_OK


def cmd_peers(args: argparse.Namespace, settings: config.Settings) -> int:
    from ..control.requests import Peers  # the records load with the command (`meshcare --help` stays fast)

    from ..control import reachability as reach

    answer = ask_daemon(settings, Peers())
    peers = answer.result.peers
    # the VIA column only where Tor is in play (a daemon that says `via`, or an onion address)
    via = any(p.via is not None or reach.is_onion_address(p.address) for p in peers)
    head = ("NODE ID", "ADDRESS", "LINKED", "VIA", "NAME") if via else ("NODE ID", "ADDRESS", "LINKED", "NAME")
    rows = [((p.node_id or "-")[:16], p.address, "yes" if p.linked else "no",
             *((reach.via_words(p),) if via else ()), p.name or "") for p in peers]
    text = table([head, *rows]) if rows else "No peers known yet."
    emit(args, answer.data, text)
    return EXIT_OK


def cmd_snapshot(args: argparse.Namespace, settings: config.Settings) -> int:
    """Everything the TUI shows after it (re)connects; for scripts mostly (``--json``), so the words are
    a summary: this node, then each circle."""
    from ..control.requests import Snapshot

    answer = ask_daemon(settings, Snapshot(all_calls=args.all))
    s = answer.result
    open_calls = sum(1 for c in s.calls if c.status != "resolved")
    lines = [f"{s.name}  node id {s.node_id[:16]}...  (as of event {s.seq})",
             f"circles {len(s.circles)}, joining {len(s.joining)}, calls open {open_calls}, check-ins "
             f"{len(s.checkins)}, peers linked {sum(1 for p in s.peers if p.linked)} of {len(s.peers)}"]
    for c in s.circles:
        available = sum(1 for row in c.roster if row.status == "available")
        lines.append(f"  {c.circle.name}: {c.circle.status}, {len(c.members)} members, {available} available, "
                     f"{c.sync.replace('_', ' ')}")
    emit(args, answer.data, "\n".join(lines))
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="meshcare", description=DESCRIPTION, epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"meshcare {__version__}")
    parser.add_argument("--home", type=Path, metavar="DIR",
                        help="data directory of the node (default: $MESHCARE_HOME or the user data dir)")
    parser.add_argument("--debug", action="store_true", help="on an error, show its traceback as well")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add(name: str, handler: Handler, help_text: str, *, json_flag: bool = True) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(handler=handler)
        if json_flag:
            p.add_argument("--json", action="store_true", help="print one JSON object for scripts (docs/cli.md)")
        return p

    from . import launch as cli_launch  # what people run first: start, stop, tui, demo (and meshcare alone)

    cli_launch.register(sub, add)

    p = add("init", cmd_init, "create this node's identity (an Ed25519 key) in the data directory")
    p.add_argument("--name", required=True, help="the name other members see, e.g. 'Ana (3rd floor)'")
    p.add_argument("--passphrase-file", type=Path, metavar="F",
                   help="protect the key with the passphrase on the first line of F (Argon2id)")

    add("id", cmd_id, "show this node's id and the fingerprint to compare in person")
    from . import name as cli_name

    cli_name.register(sub)           # name [NEW]

    from ..sim import cli as sim_cli  # pure and cheap to import; keeps its flags beside its code

    p = sim_cli.add_parser(sub)
    p.set_defaults(handler=lambda args, _settings: sim_cli.run(args), needs_settings=False)

    from ..transport import command as daemon_cli  # trio and zeroconf load only when the daemon runs

    p = daemon_cli.add_parser(sub)
    p.set_defaults(handler=daemon_cli.run)

    add("status", cmd_status, "show what the running daemon is doing: links (direct and via Tor), envelopes, "
                              "topics, uptime, Tor")
    add("peers", cmd_peers, "list the nodes the running daemon knows, whether a link to each is open, and how "
                            "(direct or via Tor)")
    p = add("snapshot", cmd_snapshot, "everything a screen shows, in one answer (circles, members, calls, "
                                      "check-ins, plan, peers): for the TUI and scripts, with --json")
    p.add_argument("--all", action="store_true", help="resolved calls too")

    from . import calls as cli_calls, circles as cli_circles, plans as cli_plans  # each asks the daemon

    cli_circles.register(sub)        # circle ...
    cli_calls.register(sub)          # call ... roster
    cli_plans.register(sub)          # plan (after the calls, so `meshcare --help` lists them in this order)
    from . import gatherings as cli_gatherings
    cli_gatherings.register(sub)     # gathering ... gatherings, rsvp, agreements
    from . import ladders as cli_ladders
    cli_ladders.register(sub)        # ladder ..., avoid
    from . import care as cli_care  # follow-up check-ins, off for tonight, load, safety timer
    cli_care.register(sub)
    from . import library as cli_library, requests as cli_requests  # private requests, the circle's library
    cli_requests.register(sub)       # ask, requests, request show|reply|close
    cli_library.register(sub)        # library, library edit|remove
    from . import board as cli_board  # the mutual-aid board: need, needs, take, done, board
    cli_board.register(sub)
    from . import backup as cli_backup  # backup export|import: the way back after a lost device
    cli_backup.register(sub)
    from . import watch as cli_watch  # events as they happen, in words or JSON lines
    cli_watch.register(sub)
    from . import service as cli_service  # service install|status|uninstall (systemd, a Pi at home)
    cli_service.register(sub)
    from . import doctor as cli_doctor  # what commonly goes wrong, and the fix
    cli_doctor.register(sub)
    from . import recovery as cli_recovery  # social recovery: recovery setup|status|request|release
    cli_recovery.register(sub)
    from . import mailbox as cli_mailbox  # mailbox set|clear|status: the always-on relay this node keeps linked
    cli_mailbox.register(sub)

    p = add("run", cmd_run, "run this household's node in the foreground (as before; people use `meshcare` "
                            "or `meshcare start`); creates an identity on first use", json_flag=False)
    p.add_argument("--name", help="name for a new identity (default: $USER)")
    daemon_cli.add_arguments(p)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from .calls import rewrite_argv

    parser = build_parser()
    args = parser.parse_args(rewrite_argv(sys.argv[1:] if argv is None else argv))
    if not getattr(args, "handler", None):
        if args.command is not None:
            parser.print_help()
            return EXIT_USAGE
        from .launch import cmd_open  # `meshcare` alone: set up, start the node, open the terminal UI

        args.handler = cmd_open
    try:
        settings = config.load(args.home) if getattr(args, "needs_settings", True) else None
        return int(args.handler(args, settings))
    except MeshcareError as exc:
        return _failed(args, str(exc))
    except OSError as exc:       # a file or directory the system refused, named by the error
        where = f"{exc.filename}: " if exc.filename else ""
        return _failed(args, f"{where}{exc.strerror or exc} (--debug shows where)")
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - a bug: one line for the person, the traceback with --debug
        return _failed(args, f"unexpected error: {type(exc).__name__}: {exc} (run it again with --debug to see "
                             "where, and please report it)")


def _failed(args: argparse.Namespace, message: str) -> int:
    """One line on stderr (the traceback before it with ``--debug``); exit status 1."""
    if getattr(args, "debug", False):
        traceback.print_exc()
    command = getattr(args, "command", None)
    print(for_terminal(f"meshcare {command}: {message}" if command else f"meshcare: {message}"), file=sys.stderr)
    return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
