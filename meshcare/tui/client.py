"""An asyncio control client for the terminal UI: the pure ``ControlConnection`` over a Unix socket.

Theory of operation
-------------------
Textual runs on asyncio and the daemon on trio, in separate processes; they meet on the control socket
(docs/control.md). ``Connection`` moves bytes only: ``open`` connects and writes our hello, a reader task
feeds everything that arrives to the ``ControlConnection`` and sorts it into replies (each wakes the
``ask`` waiting for it, so several requests may be outstanding at once) and events (queued, in order, for
``next_events``). ``ask`` is typed: it sends ``request.OP`` with ``request.to_data()`` and returns
``request.read_result(...)``.

Failures are the meshcare errors a person can act on, the same as the blocking client's
(``meshcare.client``): ``DaemonNotRunning`` when nobody listens, ``DaemonUnavailable`` when the daemon
stops answering or the connection ends (every waiting ``ask`` and ``next_events`` gets it),
``RequestFailed`` (``.kind``, ``.message``) when the daemon answered ``ok: false``,
``RemoteProtocolError`` when what came back is not the protocol.

``Client`` is what screens use for requests: one connection, opened on first use and again after it
failed, so a daemon restart costs one failed request at most. The event stream has its own connection
(``meshcare.tui.session``). Nothing here imports trio.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Final, TypeVar

from ..control import api
from ..control.protocol import ControlConnection, Event, Reply, Role, check_socket_path
from ..errors import (BadInput, DaemonNotRunning, DaemonUnavailable, MeshcareError, RemoteProtocolError,
                      RequestFailed)

R = TypeVar("R", bound=api.Result)

#: Bytes asked of the socket per read.
RECEIVE_SIZE: Final = 64 * 1024
#: Seconds a request may take before the daemon counts as not answering.
ASK_TIMEOUT: Final = 30.0
#: Most events handed out by one ``next_events`` (a burst is applied in batches of this size).
MAX_BATCH: Final = 500

#: Opens a new connection to the daemon (injected: the tests' fake daemon, or ``unix_connector``).
Connector = Callable[[], Awaitable["Connection"]]


class Connection:
    """One control connection (see the module docstring). Use ``open``; ``close`` when done."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, where: str,
                 timeout: float = ASK_TIMEOUT) -> None:
        self._reader, self._writer = reader, writer
        self._where = where
        self._timeout = timeout
        self._conn = ControlConnection(Role.CLIENT)
        self._waiting: dict[int, asyncio.Future[Reply]] = {}
        self._events: asyncio.Queue[Event | None] = asyncio.Queue()
        self._error: MeshcareError | None = None
        self._writer.write(self._conn.send_hello())
        self._task = asyncio.get_running_loop().create_task(self._read_loop())

    @classmethod
    async def open(cls, path: Path, *, timeout: float = ASK_TIMEOUT) -> Connection:
        """Connect to the daemon's control socket at ``path``. Raises DaemonNotRunning (nobody listens),
        DaemonUnavailable (any other reason, e.g. permissions), BadInput (path too long)."""
        check_socket_path(path)
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_unix_connection(os.fspath(path)), timeout)
        except (FileNotFoundError, ConnectionRefusedError):
            raise DaemonNotRunning(f"no meshcare daemon is running for {path.parent} "
                                   "(start one with `meshcare daemon`)") from None
        except (OSError, asyncio.TimeoutError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "timed out"
            raise DaemonUnavailable(f"cannot connect to the meshcare daemon at {path}: {reason}") from None
        return cls(reader, writer, str(path.parent), timeout)

    @property
    def closed(self) -> bool:
        """True once the connection ended (``ask`` and ``next_events`` raise then)."""
        return self._error is not None

    # --- requests --------------------------------------------------------------------------------

    async def ask(self, request: api.Request[R], timeout: float | None = None) -> R:
        """Send ``request`` and return its typed result. Raises RequestFailed, DaemonUnavailable (no
        answer within ``timeout`` seconds, default ``ASK_TIMEOUT``, or the connection ended),
        RemoteProtocolError (the answer is not what the op answers)."""
        if self._error is not None:
            raise self._error
        request_id, data = self._conn.send_request(request.OP, request.to_data())
        future: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        self._waiting[request_id] = future
        try:
            self._writer.write(data)
            reply = await asyncio.wait_for(future, self._timeout if timeout is None else timeout)
        except asyncio.TimeoutError:
            raise DaemonUnavailable(f"the meshcare daemon for {self._where} did not answer {request.OP!r} in "
                                    f"{self._timeout if timeout is None else timeout:g} s") from None
        finally:
            self._waiting.pop(request_id, None)
        if reply.error is not None:
            raise RequestFailed(reply.error.kind, reply.error.message)
        try:
            return request.read_result(reply.result)
        except BadInput as exc:
            raise RemoteProtocolError(f"the daemon's answer to {request.OP!r} is not understood: {exc}") from None

    async def subscribe(self) -> None:
        """Open the event stream on this connection (then call ``next_events``)."""
        await self.ask(api.Subscribe())

    async def next_events(self, most: int = MAX_BATCH) -> list[api.Event]:
        """Wait for the next event, then take every event already queued behind it (up to ``most``), in
        order: a burst becomes one batch. Events this version does not know are left out. Raises
        DaemonUnavailable (or the protocol error) once the connection ended."""
        out: list[api.Event] = []
        while not out:
            raw = [await self._events.get()]
            while len(raw) < most and not self._events.empty():
                raw.append(self._events.get_nowait())
            for item in raw:
                if item is None:
                    self._events.put_nowait(None)  # keep the end marker for the next caller
                    if out:
                        return out
                    raise self._error or DaemonUnavailable("the connection to the meshcare daemon ended")
                event = self._read_event(item)
                if event is not None:
                    out.append(event)
        return out

    def _read_event(self, item: Event) -> api.Event | None:
        try:
            return api.read_event(item.name, item.data)
        except BadInput as exc:
            error = RemoteProtocolError(f"the daemon sent a malformed {item.name!r} event: {exc}")
            self._fail(error)
            raise error from None

    # --- bytes -----------------------------------------------------------------------------------

    async def _read_loop(self) -> None:
        error: MeshcareError
        try:
            while True:
                data = await self._reader.read(RECEIVE_SIZE)
                if not data:
                    error = DaemonUnavailable(f"the meshcare daemon for {self._where} closed the connection")
                    break
                for message in self._conn.receive_data(data):
                    if isinstance(message, Reply):
                        future = self._waiting.get(message.id)
                        if future is not None and not future.done():
                            future.set_result(message)
                    elif isinstance(message, Event):
                        self._events.put_nowait(message)
        except RemoteProtocolError as exc:
            error = exc
        except OSError as exc:
            error = DaemonUnavailable(f"lost the connection to the meshcare daemon for {self._where}: "
                                      f"{exc.strerror or exc}")
        except asyncio.CancelledError:
            error = DaemonUnavailable("the connection to the meshcare daemon was closed")
            self._fail(error)
            raise
        self._fail(error)

    def _fail(self, error: MeshcareError) -> None:
        if self._error is not None:
            return
        self._error = error
        for future in self._waiting.values():
            if not future.done():
                future.set_exception(error)
        self._events.put_nowait(None)
        self._writer.close()

    async def close(self) -> None:
        """End the connection (idempotent)."""
        self._fail(DaemonUnavailable("the connection to the meshcare daemon was closed"))
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError, OSError):
            await self._task
        with contextlib.suppress(OSError):
            await self._writer.wait_closed()


def unix_connector(path: Path, timeout: float = ASK_TIMEOUT) -> Connector:
    """A connector to the daemon listening on ``path`` (a data directory's ``control.sock``)."""
    async def connect() -> Connection:
        return await Connection.open(path, timeout=timeout)
    return connect


class Client:
    """Requests to the daemon over one connection, opened when first needed and again after it failed."""

    def __init__(self, connect: Connector) -> None:
        self._connect = connect
        self._conn: Connection | None = None
        self._opening = asyncio.Lock()

    async def ask(self, request: api.Request[R], timeout: float | None = None) -> R:
        """``Connection.ask`` on the current connection (see there for what it raises)."""
        conn = await self._connection()
        try:
            return await conn.ask(request, timeout)
        except DaemonUnavailable:
            if self._conn is conn:
                self._conn = None
            await conn.close()
            raise

    async def _connection(self) -> Connection:
        async with self._opening:
            if self._conn is None or self._conn.closed:
                self._conn = await self._connect()
            return self._conn

    async def close(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            await conn.close()


async def probe(path: Path, timeout: float = 5.0) -> None:
    """Check that a daemon answers on ``path``. Raises DaemonNotRunning or DaemonUnavailable."""
    conn = await Connection.open(path, timeout=timeout)
    try:
        await conn.ask(api.Status(), timeout)
    finally:
        await conn.close()

