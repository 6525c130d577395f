"""A small blocking control client for the CLI (stdlib ``socket``, one request at a time).

Theory of operation
-------------------
The protocol lives in ``meshcare.control``; this module only moves bytes. ``connect`` opens the Unix
socket of a data directory and writes our hello. ``request`` writes one request and reads until its
reply arrives; events that arrive meanwhile (after ``subscribe``) are kept, in order, for ``events``.
Every read and write has the timeout given to ``connect``, except ``events``, which waits as long as
it is told to (forever by default: that is what following the event stream means).

Failures are ``MeshcareError``s a person can act on: ``DaemonNotRunning`` when nobody listens,
``DaemonUnavailable`` when the daemon stops answering, ``RequestFailed`` (with the daemon's error
kind) when it answered ``ok: false``, ``RemoteProtocolError`` if what came back is not the protocol.
"""

from __future__ import annotations

import os
import socket
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

from .control.protocol import OP_SUBSCRIBE, ControlConnection, Data, Event, Reply, Role, check_socket_path
from .errors import DaemonNotRunning, DaemonUnavailable, LocalProtocolError, RequestFailed

#: Bytes asked of the socket per read.
RECEIVE_SIZE = 64 * 1024


class ControlClient:
    """A connection to the local daemon. Use ``connect``; close it (or use ``with``) when done."""

    def __init__(self, sock: socket.socket, path: Path, timeout: float) -> None:
        self._sock = sock
        self._path = path
        self._timeout = timeout
        self._conn = ControlConnection(Role.CLIENT)
        self._replies: dict[int, Reply] = {}
        self._events: deque[Event] = deque()

    @classmethod
    def connect(cls, path: Path, timeout: float = 5.0) -> ControlClient:
        """Connect to the daemon's control socket at ``path`` and say hello.

        Raises DaemonNotRunning (no socket, or nobody listening), DaemonUnavailable (any other reason
        the connection fails, e.g. permissions), BadInput (path too long for a Unix socket).
        """
        check_socket_path(path)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        try:
            sock.connect(os.fspath(path))
        except (FileNotFoundError, ConnectionRefusedError):
            sock.close()
            raise DaemonNotRunning(f"no meshcare daemon is running for {path.parent} "
                                   "(start one with `meshcare daemon`)") from None
        except OSError as exc:
            sock.close()
            raise DaemonUnavailable(f"cannot connect to the meshcare daemon at {path}: "
                                    f"{exc.strerror or 'timed out'}") from None
        client = cls(sock, path, timeout)
        try:
            client._send(client._conn.send_hello())
        except BaseException:
            client.close()
            raise
        return client

    # --- requests --------------------------------------------------------------------------------

    def request(self, op: str, /, **args: Any) -> Data:
        """Ask the daemon to perform ``op`` with ``args``; return its result.

        Raises RequestFailed (``.kind``, ``.message``) if the daemon refused or failed, DaemonUnavailable
        if it did not answer in time or closed the connection, RemoteProtocolError on garbage.
        """
        request_id, data = self._conn.send_request(op, args)
        self._send(data)
        while request_id not in self._replies:
            if not self._receive(self._timeout, f"answering {op!r}"):
                raise DaemonUnavailable(f"the meshcare daemon at {self._path} closed the connection "
                                        f"before answering {op!r} (see the daemon log)")
        reply = self._replies.pop(request_id)
        if reply.error is not None:
            raise RequestFailed(reply.error.kind, reply.error.message)
        if reply.result is None:
            raise DaemonUnavailable(f"the meshcare daemon at {self._path} answered {op!r} with neither a "
                                    "result nor an error (see the daemon log)")
        return reply.result

    def subscribe(self) -> None:
        """Ask for the event stream (then iterate ``events``)."""
        self.request(OP_SUBSCRIBE)

    def events(self, timeout: float | None = None) -> Iterator[Event]:
        """Events from the daemon, in order, until it closes the connection.

        ``timeout``: seconds to wait for the next event before raising DaemonUnavailable (None: wait
        forever). Raises LocalProtocolError if called before subscribing.
        """
        if not self._conn.subscribed:
            raise LocalProtocolError("call subscribe() (or request('subscribe')) before events()")
        while True:
            while self._events:
                yield self._events.popleft()
            if not self._receive(timeout, "sending events"):
                return

    # --- bytes -----------------------------------------------------------------------------------

    def _send(self, data: bytes) -> None:
        try:
            self._sock.sendall(data)
        except TimeoutError:
            raise DaemonUnavailable(f"the meshcare daemon at {self._path} stopped reading "
                                    f"(nothing went through for {self._timeout:g} s)") from None
        except OSError as exc:
            raise DaemonUnavailable(f"lost the connection to the meshcare daemon at {self._path}: "
                                    f"{exc.strerror}") from None

    def _receive(self, timeout: float | None, doing: str) -> bool:
        """Read once and sort what arrives into replies and events; False at end of stream."""
        self._sock.settimeout(timeout)
        try:
            data = self._sock.recv(RECEIVE_SIZE)
        except TimeoutError:
            raise DaemonUnavailable(f"the meshcare daemon at {self._path} did not respond within "
                                    f"{timeout:g} s while {doing}") from None
        except OSError as exc:
            raise DaemonUnavailable(f"lost the connection to the meshcare daemon at {self._path}: "
                                    f"{exc.strerror}") from None
        finally:
            self._sock.settimeout(self._timeout)
        if not data:
            return False
        for message in self._conn.receive_data(data):
            if isinstance(message, Reply):
                self._replies[message.id] = message
            elif isinstance(message, Event):
                self._events.append(message)
        return True

    # --- lifetime --------------------------------------------------------------------------------

    def close(self) -> None:
        self._sock.close()

    def __enter__(self) -> ControlClient:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
