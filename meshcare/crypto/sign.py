"""Ed25519 signatures with a domain prefix.

Each signed object type has its own domain string, prepended to what is signed, so a signature made
for one kind of object (an envelope) can never be replayed as a signature on another (an invite, a
handshake binding). ``VerifyKey`` objects are cached: constructing one costs little, but envelopes from
the same few authors arrive by the thousand during catch-up.
"""

from __future__ import annotations

from functools import lru_cache

import nacl.exceptions
import nacl.signing

from ..errors import InvalidSignature, LocalProtocolError

SIGNATURE_SIZE = 64
PUBLIC_KEY_SIZE = 32

#: The private signing key type, named here so modules outside crypto/ can annotate it without importing nacl.
SigningKey = nacl.signing.SigningKey


@lru_cache(maxsize=4096)
def _verify_key(public_key: bytes) -> nacl.signing.VerifyKey:
    return nacl.signing.VerifyKey(public_key)


def sign(signing_key: SigningKey, domain: bytes, message: bytes) -> bytes:
    """Return the 64-byte detached signature of ``domain || message``."""
    return signing_key.sign(domain + message).signature


def verify(public_key: bytes, domain: bytes, message: bytes, signature: bytes) -> None:
    """Check a detached signature; return None when it is valid.

    Raises InvalidSignature when it is not (also for a malformed public key or signature length): the
    bytes came from outside, so that is the remote's fault.
    """
    if len(public_key) != PUBLIC_KEY_SIZE or len(signature) != SIGNATURE_SIZE:
        raise InvalidSignature("signature or public key has the wrong length")
    try:
        _verify_key(public_key).verify(domain + message, signature)
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError, nacl.exceptions.TypeError):
        raise InvalidSignature("signature does not verify: forged, altered or signed by another key") from None


def require_domain(domain: bytes) -> bytes:
    """Check a signing domain string at import time of its user (programming error otherwise)."""
    if not domain.startswith(b"meshcare/") or not domain.endswith(b"\x00"):
        raise LocalProtocolError("signing domains look like b'meshcare/<what>/v1\\x00'")
    return domain


def public_key(seed: bytes) -> bytes:
    """The Ed25519 public key of a 32-byte seed (an invite's key pair lives in its token as a seed)."""
    if len(seed) != 32:
        raise LocalProtocolError("an Ed25519 seed is 32 bytes")
    return bytes(nacl.signing.SigningKey(seed).verify_key)


def sign_with_seed(seed: bytes, domain: bytes, message: bytes) -> bytes:
    """``sign`` with a key given as its seed."""
    if len(seed) != 32:
        raise LocalProtocolError("an Ed25519 seed is 32 bytes")
    return sign(nacl.signing.SigningKey(seed), domain, message)
