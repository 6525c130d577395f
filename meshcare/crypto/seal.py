"""Authenticated encryption: XChaCha20-Poly1305 for bodies, sealed boxes for key delivery.

XChaCha20's 24-byte nonce is large enough to draw at random for every message, so no sender has to keep
a nonce counter that a crash could roll back. Nonces are injectable so tests get known answers.
"""

from __future__ import annotations

import nacl.bindings as b
import nacl.exceptions
import nacl.public
import nacl.utils

from ..errors import DecryptionFailed, LocalProtocolError

KEY_SIZE = b.crypto_aead_xchacha20poly1305_ietf_KEYBYTES
NONCE_SIZE = b.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
TAG_SIZE = b.crypto_aead_xchacha20poly1305_ietf_ABYTES


def random_nonce() -> bytes:
    """A fresh random 24-byte nonce (libsodium's CSPRNG)."""
    return nacl.utils.random(NONCE_SIZE)


def random_key() -> bytes:
    """A fresh random 32-byte symmetric key."""
    return nacl.utils.random(KEY_SIZE)


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


def seal_to(recipient_x25519_public: bytes, plaintext: bytes) -> bytes:
    """Anonymous sealed box to one recipient (used to deliver epoch keys to each member)."""
    return nacl.public.SealedBox(nacl.public.PublicKey(recipient_x25519_public)).encrypt(plaintext)


def open_sealed(recipient_x25519_private: bytes, sealed: bytes) -> bytes:
    """Open a sealed box addressed to us; raises DecryptionFailed if it was not for us or was altered."""
    try:
        return nacl.public.SealedBox(nacl.public.PrivateKey(recipient_x25519_private)).decrypt(sealed)
    except (nacl.exceptions.CryptoError, nacl.exceptions.ValueError, nacl.exceptions.TypeError):
        raise DecryptionFailed("cannot open sealed box: not addressed to this key, or altered") from None


def box(key: bytes, plaintext: bytes, ad: bytes = b"") -> bytes:
    """``nonce || XChaCha20-Poly1305(plaintext)`` under ``key`` with a fresh random nonce.

    For small self-contained secrets inside an already encrypted body (a call's thread under its call
    key, a member's own copy of a check-in reply), where carrying the nonce inline keeps the schema flat.
    """
    nonce = random_nonce()
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
