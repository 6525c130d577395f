"""A connection to tor's control port (trio shell over control_protocol.py).

``open_control(where)`` connects ("HOST:PORT", or an absolute path: a unix socket such as Debian's
``/run/tor/control``) and authenticates by itself: SAFECOOKIE when tor offers it (the cookie is never sent,
and tor proves it knows the cookie too), else COOKIE, else NULL. A tor that only takes a password gets a
clear error: meshcare keeps no tor password.

Several tasks may use one ``TorControl`` at once (one polls the bootstrap while another waits for the
descriptor upload). Commands are sent under a lock and their replies come back in order; there is no
reader task of its own: whichever waiting task finds nobody reading reads one chunk and hands every reply
and event in it to its owner, then wakes the others. Every wait is bounded (``timeout``, or the one given).

An onion service added here is not detached: it lives as long as this connection, so a daemon that dies
(or closes the connection) leaves no service behind in tor.
"""

from __future__ import annotations

import hmac
import os
from collections import deque
from collections.abc import Callable
from pathlib import Path

import trio

from ...crypto.onion_key import OnionKey
from ...errors import TorControlError
from . import control_protocol as proto
from .control_protocol import ControlEvent, Reply

_CHUNK = 16 * 1024
#: Events kept until someone waits for them; the oldest go first when more come.
_MAX_QUEUED_EVENTS = 256


def parse_where(where: str) -> tuple[str, int] | Path:
    """(host, port) for "HOST:PORT" (IPv6 in brackets), or a Path for an absolute unix-socket path.
    Raises ``TorControlError`` with the accepted forms."""
    if where.startswith("/"):
        return Path(where)
    host, colon, port = where.rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not colon or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise TorControlError(f"tor's control port {where!r} is neither HOST:PORT (such as 127.0.0.1:9051) "
                              "nor the absolute path of a unix socket (such as /run/tor/control)")
    return host, int(port)


class TorControl:
    """An authenticated control connection. Made by ``open_control``; close it with ``aclose``."""

    def __init__(self, stream: trio.abc.Stream, where: str, *, timeout: float) -> None:
        self.where = where
        self.timeout = timeout
        self.version: str | None = None
        self._stream = stream
        self._parser = proto.ReplyParser()
        self._send_lock = trio.Lock()
        self._pending: deque[list[Reply]] = deque()       # one slot per command sent, in order
        self._events: deque[ControlEvent] = deque(maxlen=_MAX_QUEUED_EVENTS)
        self._subscribed: frozenset[str] = frozenset()
        self._reading = False
        self._changed = trio.Event()
        self._error: TorControlError | None = None
        self._closed = False

    @property
    def closed(self) -> bool:
        """True once the connection is closed or broken (tor stopped or restarted)."""
        return self._closed or self._error is not None

    # --- the reading hand-off ---------------------------------------------------------------------------

    async def _wait_until(self, ready: Callable[[], bool]) -> None:
        """Return once ``ready()``; reads from tor while no other task does. Raises the connection's error."""
        while not ready():
            if self._error is not None:
                raise self._error
            if self._reading:
                await self._changed.wait()
                continue
            self._reading = True
            try:
                await self._read_once()
            finally:
                self._reading = False
                self._changed.set()
                self._changed = trio.Event()

    async def _read_once(self) -> None:
        try:
            data = await self._stream.receive_some(_CHUNK)
        except (trio.BrokenResourceError, trio.ClosedResourceError, OSError) as exc:
            self._fail(f"the connection to tor's control port at {self.where} broke ({exc or type(exc).__name__})")
            return
        if not data:
            self._fail(f"tor closed its control connection at {self.where} (tor stopped or restarted)")
            return
        try:
            self._parser.receive_data(data)
            while (reply := self._parser.next_reply()) is not None:
                self._dispatch(reply)
        except TorControlError as exc:
            self._fail(str(exc))

    def _dispatch(self, reply: Reply) -> None:
        if reply.is_event:
            event = proto.parse_event(reply)
            if event.name in self._subscribed:
                self._events.append(event)
            return
        if not self._pending:
            raise TorControlError(f"tor's control port answered a command nobody sent: {reply.status} "
                                  f"{reply.message[:80]!r}")
        self._pending.popleft().append(reply)

    def _fail(self, message: str) -> TorControlError:
        """Mark the connection failed (the first reason wins) and return that error."""
        if self._error is None:
            self._error = TorControlError(message)
        return self._error

    # --- commands ---------------------------------------------------------------------------------------

    async def request(self, line: bytes, what: str, *, timeout: float | None = None) -> Reply:
        """Send one command line (built by ``control_protocol.command``) and return tor's reply, whatever
        its status. Raises ``TorControlError`` when tor does not answer in time or the connection fails."""
        if self._closed:
            raise TorControlError(f"the control connection to tor at {self.where} is closed")
        slot: list[Reply] = []
        limit = self.timeout if timeout is None else timeout
        with trio.move_on_after(limit) as scope:
            async with self._send_lock:
                if self._error is not None:
                    raise self._error
                self._pending.append(slot)
                try:
                    # shielded: half a command line would desynchronise the rest; bounded all the same
                    with trio.CancelScope(shield=True, deadline=trio.current_time() + limit) as send:
                        await self._stream.send_all(line)
                except (trio.BrokenResourceError, trio.ClosedResourceError, OSError) as exc:
                    raise self._fail(f"the connection to tor's control port at {self.where} broke "
                                     f"({exc or type(exc).__name__})") from None
                if send.cancelled_caught:
                    raise self._fail(f"tor's control port at {self.where} took no command for {limit:g} s")
            await self._wait_until(lambda: bool(slot))
        if scope.cancelled_caught:
            raise TorControlError(f"tor's control port at {self.where} did not answer {what} within {limit:g} s")
        return slot[0]

    async def get_info(self, *keys: str) -> dict[str, str]:
        """GETINFO: {key: value} for each key. Raises ``TorControlError`` (unknown key, no answer)."""
        if not keys:
            return {}
        reply = await self.request(proto.command("GETINFO", *keys), "GETINFO")
        return proto.parse_getinfo(reply, keys)

    async def bootstrap(self) -> int:
        """How far tor has bootstrapped, 0-100 (100: it can build circuits)."""
        value = (await self.get_info("status/bootstrap-phase"))["status/bootstrap-phase"]
        return proto.parse_bootstrap(value)

    async def set_events(self, *names: str) -> None:
        """SETEVENTS: from now on tor sends these events (and only these); ``wait_event`` takes them."""
        reply = await self.request(proto.command("SETEVENTS", *names), "SETEVENTS")
        reply.raise_for_status("SETEVENTS " + " ".join(names))
        self._subscribed = frozenset(names)

    async def wait_event(self, name: str, match: Callable[[ControlEvent], bool] | None = None, *,
                         timeout: float | None = None) -> ControlEvent:
        """The first event ``name`` (subscribed with ``set_events``) that ``match`` accepts, received since
        the subscription and not yet taken; waits for one at most ``timeout`` (default: this connection's).
        Raises ``TorControlError`` on timeout or when the connection fails."""
        if name not in self._subscribed:
            raise TorControlError(f"wait_event({name!r}) without SETEVENTS {name}: call set_events first")
        found: list[ControlEvent] = []

        def take() -> bool:
            for event in self._events:
                if event.name == name and (match is None or match(event)):
                    self._events.remove(event)
                    found.append(event)
                    return True
            return False

        limit = self.timeout if timeout is None else timeout
        with trio.move_on_after(limit):
            await self._wait_until(take)
        if not found:
            raise TorControlError(f"tor sent no {name} event within {limit:g} s")
        return found[0]

    async def add_onion(self, key: OnionKey, virtual_port: int, target: tuple[str, int]) -> str:
        """Start the onion service of ``key``: connections to its ``virtual_port`` go to ``target`` (a
        local address). Not detached: it ends with this connection. Subscribes to HS_DESC first, so
        ``wait_published`` sees the upload. Returns the ServiceID (the address without ".onion")."""
        host, port = target
        if not 0 < virtual_port < 65536 or not 0 < port < 65536:
            raise TorControlError(f"onion port {virtual_port} or target port {port} is not a port (1-65535)")
        shown = f"[{host}]" if ":" in host else host
        if "HS_DESC" not in self._subscribed:
            await self.set_events(*sorted(self._subscribed | {"HS_DESC"}))
        line = proto.command("ADD_ONION", "ED25519-V3:" + key.expanded_b64(),
                             f"Port={virtual_port},{proto.check_argument(shown, 'the onion target host')}:{port}")
        service_id = proto.parse_add_onion(await self.request(line, "ADD_ONION"))
        if service_id != key.service_id:
            raise TorControlError(f"tor started the onion service {service_id}, not {key.service_id} as asked")
        # Replies and events are handed out in the order they came, so every HS_DESC queued by now is older
        # than this service: none of them may tell ``wait_published`` that it is published.
        for event in [e for e in self._events if e.name == "HS_DESC" and e.words[1:2] == (service_id,)]:
            self._events.remove(event)
        return service_id

    async def wait_published(self, service_id: str, *, timeout: float | None = None) -> None:
        """Return once tor says it uploaded the descriptor of ``service_id`` to an HSDir (HS_DESC UPLOADED):
        from then on the service can be found. Raises ``TorControlError`` on timeout."""
        proto.check_service_id(service_id)

        def uploaded(event: ControlEvent) -> bool:
            try:
                desc = proto.parse_hs_desc(event)
            except TorControlError:
                return False
            return desc.action == "UPLOADED" and desc.address == service_id

        await self.wait_event("HS_DESC", uploaded, timeout=timeout)

    async def del_onion(self, service_id: str) -> None:
        """Stop the onion service ``service_id`` (added on this connection)."""
        reply = await self.request(proto.command("DEL_ONION", proto.check_service_id(service_id)), "DEL_ONION")
        reply.raise_for_status(f"DEL_ONION {service_id}")

    async def newnym(self) -> None:
        """SIGNAL NEWNYM: new circuits for new streams (and tor forgets its onion-service client state), the
        cure for a stuck rendezvous. tor rate-limits it by itself (at most one per ~10 s takes effect)."""
        reply = await self.request(proto.command("SIGNAL", "NEWNYM"), "SIGNAL NEWNYM")
        reply.raise_for_status("SIGNAL NEWNYM")

    async def wait_closed(self) -> str:
        """Wait until the connection ends (tor stopped or restarted, or ``aclose``) and return why, in words.
        Reads meanwhile, so events keep arriving for ``wait_event``: the task a daemon runs to notice that
        tor went away (its onion service then went with it and must be added again on a new connection)."""
        try:
            await self._wait_until(lambda: self._closed)
        except TorControlError as exc:
            return str(exc)
        return f"the control connection to tor at {self.where} is closed"

    async def aclose(self) -> None:
        """Close the connection (tor then stops every onion service added on it)."""
        self._closed = True
        self._fail(f"the control connection to tor at {self.where} is closed")
        with trio.CancelScope(shield=True):
            await self._stream.aclose()
        self._changed.set()

    async def __aenter__(self) -> TorControl:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # --- authentication ---------------------------------------------------------------------------------

    async def _authenticate(self) -> None:
        info = proto.parse_protocolinfo(await self.request(proto.command("PROTOCOLINFO", "1"), "PROTOCOLINFO"))
        self.version = info.version
        if "SAFECOOKIE" in info.methods and info.cookie_file:
            cookie = await self._read_cookie(info.cookie_file)
            client_nonce = os.urandom(proto.NONCE_LENGTH)
            reply = await self.request(proto.command("AUTHCHALLENGE", "SAFECOOKIE", client_nonce.hex()),
                                       "AUTHCHALLENGE")
            server_hash, server_nonce = proto.parse_authchallenge(reply)
            expected, answer = proto.safecookie_hashes(cookie, client_nonce, server_nonce)
            if not hmac.compare_digest(server_hash, expected):
                raise TorControlError(f"the program on {self.where} does not know tor's cookie ({info.cookie_file}): "
                                      "it may not be tor, or the cookie file belongs to another tor")
            secret = answer.hex()
        elif "COOKIE" in info.methods and info.cookie_file:
            secret = (await self._read_cookie(info.cookie_file)).hex()
        elif "NULL" in info.methods:
            secret = ""
        else:
            offered = ", ".join(sorted(info.methods)) or "none"
            raise TorControlError(f"tor's control port at {self.where} asks for {offered} authentication; meshcare "
                                  "uses cookie authentication and keeps no tor password: set `CookieAuthentication 1` "
                                  "in torrc and restart tor")
        line = proto.command("AUTHENTICATE", secret) if secret else proto.command("AUTHENTICATE")
        reply = await self.request(line, "AUTHENTICATE")
        if not reply.ok:
            raise TorControlError(f"tor refused meshcare's authentication on {self.where}: {reply.status} "
                                  f"{reply.message}")

    async def _read_cookie(self, path: str) -> bytes:
        try:
            cookie = await trio.Path(path).read_bytes()
        except PermissionError:
            raise TorControlError(f"cannot read tor's cookie file {path}: this user may not read it; add the "
                                  "user to tor's group (on Debian: `sudo adduser $USER debian-tor`, then log in "
                                  "again; the service unit does it with SupplementaryGroups=debian-tor)") from None
        except OSError as exc:
            raise TorControlError(f"cannot read tor's cookie file {path}: {exc.strerror or exc}") from None
        if len(cookie) != proto.COOKIE_LENGTH:
            raise TorControlError(f"tor's cookie file {path} holds {len(cookie)} bytes, not {proto.COOKIE_LENGTH}")
        return cookie


async def open_control(where: str, *, timeout: float = 10.0) -> TorControl:
    """Connect to tor's control port at ``where`` ("HOST:PORT" or an absolute unix-socket path) and
    authenticate. Raises ``TorControlError`` saying what is in the way (not listening, not allowed, a
    password-only tor, no answer within ``timeout`` seconds)."""
    target = parse_where(where)
    try:
        with trio.fail_after(timeout):
            if isinstance(target, Path):
                stream: trio.abc.Stream = await trio.open_unix_socket(str(target))
            else:
                stream = await trio.open_tcp_stream(*target)
    except trio.TooSlowError:
        raise TorControlError(f"tor's control port at {where} did not accept a connection within {timeout:g} s") from None
    except PermissionError:
        raise TorControlError(f"not allowed to open tor's control socket {where}: add this user to tor's group "
                              "(on Debian: `sudo adduser $USER debian-tor`, then log in again)") from None
    except OSError as exc:
        raise TorControlError(f"cannot reach tor's control port at {where} ({exc.strerror or exc}): is tor running, "
                              "with `ControlPort` (or `ControlSocket`) set in torrc?") from None
    control = TorControl(stream, where, timeout=timeout)
    try:
        await control._authenticate()
    except BaseException:
        await control.aclose()
        raise
    return control
