#!/usr/bin/env python3
"""The LXMF side of the like-for-like benchmark: one worker process that benchmarks/bench_oneshot.py drives
over stdin/stdout, one JSON object per line (the worker protocol: docs/peers.md).

One Reticulum instance and, on a sender or receiver, one LXMF router run in this process, as an LXMF
application runs them; the relay is a bare Reticulum transport node (what `rnsd` with
`enable_transport = Yes` is: LXMF is an application on the end points, transport nodes forward packets
without opening them), so it has no LXMF identity and no router.

Network safety: Reticulum's stock configuration enables AutoInterface, which multicasts on every
interface of the machine. This worker never lets Reticulum write or read a default configuration: it
writes DIR/config itself (one TCPServerInterface on 127.0.0.1, one TCPClientInterface to 127.0.0.1 per
--connect-port, no shared instance, no RPC socket, no discovery), checks that file before starting
Reticulum with configdir=DIR, and checks every interface Reticulum then holds (at start-up, on every
`stats` and before quitting): anything that is not TCP on 127.0.0.1 ends the process with exit code 3.

Everything above the "Runtime" line, and loopback_config.py beside this file (the config and its checks),
imports nothing of Reticulum, so the project's tests check the config, the arguments and the line
protocol without Reticulum installed; RNS and LXMF are imported by Node only, from the separate venv that
`make bench-peers` builds (benchmarks/peers/.venv).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import re
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, TextIO

from loopback_config import ROLES, config_problems, config_text, interface_problems

METHODS = ("direct", "opportunistic")
NUMBER_DIGITS = 8            # a message body starts with its number, 8 digits (the worker protocol)
HASH_HEX = 32                # an LXMF delivery destination hash: 16 bytes
CONNECT_TIMEOUT_S = 20.0     # a TCPClientInterface retries every 5 s: four tries
PATH_TIMEOUT_S = 20.0
PATH_RETRY_S = 2.0
# Once the sender has a path it waits this long after its own announce before `ready`: a transport node
# rebroadcasts an announce after a random delay of up to 0.5 s (checked every 0.25 s), and the receiver
# can verify the sender's signatures only once that announce has reached it.
ANNOUNCE_SETTLE_S = 1.0
EXIT_START = 2               # could not start (bad arguments, no connection, no path)
EXIT_UNSAFE = 3              # an interface or config that is not loopback TCP: refused


class WorkerError(Exception):
    """A command or an option this worker cannot carry out; the message says what to change."""


# ---------------------------------------------------------------- options


@dataclass(frozen=True)
class Options:
    role: str
    dir: Path
    listen_port: int
    connect_ports: tuple[int, ...]
    method: str
    to: str | None
    path_timeout: float
    connect_timeout: float
    verbose: bool


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port {port} is outside 1-65535")
    return port


def _hash_hex(text: str) -> str:
    if not re.fullmatch(r"[0-9a-fA-F]{%d}" % HASH_HEX, text):
        raise argparse.ArgumentTypeError(f"not an LXMF address ({HASH_HEX} hex digits): {text!r}")
    return text.lower()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lxmf_worker.py",
        description="One Reticulum/LXMF node for benchmarks/bench_oneshot.py: reads commands and writes events "
                    "as JSON lines (the worker protocol: docs/peers.md). Only loopback TCP: it writes its own Reticulum config "
                    "under --dir and refuses any other interface. Run it with benchmarks/peers/.venv/bin/python.")
    parser.add_argument("--role", required=True, choices=ROLES,
                        help="sender: sends on `send`, reports `sent` and `acked` (LXMF's delivery proof); "
                             "receiver: reports `delivered`; relay: a Reticulum transport node, forwards only")
    parser.add_argument("--dir", required=True, type=Path,
                        help="this node's directory: Reticulum config and storage, LXMF storage (created)")
    parser.add_argument("--listen-port", required=True, type=_port, metavar="P",
                        help="the TCPServerInterface's port on 127.0.0.1")
    parser.add_argument("--connect-port", action="append", type=_port, default=[], metavar="Q",
                        help="a TCPClientInterface to 127.0.0.1:Q (repeat for several); the worker is "
                             "`ready` only once each is connected")
    parser.add_argument("--method", choices=METHODS, default="direct",
                        help="sender: LXMF delivery method; direct = over a Reticulum link (set up on the "
                             "first message), opportunistic = one encrypted packet per message "
                             "(default: direct)")
    parser.add_argument("--to", type=_hash_hex, default=None, metavar="ADDRESS",
                        help="sender: the receiver's address (its `ready` line); the sender then has a path "
                             "to it before `ready`. Without it the path is found on the first `send`.")
    parser.add_argument("--path-timeout", type=float, default=PATH_TIMEOUT_S, metavar="S",
                        help=f"seconds to wait for a path to the receiver (default {PATH_TIMEOUT_S:.0f})")
    parser.add_argument("--connect-timeout", type=float, default=CONNECT_TIMEOUT_S, metavar="S",
                        help="seconds to wait for the --connect-port connections "
                             f"(default {CONNECT_TIMEOUT_S:.0f}; "
                             "Reticulum retries a refused one every 5 s)")
    parser.add_argument("--verbose", action="store_true", help="Reticulum's debug log on stderr")
    return parser


def parse_args(argv: list[str]) -> Options:
    """The worker's options; the role-specific combinations argparse cannot check are refused here."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.listen_port in args.connect_port:
        parser.error(f"--connect-port {args.listen_port} is this worker's own --listen-port")
    if args.to is not None and args.role != "sender":
        parser.error("--to is for the sender only")
    if args.path_timeout <= 0 or args.connect_timeout <= 0:
        parser.error("--path-timeout and --connect-timeout must be positive")
    return Options(role=args.role, dir=args.dir, listen_port=args.listen_port,
                   connect_ports=tuple(args.connect_port), method=args.method, to=args.to,
                   path_timeout=args.path_timeout, connect_timeout=args.connect_timeout,
                   verbose=args.verbose)


# ---------------------------------------------------------------- line protocol


@dataclass(frozen=True)
class Send:
    n: int
    size: int
    to: str


@dataclass(frozen=True)
class Stats:
    pass


@dataclass(frozen=True)
class Quit:
    pass


Command = Send | Stats | Quit


def parse_command(line: str) -> Command:
    """One stdin line of WORKERS.md into a typed command; WorkerError says what was wrong with it."""
    try:
        data = json.loads(line)
    except ValueError as exc:
        raise WorkerError(f"not a JSON line: {exc}") from None
    if not isinstance(data, dict):
        raise WorkerError("a command is a JSON object")
    cmd = data.get("cmd")
    if cmd == "stats":
        return Stats()
    if cmd == "quit":
        return Quit()
    if cmd != "send":
        raise WorkerError(f"unknown cmd {cmd!r}: send, stats or quit")
    n, size, to = data.get("n"), data.get("size"), data.get("to")
    if not isinstance(n, int) or isinstance(n, bool) or not 0 <= n < 10 ** NUMBER_DIGITS:
        raise WorkerError(f"send: n must be an integer 0-{10 ** NUMBER_DIGITS - 1}, got {n!r}")
    if not isinstance(size, int) or isinstance(size, bool) or size < NUMBER_DIGITS:
        raise WorkerError(f"send: size must be an integer >= {NUMBER_DIGITS} (the number comes first), "
                          f"got {size!r}")
    if not isinstance(to, str) or not re.fullmatch(r"[0-9a-fA-F]{%d}" % HASH_HEX, to):
        raise WorkerError(f"send: to must be an LXMF address of {HASH_HEX} hex digits, got {to!r}")
    return Send(n=n, size=size, to=to.lower())


def body(n: int, size: int) -> bytes:
    """A message body of `size` bytes: the 8-digit number, then padding."""
    if size < NUMBER_DIGITS:
        raise WorkerError(f"a body holds at least the {NUMBER_DIGITS}-digit number")
    return f"{n:0{NUMBER_DIGITS}d}".encode() + b"." * (size - NUMBER_DIGITS)


def number_of(content: bytes) -> int:
    """The message number a body starts with."""
    head = content[:NUMBER_DIGITS]
    if len(head) != NUMBER_DIGITS or not head.isdigit():
        raise WorkerError(f"a body that does not start with {NUMBER_DIGITS} digits: {head!r}")
    return int(head)


def now() -> float:
    """WORKERS.md's clock: the same in every process on the machine."""
    return time.clock_gettime(time.CLOCK_MONOTONIC)


def rss_kib() -> int | None:
    """This process's resident set now (VmRSS), in KiB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


class Lines:
    """The protocol's output: one JSON object per line, flushed, written by any thread."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def write(self, obj: dict[str, Any]) -> None:
        text = json.dumps(obj, separators=(",", ":")) + "\n"
        with self._lock:
            self._stream.write(text)
            self._stream.flush()


def protocol_stdout() -> TextIO:
    """The protocol stream on a private copy of fd 1, with fd 1 and sys.stdout pointed at stderr, so a
    print() or a log line from Reticulum or LXMF can never corrupt the JSON lines."""
    stream = os.fdopen(os.dup(1), "w", encoding="utf-8")
    sys.stdout.flush()
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return stream


def fail(code: int, message: str) -> None:
    """Exit now (Reticulum's threads would keep an ordinary exit waiting) with the reason on stderr."""
    sys.stderr.write(f"lxmf_worker: {message}\n")
    sys.stderr.flush()
    os._exit(code)


# ---------------------------------------------------------------- Runtime (needs RNS and LXMF)


class Node:
    """The Reticulum instance, and on the end points the LXMF router, of one worker."""

    def __init__(self, opts: Options, out: Lines) -> None:
        LXMF = importlib.import_module("LXMF")
        RNS = importlib.import_module("RNS")
        self.RNS, self.LXMF, self.opts, self.out = RNS, LXMF, opts, out
        opts.dir.mkdir(parents=True, exist_ok=True)
        text = config_text(opts.role, opts.listen_port, opts.connect_ports)
        path = opts.dir / "config"
        path.write_text(text)
        problems = config_problems(path.read_text(), opts.role)
        if problems:
            fail(EXIT_UNSAFE, "refusing to start Reticulum: " + "; ".join(problems))
        log_lock = threading.Lock()

        def log(line: str) -> None:
            with log_lock:
                sys.stderr.write(f"[{opts.role}] {line}\n")
                sys.stderr.flush()

        level = RNS.LOG_DEBUG if opts.verbose else RNS.LOG_WARNING
        self.reticulum = RNS.Reticulum(configdir=str(opts.dir), loglevel=level, logdest=log)
        self.check_interfaces()
        self.wait_connected()
        self.router: Any = None
        self.source: Any = None
        self.destinations: dict[bytes, Any] = {}
        self.announced_at = 0.0
        if opts.role != "relay":
            identity = RNS.Identity()
            self.router = LXMF.LXMRouter(identity=identity, storagepath=str(opts.dir))  # LXMF adds /lxmf
            self.source = self.router.register_delivery_identity(identity)
            if opts.role == "receiver":
                self.router.register_delivery_callback(self.on_delivery)
            # Both ends announce: the receiver so that the sender finds a path to it, the sender so that
            # the receiver knows its identity and verifies its signatures, as an LXMF client does.
            self.router.announce(self.source.hash)
            self.announced_at = now()

    @property
    def address(self) -> str:
        return "" if self.source is None else self.source.hash.hex()

    def check_interfaces(self) -> None:
        seen = []
        for iface in list(self.RNS.Transport.interfaces):
            kind = type(iface).__name__
            if kind == "TCPServerInterface":
                server = getattr(iface, "server", None)
                bound = server.server_address[0] if server is not None else iface.bind_ip
                host = bound if bound == iface.bind_ip else f"{iface.bind_ip} bound to {bound}"
            else:
                host = str(getattr(iface, "target_ip", None))
            seen.append((kind, host))
        problems = interface_problems(seen)
        if problems:
            fail(EXIT_UNSAFE, "; ".join(problems))

    def wait_connected(self) -> None:
        clients = [i for i in self.RNS.Transport.interfaces
                   if type(i).__name__ == "TCPClientInterface" and getattr(i, "initiator", False)]
        deadline = now() + self.opts.connect_timeout
        while any(not c.online for c in clients):
            if now() > deadline:
                down = ", ".join(f"{c.target_ip}:{c.target_port}" for c in clients if not c.online)
                fail(EXIT_START, f"no TCP connection to {down} after {self.opts.connect_timeout:.0f} s: "
                                 "start the worker that listens there first")
            time.sleep(0.05)

    def destination(self, address: str) -> Any:
        """The receiver's lxmf.delivery destination, after finding a path to it (cached)."""
        RNS = self.RNS
        key = bytes.fromhex(address)
        if key in self.destinations:
            return self.destinations[key]
        deadline = now() + self.opts.path_timeout
        asked = 0.0
        while not RNS.Transport.has_path(key):
            if now() > deadline:
                raise WorkerError(f"no path to {address} after {self.opts.path_timeout:.0f} s: is the receiver "
                                  "running, and connected to this node directly or through the relay?")
            if now() - asked > PATH_RETRY_S:
                RNS.Transport.request_path(key)
                asked = now()
            time.sleep(0.02)
        identity = RNS.Identity.recall(key)
        if identity is None:
            raise WorkerError(f"a path to {address} but no identity for it: not an LXMF delivery address?")
        dest = RNS.Destination(identity, RNS.Destination.OUT, RNS.Destination.SINGLE, "lxmf", "delivery")
        self.destinations[key] = dest
        return dest

    def settle(self) -> None:
        """Give this node's own announce time to cross a transport node (see ANNOUNCE_SETTLE_S)."""
        wait = self.announced_at + ANNOUNCE_SETTLE_S - now()
        if wait > 0:
            time.sleep(wait)

    def send(self, cmd: Send) -> None:
        if self.opts.role != "sender":
            raise WorkerError(f"a {self.opts.role} does not send")
        LXMF = self.LXMF
        dest = self.destination(cmd.to)
        method = LXMF.LXMessage.DIRECT if self.opts.method == "direct" else LXMF.LXMessage.OPPORTUNISTIC
        message = LXMF.LXMessage(dest, self.source, content=body(cmd.n, cmd.size), title=b"",
                                 desired_method=method)
        n = cmd.n
        message.register_delivery_callback(lambda _m: self.out.write({"acked": n, "t": now()}))
        message.register_failed_callback(
            lambda m: self.out.write({"error": f"LXMF gave up message {n} (state {m.state:#x})", "n": n}))
        self.router.handle_outbound(message)
        self.out.write({"sent": n, "t": now()})

    def on_delivery(self, message: Any) -> None:
        t = now()
        try:
            n = number_of(message.content)
        except WorkerError as exc:
            self.out.write({"error": f"delivered: {exc}"})
            return
        # `verified`: LXMF checked the sender's signature (it can only once it knows the sender's identity).
        self.out.write({"delivered": n, "t": t, "verified": bool(message.signature_validated)})

    def stats(self) -> dict[str, Any]:
        """CPU of every thread of this process, its RSS, and the bytes its TCP interfaces carried: the
        RNS interface counters `txb` (bytes written to the socket, HDLC framing included) and `rxb`
        (frames read, after removing the framing). A server interface adds its accepted connections'
        bytes to its own counters, so servers and the connections this node opened are summed, not
        the accepted connections themselves."""
        self.check_interfaces()
        wire_in = wire_out = 0
        for iface in list(self.RNS.Transport.interfaces):
            kind = type(iface).__name__
            opened_here = kind == "TCPClientInterface" and getattr(iface, "initiator", False)
            if kind == "TCPServerInterface" or opened_here:
                wire_in += iface.rxb
                wire_out += iface.txb
        return {"cpu_s": round(time.process_time(), 6), "rss_kib": rss_kib(), "wire_in": wire_in,
                "wire_out": wire_out}

    def shutdown(self) -> None:
        """Clean exit: LXMF tears its links down and saves its state, Reticulum detaches its interfaces
        and persists its tables, then the process ends (RNS.exit does not return)."""
        self.check_interfaces()
        if self.router is not None:
            self.router.exit_handler()
        self.RNS.exit(0)


def serve(node: Node, out: Lines, stdin: TextIO) -> None:
    """Read commands until `quit` or the end of stdin (the driver went away), then shut down."""
    handlers: dict[type, Callable[[Any], None]] = {
        Send: node.send,
        Stats: lambda _c: out.write({"stats": node.stats()}),
    }
    for line in stdin:
        if not line.strip():
            continue
        try:
            cmd = parse_command(line)
            if isinstance(cmd, Quit):
                break
            handlers[type(cmd)](cmd)
        except WorkerError as exc:
            out.write({"error": str(exc)})
        except Exception as exc:  # noqa: BLE001 - report whatever LXMF raised and keep serving
            out.write({"error": f"{type(exc).__name__}: {exc}"})
    node.shutdown()


def run(opts: Options) -> None:
    out = Lines(protocol_stdout())
    try:
        node = Node(opts, out)
        if opts.role == "sender" and opts.to is not None:
            node.destination(opts.to)
        if opts.role == "sender":
            node.settle()
    except WorkerError as exc:
        fail(EXIT_START, str(exc))
    except ImportError as exc:
        fail(EXIT_START, f"{exc}: run this worker with benchmarks/peers/.venv/bin/python "
                         "(make bench-peers builds it)")
    except Exception as exc:  # noqa: BLE001 - whatever Reticulum raised while starting: say it, leave nothing behind
        fail(EXIT_START, f"cannot start: {type(exc).__name__}: {exc}")
    out.write({"ready": True, "address": node.address})
    serve(node, out, sys.stdin)


def main(argv: list[str] | None = None) -> None:
    run(parse_args(sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    main()
