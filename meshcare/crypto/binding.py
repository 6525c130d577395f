"""Binding a link's Noise static key to the node's Ed25519 identity (and, over Tor, to its onion key).

The Noise_XX handshake proves that the peer holds the private half of its X25519 static key. The
payload it sends inside the handshake (encrypted, so nobody on the wire sees who is talking) names its
Ed25519 identity, the port it listens on, and a signature by that identity over the X25519 key: the
receiver checks that the signature holds and that the X25519 key is the one derived from the identity,
so one person's identity cannot be claimed by another's link, nor one link's binding reused on a link
with another static key.

Payload: ``msgpack([1, ed25519_public(32), listen_port, sig(64)])`` with
``sig = Ed25519("meshcare/link-binding/v1\\0" || x25519_static_public)``.

Over Tor a link accepted on the onion listener comes from 127.0.0.1: the receiver cannot tell where
the dialler is reachable. So a node that dials over Tor and has an onion service of its own names its
onion public key too, in a six-item payload:
``[1, ed25519_public, listen_port, sig, onion_public(32), onion_sig(64)]`` with
``sig = Ed25519_identity("meshcare/link-binding-onion/v1\\0" || x25519_static || onion_public || port(2, big
endian))`` (the identity vouches for the onion address and port it is dialled on, domain-separated from the
four-item form, so the two extra items cannot be stripped or swapped) and ``onion_sig = Ed25519_onion("meshcare/link-binding-onion-key/v1\\0" || x25519_static
|| ed25519_public)`` (the dialler holds the onion key: nobody can claim another node's onion address). The
six-item form is only sent on links dialled over Tor, to nodes that run an onion service (so of this version
or later); an older node would refuse it as malformed. Every other link sends the four-item form as before.
"""

from __future__ import annotations

from typing import Final, Protocol

import nacl.signing

from ..errors import BadInput, InvalidSignature, RemoteProtocolError, UnsupportedVersion
from ..ids import NodeId
from ..wire import pack, unpack_strict
from . import sign
from .keys import Identity, x25519_public

VERSION: Final = 1
DOMAIN: Final = sign.require_domain(b"meshcare/link-binding/v1\x00")
ONION_DOMAIN: Final = sign.require_domain(b"meshcare/link-binding-onion/v1\x00")
ONION_KEY_DOMAIN: Final = sign.require_domain(b"meshcare/link-binding-onion-key/v1\x00")


class OnionKeyLike(Protocol):
    """What the binding needs of an onion key (``crypto/onion_key.OnionKey``): its seed and public key."""

    @property
    def seed(self) -> bytes: ...

    @property
    def public(self) -> bytes: ...


def _port(port: int) -> bytes:
    return port.to_bytes(2, "big")


def make_binding(identity: Identity, listen_port: int, onion: OnionKeyLike | None = None) -> bytes:
    """The handshake payload this node sends; ``onion``: also name (and prove) this onion key."""
    if onion is None:
        sig = sign.sign(identity.signing_key, DOMAIN, identity.x25519_public)
        return pack([VERSION, identity.node_id, listen_port, sig])
    onion_public = bytes(onion.public)
    sig = sign.sign(identity.signing_key, ONION_DOMAIN, identity.x25519_public + onion_public + _port(listen_port))
    onion_sig = sign.sign(nacl.signing.SigningKey(bytes(onion.seed)), ONION_KEY_DOMAIN,
                          identity.x25519_public + identity.node_id)
    return pack([VERSION, identity.node_id, listen_port, sig, onion_public, onion_sig])


def check_binding(payload: bytes, remote_static: bytes) -> tuple[NodeId, int, bytes | None]:
    """Verify a peer's payload against the static key Noise authenticated; return (node id, port, onion
    public key or None).

    Raises RemoteProtocolError (InvalidSignature, UnsupportedVersion) when it does not hold.
    """
    items = unpack_strict(payload, "link binding")
    if type(items) is not list or len(items) not in (4, 6) or type(items[0]) is not int:
        raise RemoteProtocolError("malformed link binding")
    if items[0] != VERSION:
        raise UnsupportedVersion(f"link binding version {items[0]} is not supported (this node speaks {VERSION})")
    node_id, port, sig = items[1], items[2], items[3]
    if type(node_id) is not bytes or len(node_id) != 32 or type(sig) is not bytes or type(port) is not int:
        raise RemoteProtocolError("malformed link binding")
    if not 0 <= port <= 65535:
        raise RemoteProtocolError("link binding names an impossible port")
    onion: bytes | None = None
    if len(items) == 6:
        onion, onion_sig = items[4], items[5]
        if type(onion) is not bytes or len(onion) != 32 or type(onion_sig) is not bytes:
            raise RemoteProtocolError("malformed link binding")
        sign.verify(node_id, ONION_DOMAIN, remote_static + onion + _port(port), sig)
        sign.verify(onion, ONION_KEY_DOMAIN, remote_static + node_id, onion_sig)
    else:
        sign.verify(node_id, DOMAIN, remote_static, sig)
    try:
        derived = x25519_public(node_id)
    except BadInput as exc:  # a point that is not on the curve
        raise InvalidSignature("link binding names an identity that is not a valid key") from exc
    if derived != remote_static:
        raise InvalidSignature("the link's Noise key does not belong to the identity it claims")
    return NodeId(node_id), port, onion
