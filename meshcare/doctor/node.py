"""The node itself: does a daemon run for the data dir and answer; can one start (the identity locked by
a passphrase, the port it would listen on taken by another program). Pure: judges the facts.

How a daemon is found (launch.py): it holds an flock on daemon.lock and answers ``status`` on
control.sock. A control.sock with no daemon behind it is left by one that was killed (kill -9, a power
cut); the next start removes it, so it is harmless, but it says the node ended without a goodbye.
"""

from __future__ import annotations

import errno
from typing import Final

from .facts import DaemonFacts
from .findings import Finding, info, ok, problem, warning

DAEMON: Final = "daemon"
IDENTITY: Final = "identity"
PORT: Final = "port"

START = "start it with `meshcare start` (or, if it is installed as a service, `sudo systemctl start meshcare@$USER`)"


def judge_daemon(facts: DaemonFacts, control_path: str, log_path: str) -> list[Finding]:
    """Running and answering; running but silent; not running (with a stale socket file, if any)."""
    if facts.pid is not None and facts.answers:
        return [ok(DAEMON, f"your node runs (pid {facts.pid}) and answers on {control_path}.")]
    if facts.pid is not None:
        return [problem(DAEMON, f"your node (pid {facts.pid}) holds the data dir but does not answer on "
                                f"{control_path}: it is stuck, or still starting (unlocking a key takes seconds "
                                "on a Pi).",
                        f"wait a few seconds and run doctor again; if it stays, read its log ({log_path}, or "
                        f"`journalctl -u meshcare@$USER -n 50`) and restart it: `meshcare stop` then `meshcare start`.")]
    what = "your node is not running, so calls from your circles cannot reach you here."
    if facts.socket_exists:
        what += (f" A control socket is left from a node that ended without cleaning up ({control_path}): it "
                 "ended abruptly (killed, a power cut, a crash); the next start removes it.")
        fix = f"{START}; see why it ended in {log_path} (or `journalctl -u meshcare@$USER -n 50`)."
    else:
        fix = START + "."
    return [problem(DAEMON, what, fix)]


def judge_identity(name: str | None, protected: bool, error: str, running: bool,
                   passphrase_file: bool) -> list[Finding]:
    """The identity: readable, and whether a passphrase keeps a stopped node from starting by itself.

    ``name`` None with ``error``: the key could not be read (missing is the files check's to report).
    ``passphrase_file``: a passphrase file is configured (``passphrase_file`` / $MESHCARE_PASSPHRASE_FILE).
    """
    if name is None:
        return [problem(IDENTITY, f"the identity cannot be read: {error}",
                        "restore it from your backup (`meshcare backup import FILE`), or create a new one with "
                        "`meshcare init --name NAME` after moving the old file away (your circles will then "
                        "need to add you again).")]
    if not protected:
        return [ok(IDENTITY, f"{name}: not protected by a passphrase (the node can start by itself, at boot; "
                             "anyone who can read identity.key can use it).")]
    if running:
        return [ok(IDENTITY, f"{name}: protected by a passphrase, and unlocked in the running node.")]
    if passphrase_file:
        return [ok(IDENTITY, f"{name}: protected by a passphrase, read from the passphrase file at start.")]
    return [warning(IDENTITY, f"{name}: the identity is locked by a passphrase and the node is not running: it "
                              "cannot start by itself (at boot, or after a crash) until someone types it.",
                    "start it with `meshcare start` and type the passphrase; for a node that must start unattended "
                    "(a Pi), set `passphrase_file` in config.toml to a file only you can read (chmod 600).")]


def judge_port(host: str, port: int, results: list[tuple[int, int]], fixed: bool) -> list[Finding]:
    """The listen port of a node that is not running: free, taken (the node moves to the next free one,
    or stops when the port was fixed on the command line), or refused.

    ``results``: (port, errno) for ``port`` and the next ones tried, in order; 0 = free.
    """
    where = f"{host or '0.0.0.0'}:{port}"
    first = results[0][1] if results else 0
    find = f"see what uses it: `ss -ltnp 'sport = :{port}'`"
    choose = "or choose another port with `listen = \"0.0.0.0:PORT\"` in config.toml"
    if first == 0:
        return [ok(PORT, f"port {port} is free for the node ({where}).")]
    if first == errno.EADDRINUSE:
        free = next((p for p, err in results[1:] if err == 0), None)
        if fixed or free is None:
            return [problem(PORT, f"port {port} is in use by another program, so the node cannot listen on "
                                  f"{where}" + (" (nor on the next free ports)." if not fixed else "."),
                            f"{find}, then stop it, {choose}.")]
        return [warning(PORT, f"port {port} is in use by another program (another meshcare?): the node will take "
                              f"port {free} instead; peers found on the LAN follow, but those given "
                              f"{port} as a static peer will not reach it.", f"{find}, then stop it, {choose}.")]
    if first == errno.EACCES:
        return [problem(PORT, f"no permission to listen on {where} (ports below 1024 need root).",
                        "choose a port from 1024 up with `listen` in config.toml (the default is 7447).")]
    if first == errno.EADDRNOTAVAIL:
        return [problem(PORT, f"{host} is not an address of this machine, so the node cannot listen on {where}.",
                        "set `listen` in config.toml to one of its addresses (`ip -4 addr`), or to 0.0.0.0.")]
    return [problem(PORT, f"cannot listen on {where}: {errno.errorcode.get(first, str(first))}.",
                    f"{find}, {choose}.")]


def judge_port_running(listen: str) -> list[Finding]:
    """The port of a running node: it listens, so it is fine."""
    return [ok(PORT, f"the node listens on {listen}.")]


def judge_port_unknown(note: str) -> list[Finding]:
    return [info(PORT, f"not checked: {note}")]

