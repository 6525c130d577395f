"""The control protocol between the daemon and its clients (CLI, TUI). Pure: bytes in, messages out.

Theory of operation
-------------------
A client (the CLI or the TUI) talks to its household's daemon over a Unix socket. The byte stream is the
wire framing (``wire.encode_frame`` / ``wire.FrameDecoder``: a 4-byte big-endian length, then one msgpack
body, at most ``MAX_MESSAGE_SIZE`` bytes). Each body is a msgpack map with string keys; ``"t"`` names
the kind::

    hello   {"t": "hello", "version": 1, "role": "client" | "daemon"}          both sides, first, once
    request {"t": "req", "id": 7, "op": "status", "args": {...}}                 client -> daemon
    reply   {"t": "res", "id": 7, "ok": true, "result": {...}}                   daemon -> client
            {"t": "res", "id": 7, "ok": false, "error": {"kind": "...", "message": "..."}}
    event   {"t": "ev", "name": "...", "data": {...}}                           daemon -> client, subscribers

Both sides speak first: a ``ControlConnection`` queues its hello when it is created and puts it in
front of whatever its first ``send_*`` returns (or hands it out alone from ``send_hello``), so a client can
write its hello and first request in one go. The peer's hello must be the first message received; a
different protocol version is an ``UnsupportedVersion`` whose message tells the person what to do.

Requests carry client-allocated ids that strictly increase on a connection. The daemon answers each
request exactly once, in any order; the client matches replies to its outstanding requests and treats a
reply to an id it is not waiting for as the daemon's fault. Events flow only after the daemon answered
a ``subscribe`` request with ``ok``; both sides enforce that.

Which messages each role may receive and send is a table (``RECEIVES`` / ``SENDS``). Operation names
are not checked here: the daemon dispatches by name, so new ops need no protocol change (only
``subscribe`` is special, because it opens the event stream). Every field is validated strictly; values
inside ``args``, ``result`` and ``data`` are plain msgpack data (str, 64-bit int, float, bool, None,
bytes, lists, str-keyed maps, nested at most ``MAX_DEPTH`` deep). Malformed input from the peer is a
``RemoteProtocolError`` and the connection is unusable afterwards (close it); misuse by this side
(answering twice, an event nobody subscribed to, a tuple in a result) is a ``LocalProtocolError`` and
leaves the state unchanged.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Final, TypeAlias

from ..errors import BadInput, LocalProtocolError, ProtocolError, RemoteProtocolError, UnsupportedVersion
from ..wire import INT_MAX, INT_MIN, FrameDecoder, encode_frame, pack, unpack_strict
from .names import BAD_REQUEST as BAD_REQUEST, FAILED as FAILED, NOT_FOUND as NOT_FOUND, UNKNOWN_OP as UNKNOWN_OP
from .names import OP_PEERS as OP_PEERS, OP_STATUS as OP_STATUS, OP_SUBSCRIBE as OP_SUBSCRIBE

#: Version of the control protocol; both hellos must carry the same one.
CONTROL_VERSION: Final = 1
#: Hard cap on one control message body (the framing rejects bigger announcements).
MAX_MESSAGE_SIZE: Final = 1 << 20
#: Deepest nesting of lists and maps accepted inside args, result and data.
MAX_DEPTH: Final = 32
#: Longest Unix socket path the kernel accepts (sun_path is 108 bytes with the terminating NUL).
MAX_SOCKET_PATH: Final = 107

# The operations every daemon has are imported above (every name is in ``names.py``). The set is open:
# the daemon dispatches by name.

# Error kinds in ``ok: false`` replies (defined in ``names.py``, imported above). Clients must accept kinds
# they do not know (treat as FAILED).
ERROR_KINDS: Final = frozenset({BAD_REQUEST, UNKNOWN_OP, NOT_FOUND, FAILED})

#: Plain msgpack data as found in args, result and data.
Data: TypeAlias = dict[str, Any]


def check_socket_path(path: Path) -> None:
    """Raise BadInput if ``path`` is too long to be a Unix socket address (the kernel would truncate it)."""
    size = len(os.fsencode(path))
    if size > MAX_SOCKET_PATH:
        raise BadInput(f"the control socket path {path} is {size} bytes long, but Unix sockets allow at most "
                       f"{MAX_SOCKET_PATH}: use a shorter data directory (--home or MESHCARE_HOME)")


class Role(StrEnum):
    CLIENT = "client"
    DAEMON = "daemon"


@dataclass(frozen=True, slots=True)
class Hello:
    """First message of each side: who it is and which protocol version it speaks."""

    version: int
    role: Role


@dataclass(frozen=True, slots=True)
class Request:
    """The client asks the daemon to perform ``op`` with ``args``."""

    id: int
    op: str
    args: Data


@dataclass(frozen=True, slots=True)
class ReplyError:
    """Why a request failed: a machine-readable ``kind`` and a message for the person."""

    kind: str
    message: str


@dataclass(frozen=True, slots=True)
class Reply:
    """The daemon's answer to request ``id``: either ``result`` (ok) or ``error``, never both."""

    id: int
    result: Data | None = None
    error: ReplyError | None = None

    def __post_init__(self) -> None:
        if (self.result is None) == (self.error is None):
            raise LocalProtocolError("a Reply carries exactly one of result and error")

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True, slots=True)
class Event:
    """Something happened in the daemon (sent only to subscribed clients)."""

    name: str
    data: Data


Message: TypeAlias = Hello | Request | Reply | Event

#: Which message kinds each role accepts from its peer, and may send to it.
RECEIVES: Final[dict[Role, frozenset[type]]] = {
    Role.CLIENT: frozenset({Hello, Reply, Event}),
    Role.DAEMON: frozenset({Hello, Request}),
}
SENDS: Final[dict[Role, frozenset[type]]] = {
    Role.CLIENT: frozenset({Request}),
    Role.DAEMON: frozenset({Reply, Event}),
}


# ---------------------------------------------------------------------------------------------------
# Validation of plain data (shared by both directions; the caller picks whose fault a problem is)


def _scalar_ok(value: object) -> bool:
    if type(value) is int:
        return INT_MIN <= value <= INT_MAX
    return type(value) in (str, float, bool, bytes) or value is None


def data_problem(value: object, where: str) -> str | None:
    """Why ``value`` is not plain msgpack data (see the module docstring), or None if it is.

    Iterative, so hostile nesting cannot exhaust the Python stack; the answer names the offending path.
    The path is worked out only for data that fails: every event and message is checked, and naming
    the path of every value on the way cost more than the check itself.
    """
    return None if _plain(value) else _explain(value, where)


def _plain(value: object) -> bool:
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if type(item) is dict:
            if depth >= MAX_DEPTH:
                return False
            for key, sub in item.items():
                if type(key) is not str:
                    return False
                stack.append((sub, depth + 1))
        elif type(item) is list:
            if depth >= MAX_DEPTH:
                return False
            stack.extend((sub, depth + 1) for sub in item)
        elif not _scalar_ok(item):
            return False
    return True


def _explain(value: object, where: str) -> str | None:
    stack: list[tuple[object, str, int]] = [(value, where, 0)]
    while stack:
        item, path, depth = stack.pop()
        if type(item) is dict or type(item) is list:
            if depth >= MAX_DEPTH:
                return f"{path} is nested more than {MAX_DEPTH} levels deep"
            if isinstance(item, dict):
                for key, sub in item.items():
                    if type(key) is not str:
                        return f"{path} has a non-string key {key!r}"
                    stack.append((sub, f"{path}.{key}", depth + 1))
            else:
                stack.extend((sub, f"{path}[{i}]", depth + 1) for i, sub in enumerate(item))
        elif not _scalar_ok(item):
            return (f"{path} holds a {type(item).__name__}, which is not plain msgpack data "
                    "(str, int, float, bool, None, bytes, list, str-keyed dict)")
    return None


def _is_id(value: object) -> bool:
    return type(value) is int and 0 < value <= INT_MAX


# ---------------------------------------------------------------------------------------------------
# Decoding: one body -> one Message, shape only (the connection checks order and ids)

_MESSAGE_KEYS: Final = {
    "req": frozenset({"t", "id", "op", "args"}),
    "ev": frozenset({"t", "name", "data"}),
    "res-ok": frozenset({"t", "id", "ok", "result"}),
    "res-error": frozenset({"t", "id", "ok", "error"}),
}


def _malformed(what: str) -> RemoteProtocolError:
    return RemoteProtocolError(f"malformed control message: {what}")


def _check_keys(obj: dict[str, Any], shape: str) -> None:
    expected = _MESSAGE_KEYS[shape]
    if obj.keys() != expected:
        raise _malformed(f"a {obj['t']!r} message has keys {sorted(obj)}, expected {sorted(expected)}")


def _check_map(value: object, where: str) -> Data:
    if type(value) is not dict:
        raise _malformed(f"{where} must be a map, not {type(value).__name__}")
    problem = data_problem(value, where)
    if problem is not None:
        raise _malformed(problem)
    return value


def _check_name(value: object, where: str) -> str:
    if type(value) is not str or not value:
        raise _malformed(f"{where} must be a non-empty string")
    return value


def _parse_hello(obj: dict[str, Any]) -> Hello:
    # Extra keys are allowed in hello only, so that a later version can say more in it and still be
    # understood well enough to report the version mismatch.
    version, role = obj.get("version"), obj.get("role")
    if type(version) is not int or not 0 <= version <= INT_MAX:
        raise _malformed("hello needs an integer 'version'")
    if type(role) is not str or role not in (Role.CLIENT.value, Role.DAEMON.value):
        raise _malformed("hello needs 'role' \"client\" or \"daemon\"")
    return Hello(version, Role(role))


def _parse_request(obj: dict[str, Any]) -> Request:
    _check_keys(obj, "req")
    if not _is_id(obj["id"]):
        raise _malformed("request 'id' must be a positive 64-bit integer")
    return Request(obj["id"], _check_name(obj["op"], "request 'op'"), _check_map(obj["args"], "args"))


def _parse_reply(obj: dict[str, Any]) -> Reply:
    ok = obj.get("ok")
    if type(ok) is not bool:
        raise _malformed("reply 'ok' must be true or false")
    _check_keys(obj, "res-ok" if ok else "res-error")
    if not _is_id(obj["id"]):
        raise _malformed("reply 'id' must be a positive 64-bit integer")
    if ok:
        return Reply(obj["id"], result=_check_map(obj["result"], "result"))
    error = obj["error"]
    if type(error) is not dict or error.keys() != {"kind", "message"}:
        raise _malformed("reply 'error' must be a map with exactly 'kind' and 'message'")
    kind = _check_name(error["kind"], "error 'kind'")
    if type(error["message"]) is not str:
        raise _malformed("error 'message' must be a string")
    return Reply(obj["id"], error=ReplyError(kind, error["message"]))


def _parse_event(obj: dict[str, Any]) -> Event:
    _check_keys(obj, "ev")
    return Event(_check_name(obj["name"], "event 'name'"), _check_map(obj["data"], "data"))


_PARSERS: Final[dict[str, Callable[[dict[str, Any]], Message]]] = {
    "hello": _parse_hello, "req": _parse_request, "res": _parse_reply, "ev": _parse_event}


def decode_message(body: bytes) -> Message:
    """Decode one message body (without its length prefix). Raises RemoteProtocolError."""
    obj = unpack_strict(body, "control message")
    if type(obj) is not dict:
        raise _malformed(f"expected a map, got {type(obj).__name__}")
    kind = obj.get("t")
    parser = _PARSERS.get(kind) if type(kind) is str else None
    if parser is None:
        raise _malformed(f"unknown message type {kind!r}")
    return parser(obj)


# ---------------------------------------------------------------------------------------------------
# Encoding: Message -> one framed body. Raises LocalProtocolError for anything the peer would reject.


def _local_check(value: object, where: str) -> None:
    if type(value) is not dict:
        raise LocalProtocolError(f"{where} must be a dict, not {type(value).__name__}")
    problem = data_problem(value, where)
    if problem is not None:
        raise LocalProtocolError(problem)


def _local_name(value: object, where: str) -> None:
    if type(value) is not str or not value:
        raise LocalProtocolError(f"{where} must be a non-empty string, not {value!r}")


def encode_message(message: Message, *, checked: bool = False) -> bytes:
    """The framed bytes of ``message``, validated as strictly as the peer will. Raises LocalProtocolError.
    ``checked``: an event's data already passed ``data_problem`` (``EventHub.publish`` checks what it
    fans out; checking again per subscriber was a tenth of a receiving daemon's CPU per call)."""
    obj: dict[str, Any]
    if isinstance(message, Hello):
        obj = {"t": "hello", "version": message.version, "role": str(message.role)}
    elif isinstance(message, Request):
        if not _is_id(message.id):
            raise LocalProtocolError(f"request id {message.id!r} is not a positive 64-bit integer")
        _local_name(message.op, "op")
        _local_check(message.args, "args")
        obj = {"t": "req", "id": message.id, "op": message.op, "args": message.args}
    elif isinstance(message, Reply):
        obj = _reply_obj(message)
    elif isinstance(message, Event):
        _local_name(message.name, "event name")
        if not checked:
            _local_check(message.data, "data")
        obj = {"t": "ev", "name": message.name, "data": message.data}
    else:
        raise LocalProtocolError(f"not a control message: {message!r}")
    return encode_frame(pack(obj), MAX_MESSAGE_SIZE)


def _reply_obj(reply: Reply) -> dict[str, Any]:
    if not _is_id(reply.id):
        raise LocalProtocolError(f"reply id {reply.id!r} is not a positive 64-bit integer")
    if reply.error is None:
        _local_check(reply.result, "result")
        return {"t": "res", "id": reply.id, "ok": True, "result": reply.result}
    _local_name(reply.error.kind, "error kind")
    if type(reply.error.message) is not str:
        raise LocalProtocolError("error message must be a string")
    return {"t": "res", "id": reply.id, "ok": False,
            "error": {"kind": reply.error.kind, "message": reply.error.message}}


# ---------------------------------------------------------------------------------------------------
# The connection: order, ids, subscription


class ControlConnection:
    """One end of a control connection (``role`` is this side). Pure: no I/O, no clock.

    Feed everything read from the socket to ``receive_data``; write whatever the ``send_*`` methods
    return. After ``receive_data`` raised, the connection is dead: every later call raises again.
    """

    def __init__(self, role: Role | str) -> None:
        self.role = Role(role)
        self.peer_role = Role.DAEMON if self.role is Role.CLIENT else Role.CLIENT
        self.peer_hello: Hello | None = None
        self._hello_out = encode_message(Hello(CONTROL_VERSION, self.role))
        self._decoder = FrameDecoder(decode_message, MAX_MESSAGE_SIZE)
        self._outstanding: dict[int, str] = {}  # request id -> op, waiting for the reply
        self._last_id = 0  # client: last id allocated; daemon: last id received
        self._subscribed = False
        self._failed: ProtocolError | None = None

    # --- state -----------------------------------------------------------------------------------

    @property
    def subscribed(self) -> bool:
        """True once the daemon answered a ``subscribe`` request with ok (events may flow)."""
        return self._subscribed

    @property
    def outstanding(self) -> frozenset[int]:
        """Ids of requests sent (client) or received (daemon) and not answered yet."""
        return frozenset(self._outstanding)

    # --- input -----------------------------------------------------------------------------------

    def receive_data(self, data: bytes) -> list[Message]:
        """Feed bytes from the socket; return the messages they complete, hellos included.

        Raises RemoteProtocolError (or its subclass UnsupportedVersion) if the peer broke the protocol;
        close the connection then. End of stream is the shell's business (no call needed).
        """
        if self._failed is not None:
            raise self._failed
        try:
            messages = self._decoder.feed(data)
            for message in messages:
                self._on_message(message)
        except RemoteProtocolError as exc:
            self._failed = exc
            raise
        return messages

    def _on_message(self, message: Message) -> None:
        peer = self.peer_role.value
        if type(message) not in RECEIVES[self.role]:
            raise RemoteProtocolError(f"the {peer} sent a {type(message).__name__}, which only a "
                                      f"{self.role.value} may send")
        if isinstance(message, Hello):
            self._on_hello(message)
        elif self.peer_hello is None:
            raise RemoteProtocolError(f"the {peer} sent a {type(message).__name__} before its hello")
        elif isinstance(message, Request):
            self._on_request(message)
        elif isinstance(message, Reply):
            self._on_reply(message)
        elif isinstance(message, Event) and not self._subscribed:
            raise RemoteProtocolError(f"the daemon sent event {message.name!r} before this client subscribed")

    def _on_hello(self, hello: Hello) -> None:
        peer = self.peer_role.value
        if self.peer_hello is not None:
            raise RemoteProtocolError(f"the {peer} sent a second hello")
        if hello.version != CONTROL_VERSION:
            raise UnsupportedVersion(
                f"the {peer} speaks control protocol version {hello.version} and this {self.role.value} "
                f"speaks version {CONTROL_VERSION}: run the same meshcare version for both "
                "(after an upgrade, restart the daemon)")
        if hello.role is not self.peer_role:
            raise RemoteProtocolError(f"expected a {peer} on this socket, but the other end says it is a "
                                      f"{hello.role.value}")
        self.peer_hello = hello

    def _on_request(self, request: Request) -> None:
        if request.id <= self._last_id:
            raise RemoteProtocolError(f"request id {request.id} does not increase (last was {self._last_id})")
        self._last_id = request.id
        self._outstanding[request.id] = request.op

    def _on_reply(self, reply: Reply) -> None:
        op = self._outstanding.pop(reply.id, None)
        if op is None:
            raise RemoteProtocolError(f"the daemon answered request {reply.id}, which this client is not "
                                      "waiting for")
        if op == OP_SUBSCRIBE and reply.ok:
            self._subscribed = True

    # --- output ----------------------------------------------------------------------------------

    def send_hello(self) -> bytes:
        """Our hello if it has not gone out yet, else b"" (every other ``send_*`` includes it too)."""
        out, self._hello_out = self._hello_out, b""
        return out

    def _with_hello(self, data: bytes) -> bytes:
        return self.send_hello() + data

    def _may_send(self, kind: type) -> None:
        if kind not in SENDS[self.role]:
            raise LocalProtocolError(f"a {self.role.value} cannot send a {kind.__name__}")

    def send_request(self, op: str, args: Data | None = None) -> tuple[int, bytes]:
        """Client: allocate the next id for a request; return it and the bytes to write."""
        self._may_send(Request)
        request_id = self._last_id + 1
        data = encode_message(Request(request_id, op, {} if args is None else args))
        self._last_id = request_id
        self._outstanding[request_id] = op
        return request_id, self._with_hello(data)

    def send_reply(self, request_id: int, result: Data) -> bytes:
        """Daemon: answer request ``request_id`` with ok and ``result``. Raises LocalProtocolError."""
        return self._send_answer(Reply(request_id, result=result))

    def send_error(self, request_id: int, kind: str, message: str) -> bytes:
        """Daemon: answer request ``request_id`` with an error. Raises LocalProtocolError."""
        return self._send_answer(Reply(request_id, error=ReplyError(kind, message)))

    def _send_answer(self, reply: Reply) -> bytes:
        self._may_send(Reply)
        op = self._outstanding.get(reply.id)
        if op is None:
            raise LocalProtocolError(f"request {reply.id} was never received or is already answered")
        data = encode_message(reply)
        del self._outstanding[reply.id]
        if op == OP_SUBSCRIBE and reply.ok:
            self._subscribed = True
        return self._with_hello(data)

    def send_event(self, name: str, data: Data, *, checked: bool = False) -> bytes:
        """Daemon: an event for a subscribed client (``checked``: see ``encode_message``). Raises
        LocalProtocolError if it did not subscribe."""
        self._may_send(Event)
        if not self._subscribed:
            raise LocalProtocolError(f"event {name!r} for a client that has not subscribed")
        return self._with_hello(encode_message(Event(name, data), checked=checked))
