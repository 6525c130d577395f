"""The Shamir layer of social recovery: the SLIP-0039 published vectors, and split/combine properties.

tests/data/slip39_vectors.json is Trezor's python-shamir-mnemonic ``vectors.json`` (commit
17fcce14736afe498871d3018e4fa9330443471a), copied under its MIT licence (tests/data/slip39_vectors.LICENSE).
Each vector is [description, mnemonics, master secret hex ("" when the set must be refused), xprv];
the passphrase is "TREZOR".
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from meshcare.errors import BadInput
from meshcare.recovery import shamir

VECTORS = json.loads((Path(__file__).parent / "data" / "slip39_vectors.json").read_text())


def test_the_vectors_are_all_there() -> None:
    assert len(VECTORS) >= 40
    assert sum(1 for v in VECTORS if v[2]) >= 15 and sum(1 for v in VECTORS if not v[2]) >= 20


@pytest.mark.parametrize("vector", VECTORS, ids=[v[0][:60] for v in VECTORS])
def test_published_vector(vector: list) -> None:
    description, mnemonics, secret_hex, _xprv = vector
    if secret_hex:
        assert shamir.combine(mnemonics, passphrase=b"TREZOR") == bytes.fromhex(secret_hex), description
    else:
        with pytest.raises(BadInput):
            shamir.combine(mnemonics, passphrase=b"TREZOR")


def test_info_reads_the_single_group_vectors() -> None:
    """A 2-of-3 single-group vector: indices and threshold as the shares say."""
    vector = next(v for v in VECTORS if v[0].startswith("4. Basic sharing 2-of-3"))
    infos = [shamir.info(m) for m in vector[1]]
    assert {i.threshold for i in infos} == {2}
    assert len({i.identifier for i in infos}) == 1
    assert len({i.index for i in infos}) == 2


secrets_ = st.binary(min_size=32, max_size=32)


@settings(max_examples=15, deadline=None)
@given(secret=secrets_, shape=st.tuples(st.integers(2, 5), st.integers(0, 3)))
def test_any_k_of_n_recover_and_agree(secret: bytes, shape: tuple[int, int]) -> None:
    k, extra = shape
    n = k + extra
    shares = shamir.split(secret, k, n)
    assert len(shares) == n
    assert [shamir.info(s).index for s in shares] == list(range(n))
    for subset in itertools.islice(itertools.combinations(shares, k), 6):
        assert shamir.combine(list(subset)) == secret


@settings(max_examples=15, deadline=None)
@given(secret=secrets_, k=st.integers(2, 5))
def test_k_minus_one_shares_open_nothing(secret: bytes, k: int) -> None:
    shares = shamir.split(secret, k, k + 1)
    with pytest.raises(BadInput, match="do not open"):
        shamir.combine(shares[: k - 1])


@settings(max_examples=10, deadline=None)
@given(secret=secrets_)
def test_each_split_is_fresh(secret: bytes) -> None:
    """Two splits of one secret share nothing (new random polynomial and set identifier each time), and no
    share carries the secret in the clear. That k-1 shares say nothing about the secret is the scheme's
    theorem, not something a test can show; ``test_k_minus_one_shares_open_nothing`` shows they open nothing."""
    a = shamir.split(secret, 3, 3)
    b = shamir.split(secret, 3, 3)
    assert a[:2] != b[:2]
    assert all(secret.hex() not in s for s in a)


def test_shares_of_two_sets_do_not_mix() -> None:
    a = shamir.split(b"\x01" * 32, 2, 3)
    b = shamir.split(b"\x02" * 32, 2, 3)
    with pytest.raises(BadInput):
        shamir.combine([a[0], b[1]])


def test_a_duplicated_share_is_refused() -> None:
    a = shamir.split(b"\x03" * 32, 2, 3)
    with pytest.raises(BadInput):
        shamir.combine([a[0], a[0]])


@pytest.mark.parametrize("k,n", [(1, 3), (3, 2), (2, 11), (0, 0)])
def test_bounds(k: int, n: int) -> None:
    with pytest.raises(BadInput, match="holders"):
        shamir.split(b"\x00" * 32, k, n)


@pytest.mark.parametrize("text", ["", "hello world", "x" * 500, "academic " * 33])
def test_damaged_share(text: str) -> None:
    with pytest.raises(BadInput):
        shamir.info(text)


def test_a_changed_word_is_caught() -> None:
    share = shamir.split(b"\x04" * 32, 2, 2)[0]
    words = share.split()
    words[10] = "academic" if words[10] != "academic" else "acid"
    with pytest.raises(BadInput):
        shamir.info(" ".join(words))
