"""The ``meshcare daemon`` subcommand: flags, logging, identity, then ``service.serve``."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from functools import partial
from pathlib import Path
from typing import Any

from ..config import DEFAULT_PORT, Settings, parse_hostport
from ..crypto import keystore

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
                   help=f"address to accept links on (default: all interfaces, port {DEFAULT_PORT})")
    p.add_argument("--peer", action="append", default=[], metavar="HOST:PORT",
                   help="a peer to keep a link to, with or without mDNS (repeatable; redialled with backoff)")
    p.add_argument("--no-discovery", action="store_true", help="do not use mDNS; only --peer and incoming links")
    p.add_argument("--interface", action="append", default=[], metavar="ADDR",
                   help="run mDNS only on the interface with this address (repeatable)")
    p.add_argument("--passphrase-file", type=Path, metavar="F", help="unlock a passphrase-protected identity")
    p.add_argument("--log-level", choices=("debug", "info", "warning", "error"), help="default: from config, info")


def settings_from_args(args: argparse.Namespace, settings: Settings) -> Settings:
    """Flags override config.toml."""
    changes: dict[str, Any] = {}
    if args.listen:
        changes["listen"] = parse_hostport(args.listen)
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
    return settings.replace(**changes)


def run(args: argparse.Namespace, settings: Settings) -> int:
    import trio  # noqa: PLC0415 (the CLI's other commands do not need trio)

    from .service import serve  # noqa: PLC0415

    from . import background  # noqa: PLC0415

    settings = settings_from_args(args, settings)
    log_format = f"meshcare[{os.getpid()}] %(levelname)s %(name)s: %(message)s"
    if getattr(args, "log_file", None):
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
    identity = keystore.load(settings.keystore_path, passphrase)
    trio.run(partial(serve, settings, identity, bench_ops=getattr(args, "bench_ops", False)))
    return 0
