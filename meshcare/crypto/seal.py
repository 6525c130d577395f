"""Authenticated encryption: XChaCha20-Poly1305 for bodies, sealed boxes for key delivery.

XChaCha20's 24-byte nonce is large enough to draw at random for every message, so no sender has to keep
a nonce counter that a crash could roll back. Every random draw (keys, nonces, a sealed box's ephemeral
key) comes from a ``random_bytes`` argument, libsodium's CSPRNG by default, so tests get known answers.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import nacl.bindings as b
import nacl.exceptions
import nacl.public
import nacl.utils

from ..errors import DecryptionFailed, LocalProtocolError

KEY_SIZE = b.crypto_aead_xchacha20poly1305_ietf_KEYBYTES
NONCE_SIZE = b.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
TAG_SIZE = b.crypto_aead_xchacha20poly1305_ietf_ABYTES
PUBLIC_KEY_SIZE = b.crypto_box_PUBLICKEYBYTES

RandomBytes = Callable[[int], bytes]
"""A source of randomness: ``random_bytes(n)`` returns ``n`` bytes (``system_random`` in production)."""


def system_random(size: int) -> bytes:
    """``size`` bytes from libsodium's CSPRNG: the default of every ``random_bytes`` argument."""
    return nacl.utils.random(size)


def random_nonce(random_bytes: RandomBytes = system_random) -> bytes:
    """A fresh random 24-byte nonce."""
    return _draw(random_bytes, NONCE_SIZE)


def random_key(random_bytes: RandomBytes = system_random) -> bytes:
    """A fresh random 32-byte symmetric key (also an X25519 private key: a check-in's reply key)."""
    return _draw(random_bytes, KEY_SIZE)


def _draw(random_bytes: RandomBytes, size: int) -> bytes:
    value = random_bytes(size)
    if type(value) is not bytes or len(value) != size:
        raise LocalProtocolError(f"a random_bytes source returned something other than {size} bytes")
    return value


def encrypt(key: bytes, nonce: bytes, plaintext: bytes, ad: bytes) -> bytes:
    """XChaCha20-Poly1305 encrypt; ``ad`` is authenticated but not encrypted."""
    if len(key) != KEY_SIZE or len(nonce) != NONCE_SIZE:
        raise LocalProtocolError("encryption needs a 32-byte key and a 24-byte nonce")
    return b.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, ad, nonce, key)


def decrypt(key: bytes, nonce: bytes, ciphertext: bytes, ad: bytes) -> bytes:
    """XChaCha20-Poly1305 decrypt; raises DecryptionFailed on a wrong key or altered data."""
    if len(key) != KEY_SIZE:
        raise LocalProtocolError("decryption needs a 32-byte key")
    if len(nonce) != NONCE_SIZE or len(ciphertext) < TAG_SIZE:
        raise DecryptionFailed("ciphertext or nonce is truncated")
    try:
        return b.crypto_aead_xchacha20poly1305_ietf_decrypt(ciphertext, ad, nonce, key)
    except nacl.exceptions.CryptoError:
        raise DecryptionFailed("cannot decrypt: wrong key, or the message or its header was altered") from None


def seal_to(recipient_x25519_public: bytes, plaintext: bytes, random_bytes: RandomBytes = system_random) -> bytes:
    """Anonymous sealed box to one recipient (used to deliver epoch keys to each member).

    libsodium's ``crypto_box_seal`` format, byte for byte: an ephemeral public key, then ``crypto_box``
    from the ephemeral private key to the recipient under the nonce BLAKE2b-24(ephemeral public ||
    recipient public). Built here rather than with ``SealedBox.encrypt`` only so the ephemeral key comes
    from ``random_bytes``; ``open_sealed`` (libsodium's ``crypto_box_seal_open``) opens either.
    Raises LocalProtocolError for a recipient key that is not 32 bytes.
    """
    if type(recipient_x25519_public) is not bytes or len(recipient_x25519_public) != PUBLIC_KEY_SIZE:
        raise LocalProtocolError("a sealed box goes to a 32-byte X25519 public key")
    ephemeral_private = _draw(random_bytes, b.crypto_box_SECRETKEYBYTES)
    ephemeral_public = b.crypto_scalarmult_base(ephemeral_private)
    nonce = hashlib.blake2b(ephemeral_public + recipient_x25519_public, digest_size=b.crypto_box_NONCEBYTES).digest()
    return ephemeral_public + b.crypto_box(plaintext, nonce, recipient_x25519_public, ephemeral_private)


def open_sealed(recipient_x25519_private: bytes, sealed: bytes) -> bytes:
    """Open a sealed box addressed to us; raises DecryptionFailed if it was not for us or was altered."""
    try:
        return nacl.public.SealedBox(nacl.public.PrivateKey(recipient_x25519_private)).decrypt(sealed)
    except (nacl.exceptions.CryptoError, nacl.exceptions.ValueError, nacl.exceptions.TypeError):
        raise DecryptionFailed("cannot open sealed box: not addressed to this key, or altered") from None


def box(key: bytes, plaintext: bytes, ad: bytes = b"", random_bytes: RandomBytes = system_random) -> bytes:
    """``nonce || XChaCha20-Poly1305(plaintext)`` under ``key`` with a fresh random nonce.

    For small self-contained secrets inside an already encrypted body (a call's thread under its call
    key, a member's own copy of a check-in reply), where carrying the nonce inline keeps the schema flat.
    """
    nonce = random_nonce(random_bytes)
    return nonce + encrypt(key, nonce, plaintext, ad)


def unbox(key: bytes, boxed: bytes, ad: bytes = b"") -> bytes:
    """Open ``box`` output; raises DecryptionFailed for a wrong key, tampering or truncation."""
    if len(boxed) < NONCE_SIZE + TAG_SIZE:
        raise DecryptionFailed("boxed data is truncated")
    return decrypt(key, boxed[:NONCE_SIZE], boxed[NONCE_SIZE:], ad)


def x25519_public_of(private: bytes) -> bytes:
    """The X25519 public key of a private key (a check-in's reply key pair is a random private key)."""
    if len(private) != KEY_SIZE:
        raise LocalProtocolError("an X25519 private key is 32 bytes")
    return bytes(b.crypto_scalarmult_base(private))
