"""The ``meshcare daemon`` subcommand: flags, logging, identity, then ``service.serve``.

Start-up failures are one line each (``meshcare daemon: port 7447 on 127.0.0.1 is in use ...``), never a
traceback: ``startup_failure`` takes the error out of trio's exception groups, and an error nobody put
words to yet (a bug) is named in one line too while the daemon is starting. Once it is up, such an error
keeps its traceback (the log of a node that ran for days should say where it broke). ``--debug`` shows
the traceback in every case (``cli.main`` prints it).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from functools import partial
from pathlib import Path
from typing import Any

from ..config import (DEFAULT_ONION_PORT, DEFAULT_PORT, Settings, check_onion_port, parse_hostport, parse_tor_control,
                      parse_tor_socks)
from ..errors import MeshcareError, StartupError

HELP = "run this household's node in the foreground (logs to stderr; stop with Ctrl-C or SIGTERM)"


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = subparsers.add_parser(
        "daemon", help=HELP, description=HELP + ". It finds neighbours on the local network (mDNS), keeps "
        "encrypted links to them, stores and forwards your circles' messages, and serves the terminal UI "
        "and the other commands over control.sock in the data directory.")
    add_arguments(p)
    p.add_argument("--bench-ops", action="store_true",
                   help="also serve topic.join, topic.publish and topic.ids, which tests and benchmarks drive "
                        "the sync engine with (topics without circles; not for real use)")
    # what `meshcare` / `meshcare start` hand a daemon they start in the background (transport/background.py)
    p.add_argument("--passphrase-fd", type=int, metavar="N",
                   help="read the passphrase from the inherited pipe N (how `meshcare start` hands it on)")
    p.add_argument("--log-file", type=Path, metavar="F",
                   help="log to F instead of stderr, rotated at 1 MiB (how `meshcare start` runs the daemon)")
    return p


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The daemon's flags (shared by ``meshcare daemon`` and ``meshcare run``)."""
    p.add_argument("--listen", metavar="HOST:PORT",
                   help=f"address to accept links on (default: all interfaces, port {DEFAULT_PORT}, or the next free "
                        "one when that is in use; a port given here is used or the daemon stops)")
    p.add_argument("--peer", action="append", default=[], metavar="HOST:PORT",
                   help="a peer to keep a link to, with or without mDNS (repeatable; redialled with backoff)")
    p.add_argument("--no-discovery", action="store_true", help="do not use mDNS; only --peer and incoming links")
    p.add_argument("--interface", action="append", default=[], metavar="ADDR",
                   help="run mDNS only on the interface with this address (repeatable)")
    p.add_argument("--passphrase-file", type=Path, metavar="F", help="unlock a passphrase-protected identity")
    p.add_argument("--log-level", choices=("debug", "info", "warning", "error"), help="default: from config, info")
    p.add_argument("--profile", choices=("small", "standard", "auto"),
                   help="memory profile: small (a 512 MB Raspberry Pi: small SQLite cache, no mmap) or standard "
                        "(default: from config, else auto: small under 1 GiB of memory)")
    p.add_argument("--tor", action="store_true",
                   help="also link through Tor: dial peers' .onion addresses through tor's SOCKS port and publish "
                        "this node's own onion service (needs a running tor; config.toml: tor = true)")
    p.add_argument("--tor-socks", metavar="HOST:PORT",
                   help="tor's SOCKS port, which onion peers are dialled through (default 127.0.0.1:9050)")
    p.add_argument("--tor-control", metavar="PATH|HOST:PORT",
                   help="tor's control port, which publishes the onion service and reports tor's state (default "
                        "/run/tor/control when it exists, else 127.0.0.1:9051)")
    p.add_argument("--no-onion-service", action="store_true",
                   help="with --tor: dial out only, publish no onion service (a laptop that need not be reachable)")
    p.add_argument("--onion-port", type=int, metavar="N",
                   help=f"the port peers dial on this node's onion address (default {DEFAULT_ONION_PORT})")
    p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                   help="when it cannot start, show the traceback as well as the one-line reason")


def settings_from_args(args: argparse.Namespace, settings: Settings) -> Settings:
    """Flags override config.toml."""
    changes: dict[str, Any] = {}
    if args.listen:
        changes["listen"] = parse_hostport(args.listen)
        changes["listen_fixed"] = True
    if args.peer:
        changes["peers"] = tuple(parse_hostport(p) for p in args.peer)
    if args.no_discovery:
        changes["discovery"] = False
    if args.interface:
        changes["interfaces"] = tuple(args.interface)
    if args.passphrase_file:
        changes["passphrase_file"] = args.passphrase_file
    if args.log_level:
        changes["log_level"] = args.log_level
    if getattr(args, "profile", None):
        changes["profile"] = args.profile
    if getattr(args, "tor", None):
        changes["tor"] = True
    if getattr(args, "tor_socks", None):
        changes["tor_socks"] = parse_tor_socks(args.tor_socks)
    if getattr(args, "tor_control", None):
        changes["tor_control"] = parse_tor_control(args.tor_control)
    if getattr(args, "no_onion_service", False):
        changes["onion_service"] = False
    if getattr(args, "onion_port", None) is not None:
        changes["onion_port"] = check_onion_port(args.onion_port)
    return settings.replace(**changes)


def run(args: argparse.Namespace, settings: Settings) -> int:
    import trio  # noqa: PLC0415 (the CLI's other commands do not need trio)

    from .service import serve  # noqa: PLC0415

    from . import background  # noqa: PLC0415

    from ..control.protocol import check_socket_path  # noqa: PLC0415 (`meshcare --help` loads this module: keep it light)
    from ..crypto import keystore  # noqa: PLC0415

    settings = settings_from_args(args, settings)
    log_format = f"meshcare[{os.getpid()}] %(levelname)s %(name)s: %(message)s"
    from ..service.journal import JOURNAL_FORMAT, stderr_is_journal  # noqa: PLC0415

    if stderr_is_journal():     # under systemd: journald keeps the log (and the time); no file of our own
        logging.basicConfig(stream=sys.stderr, level=settings.log_level.upper(), format=JOURNAL_FORMAT)
    elif getattr(args, "log_file", None):
        background.log_to_file(args.log_file, settings.log_level, log_format)
    else:
        logging.basicConfig(stream=sys.stderr, level=settings.log_level.upper(), format=log_format)
    passphrase = None
    path = settings.passphrase_file or (Path(os.environ["MESHCARE_PASSPHRASE_FILE"])
                                         if os.environ.get("MESHCARE_PASSPHRASE_FILE") else None)
    if getattr(args, "passphrase_fd", None) is not None:
        passphrase = background.read_passphrase_fd(args.passphrase_fd)
    elif path is not None:
        passphrase = keystore.read_passphrase_file(path)
    check_socket_path(settings.control_path)        # before anything starts: one line, nothing half-done
    identity = keystore.load(settings.keystore_path, passphrase)
    started = False

    async def serve_until_stopped() -> None:
        nonlocal started
        async with trio.open_nursery() as nursery:
            await nursery.start(partial(serve, settings, identity, bench_ops=getattr(args, "bench_ops", False)))
            started = True

    try:
        trio.run(serve_until_stopped)
    except BaseException as exc:  # noqa: BLE001 - sorted into one line or re-raised as it is, below
        failure = startup_failure(exc, started)
        if failure is exc:
            raise
        raise failure from failure.__cause__
    return 0


def _leaves(exc: BaseException) -> list[BaseException]:
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for inner in exc.exceptions for leaf in _leaves(inner)]
    return [exc]


def startup_failure(exc: BaseException, started: bool) -> BaseException:
    """What ``meshcare daemon`` raises for ``exc``, which ended ``trio.run``: the first meshcare error in
    it (its words are for people); Ctrl-C as it is; before the daemon was up (``started``), any other
    error as a StartupError that names it, caused by it (one line; ``--debug`` shows where); after, ``exc``
    itself (a bug report needs its traceback)."""
    leaves = _leaves(exc)
    for leaf in leaves:
        if isinstance(leaf, (MeshcareError, KeyboardInterrupt)):
            return leaf
    first = leaves[0]
    if started or not isinstance(first, Exception):
        return exc
    failure = StartupError(f"could not start: {type(first).__name__}: {first} (run it again with --debug to "
                           "see where, and please report it)")
    failure.__cause__ = first
    return failure
