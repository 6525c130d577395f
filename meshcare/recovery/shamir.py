"""Shamir k-of-n over GF(256), as SLIP-0039 shares, through Trezor's reference implementation. Pure.

Why this library: ``shamir-mnemonic`` is the reference implementation of SLIP-0039 by its authors
(SatoshiLabs/Trezor), MIT-licensed, pure Python with no dependency outside its ``cli`` extra, and comes
with published test vectors (tests/data/slip39_vectors.json, copied from its repository under its MIT
licence; ``tests/test_recovery_shamir.py`` checks this wrapper against them). Each share is a mnemonic
of 33 words (for a 32-byte secret) with an RS1024 checksum, so a damaged or altered share is caught
before any arithmetic, and it names its set (``identifier``), its index and the threshold: a holder's
share can be matched with the setup record that put it in that holder's hands.

The recovery key is split as one group (group threshold 1) of ``n`` members with member threshold ``k``.
SLIP-0039 encrypts the secret with a passphrase before splitting; meshcare uses the empty passphrase
and the smallest iteration exponent: the key is 32 random bytes, not a person's password, and what
protects it is that fewer than ``k`` shares say nothing about it. The library draws its polynomial
coefficients from ``secrets`` (the OS); that is the one place in meshcare's pure code where the
randomness is not injected, because the reference implementation does not take a source.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import shamir_mnemonic as _slip39

from ..errors import BadInput

MIN_THRESHOLD: Final = 2
MAX_SHARES: Final = 10
SECRET_SIZE: Final = 32
#: A 32-byte secret's share is 33 words; nothing longer is read.
MAX_SHARE_TEXT: Final = 400
_ITERATION_EXPONENT: Final = 0


@dataclass(frozen=True, slots=True)
class ShareInfo:
    """What a share says about itself (checked: its checksum and format are valid)."""

    identifier: int        # the set it belongs to (15 bits, random per split)
    index: int             # 0-based member index
    threshold: int


def split(secret: bytes, threshold: int, count: int) -> list[str]:
    """``count`` shares of ``secret`` (32 bytes), any ``threshold`` of which recover it.

    Raises BadInput for a threshold or count outside 2 <= k <= n <= 10."""
    if len(secret) != SECRET_SIZE:
        raise BadInput(f"a recovery key is {SECRET_SIZE} bytes")
    if not MIN_THRESHOLD <= threshold <= count <= MAX_SHARES:
        raise BadInput(f"choose 2 to {MAX_SHARES} holders and a threshold from 2 to the number of holders "
                       f"(got {threshold} of {count})")
    groups = _slip39.generate_mnemonics(1, [(threshold, count)], secret, b"", extendable=True,
                                        iteration_exponent=_ITERATION_EXPONENT)
    return list(groups[0])


def info(share: str) -> ShareInfo:
    """Read a share's header. Raises BadInput for anything that is not a valid SLIP-0039 share of a
    one-group split (damaged words, wrong checksum, other layouts)."""
    share_obj = _parse(share)
    if share_obj.group_count != 1 or share_obj.group_threshold != 1 or share_obj.group_index != 0:
        raise BadInput("a recovery share is a single-group SLIP-0039 share")
    return ShareInfo(share_obj.identifier, share_obj.index, share_obj.member_threshold)


def combine(shares: Sequence[str], *, passphrase: bytes = b"") -> bytes:
    """The secret from exactly ``threshold`` distinct shares of one set. Raises BadInput when they do
    not make a set (too few, mixed sets, a duplicate index, a digest that does not match).

    ``passphrase`` is SLIP-0039's: meshcare splits with none; the published vectors use ``TREZOR``."""
    if not shares:
        raise BadInput("no shares to combine")
    for share in shares:
        _parse(share)
    try:
        return _slip39.combine_mnemonics(list(shares), passphrase)
    except _slip39.MnemonicError as e:
        raise BadInput(f"the shares do not open the recovery key: {e}") from None


def _parse(share: str) -> _slip39.Share:
    if type(share) is not str or not 0 < len(share) <= MAX_SHARE_TEXT:
        raise BadInput("a recovery share is a line of words")
    try:
        return _slip39.Share.from_mnemonic(share)
    except (_slip39.MnemonicError, ValueError, KeyError, IndexError) as e:
        raise BadInput(f"that recovery share is damaged: {e}") from None
