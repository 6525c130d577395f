"""``meshcare doctor``: check what commonly goes wrong with this node and say how to fix it.

Works whether or not the node runs: the checks of files, the port, the disk and the service need no
daemon; those of neighbours, multicast and clocks ask the running daemon (``node.health``). Prints one
line per finding (``ok``, ``info``, ``warning``, ``problem`` or ``error``, the check, what was found, then
``Fix:`` and exactly what to run); exits 0 when nothing is a problem or an error, 1 otherwise. The doctor
package is imported only when the command runs (``meshcare --help`` stays fast).
"""

from __future__ import annotations

import argparse
from typing import Any

from .. import config
from .common import EXIT_ERROR, EXIT_OK, add_command, emit

SUMMARY = "check this node for what commonly goes wrong (permissions, port, neighbours, Tor, clock, disk, service)"
EXAMPLE = """meshcare doctor
meshcare doctor --json
meshcare doctor --only port --only disk"""
MORE = """Checks, in order: data dir, files (the key and the state: owner and mode), daemon (running and
answering; a stale control socket), identity (locked by a passphrase while the node is stopped), port
(in use by another program), neighbours (links, mDNS discovery), multicast (the chosen interfaces: up,
MULTICAST, IPv4; with the node running, a self-probe of its own mDNS name), tor (only when the node uses
Tor: tor's control port reachable and letting the node in, bootstrap percentage, the onion service
published, Debian's tor.service running), clock (skew against linked
peers; posts more than 600 s ahead wait), disk (free space and inodes), service (systemd unit state).

Each line: LEVEL CHECK: what was found. Fix: what to run. Levels: ok, info, warning, problem, error
(the check could not run or did not finish in time). Exit status 0 when no line is a problem or an
error, 1 otherwise; docs/operations.md has the table of findings."""


def register(sub: Any) -> None:
    """Add ``doctor`` to the top-level subparsers ``sub``."""
    from ..doctor.names import CHECK_NAMES

    p = add_command(sub, "doctor", cmd_doctor, SUMMARY, EXAMPLE, more=MORE,
                    json_help="print one JSON object: ok, problems, warnings, errors, findings "
                              "[{check, level, what, fix}]")
    p.add_argument("--only", action="append", choices=CHECK_NAMES, metavar="CHECK",
                   help=f"run only this check (repeatable): {', '.join(CHECK_NAMES)}")
    p.add_argument("--timeout", type=_seconds, default=10.0, metavar="S",
                   help="seconds each check may take before it is reported as not finished (default 10)")
    p.add_argument("--no-probe", action="store_true",
                   help="do not send the mDNS self-probe (one multicast query for this node's own name, sent only "
                        "when the node runs with discovery on)")


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < value <= 600:
        raise argparse.ArgumentTypeError("the timeout must be more than 0 and at most 600 seconds")
    return value


def cmd_doctor(args: argparse.Namespace, settings: config.Settings) -> int:
    import dataclasses

    from ..doctor import findings as fd
    from ..doctor import run

    probes = run.Probes()
    if args.no_probe:
        probes = dataclasses.replace(probes, mdns_probe=None)
    checks = [(name, check) for name, check in run.CHECKS if not args.only or name in args.only]
    found = run.run_checks(run.Context(settings, probes), checks, timeout=args.timeout)
    data = fd.summary(found)
    tail = (f"\n{data['problems']} problem(s), {data['warnings']} warning(s)"
            + (f", {data['errors']} check(s) that could not run" if data["errors"] else "") + ".")
    emit(args, data, "\n".join(f.line() for f in found) + tail)
    return EXIT_ERROR if fd.failed(found) else EXIT_OK
