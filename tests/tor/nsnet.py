"""Sockets inside another network namespace, and the few raw Tor protocol pieces the test bed needs.

The test process lives in the root namespace, but a gateway's tor listens on ``127.0.0.1:9050/9051``
*inside* the gateway's namespace. ``ns_socket`` creates a socket there: a short-lived thread enters the
namespace with ``setns(2)`` (which changes only the calling thread), creates the socket and leaves; a
socket keeps the namespace it was created in for its whole life, so the test then uses it from any thread.
That saves a helper process per probe, and the probes' timings are the test process's own.

On top of that, blocking and stdlib only (this file is the test bed's, not meshcare's, so it does not use
meshcare's tor client; the smoke test must work before that client exists):

* ``RawControl``: cookie ``AUTHENTICATE``, one command at a time, ``650`` events collected on the side;
* ``socks_connect``: SOCKS5 ``CONNECT`` to a hostname with a username/password (tor's ``IsolateSOCKSAuth``
  puts each distinct username on fresh circuits), failing with the reply code;
* ``EchoServer``: a tiny threaded echo service on ``127.0.0.1`` inside a namespace;
* ``probe_onion``: connect through SOCKS and echo a line, retrying with bounded attempts and ``NEWNYM``
  after every failed one (the trial's cure for a stuck rendezvous circuit, research notes section 7.8).
"""

from __future__ import annotations

import ctypes
import os
import secrets
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

CLONE_NEWNET = 0x40000000
NETNS_DIR = "/run/netns"

#: SOCKS5 reply codes, with tor's extended ones (``ExtendedErrors``), in words for failure messages.
SOCKS_REPLIES = {
    0x01: "general failure", 0x02: "not allowed by ruleset", 0x03: "network unreachable",
    0x04: "host unreachable", 0x05: "connection refused", 0x06: "TTL expired", 0x07: "command not supported",
    0x08: "address type not supported",
    0xF0: "onion service descriptor not found (not published yet)", 0xF1: "onion descriptor is invalid",
    0xF2: "onion introduction failed", 0xF3: "onion rendezvous failed", 0xF4: "onion client auth missing",
    0xF5: "onion client auth wrong", 0xF6: "bad onion address", 0xF7: "onion introduction timed out",
}


class TorProbeError(RuntimeError):
    """A SOCKS connect, control command or echo through tor failed; ``code`` is the SOCKS reply, if any."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


# --- sockets in a namespace ----------------------------------------------------------------------

_libc = ctypes.CDLL(None, use_errno=True)


def ns_socket(ns: str, family: int = socket.AF_INET, kind: int = socket.SOCK_STREAM) -> socket.socket:
    """A new socket that belongs to network namespace ``ns`` (by name, as ``ip netns`` made it)."""
    made: list[socket.socket] = []
    failed: list[BaseException] = []

    def enter_and_make() -> None:
        try:
            fd = os.open(os.path.join(NETNS_DIR, ns), os.O_RDONLY)
            try:
                if _libc.setns(fd, CLONE_NEWNET) != 0:
                    err = ctypes.get_errno()
                    raise OSError(err, f"setns into {ns}: {os.strerror(err)}")
            finally:
                os.close(fd)
            made.append(socket.socket(family, kind))
        except BaseException as exc:  # handed to the caller's thread below
            failed.append(exc)

    worker = threading.Thread(target=enter_and_make, name=f"setns-{ns}")
    worker.start()
    worker.join()
    if failed:
        raise failed[0]
    return made[0]


def ns_connect(ns: str, address: tuple[str, int], timeout: float) -> socket.socket:
    """A TCP connection from inside ``ns`` to ``address`` (normally a loopback port of that namespace)."""
    sock = ns_socket(ns)
    sock.settimeout(timeout)
    try:
        sock.connect(address)
    except OSError:
        sock.close()
        raise
    return sock


def _read_exact(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise TorProbeError(f"connection closed after {len(data)} of {n} bytes")
        data += chunk
    return data


# --- control port --------------------------------------------------------------------------------


class RawControl:
    """A blocking tor control connection, authenticated with the cookie file (tor's ``COOKIE`` method)."""

    def __init__(self, ns: str, port: int, cookie_path: str, timeout: float = 10.0) -> None:
        self.timeout = timeout
        self.sock = ns_connect(ns, ("127.0.0.1", port), timeout)
        self.events: list[str] = []
        self._buffer = b""
        with open(cookie_path, "rb") as f:
            cookie = f.read()
        self.command(f"AUTHENTICATE {cookie.hex()}")

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> RawControl:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _line(self) -> str:
        while b"\r\n" not in self._buffer:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise TorProbeError("the control connection closed")
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\r\n")
        return line.decode(errors="replace")

    def _reply(self) -> list[str]:
        """One complete reply (``250-...``/``250+...`` data/``250 ...``); async ``650`` lines go to ``events``."""
        lines: list[str] = []
        while True:
            line = self._line()
            if line.startswith("650"):
                self.events.append(line)
                continue
            lines.append(line)
            if len(line) >= 4 and line[3] == "+":      # a data block, ended by a lone "."
                while (data := self._line()) != ".":
                    lines.append(data)
            elif len(line) >= 4 and line[3] == " ":
                return lines

    def command(self, line: str) -> list[str]:
        """Send one command; return its reply lines; ``TorProbeError`` unless tor answered 250."""
        self.sock.sendall(line.encode() + b"\r\n")
        reply = self._reply()
        if not reply[-1].startswith("250"):
            raise TorProbeError(f"tor answered {line.split()[0]} with: {' | '.join(reply)}")
        return reply

    def wait_event(self, match: Callable[[str], bool], timeout: float) -> str:
        """Wait (bounded) for an async event line that ``match``es; earlier ones are looked at first."""
        deadline = time.monotonic() + timeout
        while True:
            for event in self.events:
                if match(event):
                    self.events.remove(event)
                    return event
            left = deadline - time.monotonic()
            if left <= 0:
                raise TorProbeError(f"no matching tor event within {timeout} s; saw: {self.events[-5:]}")
            self.sock.settimeout(left)
            try:
                line = self._line()
            except TimeoutError:
                continue
            finally:
                self.sock.settimeout(self.timeout)
            if line.startswith("650"):
                self.events.append(line)

    def add_onion(self, port: int, target: tuple[str, int]) -> str:
        """Publish a fresh onion service for the lifetime of this connection; return its ``xxx.onion``."""
        reply = self.command(f"ADD_ONION NEW:ED25519-V3 Flags=DiscardPK Port={port},{target[0]}:{target[1]}")
        for line in reply:
            if line[4:].startswith("ServiceID="):
                return line[4:].split("=", 1)[1] + ".onion"
        raise TorProbeError(f"ADD_ONION gave no ServiceID: {reply}")

    def wait_published(self, onion: str, timeout: float) -> None:
        """Wait until tor says it uploaded the service's descriptor to at least one HSDir."""
        service = onion.removesuffix(".onion")
        self.wait_event(lambda e: e.startswith("650 HS_DESC UPLOADED ") and e.split()[3] == service, timeout)

    def newnym(self) -> None:
        self.command("SIGNAL NEWNYM")


# --- SOCKS5 ------------------------------------------------------------------------------------------


def socks_connect(ns: str, socks_port: int, host: str, port: int, timeout: float,
                  isolation: str | None = None) -> socket.socket:
    """Connect through the SOCKS5 port of the tor in ``ns`` to ``host:port``; ``TorProbeError`` on refusal."""
    sock = ns_connect(ns, ("127.0.0.1", socks_port), timeout)
    try:
        user = (isolation or secrets.token_hex(8)).encode()
        sock.sendall(b"\x05\x01\x02")
        if _read_exact(sock, 2) != b"\x05\x02":
            raise TorProbeError("the SOCKS port refused username/password authentication")
        sock.sendall(b"\x01" + bytes([len(user)]) + user + b"\x01x")
        if _read_exact(sock, 2)[1] != 0:
            raise TorProbeError("the SOCKS port refused the isolation username")
        name = host.encode()
        sock.sendall(b"\x05\x01\x00\x03" + bytes([len(name)]) + name + struct.pack(">H", port))
        head = _read_exact(sock, 4)
        if head[1] != 0:
            raise TorProbeError(f"SOCKS reply 0x{head[1]:02X}: {SOCKS_REPLIES.get(head[1], 'unknown')}", head[1])
        skip = {1: 4, 4: 16}.get(head[3])
        _read_exact(sock, (skip if skip is not None else _read_exact(sock, 1)[0]) + 2)
        return sock
    except BaseException:
        sock.close()
        raise


# --- an echo service ---------------------------------------------------------------------------------


class EchoServer:
    """Echo every byte back, on ``127.0.0.1:port`` inside ``ns``; threads, stopped by ``close``."""

    def __init__(self, ns: str, port: int) -> None:
        self.listener = ns_socket(ns)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", port))
        self.listener.listen()
        self.port = self.listener.getsockname()[1]
        self._conns: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, name=f"echo-{ns}", daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self._conns.append(conn)
            threading.Thread(target=self._echo, args=(conn,), daemon=True).start()

    @staticmethod
    def _echo(conn: socket.socket) -> None:
        try:
            while data := conn.recv(4096):
                conn.sendall(data)
        except OSError:
            pass
        finally:
            conn.close()

    def close(self) -> None:
        try:
            self.listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.listener.close()
        for conn in self._conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._thread.join(timeout=5)


# --- probing an onion ----------------------------------------------------------------------------------


@dataclass
class Probe:
    """The result of ``probe_onion``: when it worked and what failed before."""

    seconds: float
    failures: list[str] = field(default_factory=list)
    rtts_ms: list[float] = field(default_factory=list)


def echo_once(sock: socket.socket, payload: bytes) -> float:
    """Send ``payload``, read it back; the round trip in milliseconds."""
    t0 = time.perf_counter()
    sock.sendall(payload)
    back = _read_exact(sock, len(payload))
    if back != payload:
        raise TorProbeError("the echo came back different")
    return (time.perf_counter() - t0) * 1000


def probe_onion(ns: str, socks_port: int, onion: str, port: int, *, control: RawControl | None,
                deadline_s: float = 90.0, attempt_s: float = 20.0, echoes: int = 1) -> Probe:
    """Reach ``onion:port`` from the tor in ``ns`` and echo ``echoes`` 64-byte lines; retry until it works.

    Each attempt is bounded by ``attempt_s``; after a failed one, ``control`` (that tor's control
    connection) is sent NEWNYM so the next attempt builds fresh circuits, then we wait 1.5 s. Raises
    ``TorProbeError`` with every failure when ``deadline_s`` passes.
    """
    t0 = time.monotonic()
    failures: list[str] = []
    while True:
        left = deadline_s - (time.monotonic() - t0)
        if left <= 0:
            raise TorProbeError(f"{onion}:{port} not reachable from {ns} within {deadline_s} s: {failures}")
        try:
            with socks_connect(ns, socks_port, onion, port, min(attempt_s, left)) as sock:
                connected = time.monotonic() - t0
                rtts = [echo_once(sock, secrets.token_hex(32).encode()) for _ in range(echoes)]
            return Probe(connected, failures, rtts)
        except (OSError, TorProbeError) as exc:
            failures.append(f"{time.monotonic() - t0:.1f}s {type(exc).__name__}: {exc}")
            if control is not None:
                control.newnym()
            time.sleep(1.5)
