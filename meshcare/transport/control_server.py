"""The daemon's control socket: the trio shell around ``meshcare.control``.

Theory of operation
-------------------
``serve_control`` binds a Unix socket in the data directory (mode 0600, set before ``listen`` so that
nobody else can ever connect), reports readiness through ``task_status.started()``, and runs one task
per client connection until it is cancelled; then it removes the socket file (only if it is still the
one it created). A leftover socket file from a crashed daemon is simply unlinked first: the daemon's
lock file already guarantees that no other daemon owns this data directory.

A connection is a pure ``ControlConnection`` plus two tasks:

* the reader feeds bytes to the connection and answers each request in turn, by calling the
  ``ControlHandler``. This is the one place that isolates bugs: whatever a request raises becomes an
  ``ok: false`` reply (``ERROR_KINDS`` below) and the daemon keeps serving. Handler bugs are logged with
  their traceback to ``meshcare.control``; the client only hears "internal error".
* after a successful ``subscribe``, the forwarder copies ``(name, data)`` tuples from the handler's
  channel to the client as events.

Both write through one lock with a deadline (``send_timeout``): a client that stops reading is dropped
rather than holding a task forever. Malformed bytes close that one connection and are logged as the
client's fault. Event fan-out lives in ``EventHub``: the daemon publishes without ever blocking, and a
subscriber whose bounded channel is full is dropped with a log line (its forwarder sees the channel end
and closes the connection). ``Dispatcher`` is a ready-made ``request`` that maps op names to coroutines
and raises ``UnknownOp`` for the rest, so new ops are one table entry.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Final, Protocol

import trio

from ..control.protocol import (BAD_REQUEST, FAILED, NOT_FOUND, OP_SUBSCRIBE, UNKNOWN_OP, ControlConnection, Data,
                       Request, Role, check_socket_path, data_problem)
from ..errors import (BadInput, ConfigError, LocalProtocolError, MeshcareError, NotFound, RemoteProtocolError,
                      UnknownOp)
from ..text import for_log
from .trace import mark

log = logging.getLogger("meshcare.control")

#: Bytes asked of the socket per read.
RECEIVE_SIZE: Final = 64 * 1024
#: Pending connections the kernel queues for us.
BACKLOG: Final = 16
#: Seconds a write to one client may take before that client is dropped as stuck.
SEND_TIMEOUT: Final = 10.0
#: Events buffered per subscriber before it counts as fallen behind.
SUBSCRIBER_BUFFER: Final = 256
#: What the client hears when a request hit a bug (the details go to the daemon's log only).
INTERNAL_ERROR: Final = "internal error, see the daemon log"

EventItem = tuple[str, Data]


class ControlHandler(Protocol):
    """What the daemon provides to the control server."""

    async def request(self, op: str, args: Data) -> Data:
        """Perform ``op`` (anything but ``subscribe``) and return its result, plain msgpack data.

        Raise ``UnknownOp`` for an op it does not have, ``NotFound`` when the thing named does not
        exist, another ``BadInput`` for unusable arguments, another ``MeshcareError`` when it tried and
        failed; the message of each goes to the client as is, so write it for a person.
        """
        ...

    def subscribe(self) -> trio.MemoryReceiveChannel[EventItem]:
        """A new bounded channel of ``(name, data)`` events for one subscriber (see ``EventHub``).

        The server closes the receive side when the client goes; the daemon closes the send side to
        drop the subscriber (e.g. when it fell behind).
        """
        ...


class _Hangup(Exception):
    """Internal: this client must be dropped for the reason given (never leaves this module)."""


# ---------------------------------------------------------------------------------------------------
# Helpers for the daemon side


class EventHub:
    """Fan-out of daemon events to subscribers that never blocks the publisher.

    ``subscribe`` is a ready-made ``ControlHandler.subscribe``. ``publish`` hands each subscriber the
    event without waiting; a subscriber whose buffer is full has fallen behind and is dropped (its
    channel is closed, so its connection closes; the client can reconnect and resubscribe).
    """

    def __init__(self, buffer: int = SUBSCRIBER_BUFFER) -> None:
        self._buffer = buffer
        self._subscribers: set[trio.MemorySendChannel[EventItem]] = set()
        self.published = 0
        self.dropped_subscribers = 0

    def subscribe(self) -> trio.MemoryReceiveChannel[EventItem]:
        send, receive = trio.open_memory_channel[EventItem](self._buffer)
        self._subscribers.add(send)
        return receive

    @property
    def subscribed(self) -> bool:
        """Someone may be listening (a subscriber that went away counts until the next publish)."""
        return bool(self._subscribers)

    def publish(self, name: str, data: Data) -> None:
        """Offer an event to every subscriber. Raises LocalProtocolError if ``data`` cannot be sent."""
        problem = data_problem(data, "data") if type(data) is dict else "event data must be a dict"
        if problem is not None or type(name) is not str or not name:
            raise LocalProtocolError(f"event {name!r} cannot be published: {problem or 'bad name'}")
        self.published += 1
        for channel in list(self._subscribers):
            try:
                channel.send_nowait((name, data))
            except trio.WouldBlock:
                log.warning("dropping a control client that fell %d events behind", self._buffer)
                self.dropped_subscribers += 1
                self._discard(channel)
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                self._discard(channel)  # the client went away

    def _discard(self, channel: trio.MemorySendChannel[EventItem]) -> None:
        self._subscribers.discard(channel)
        channel.close()

    def close(self) -> None:
        """End every subscription (daemon shutdown)."""
        for channel in list(self._subscribers):
            self._discard(channel)

    def statistics(self) -> dict[str, int]:
        return {"subscribers": len(self._subscribers), "published": self.published,
                "dropped_subscribers": self.dropped_subscribers}


Operation = Callable[[Data], Awaitable[Data]]


class Dispatcher:
    """A ready-made ``ControlHandler.request``: op name -> coroutine function taking the args."""

    def __init__(self, ops: Mapping[str, Operation]) -> None:
        self._ops = dict(ops)

    @property
    def ops(self) -> frozenset[str]:
        return frozenset(self._ops)

    async def request(self, op: str, args: Data) -> Data:
        """Run ``op``. Raises UnknownOp (naming the ops it has) or whatever the op raises."""
        operation = self._ops.get(op)
        if operation is None:
            known = ", ".join(sorted({*self._ops, OP_SUBSCRIBE}))
            raise UnknownOp(f"this daemon has no operation {op!r} (it knows {known}); is it older than "
                            "this client? Restart it after upgrading")
        return await operation(args)


# ---------------------------------------------------------------------------------------------------
# The socket


async def serve_control(path: Path, handler: ControlHandler, *, send_timeout: float = SEND_TIMEOUT,
                        task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
    """Serve the control protocol on a Unix socket at ``path`` until cancelled.

    Raises BadInput if the path is too long for a Unix socket, ConfigError if the socket cannot be
    created (the message names the path and the reason).
    """
    sock, inode = await _bind(path)
    try:
        listener = trio.SocketListener(sock)

        async def serve_one(stream: trio.SocketStream) -> None:
            await _ClientSession(stream, handler, send_timeout).run()

        async with trio.open_nursery() as nursery:
            await nursery.start(trio.serve_listeners, serve_one, [listener])
            log.info("control socket listening at %s", path)
            task_status.started()
    finally:
        sock.close()
        _remove_our_socket(path, inode)


async def _bind(path: Path) -> tuple[trio.socket.SocketType, int]:
    """A listening Unix socket at ``path`` with mode 0600, and the inode of its file."""
    check_socket_path(path)
    sock = trio.socket.socket(trio.socket.AF_UNIX, trio.socket.SOCK_STREAM)
    try:
        _remove_leftover(path)
        await sock.bind(os.fspath(path))
        os.chmod(path, 0o600)  # before listen(): until then no one can connect, so no window opens
        inode = os.stat(path).st_ino
        sock.listen(BACKLOG)
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot create the control socket {path}: {exc.strerror or exc} (does the "
                          "data directory exist, and does it belong to you?)") from None
    except BaseException:
        sock.close()
        raise
    return sock, inode


def _remove_leftover(path: Path) -> None:
    """Unlink a socket file left by a daemon that died; refuse to touch anything else."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(mode):
        raise ConfigError(f"{path} exists and is not a socket; move it out of the way and start again")
    log.info("removing the leftover control socket %s", path)
    os.unlink(path)


def _remove_our_socket(path: Path, inode: int) -> None:
    """Unlink ``path`` if it is still the socket we bound (a newer daemon may have replaced it)."""
    try:
        if os.lstat(path).st_ino == inode:
            os.unlink(path)
    except FileNotFoundError:
        pass


# ---------------------------------------------------------------------------------------------------
# One client


def _error_reply(exc: Exception, op: str) -> tuple[str, str]:
    """The (kind, message) the client hears for an exception a request raised."""
    if isinstance(exc, UnknownOp):
        return UNKNOWN_OP, str(exc)
    if isinstance(exc, NotFound):
        return NOT_FOUND, str(exc)
    if isinstance(exc, BadInput):
        return BAD_REQUEST, str(exc)
    if isinstance(exc, MeshcareError) and not isinstance(exc, LocalProtocolError):
        return FAILED, str(exc)
    log.error("control request %r failed with a bug", op, exc_info=exc)
    return FAILED, INTERNAL_ERROR


class _ClientSession:
    """The connection to one client: a reader answering requests, a forwarder for events."""

    def __init__(self, stream: trio.SocketStream, handler: ControlHandler, send_timeout: float) -> None:
        self._stream = stream
        self._handler = handler
        self._send_timeout = send_timeout
        self._conn = ControlConnection(Role.DAEMON)
        self._write_lock = trio.Lock()
        self._nursery: trio.Nursery | None = None

    async def run(self) -> None:
        try:
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                nursery.start_soon(self._guard, self._read_loop)
        finally:
            await trio.aclose_forcefully(self._stream)

    async def _guard(self, task: Callable[..., Awaitable[None]], *args: object) -> None:
        """Run one of this connection's tasks; any way it ends closes the whole connection."""
        try:
            await task(*args)
        except RemoteProtocolError as exc:
            log.warning("closing a control client that broke the protocol: %s", for_log(exc))
        except _Hangup as exc:
            log.warning("closing a control client: %s", exc)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            log.debug("a control client went away")
        except Exception:  # noqa: BLE001 - the backstop: a bug serving one client closes that client only
            log.exception("closing a control client after an unexpected error")
        if self._nursery is not None:
            self._nursery.cancel_scope.cancel()

    async def _write(self, data: bytes) -> None:
        async with self._write_lock:
            with trio.move_on_after(self._send_timeout) as scope:
                await self._stream.send_all(data)
        if scope.cancelled_caught:
            raise _Hangup(f"it did not read for {self._send_timeout:g} s")

    async def _read_loop(self) -> None:
        await self._write(self._conn.send_hello())
        while True:
            data = await self._stream.receive_some(RECEIVE_SIZE)
            if not data:
                return  # the client hung up
            for message in self._conn.receive_data(data):
                if isinstance(message, Request):
                    await self._answer(message)

    async def _answer(self, request: Request) -> None:
        mark("request.read")
        events: trio.MemoryReceiveChannel[EventItem] | None = None
        try:
            if request.op == OP_SUBSCRIBE:
                events = self._subscribe()
                result: Data = {}
            else:
                result = await self._handler.request(request.op, request.args)
            reply = self._conn.send_reply(request.id, result)
        except Exception as exc:  # noqa: BLE001 - the documented request-isolation point (module docstring)
            if events is not None:
                events.close()
                events = None
            reply = self._conn.send_error(request.id, *_error_reply(exc, request.op))
        if events is None:
            mark("reply.sending")
            await self._write(reply)
            return
        try:
            await self._write(reply)
        except BaseException:
            events.close()  # so the daemon's side sees this subscriber gone
            raise
        if self._nursery is None:
            raise LocalProtocolError("a control client subscribed before its session started")
        self._nursery.start_soon(self._guard, self._forward, events)

    def _subscribe(self) -> trio.MemoryReceiveChannel[EventItem]:
        if self._conn.subscribed:
            raise BadInput("this connection is already subscribed to events")
        return self._handler.subscribe()

    async def _forward(self, events: trio.MemoryReceiveChannel[EventItem]) -> None:
        with events:
            async for name, data in events:
                try:
                    message = self._conn.send_event(name, data, checked=True)     # EventHub.publish checked it
                except LocalProtocolError:
                    log.exception("the daemon published event %r that cannot be sent; skipped", name)
                    continue
                mark("event.sending")
                await self._write(message)
        raise _Hangup("the daemon ended its event stream (it fell behind, or the daemon is stopping)")

