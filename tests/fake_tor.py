"""A fake tor for tests: a control port and a SOCKS5 port on 127.0.0.1, written in Python (no real tor).

What it does, as far as meshcare uses tor:

* control port: PROTOCOLINFO (``auth``: "safecookie" offers SAFECOOKIE and COOKIE through a cookie file in
  ``directory``; "cookie", "null", or "password" for a tor meshcare cannot use), AUTHCHALLENGE,
  AUTHENTICATE (a bad one gets 515 and the connection closed, as tor does), GETINFO
  ``status/bootstrap-phase``, ``version``, ``net/listeners/socks`` and ``onions/current`` (a data block),
  SETEVENTS, ADD_ONION ``ED25519-V3:<expanded key>`` (or ``NEW:ED25519-V3``) with its ServiceID computed
  from the key, ``Port=VIRT,HOST:PORT`` mappings and ``Flags=Detach``, DEL_ONION, SIGNAL NEWNYM (counted),
  QUIT; ``650 HS_DESC UPLOAD`` then ``650 HS_DESC UPLOADED <id> ...`` ``publish_delay`` seconds after
  ADD_ONION to connections that asked for HS_DESC. A service that was not detached ends with its
  control connection, as in tor.
* SOCKS5 port: no-auth or username/password (any: tor's IsolateSOCKSAuth only uses them to pick
  circuits; they are recorded in ``socks_requests``), CONNECT to ``<id>.onion:PORT``, resolved through
  the registry of services to the mapped local target; bytes are spliced both ways. An unknown onion gets
  0xF0 (tor's "descriptor not found"), an unmapped port or a refused target 0x05, anything not an onion
  0x04 (a private network has no exits).

Hooks (plain attributes, change them any time): ``bootstrap`` (percent), ``refuse_auth``,
``refuse_connections`` (new control connections are closed at once: tor is down), ``publish`` /
``publish_delay``, ``socks_delay``, ``socks_fail`` (answer this code to every request),
``socks_fail_next`` (codes answered to the next requests, one each), and ``await restart()`` (every control
connection dropped and every service gone: tor restarted). Counters: ``newnym_count``, ``commands``.

The SOCKS5 wire side is in tests/fake_socks.py. Use ``async with fake_tor(tmp_path) as tor:`` (or
``await nursery.start(FakeTor(tmp_path).run)``); then ``tor.control`` is "127.0.0.1:PORT" and ``tor.socks`` is ("127.0.0.1", PORT); with ``unix_socket=True``
``tor.control_socket`` is the path of the same control port as a unix socket (keep ``directory`` short:
a socket path has at most 107 bytes). ``echo_server(nursery)`` gives a local target for a service, and
``serve_local(nursery, handler)`` any other (say, a proxy that hangs up).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import nacl.bindings
import trio

from meshcare.crypto.onion_key import OnionKey, onion_address

from .fake_socks import Reader, SocksRequest, socks_handshake, socks_reply, splice

SERVER_KEY = b"Tor safe cookie authentication server-to-controller hash"
CLIENT_KEY = b"Tor safe cookie authentication controller-to-server hash"
BOOTSTRAP_TAGS = {0: ("starting", "Starting"), 100: ("done", "Done")}
HSDIR = "$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA~fakehsdir"


@dataclass
class Service:
    """One onion service of the fake: its ports (virtual -> local target) and who owns it."""

    service_id: str
    ports: dict[int, tuple[str, int]]
    detached: bool
    owner: _ControlConnection | None
    published: bool = False


class _ControlConnection:
    def __init__(self, tor: FakeTor, stream: trio.abc.Stream) -> None:
        self.tor = tor
        self.stream = stream
        self.reader = Reader(stream)
        self.send_lock = trio.Lock()
        self.authenticated = False
        self.events: set[str] = set()
        self.nonces: tuple[bytes, bytes] | None = None      # (client, server) after AUTHCHALLENGE
        self.closed = False

    async def send(self, *lines: str) -> None:
        async with self.send_lock:
            try:
                await self.stream.send_all("".join(line + "\r\n" for line in lines).encode())
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                self.closed = True

    async def close(self) -> None:
        self.closed = True
        await self.stream.aclose()

    async def serve(self) -> None:
        try:
            while not self.closed:
                line = await self.reader.line()
                self.tor.commands.append(line)
                keyword, _, rest = line.partition(" ")
                await self.handle(keyword.upper(), rest)
        except (EOFError, trio.BrokenResourceError, trio.ClosedResourceError):
            pass
        finally:
            self.closed = True
            self.tor._connection_ended(self)
            with trio.CancelScope(shield=True):
                await self.stream.aclose()

    async def handle(self, keyword: str, rest: str) -> None:
        if keyword == "PROTOCOLINFO":
            await self.protocolinfo()
        elif keyword == "AUTHCHALLENGE":
            await self.authchallenge(rest)
        elif keyword == "AUTHENTICATE":
            await self.authenticate(rest)
        elif keyword == "QUIT":
            await self.send("250 closing connection")
            await self.close()
        elif not self.authenticated:
            await self.send("514 Authentication required.")
            await self.close()
        elif keyword == "GETINFO":
            await self.getinfo(rest.split())
        elif keyword == "SETEVENTS":
            names = set(rest.split())
            unknown = names - {"HS_DESC", "STATUS_CLIENT", "CIRC", "STREAM"}
            if unknown:
                await self.send(f'552 Unrecognized event "{sorted(unknown)[0]}"')
            else:
                self.events = names
                await self.send("250 OK")
        elif keyword == "ADD_ONION":
            await self.add_onion(rest.split())
        elif keyword == "DEL_ONION":
            service = self.tor.services.get(rest.strip())
            if service is None or not (service.detached or service.owner is self):
                await self.send("552 Unknown Onion Service id")
            else:
                del self.tor.services[service.service_id]
                await self.send("250 OK")
        elif keyword == "SIGNAL":
            if rest.strip() == "NEWNYM":
                self.tor.newnym_count += 1
                await self.send("250 OK")
            else:
                await self.send(f'552 Unrecognized signal code "{rest.strip()}"')
        else:
            await self.send(f'510 Unrecognized command "{keyword}"')

    async def protocolinfo(self) -> None:
        methods = {"safecookie": "COOKIE,SAFECOOKIE", "cookie": "COOKIE", "null": "NULL",
                   "password": "HASHEDPASSWORD"}[self.tor.auth]
        cookie = f' COOKIEFILE="{self.tor.cookie_path}"' if "COOKIE" in methods else ""
        await self.send("250-PROTOCOLINFO 1", f"250-AUTH METHODS={methods}{cookie}",
                        f'250-VERSION Tor="{self.tor.version}"', "250 OK")

    async def authchallenge(self, rest: str) -> None:
        parts = rest.split()
        if self.tor.auth != "safecookie" or len(parts) != 2 or parts[0] != "SAFECOOKIE":
            await self.send("513 AUTHCHALLENGE only supports SAFECOOKIE authentication")
            await self.close()
            return
        try:
            client_nonce = bytes.fromhex(parts[1])
        except ValueError:
            await self.send("513 Invalid base16 client nonce")
            await self.close()
            return
        server_nonce = os.urandom(32)
        self.nonces = (client_nonce, server_nonce)
        server_hash = hmac.new(SERVER_KEY, self.tor.cookie + client_nonce + server_nonce, hashlib.sha256).hexdigest()
        await self.send(f"250 AUTHCHALLENGE SERVERHASH={server_hash.upper()} SERVERNONCE={server_nonce.hex().upper()}")

    async def authenticate(self, rest: str) -> None:
        secret = rest.strip()
        auth = self.tor.auth
        if auth == "null":
            good = True
        elif auth == "password":
            good = False
        elif self.nonces is not None:
            client_nonce, server_nonce = self.nonces
            expected = hmac.new(CLIENT_KEY, self.tor.cookie + client_nonce + server_nonce, hashlib.sha256).hexdigest()
            good = secret.lower() == expected
        else:
            good = secret.lower() == self.tor.cookie.hex()
        if good and not self.tor.refuse_auth:
            self.authenticated = True
            await self.send("250 OK")
        else:
            await self.send("515 Authentication failed: Safe cookie response did not match expected value.")
            await self.close()

    async def getinfo(self, keys: list[str]) -> None:
        lines = []
        for key in keys:
            if key == "status/bootstrap-phase":
                tag, summary = BOOTSTRAP_TAGS.get(self.tor.bootstrap, ("conn", "Connecting to a relay"))
                lines.append(f"250-{key}=NOTICE BOOTSTRAP PROGRESS={self.tor.bootstrap} TAG={tag} "
                             f'SUMMARY="{summary}"')
            elif key == "version":
                lines.append(f"250-{key}={self.tor.version}")
            elif key == "net/listeners/socks":
                lines.append(f'250-{key}="{self.tor.socks[0]}:{self.tor.socks[1]}"')
            elif key == "onions/current":
                mine = [s.service_id for s in self.tor.services.values() if s.owner is self and not s.detached]
                lines += [f"250+{key}=", *mine, "."]
            else:
                await self.send(f'552 Unrecognized key "{key}"')
                return
        await self.send(*lines, "250 OK")

    async def add_onion(self, args: list[str]) -> None:
        if not args:
            await self.send("512 Missing argument to ADD_ONION")
            return
        kind, _, blob = args[0].partition(":")
        if args[0] == "NEW:ED25519-V3" or args[0] == "NEW:BEST":
            public = OnionKey.generate().public
        elif kind == "ED25519-V3":
            try:
                expanded = base64.b64decode(blob, validate=True)
            except (binascii.Error, ValueError):
                expanded = b""
            if len(expanded) != 64:
                await self.send("512 Failed to decode ED25519-V3 key")
                return
            public = nacl.bindings.crypto_scalarmult_ed25519_base_noclamp(expanded[:32])
        else:
            await self.send(f"513 Invalid key type {kind!r}")
            return
        ports: dict[int, tuple[str, int]] = {}
        detached = False
        for arg in args[1:]:
            name, _, value = arg.partition("=")
            if name == "Port":
                virt, _, target = value.partition(",")
                host, _, port = target.rpartition(":")
                if not virt.isdigit() or not port.isdigit():
                    await self.send(f"512 Invalid VIRTPORT/TARGET: {value}")
                    return
                ports[int(virt)] = (host.strip("[]") or "127.0.0.1", int(port))
            elif name == "Flags":
                detached = "Detach" in value.split(",")
        if not ports:
            await self.send("512 Missing 'Port' argument")
            return
        service_id = onion_address(public)[: -len(".onion")]
        if service_id in self.tor.services:
            await self.send("550 Onion address collision")
            return
        service = Service(service_id, ports, detached, None if detached else self)
        self.tor.services[service_id] = service
        await self.send(f"250-ServiceID={service_id}", "250 OK")
        if self.tor._nursery is not None:
            self.tor._nursery.start_soon(self.tor._publish, service)

    async def event(self, name: str, text: str) -> None:
        if name in self.events and not self.closed:
            await self.send(f"650 {name} {text}")


class FakeTor:
    """The fake tor's state and hooks; ``run`` serves both ports until cancelled."""

    def __init__(self, directory: Path, *, auth: str = "safecookie", bootstrap: int = 100,
                 version: str = "0.4.9.11 (fake)", unix_socket: bool = False) -> None:
        if auth not in ("safecookie", "cookie", "null", "password"):
            raise ValueError(f"unknown auth {auth!r}")
        self.directory = directory
        self.auth = auth
        self.bootstrap = bootstrap
        self.version = version
        self.cookie = os.urandom(32)
        self.cookie_path = directory / "control_auth_cookie"
        self.refuse_auth = False
        self.refuse_connections = False
        self.publish = True
        self.publish_delay = 0.05
        self.socks_delay = 0.0
        self.socks_fail: int | None = None
        self.socks_fail_next: list[int] = []
        self.newnym_count = 0
        self.commands: list[str] = []
        self.services: dict[str, Service] = {}
        self.socks_requests: list[SocksRequest] = []
        self.control = ""
        #: with ``unix_socket=True``, the control port is also a unix socket here (``directory``/control)
        self.control_socket: str | None = str(directory / "control") if unix_socket else None
        self.socks: tuple[str, int] = ("127.0.0.1", 0)
        self._connections: set[_ControlConnection] = set()
        self._nursery: trio.Nursery | None = None

    @property
    def connections(self) -> int:
        """How many control connections are open now."""
        return len(self._connections)

    def published(self, service_id: str) -> bool:
        """Whether the service ``service_id`` is up and its descriptor "uploaded"."""
        service = self.services.get(service_id.removesuffix(".onion"))
        return service is not None and service.published

    async def restart(self) -> None:
        """tor restarts: every control connection closes and every onion service is gone."""
        for connection in list(self._connections):
            await connection.close()
        self.services.clear()

    async def run(self, *, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.cookie_path.write_bytes(self.cookie)
        os.chmod(self.cookie_path, 0o600)
        control_listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
        socks_listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
        self.control = "127.0.0.1:%d" % control_listeners[0].socket.getsockname()[1]
        self.socks = ("127.0.0.1", socks_listeners[0].socket.getsockname()[1])
        if self.control_socket is not None:
            sock = trio.socket.socket(trio.socket.AF_UNIX, trio.socket.SOCK_STREAM)
            await sock.bind(self.control_socket)
            sock.listen(16)
            control_listeners.append(trio.SocketListener(sock))
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            nursery.start_soon(trio.serve_listeners, self._serve_control, control_listeners)
            nursery.start_soon(trio.serve_listeners, self._serve_socks, socks_listeners)
            task_status.started(self)

    # --- control ----------------------------------------------------------------------------------------

    async def _serve_control(self, stream: trio.abc.Stream) -> None:
        if self.refuse_connections:
            await stream.aclose()
            return
        connection = _ControlConnection(self, stream)
        self._connections.add(connection)
        await connection.serve()

    def _connection_ended(self, connection: _ControlConnection) -> None:
        self._connections.discard(connection)
        for service_id, service in list(self.services.items()):
            if service.owner is connection:
                del self.services[service_id]

    async def _publish(self, service: Service) -> None:
        await trio.sleep(self.publish_delay)
        if not self.publish or self.services.get(service.service_id) is not service:
            return
        for connection in list(self._connections):
            await connection.event("HS_DESC", f"UPLOAD {service.service_id} UNKNOWN {HSDIR} "
                                              "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA HSDIR_INDEX=00")
        service.published = True
        for connection in list(self._connections):
            await connection.event("HS_DESC", f"UPLOADED {service.service_id} UNKNOWN {HSDIR}")

    # --- SOCKS ------------------------------------------------------------------------------------------

    async def _serve_socks(self, stream: trio.abc.Stream) -> None:
        async with stream:
            reader = Reader(stream)
            try:
                request = await socks_handshake(reader, self.socks_requests)
                if request is None:
                    return
                target = await self._socks_resolve(request)
                if target is None:
                    await stream.send_all(socks_reply(request.reply or 1))
                    return
                await stream.send_all(socks_reply(0))
                await splice(reader, target)
            except (EOFError, trio.BrokenResourceError, trio.ClosedResourceError):
                return

    async def _socks_resolve(self, request: SocksRequest) -> trio.abc.Stream | None:
        """The stream to the request's target, or None with ``request.reply`` set to the failure code."""
        if self.socks_delay:
            await trio.sleep(self.socks_delay)
        if self.socks_fail_next:
            request.reply = self.socks_fail_next.pop(0)
            return None
        if self.socks_fail is not None:
            request.reply = self.socks_fail
            return None
        if not request.host.endswith(".onion"):
            request.reply = 4
            return None
        service = self.services.get(request.host.removesuffix(".onion"))
        if service is None or not service.published:
            request.reply = 0xF0
            return None
        target = service.ports.get(request.port)
        if target is None:
            request.reply = 5
            return None
        try:
            stream = await trio.open_tcp_stream(*target)
        except OSError:
            request.reply = 5
            return None
        request.reply = 0
        return stream


@asynccontextmanager
async def fake_tor(directory: Path, **options: Any) -> AsyncIterator[FakeTor]:
    """A running ``FakeTor`` (options: those of its constructor) for the body of the ``async with``."""
    tor = FakeTor(directory, **options)
    async with trio.open_nursery() as nursery:
        await nursery.start(tor.run)
        try:
            yield tor
        finally:
            nursery.cancel_scope.cancel()


async def serve_local(nursery: trio.Nursery, handler: Callable[[trio.SocketStream], Awaitable[None]]) -> int:
    """Serve ``handler`` on a free port of 127.0.0.1 until ``nursery`` is cancelled; return the port."""
    listeners = await nursery.start(partial(trio.serve_tcp, handler, 0, host="127.0.0.1"))
    return int(listeners[0].socket.getsockname()[1])


async def echo_server(nursery: trio.Nursery) -> int:
    """An echo service on 127.0.0.1 (the local target an onion service of the fake maps to); its port."""
    async def echo(stream: trio.abc.Stream) -> None:
        async with stream:
            while data := await stream.receive_some(4096):
                await stream.send_all(data)
    return await serve_local(nursery, echo)


__all__ = ["FakeTor", "Service", "SocksRequest", "echo_server", "fake_tor", "serve_local"]
