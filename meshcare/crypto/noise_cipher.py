"""Noise's cipher and symmetric states (spec sections 4 and 5.2) and its primitives, for the one suite
meshcare speaks, ``25519_ChaChaPoly_BLAKE2b``. ``noise.py`` builds handshakes on them; after the
handshake only ``CipherState`` remains (one per direction of a link), so the per-frame hot path
(``encrypt_with_ad``/``decrypt_with_ad``) is this module's direct call into libsodium.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from typing import Final

import nacl.exceptions
import nacl.utils
from nacl.bindings import (
    crypto_aead_chacha20poly1305_ietf_decrypt,
    crypto_aead_chacha20poly1305_ietf_encrypt,
    crypto_scalarmult,
    crypto_scalarmult_base,
)

from ..errors import DecryptionFailed, LocalProtocolError, RemoteProtocolError

SUITE: Final = "25519_ChaChaPoly_BLAKE2b"
DHLEN: Final = 32
HASHLEN: Final = 64
BLOCKLEN: Final = 128
KEYLEN: Final = 32
TAGLEN: Final = 16
PSKLEN: Final = 32
#: Every Noise message, handshake or transport, is at most this long (spec section 3).
MAX_MESSAGE_LEN: Final = 65535
#: n = 2**64 - 1 is reserved for rekey(); reaching it means the key is used up.
_MAX_NONCE: Final = 2**64 - 1

# The 96-bit ChaChaPoly nonce is 32 zero bits followed by the little-endian 64-bit counter (spec 12.3).
_nonce: Final = struct.Struct("<4xQ").pack
_encrypt: Final = crypto_aead_chacha20poly1305_ietf_encrypt
_decrypt: Final = crypto_aead_chacha20poly1305_ietf_decrypt
_ZEROS32: Final = bytes(32)


def generate_private_key() -> bytes:
    """Return a fresh X25519 private key, so callers outside ``meshcare.crypto`` never touch nacl."""
    return nacl.utils.random(DHLEN)


def public_key(private_key: bytes) -> bytes:
    """Return the X25519 public key of ``private_key`` (needed to hand a peer our static key, e.g. for IK)."""
    _check_key(private_key, DHLEN, "private key")
    return crypto_scalarmult_base(private_key)


def _check_key(value: object, size: int, what: str) -> None:
    """Reject a wrong key early: a truncated key would otherwise fail deep inside libsodium, or not at all."""
    if not isinstance(value, bytes) or len(value) != size:
        got = f"{len(value)} bytes" if isinstance(value, (bytes, bytearray)) else type(value).__name__
        raise LocalProtocolError(f"{what} must be {size} bytes, got {got}")


def _dh(private_key: bytes, remote_public: bytes) -> bytes:
    """X25519; libsodium refuses low-order public keys (all-zero result), which only a peer can send us."""
    try:
        return crypto_scalarmult(private_key, remote_public)
    except nacl.exceptions.RuntimeError:
        raise RemoteProtocolError("the peer sent an invalid (low-order) public key; closing the link") from None


def _hash(data: bytes) -> bytes:
    return hashlib.blake2b(data).digest()


def _hmac(key: bytes, data: bytes) -> bytes:
    """HMAC-BLAKE2b exactly as in spec section 4.3 (RFC 2104 with B = BLOCKLEN = 128, L = 64)."""
    return hmac.digest(key, data, "blake2b")


def _hkdf2(chaining_key: bytes, ikm: bytes) -> tuple[bytes, bytes]:
    temp_key = _hmac(chaining_key, ikm)
    out1 = _hmac(temp_key, b"\x01")
    return out1, _hmac(temp_key, out1 + b"\x02")


def _hkdf3(chaining_key: bytes, ikm: bytes) -> tuple[bytes, bytes, bytes]:
    temp_key = _hmac(chaining_key, ikm)
    out1 = _hmac(temp_key, b"\x01")
    out2 = _hmac(temp_key, out1 + b"\x02")
    return out1, out2, _hmac(temp_key, out2 + b"\x03")


class CipherState:
    """One direction of an encrypted channel: a key plus a message counter that must never repeat.

    Without a key (early in a handshake) encryption is the identity, as the spec requires, so the
    handshake code need not special-case the messages sent before the first DH.
    """

    __slots__ = ("_k", "_n")

    def __init__(self, key: bytes | None = None) -> None:
        if key is not None:
            _check_key(key, KEYLEN, "cipher key")
        self._k = key
        self._n = 0

    def __repr__(self) -> str:  # never show the key
        return f"<CipherState {'keyed' if self._k is not None else 'empty'} n={self._n}>"

    def has_key(self) -> bool:
        return self._k is not None

    @property
    def nonce(self) -> int:
        """The next nonce; exposed so a link can decide to rekey() long before exhaustion."""
        return self._n

    def set_nonce(self, n: int) -> None:
        """Set the counter, e.g. for out-of-order transports that carry n explicitly (spec 5.1)."""
        if not isinstance(n, int) or isinstance(n, bool) or not 0 <= n <= _MAX_NONCE:
            raise LocalProtocolError(f"nonce must be an integer in 0..2**64-1, got {n!r}")
        self._n = n

    def encrypt_with_ad(self, ad: bytes, plaintext: bytes) -> bytes:
        """Encrypt and authenticate one message; the counter advances only on success."""
        k = self._k
        if k is None:
            return plaintext
        n = self._n
        if n >= _MAX_NONCE:
            raise LocalProtocolError("this cipher key is used up (2**64-1 messages); rekey() or reconnect")
        if len(plaintext) > MAX_MESSAGE_LEN - TAGLEN:
            raise LocalProtocolError(
                f"plaintext of {len(plaintext)} bytes is too long; Noise messages carry at most "
                f"{MAX_MESSAGE_LEN - TAGLEN} bytes of plaintext, split it into several messages"
            )
        ciphertext = _encrypt(plaintext, ad, _nonce(n), k)
        self._n = n + 1
        return ciphertext

    def decrypt_with_ad(self, ad: bytes, ciphertext: bytes) -> bytes:
        """Check and decrypt one message; on failure the counter stays put, as the spec requires."""
        k = self._k
        if k is None:
            return ciphertext
        n = self._n
        if n >= _MAX_NONCE:
            raise LocalProtocolError("this cipher key is used up (2**64-1 messages); rekey() or reconnect")
        size = len(ciphertext)
        if size > MAX_MESSAGE_LEN:
            raise RemoteProtocolError(f"the peer sent a {size}-byte Noise message; the limit is {MAX_MESSAGE_LEN}")
        if size < TAGLEN:
            raise RemoteProtocolError(f"the peer sent a {size}-byte ciphertext, shorter than its {TAGLEN}-byte tag")
        try:
            plaintext = _decrypt(ciphertext, ad, _nonce(n), k)
        except nacl.exceptions.CryptoError:
            raise DecryptionFailed(
                "a message failed authentication: it was altered, sent out of order, or made with another key"
            ) from None
        self._n = n + 1
        return plaintext

    def rekey(self) -> None:
        """Replace k by a one-way function of itself (spec 4.2), so old traffic stays safe if k leaks later."""
        if self._k is None:
            raise LocalProtocolError("rekey() needs a cipher key; this CipherState has none yet")
        self._k = _encrypt(_ZEROS32, b"", _nonce(_MAX_NONCE), self._k)[:KEYLEN]


class _SymmetricState:
    """Chaining key + handshake hash (spec 5.2); everything said so far is bound into both."""

    __slots__ = ("ck", "h", "cipher")

    def __init__(self, protocol_name: bytes) -> None:
        h = protocol_name.ljust(HASHLEN, b"\0") if len(protocol_name) <= HASHLEN else _hash(protocol_name)
        self.ck = h
        self.h = h
        self.cipher = CipherState()

    def mix_key(self, ikm: bytes) -> None:
        self.ck, temp_k = _hkdf2(self.ck, ikm)
        self.cipher = CipherState(temp_k[:KEYLEN])

    def mix_hash(self, data: bytes) -> None:
        self.h = _hash(self.h + data)

    def mix_key_and_hash(self, ikm: bytes) -> None:
        self.ck, temp_h, temp_k = _hkdf3(self.ck, ikm)
        self.mix_hash(temp_h)
        self.cipher = CipherState(temp_k[:KEYLEN])

    def encrypt_and_hash(self, plaintext: bytes) -> bytes:
        ciphertext = self.cipher.encrypt_with_ad(self.h, plaintext)
        self.mix_hash(ciphertext)
        return ciphertext

    def decrypt_and_hash(self, ciphertext: bytes) -> bytes:
        plaintext = self.cipher.decrypt_with_ad(self.h, ciphertext)
        self.mix_hash(ciphertext)
        return plaintext
