"""Distinct types for the identifiers that travel through meshcare.

They are all ``bytes`` at run time; the NewTypes let mypy catch a topic passed where an envelope id
belongs. ``short`` renders any of them for people and logs.
"""

from __future__ import annotations

from typing import NewType

#: An Ed25519 public key: a node's (member's) identity.
NodeId = NewType("NodeId", bytes)
#: 16 bytes derived from a circle secret; names the circle on the wire without revealing it.
TopicId = NewType("TopicId", bytes)
#: BLAKE2b-256 of an encoded envelope.
EnvelopeId = NewType("EnvelopeId", bytes)


def short(value: bytes, length: int = 8) -> str:
    """A short hex prefix for people and logs (never for security decisions)."""
    return value.hex()[:length]
