"""Range keys and range fingerprints, shared by the store and the set reconciler.

Envelopes of a topic are ordered by ``(created, id)``. Reconciliation (docs/protocol.md) compares
*ranges* of that order by a short fingerprint: BLAKE2b-128 over the sum of the ids (as little-endian
256-bit integers, mod 2**256) and the count. Addition makes the fingerprint of a union of disjoint
ranges computable from the parts, lets the SQLite store compute it with plain ``SUM`` over 32-bit limbs
of the id, and is insensitive to insertion order. Including the count stops a trivial collision
(adding and removing items whose ids sum to zero is as hard as finding a 256-bit subset sum).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Final, NamedTuple

MOD: Final = 1 << 256
FINGERPRINT_SIZE: Final = 16
LIMBS: Final = 8  # the id split into 8 little-endian 32-bit limbs (store columns l0..l7)


class RangeKey(NamedTuple):
    """A position in a topic's order. Ranges are [lower, upper): lower inclusive, upper exclusive."""

    created: int
    id: bytes


#: Below every key and above every key (created is a non-negative 63-bit integer).
KEY_MIN: Final = RangeKey(0, b"")
KEY_MAX: Final = RangeKey(2**63, b"")


def id_value(envelope_id: bytes) -> int:
    """The id as the integer that is summed."""
    return int.from_bytes(envelope_id, "little")


def limbs(envelope_id: bytes) -> tuple[int, ...]:
    """The 8 little-endian 32-bit limbs of an id (sum of limbs << 32*i == id_value)."""
    return tuple(int.from_bytes(envelope_id[4 * i:4 * i + 4], "little") for i in range(LIMBS))


def sum_ids(ids: Iterable[bytes]) -> int:
    """Sum of ids mod 2**256."""
    return sum(int.from_bytes(i, "little") for i in ids) % MOD


def sum_from_limbs(limb_sums: Iterable[int]) -> int:
    """Recombine per-limb sums (as SQL computes them) into the id sum mod 2**256."""
    return sum(s << (32 * i) for i, s in enumerate(limb_sums)) % MOD


def fingerprint(id_sum: int, count: int) -> bytes:
    """The 16-byte fingerprint of a range with this id sum and item count."""
    h = hashlib.blake2b(digest_size=FINGERPRINT_SIZE)
    h.update((id_sum % MOD).to_bytes(32, "little"))
    h.update(count.to_bytes(8, "little"))
    return h.digest()


def fingerprint_of(ids: Iterable[bytes]) -> bytes:
    """Fingerprint of an explicit set of ids."""
    ids = list(ids)
    return fingerprint(sum_ids(ids), len(ids))
