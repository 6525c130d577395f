"""Binding a link's Noise static key to the node's Ed25519 identity.

The Noise_XX handshake proves that the peer holds the private half of its X25519 static key. The
payload it sends inside the handshake (encrypted, so nobody on the wire sees who is talking) names its
Ed25519 identity, the port it listens on, and a signature by that identity over the X25519 key: the
receiver checks that the signature holds and that the X25519 key is the one derived from the identity,
so one person's identity cannot be claimed by another's link, nor one link's binding reused on a link
with another static key.

Payload: ``msgpack([1, ed25519_public(32), listen_port, sig(64)])`` with
``sig = Ed25519("meshcare/link-binding/v1\\0" || x25519_static_public)``.
"""

from __future__ import annotations

from typing import Final

from ..errors import BadInput, InvalidSignature, RemoteProtocolError, UnsupportedVersion
from ..ids import NodeId
from ..wire import pack, unpack_strict
from . import sign
from .keys import Identity, x25519_public

VERSION: Final = 1
DOMAIN: Final = sign.require_domain(b"meshcare/link-binding/v1\x00")


def make_binding(identity: Identity, listen_port: int) -> bytes:
    """The handshake payload this node sends."""
    sig = sign.sign(identity.signing_key, DOMAIN, identity.x25519_public)
    return pack([VERSION, identity.node_id, listen_port, sig])


def check_binding(payload: bytes, remote_static: bytes) -> tuple[NodeId, int]:
    """Verify a peer's payload against the static key Noise authenticated; return (node id, port).

    Raises RemoteProtocolError (InvalidSignature, UnsupportedVersion) when it does not hold.
    """
    items = unpack_strict(payload, "link binding")
    if type(items) is not list or len(items) != 4 or type(items[0]) is not int:
        raise RemoteProtocolError("malformed link binding")
    if items[0] != VERSION:
        raise UnsupportedVersion(f"link binding version {items[0]} is not supported (this node speaks {VERSION})")
    _, node_id, port, sig = items
    if type(node_id) is not bytes or len(node_id) != 32 or type(sig) is not bytes or type(port) is not int:
        raise RemoteProtocolError("malformed link binding")
    if not 0 <= port <= 65535:
        raise RemoteProtocolError("link binding names an impossible port")
    sign.verify(node_id, DOMAIN, remote_static, sig)
    try:
        derived = x25519_public(node_id)
    except BadInput as exc:  # a point that is not on the curve
        raise InvalidSignature("link binding names an identity that is not a valid key") from exc
    if derived != remote_static:
        raise InvalidSignature("the link's Noise key does not belong to the identity it claims")
    return NodeId(node_id), port
