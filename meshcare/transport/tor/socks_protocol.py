"""The SOCKS5 CONNECT exchange with tor, bytes in and bytes out (sans-I/O, over ``socksio``).

socksio builds and parses the messages but does not frame them and knows only RFC 1928's reply codes, so
this module says how many bytes the next message needs (the shell then reads exactly that many: nothing
of the tunnel is ever read by mistake) and reads the reply code itself before socksio sees the reply, so
that tor's extended codes (SocksPort ``ExtendedErrors``, 0xF0-0xF7) become words a person understands.

``isolation`` is sent as the SOCKS5 username (RFC 1929): tor's ``IsolateSOCKSAuth`` (on by default) puts
streams with different credentials on different circuits, so a fresh value per dial attempt gets fresh
circuits and a retry never lands on the stuck rendezvous circuit of the attempt before.
"""

from __future__ import annotations

import enum

from socksio import (
    ProtocolError,
    SOCKS5AuthMethod,
    SOCKS5AuthMethodsRequest,
    SOCKS5AuthReply,
    SOCKS5Command,
    SOCKS5CommandRequest,
    SOCKS5Connection,
    SOCKS5Reply,
    SOCKS5UsernamePasswordRequest,
)
from socksio.socks5 import SOCKS5UsernamePasswordReply  # not re-exported by the package

from ...errors import TorDialError

#: The password sent with an isolation username (tor isolates on both; only the username varies).
ISOLATION_PASSWORD = b"meshcare"

#: Every SOCKS5 reply code tor sends, in words: RFC 1928's, then tor's extended ones.
REPLY_WORDS: dict[int, str] = {
    0x01: "tor failed to make the connection (general failure)",
    0x02: "tor's rules do not allow this connection",
    0x03: "tor has no network (network unreachable)",
    0x04: "tor could not reach the host (no circuit to it could be built)",
    0x05: "the connection was refused at the far end (the node's tor is up but meshcare does not listen "
          "behind it: it is starting or stopping)",
    0x06: "tor gave up waiting (TTL expired: the network is slow, or the node went away)",
    0x07: "tor does not support this SOCKS command",
    0x08: "tor does not support this address type",
    0xF0: "the onion service's descriptor was not found: it is not published (its node is off, or not yet up)",
    0xF1: "the onion service's descriptor is invalid (the address may be wrong, or its tor misbehaves)",
    0xF2: "the introduction to the onion service failed (its node may have just gone off, or its tor restarted)",
    0xF3: "the rendezvous with the onion service failed (a circuit broke on the way; another try usually works)",
    0xF4: "the onion service needs client authorization, which meshcare does not use",
    0xF5: "the onion service refused this client's authorization",
    0xF6: "the onion address is invalid (check it: a character may be mistyped)",
    0xF7: "the introduction to the onion service timed out (the network is slow, or its node is off)",
}


def describe_reply(code: int) -> str:
    """What SOCKS5 reply ``code`` means, in words (unknown codes are named in hex)."""
    return REPLY_WORDS.get(code, f"tor answered with the unknown SOCKS5 error 0x{code:02X}")


class _State(enum.Enum):
    METHOD = 1          # waiting for the server's chosen method (2 bytes)
    PASSWORD = 2        # waiting for the username/password verdict (2 bytes)
    REPLY_HEAD = 3      # waiting for the CONNECT reply's first 5 bytes (enough to know its length)
    REPLY_REST = 4      # waiting for the rest of the CONNECT reply
    DONE = 5


class SocksConnect:
    """One SOCKS5 CONNECT to ``host:port``: ``data_to_send`` / ``receive_data`` until ``done``.

    ``needed`` is how many bytes the next message still needs; give ``receive_data`` at most that many.
    Raises ``TorDialError`` (with ``code`` when tor answered with a failure code) for a refusal or a
    malformed answer; the connection is useless after that.
    """

    def __init__(self, host: str, port: int, *, isolation: str | None = None) -> None:
        self.where = f"{host}:{port}"
        if not host.isascii() or not 0 < len(host) < 256 or not 0 < port < 65536:
            raise TorDialError(f"cannot dial {self.where} through tor: the host must be 1-255 ASCII characters "
                               "and the port 1-65535")
        self._user: bytes | None = None
        if isolation is not None:
            self._user = isolation.encode("utf-8")
            if not 0 < len(self._user) < 256:
                raise TorDialError(f"the isolation token for {self.where} must be 1-255 bytes")
        self._request = SOCKS5CommandRequest.from_address(SOCKS5Command.CONNECT, (host, port))
        self._conn = SOCKS5Connection()
        methods = [SOCKS5AuthMethod.USERNAME_PASSWORD] if self._user else [SOCKS5AuthMethod.NO_AUTH_REQUIRED]
        self._conn.send(SOCKS5AuthMethodsRequest(methods))
        self._state = _State.METHOD
        self._buffer = b""
        self._reply_length = 0

    @property
    def done(self) -> bool:
        """True once tor said the connection is made: from here on the stream is the tunnel."""
        return self._state is _State.DONE

    @property
    def needed(self) -> int:
        """How many more bytes the message being waited for needs (0 when done)."""
        want = {_State.METHOD: 2, _State.PASSWORD: 2, _State.REPLY_HEAD: 5,
                _State.REPLY_REST: self._reply_length, _State.DONE: 0}[self._state]
        return max(want - len(self._buffer), 0)

    def data_to_send(self) -> bytes:
        """The bytes to send tor now (may be empty)."""
        return self._conn.data_to_send()

    def receive_data(self, data: bytes | bytearray) -> None:
        """Take bytes from tor (at most ``needed`` of them)."""
        if len(data) > self.needed:
            raise TorDialError(f"tor's SOCKS port sent more than was asked for while dialling {self.where}")
        self._buffer += bytes(data)
        while self._state is not _State.DONE and self.needed == 0:
            message, self._buffer = self._buffer, b""
            self._step(message)

    def _fail(self, why: str, code: int | None = None) -> TorDialError:
        return TorDialError(f"cannot reach {self.where} through tor: {why}", code)

    def _step(self, message: bytes) -> None:
        if message[0] != (1 if self._state is _State.PASSWORD else 5):
            raise self._fail("the SOCKS port did not answer in SOCKS5 (is it tor's SocksPort?)")
        try:
            if self._state is _State.METHOD:
                self._on_method(self._conn.receive_data(message))
            elif self._state is _State.PASSWORD:
                reply = self._conn.receive_data(message)
                if not (isinstance(reply, SOCKS5UsernamePasswordReply) and reply.success):
                    raise self._fail("tor's SOCKS port refused the isolation credentials")
                self._send_connect()
            elif self._state is _State.REPLY_HEAD:
                self._on_reply_head(message)
            else:
                reply = self._conn.receive_data(message)
                if not isinstance(reply, SOCKS5Reply):
                    raise self._fail("tor's SOCKS reply is malformed")
                self._state = _State.DONE
        except ProtocolError:
            raise self._fail("tor's SOCKS answer is malformed") from None

    def _on_method(self, reply: object) -> None:
        if not isinstance(reply, SOCKS5AuthReply):
            raise self._fail("tor's SOCKS answer is malformed")
        if reply.method == SOCKS5AuthMethod.USERNAME_PASSWORD and self._user is not None:
            self._conn.send(SOCKS5UsernamePasswordRequest(self._user, ISOLATION_PASSWORD))
            self._state = _State.PASSWORD
        elif reply.method == SOCKS5AuthMethod.NO_AUTH_REQUIRED:
            self._send_connect()
        else:
            raise self._fail("tor's SOCKS port accepts none of the authentication methods meshcare offers")

    def _send_connect(self) -> None:
        self._conn.send(self._request)
        self._state = _State.REPLY_HEAD

    def _on_reply_head(self, head: bytes) -> None:
        code = head[1]
        if code != 0:
            raise self._fail(describe_reply(code), code)
        address = {1: 4, 4: 16, 3: 1 + head[4]}.get(head[3])
        if address is None:
            raise self._fail("tor's SOCKS reply has an unknown address type")
        self._reply_length = 4 + address + 2
        self._buffer = head
        self._state = _State.REPLY_REST
