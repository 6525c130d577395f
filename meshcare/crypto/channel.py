"""The secure channel of a link, sans-I/O: Noise_XX handshake plus framed transport messages.

Theory of operation
-------------------
On the wire every Noise message, handshake or transport, is preceded by its length as 2 bytes big
endian (Noise messages are at most 65,535 bytes). The handshake is Noise_XX_25519_ChaChaPoly_BLAKE2b with
prologue ``meshcare/link/v1``; the responder's message 2 and the initiator's message 3 carry the link
binding (``binding.py``) naming the sender's identity and listening port::

    initiator -> responder   e
    responder -> initiator   e, ee, s, es, {binding}
    initiator -> responder   s, se, {binding}

``Handshake`` turns received bytes into bytes to send until it yields a ``Channel``; ``Channel`` turns
plaintext into framed transport messages (one per 65,519 bytes of plaintext) and a received byte stream
into plaintext chunks. A bad MAC or a malformed length raises a RemoteProtocolError subclass: the link
closes; nothing here does I/O.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Final

from ..errors import LocalProtocolError, RemoteProtocolError
from ..ids import NodeId
from .binding import OnionKeyLike, check_binding, make_binding
from .keys import Identity
from .noise import MAX_MESSAGE_LEN, CipherState, HandshakeState

PROLOGUE: Final = b"meshcare/link/v1"
TAG: Final = 16
MAX_PLAINTEXT: Final = MAX_MESSAGE_LEN - TAG
_LEN = struct.Struct(">H")


class _Deframer:
    """2-byte length-prefixed messages out of a byte stream; holds at most one partial message."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        self._buf += data
        out: list[bytes] = []
        buf = self._buf
        pos = 0
        while len(buf) - pos >= 2:
            (n,) = _LEN.unpack_from(buf, pos)
            if n < TAG:
                raise RemoteProtocolError(f"a {n}-byte Noise message is too short to be authentic")
            if len(buf) - pos - 2 < n:
                break
            out.append(bytes(buf[pos + 2:pos + 2 + n]))
            pos += 2 + n
        del buf[:pos]
        return out


def frame(message: bytes) -> bytes:
    return _LEN.pack(len(message)) + message


@dataclass(slots=True)
class Channel:
    """An established link: who is on the other end and the two cipher states."""

    remote_node: NodeId
    remote_port: int
    handshake_hash: bytes
    _send: CipherState
    _recv: CipherState
    _deframer: _Deframer
    wire_in: int = 0   # ciphertext bytes, framing included (for statistics and benchmarks)
    wire_out: int = 0
    #: the onion public key the peer's binding named and proved (a dialler over Tor), else None
    remote_onion: bytes | None = None

    def seal(self, plaintext: bytes) -> bytes:
        """Framed transport messages carrying ``plaintext`` (any length), ready for one write."""
        if not plaintext:
            return b""
        parts = [frame(self._send.encrypt_with_ad(b"", plaintext[i:i + MAX_PLAINTEXT]))
                 for i in range(0, len(plaintext), MAX_PLAINTEXT)]
        data = b"".join(parts)
        self.wire_out += len(data)
        return data

    def open(self, data: bytes) -> bytes:
        """Plaintext of every complete transport message in ``data`` (stream input, any chunking)."""
        self.wire_in += len(data)
        return b"".join(self._recv.decrypt_with_ad(b"", m) for m in self._deframer.feed(data))


class Handshake:
    """Drives one side of the XX handshake. ``start()`` first; then ``receive()`` until ``channel`` is set."""

    def __init__(self, identity: Identity, initiator: bool, listen_port: int,
                 onion: OnionKeyLike | None = None) -> None:
        """``onion``: name this onion key in the binding (a dialler over Tor with an onion service)."""
        self._state = HandshakeState("XX", initiator, PROLOGUE, s=identity.x25519_private)
        self._initiator = initiator
        self._binding = make_binding(identity, listen_port, onion)
        self._deframer = _Deframer()
        self._step = 0
        self._remote: tuple[NodeId, int, bytes | None] | None = None
        self.channel: Channel | None = None
        self.early_data = b""  # plaintext that arrived in the same read as the last handshake message

    def start(self) -> bytes:
        """Bytes to send first (the initiator's ``e``; nothing for the responder)."""
        if self._step:
            raise LocalProtocolError("Handshake.start() called twice")
        self._step = 1
        return frame(self._state.write_message()) if self._initiator else b""

    def receive(self, data: bytes) -> bytes:
        """Feed bytes from the peer; returns bytes to send (possibly empty). Raises RemoteProtocolError."""
        if not self._step:
            raise LocalProtocolError("call Handshake.start() first")
        out = b""
        for message in self._deframer.feed(data):
            if self.channel is not None:  # transport data right behind the last handshake message
                self.early_data += self.channel._recv.decrypt_with_ad(b"", message)
                continue
            payload = self._state.read_message(message)
            if payload:
                # XX: the binding rides behind the peer's static key. A payload before it (bytes after
                # the initiator's ``e``) is the peer breaking the pattern, never our bug: refuse it.
                remote_static = self._state.remote_static
                if remote_static is None:
                    raise RemoteProtocolError("the peer sent a handshake payload before its static key")
                self._remote = check_binding(payload, remote_static)
            if not self._state.complete:
                out += frame(self._state.write_message(self._binding))
            if self._state.complete:
                self._finish()
        return out

    def _finish(self) -> None:
        if self._remote is None:
            raise RemoteProtocolError("the peer completed the handshake without naming its identity")
        first, second = self._state.split()
        send, recv = (first, second) if self._initiator else (second, first)
        self.channel = Channel(self._remote[0], self._remote[1], self._state.handshake_hash, send, recv,
                               self._deframer, remote_onion=self._remote[2])
