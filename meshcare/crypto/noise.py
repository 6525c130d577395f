"""Noise Protocol Framework (revision 34), sans-I/O, for ``Noise_*_25519_ChaChaPoly_BLAKE2b`` only.

Theory of operation
-------------------
Noise builds a handshake out of three nested objects, and this module mirrors them one to one so the code
can be checked against the spec (https://noiseprotocol.org/noise.html) section by section:

* ``CipherState`` holds a ChaCha20-Poly1305 key ``k`` and a 64-bit counter ``n`` used as the nonce. It is
  the only object that outlives the handshake: ``split()`` hands one to each direction of the link.
* ``_SymmetricState`` holds the chaining key ``ck`` (every DH result is folded into it with HKDF) and the
  handshake hash ``h`` (every byte sent or received is folded into it and used as associated data, so
  both sides only keep talking while they saw exactly the same transcript).
* ``HandshakeState`` walks a *message pattern*: a list of token lists, one per handshake message, that
  says which public keys go on the wire (``e``, ``s``), which Diffie-Hellman results are mixed in
  (``ee``, ``es``, ``se``, ``ss``) and where pre-shared keys enter (``psk``). The patterns are plain data
  in ``_FUNDAMENTAL`` below, written in the spec's own notation; psk modifiers are applied to that data.

The first two, and the primitives, are in ``noise_cipher.py``; this module holds the patterns and the
handshake.

Nothing here does I/O: ``write_message`` returns bytes for the caller to send and ``read_message`` takes
bytes the caller received, so the same code runs under trio, in the simulator and in tests. Every call
that fails (our misuse, the peer's garbage, a bad MAC) leaves the state exactly as it was, so the caller
can simply close the link. Only the cipher suite meshcare uses is implemented; fixing it keeps the hot path
(one ``encrypt_with_ad``/``decrypt_with_ad`` per frame) a direct call into libsodium.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Final

import nacl.exceptions
from nacl.bindings import crypto_scalarmult, crypto_scalarmult_base

from ..errors import LocalProtocolError, RemoteProtocolError
from .noise_cipher import (DHLEN, KEYLEN, MAX_MESSAGE_LEN, PSKLEN, SUITE, TAGLEN, CipherState, _check_key, _dh,
                           _hkdf2, _SymmetricState, generate_private_key, public_key)

__all__ = ["CipherState", "HandshakeState", "MAX_MESSAGE_LEN", "generate_private_key", "public_key"]

# Pattern name -> (initiator pre-message, responder pre-message, messages). Messages alternate, starting
# with the initiator (->, <-, ->). Copied from spec sections 7.4 and 7.5; the pre-messages of these twelve
# patterns only ever contain "s", which is all _mix_pre_messages handles.
_FUNDAMENTAL: Final[dict[str, tuple[str, str, tuple[str, ...]]]] = {
    "NN": ("", "", ("e", "e, ee")),
    "NK": ("", "s", ("e, es", "e, ee")),
    "NX": ("", "", ("e", "e, ee, s, es")),
    "KN": ("s", "", ("e", "e, ee, se")),
    "KK": ("s", "s", ("e, es, ss", "e, ee, se")),
    "KX": ("s", "", ("e", "e, ee, se, s, es")),
    "XN": ("", "", ("e", "e, ee", "s, se")),
    "XK": ("", "s", ("e, es", "e, ee", "s, se")),
    "XX": ("", "", ("e", "e, ee, s, es", "s, se")),
    "IN": ("", "", ("e, s", "e, ee, se")),
    "IK": ("", "s", ("e, es, s, ss", "e, ee, se")),
    "IX": ("", "", ("e, s", "e, ee, se, s, es")),
}

_PATTERN_NAME: Final = re.compile(r"([A-Z]{2})(psk(?:0|[1-9][0-9]*)(?:\+psk(?:0|[1-9][0-9]*))*)?")
# DH token -> ((local key, remote key) as the initiator sees it, (local key, remote key) as the responder does).
_DH_KEYS: Final = {
    "ee": (("e", "re"), ("e", "re")),
    "es": (("e", "rs"), ("s", "re")),
    "se": (("s", "re"), ("e", "rs")),
    "ss": (("s", "rs"), ("s", "rs")),
}


def _tokens(text: str) -> tuple[str, ...]:
    return tuple(t.strip() for t in text.split(",") if t.strip())


@dataclass(frozen=True, slots=True)
class _Pattern:
    """A handshake pattern with its psk modifiers applied; immutable, so one instance serves every link."""

    name: str
    initiator_pre: tuple[str, ...]
    responder_pre: tuple[str, ...]
    messages: tuple[tuple[str, ...], ...]
    psk_count: int

    def needs_static(self, initiator: bool) -> bool:
        """True when this side's static key is pre-known, sent, or used in any DH (ours or the peer's)."""
        side = 0 if initiator else 1
        pre = self.initiator_pre if initiator else self.responder_pre
        sent = any("s" in m for m in self.messages[side::2])
        in_dh = any(_DH_KEYS[t][side][0] == "s" for m in self.messages for t in m if t in _DH_KEYS)
        return "s" in pre or sent or in_dh

    def remote_static_premessage(self, initiator: bool) -> bool:
        return "s" in (self.responder_pre if initiator else self.initiator_pre)


@functools.cache
def _parse_pattern(name: str) -> _Pattern:
    """Turn "XXpsk3" or "NNpsk0+psk2" into token lists (spec section 9.2 places the psk tokens)."""
    match = _PATTERN_NAME.fullmatch(name)
    if match is None or match.group(1) not in _FUNDAMENTAL:
        known = ", ".join(_FUNDAMENTAL)
        raise LocalProtocolError(f"unknown Noise pattern {name!r}; use one of {known}, optionally with pskN modifiers")
    initiator_pre, responder_pre, texts = _FUNDAMENTAL[match.group(1)]
    messages = [list(_tokens(t)) for t in texts]
    positions = [int(modifier[3:]) for modifier in match.group(2).split("+")] if match.group(2) else []
    for position in positions:
        if positions.count(position) > 1 or position > len(messages):
            raise LocalProtocolError(f"Noise pattern {name!r}: psk{position} is repeated or past the last message")
        if position == 0:
            messages[0].insert(0, "psk")
        else:
            messages[position - 1].append("psk")
    pre_i, pre_r = _tokens(initiator_pre), _tokens(responder_pre)
    return _Pattern(name, pre_i, pre_r, tuple(tuple(m) for m in messages), len(positions))


@dataclass(frozen=True, slots=True)
class _KeyPair:
    private: bytes = field(repr=False)
    public: bytes

    @classmethod
    def from_private(cls, private: bytes) -> _KeyPair:
        return cls(private, crypto_scalarmult_base(private))


def _check_remote_public(key: bytes) -> None:
    """Reject a configured low-order remote key now rather than as a baffling 'peer error' mid-handshake."""
    try:
        crypto_scalarmult(b"\x01" * DHLEN, key)
    except nacl.exceptions.RuntimeError:
        raise LocalProtocolError("the remote static key (rs) is an invalid low-order point; check its source") from None


@dataclass(frozen=True, slots=True)
class _Snapshot:
    """Everything a handshake message can change, so a failed call can be undone exactly."""

    ck: bytes = field(repr=False)
    h: bytes
    cipher: CipherState
    nonce: int
    e: _KeyPair | None
    re: bytes | None
    rs: bytes | None
    psk_pos: int


class HandshakeState:
    """One side of one Noise handshake (spec 5.3); create a new one per connection attempt."""

    __slots__ = ("_pattern", "_initiator", "_ss", "_s", "_e", "_rs", "_re", "_psks", "_psk_pos", "_index", "_split")

    def __init__(
        self,
        pattern: str,
        initiator: bool,
        prologue: bytes = b"",
        s: bytes | None = None,
        e: bytes | None = None,
        rs: bytes | None = None,
        psks: list[bytes] | None = None,
    ) -> None:
        if not isinstance(pattern, str):
            raise LocalProtocolError(f"pattern must be a str such as 'XX', not {type(pattern).__name__}")
        self._pattern = _parse_pattern(pattern)
        self._initiator = bool(initiator)
        self._check_arguments(prologue, s, e, rs, psks or [])
        self._s = _KeyPair.from_private(s) if s is not None else None
        # A given ephemeral exists only so tests can reproduce the spec vectors; normally it is generated.
        self._e = _KeyPair.from_private(e) if e is not None else None
        self._rs = rs
        self._re: bytes | None = None
        self._psks = tuple(psks or ())
        self._psk_pos = 0
        self._index = 0
        self._split = False
        self._ss = _SymmetricState(f"Noise_{pattern}_{SUITE}".encode("ascii"))
        self._ss.mix_hash(prologue)
        self._mix_pre_messages()

    def _check_arguments(
        self, prologue: bytes, s: bytes | None, e: bytes | None, rs: bytes | None, psks: list[bytes]
    ) -> None:
        """Fail at construction, naming the missing or superfluous key, instead of mid-handshake."""
        p, role = self._pattern, "initiator" if self._initiator else "responder"
        if not isinstance(prologue, bytes):
            raise LocalProtocolError("prologue must be bytes")
        needs_s = p.needs_static(self._initiator)
        if needs_s and s is None:
            raise LocalProtocolError(f"pattern {p.name} needs the {role}'s static private key; pass s=")
        if not needs_s and s is not None:
            raise LocalProtocolError(f"pattern {p.name} never uses the {role}'s static key; pass s=None")
        if p.remote_static_premessage(self._initiator):
            if rs is None:
                raise LocalProtocolError(f"pattern {p.name} needs the peer's static public key in advance; pass rs=")
        elif rs is not None:
            raise LocalProtocolError(
                f"pattern {p.name} does not take the peer's static key in advance; pass rs=None "
                "and compare remote_static after the handshake if you expect a particular peer"
            )
        for value, what in ((s, "static private key s"), (e, "ephemeral private key e"), (rs, "remote static key rs")):
            if value is not None:
                _check_key(value, DHLEN, what)
        if rs is not None:
            _check_remote_public(rs)
        if len(psks) != p.psk_count:
            raise LocalProtocolError(f"pattern {p.name} uses {p.psk_count} pre-shared key(s), {len(psks)} given")
        for psk in psks:
            _check_key(psk, PSKLEN, "pre-shared key")

    def _mix_pre_messages(self) -> None:
        """Hash the static keys both sides know in advance, initiator's first (spec 5.3 Initialize)."""
        own = self._s.public if self._s is not None else None
        first, second = (own, self._rs) if self._initiator else (self._rs, own)
        for pre, key in ((self._pattern.initiator_pre, first), (self._pattern.responder_pre, second)):
            for token in pre:  # only "s" occurs in the supported patterns; _check_arguments ensured the key
                if key is None:
                    raise LocalProtocolError(f"pre-message token {token!r} needs a key this side does not have")
                self._ss.mix_hash(key)

    # -- public API ---------------------------------------------------------------------------------------

    @property
    def complete(self) -> bool:
        return self._index == len(self._pattern.messages)

    @property
    def handshake_hash(self) -> bytes:
        """The transcript hash h; after completion it uniquely names this session (channel binding)."""
        return self._ss.h

    @property
    def remote_static(self) -> bytes | None:
        """The peer's static public key, once received or if given; it is authenticated only when complete."""
        return self._rs

    @property
    def initiator(self) -> bool:
        return self._initiator

    def write_message(self, payload: bytes = b"") -> bytes:
        """Produce our next handshake message carrying ``payload`` (encrypted once a key exists)."""
        self._check_turn(writing=True)
        if not isinstance(payload, bytes):
            raise LocalProtocolError(f"payload must be bytes, not {type(payload).__name__}")
        if len(payload) > MAX_MESSAGE_LEN:
            raise LocalProtocolError(f"payload of {len(payload)} bytes exceeds the Noise limit of {MAX_MESSAGE_LEN}")
        saved = self._snapshot()
        done = False
        try:
            parts = [self._write_token(token) for token in self._pattern.messages[self._index]]
            parts.append(self._ss.encrypt_and_hash(payload))
            message = b"".join(parts)
            if len(message) > MAX_MESSAGE_LEN:
                raise LocalProtocolError(
                    f"handshake message would be {len(message)} bytes, over the Noise limit of {MAX_MESSAGE_LEN}; "
                    "send a shorter payload"
                )
            self._index += 1
            done = True
        finally:
            if not done:
                self._restore(saved)
        return message

    def read_message(self, message: bytes) -> bytes:
        """Process the peer's next handshake message and return its payload; on any error nothing changes."""
        self._check_turn(writing=False)
        if not isinstance(message, bytes):
            raise LocalProtocolError(f"message must be bytes, not {type(message).__name__}")
        if len(message) > MAX_MESSAGE_LEN:
            raise RemoteProtocolError(f"the peer sent a {len(message)}-byte handshake message; limit {MAX_MESSAGE_LEN}")
        saved = self._snapshot()
        done = False
        try:
            rest = message
            for token in self._pattern.messages[self._index]:
                rest = self._read_token(token, rest)
            payload = self._ss.decrypt_and_hash(rest)
            self._index += 1
            done = True
        finally:
            if not done:
                self._restore(saved)
        return payload

    def split(self) -> tuple[CipherState, CipherState]:
        """Derive the transport keys: (initiator->responder, responder->initiator). Allowed once only,
        because a second pair would restart both nonces at zero under the same keys."""
        if not self.complete:
            raise LocalProtocolError("split() called before the handshake is complete; keep exchanging messages")
        if self._split:
            raise LocalProtocolError("split() was already called; keep using the CipherStates it returned")
        k1, k2 = _hkdf2(self._ss.ck, b"")
        self._split = True
        return CipherState(k1[:KEYLEN]), CipherState(k2[:KEYLEN])

    # -- internals ----------------------------------------------------------------------------------------

    def _check_turn(self, *, writing: bool) -> None:
        if self.complete:
            raise LocalProtocolError("the handshake is complete; use the CipherStates from split() instead")
        ours = (self._index % 2 == 0) == self._initiator
        if writing and not ours:
            raise LocalProtocolError("it is the peer's turn to send a handshake message; call read_message()")
        if not writing and ours:
            raise LocalProtocolError("it is our turn to send a handshake message; call write_message()")

    def _snapshot(self) -> _Snapshot:
        ss = self._ss
        return _Snapshot(ss.ck, ss.h, ss.cipher, ss.cipher.nonce, self._e, self._re, self._rs, self._psk_pos)

    def _restore(self, saved: _Snapshot) -> None:
        # During a handshake a CipherState is only ever replaced or has its counter advanced, so putting
        # back the object and its counter is a complete rollback.
        ss = self._ss
        ss.ck, ss.h, ss.cipher = saved.ck, saved.h, saved.cipher
        ss.cipher.set_nonce(saved.nonce)
        self._e, self._re, self._rs, self._psk_pos = saved.e, saved.re, saved.rs, saved.psk_pos

    def _write_token(self, token: str) -> bytes:
        if token == "e":
            if self._e is None:
                self._e = _KeyPair.from_private(generate_private_key())
            self._mix_ephemeral(self._e.public)
            return self._e.public
        if token == "s":
            if self._s is None:
                raise LocalProtocolError("handshake token 's' needs this side's static key")
            return self._ss.encrypt_and_hash(self._s.public)
        self._mix_secret(token)
        return b""

    def _read_token(self, token: str, data: bytes) -> bytes:
        if token == "e":
            if len(data) < DHLEN:
                raise RemoteProtocolError("handshake message too short for the peer's ephemeral key")
            self._re = data[:DHLEN]
            self._mix_ephemeral(self._re)
            return data[DHLEN:]
        if token == "s":
            size = DHLEN + TAGLEN if self._ss.cipher.has_key() else DHLEN
            if len(data) < size:
                raise RemoteProtocolError("handshake message too short for the peer's static key")
            self._rs = self._ss.decrypt_and_hash(data[:size])
            return data[size:]
        self._mix_secret(token)
        return data

    def _mix_ephemeral(self, public: bytes) -> None:
        """Spec 9.2: a psk lets encryption start before any DH, so "e" also feeds MixKey to make every
        session's keys fresh even when the psk and static keys are reused."""
        self._ss.mix_hash(public)
        if self._pattern.psk_count:
            self._ss.mix_key(public)

    def _mix_secret(self, token: str) -> None:
        if token == "psk":
            self._ss.mix_key_and_hash(self._psks[self._psk_pos])
            self._psk_pos += 1
            return
        local_name, remote_name = _DH_KEYS[token][0 if self._initiator else 1]
        local = self._s if local_name == "s" else self._e
        remote = self._rs if remote_name == "rs" else self._re
        if local is None or remote is None:
            raise LocalProtocolError(f"handshake token {token!r} needs a key this side does not have")
        self._ss.mix_key(_dh(local.private, remote))

