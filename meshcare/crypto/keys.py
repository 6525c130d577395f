"""A node's identity: an Ed25519 signing key, its derived X25519 key, and a fingerprint for people.

One key pair is the member's identity on a node. The X25519 key (for Noise and for receiving sealed
epoch keys) is derived with libsodium's Ed25519->Curve25519 conversion, so there is one secret to back
up and one public key that names the node. The fingerprint is what two people compare in person:
twelve groups of five digits, like Signal's safety numbers, long enough (about 2^199 choices) that no
one can make a key that matches another's, short enough to read aloud.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import nacl.bindings
import nacl.exceptions
import nacl.signing

from ..errors import BadInput, LocalProtocolError
from ..ids import NodeId

FINGERPRINT_GROUPS = 12
_FINGERPRINT_DOMAIN = b"meshcare/fingerprint/v1\x00"


@dataclass(frozen=True, slots=True)
class Identity:
    """The secret identity of this node. Never logged, never sent; see ``public`` for what others see."""

    signing_key: nacl.signing.SigningKey
    name: str

    @classmethod
    def generate(cls, name: str) -> "Identity":
        return cls(nacl.signing.SigningKey.generate(), check_name(name))

    @classmethod
    def from_seed(cls, seed: bytes, name: str) -> "Identity":
        if len(seed) != 32:
            raise LocalProtocolError("an identity seed is 32 bytes")
        return cls(nacl.signing.SigningKey(seed), check_name(name))

    @property
    def seed(self) -> bytes:
        return bytes(self.signing_key)

    @property
    def node_id(self) -> NodeId:
        """The Ed25519 public key: this node's (member's) identity."""
        return NodeId(bytes(self.signing_key.verify_key))

    @property
    def x25519_private(self) -> bytes:
        return nacl.bindings.crypto_sign_ed25519_sk_to_curve25519(
            self.seed + bytes(self.signing_key.verify_key))

    @property
    def x25519_public(self) -> bytes:
        return x25519_public(self.node_id)

    def __repr__(self) -> str:  # keep the key out of tracebacks and logs
        return f"Identity(name={self.name!r}, node_id={self.node_id.hex()[:16]}...)"


def check_name(name: str) -> str:
    """A display name: 1..64 printable characters. Raises BadInput with the reason."""
    name = name.strip()
    if not 1 <= len(name) <= 64:
        raise BadInput("a name must be 1 to 64 characters")
    if not name.isprintable():
        raise BadInput("a name may not contain control characters")
    return name


def x25519_public(node_id: bytes) -> bytes:
    """The X25519 public key derived from an Ed25519 public key (raises BadInput if it is not a point)."""
    try:
        return nacl.bindings.crypto_sign_ed25519_pk_to_curve25519(node_id)
    except (nacl.exceptions.RuntimeError, nacl.exceptions.ValueError, nacl.exceptions.TypeError):
        raise BadInput("not a valid Ed25519 public key") from None


def fingerprint(node_id: bytes) -> str:
    """Twelve groups of five digits for in-person comparison, e.g. ``'05123 88410 ...'``."""
    digest = hashlib.blake2b(_FINGERPRINT_DOMAIN + node_id, digest_size=60).digest()
    groups = (int.from_bytes(digest[5 * i:5 * i + 5], "big") % 100_000 for i in range(FINGERPRINT_GROUPS))
    return " ".join(f"{g:05d}" for g in groups)
