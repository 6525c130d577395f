"""The encrypted backup file: round trips, and a clear error for every way a file can be wrong."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meshcare.backup import fileformat as ff
from meshcare.errors import BackupError, BadInput, WrongBackupPassphrase

FAST = {"ops": ff.OPS_MIN, "mem": ff.MEM_MIN}     # Argon2id at its cheapest: the tests stay fast
BODY = b"the bundle's bytes " * 20
PASS = b"correct horse"


@pytest.fixture(scope="module")
def sealed() -> bytes:
    return ff.seal_with_passphrase(BODY, PASS, **FAST)


@pytest.fixture(scope="module")
def keyed() -> bytes:
    return ff.seal_with_key(BODY, b"k" * 32)


def test_round_trips(sealed: bytes, keyed: bytes) -> None:
    assert ff.open_file(sealed, passphrase=PASS) == BODY
    assert ff.open_file(keyed, key=b"k" * 32) == BODY
    assert ff.kdf_of(sealed) == "argon2id13" and ff.kdf_of(keyed) == "key"
    assert BODY not in sealed and BODY not in keyed


@settings(max_examples=25, deadline=None)
@given(st.binary(max_size=2000), st.binary(min_size=1, max_size=40))
def test_any_body_and_passphrase_round_trip(body: bytes, passphrase: bytes) -> None:
    assert ff.open_file(ff.seal_with_passphrase(body, passphrase, **FAST), passphrase=passphrase) == body


def test_each_file_is_new(sealed: bytes) -> None:
    again = ff.seal_with_passphrase(BODY, PASS, **FAST)
    assert again != sealed and ff.open_file(again, passphrase=PASS) == BODY


def test_default_cost_fits_a_small_board() -> None:
    assert ff.MEM_DEFAULT == 64 * 1024 * 1024 and ff.OPS_DEFAULT == 3 and ff.MEM_DEFAULT <= ff.MEM_MAX


def test_wrong_passphrase_and_key(sealed: bytes, keyed: bytes) -> None:
    with pytest.raises(WrongBackupPassphrase, match="passphrase does not open"):
        ff.open_file(sealed, passphrase=b"wrong")
    with pytest.raises(WrongBackupPassphrase, match="recovery key does not open"):
        ff.open_file(keyed, key=b"x" * 32)
    with pytest.raises(BackupError, match="locked with a passphrase"):
        ff.open_file(sealed)
    with pytest.raises(BackupError, match="social recovery"):
        ff.open_file(keyed, passphrase=PASS)


def test_every_truncation_is_told_as_cut_short(sealed: bytes) -> None:
    """Each length class: inside the magic, the version, the header length, the header, the check, the
    body, the digest."""
    for n in range(1, len(sealed)):
        with pytest.raises(BackupError, match="cut short"):
            ff.open_file(sealed[:n], passphrase=PASS)
    with pytest.raises(BackupError, match="empty"):
        ff.open_file(b"", passphrase=PASS)


def test_a_flipped_bit_anywhere_is_found(sealed: bytes) -> None:
    for i in range(len(sealed)):
        for bit in (0, 7):
            data = bytearray(sealed)
            data[i] ^= 1 << bit
            with pytest.raises(BackupError) as caught:
                ff.open_file(bytes(data), passphrase=PASS)
            assert not isinstance(caught.value, WrongBackupPassphrase), i


def _restamp(data: bytes) -> bytes:
    """The file with its digest recomputed: what someone altering it on purpose would do."""
    import hashlib

    return data[:-32] + hashlib.blake2b(data[:-32], digest_size=32).digest()


def test_tampering_with_the_digest_recomputed(sealed: bytes) -> None:
    body_byte = len(sealed) - 40
    data = bytearray(sealed)
    data[body_byte] ^= 1
    with pytest.raises(BackupError, match="altered after it was written"):
        ff.open_file(_restamp(bytes(data)), passphrase=PASS)
    # a header changed (here: the Argon2 cost) no longer matches the check: the passphrase cannot open it
    hlen = struct.unpack(">H", sealed[17:19])[0]
    header = sealed[19:19 + hlen]
    changed = header.replace(b"\xa3ops\x01", b"\xa3ops\x02")
    assert changed != header
    with pytest.raises(WrongBackupPassphrase):
        ff.open_file(_restamp(sealed[:19] + changed + sealed[19 + hlen:]), passphrase=PASS)


def test_extra_bytes(sealed: bytes) -> None:
    with pytest.raises(BackupError, match="more than it should"):
        ff.open_file(sealed + b"\x00", passphrase=PASS)


def test_unknown_version_and_not_a_backup(sealed: bytes) -> None:
    with pytest.raises(BackupError, match="format version 2.*upgrade"):
        ff.open_file(sealed[:16] + b"\x02" + sealed[17:], passphrase=PASS)
    for junk in (b"PK\x03\x04 a zip file", b"hello", b"\x00" * 100, b"meshcare backup?"):
        with pytest.raises(BackupError, match="not a meshcare backup"):
            ff.open_file(junk, passphrase=PASS)


def test_hostile_headers_are_bounded() -> None:
    import hashlib

    from meshcare.wire import pack

    def file(header: dict) -> bytes:
        packed = pack(header)
        out = ff.MAGIC + b"\x01" + struct.pack(">H", len(packed)) + packed + b"c" * 32 + b"b" * 16
        return out + hashlib.blake2b(out, digest_size=32).digest()

    base = {"kdf": "argon2id13", "ops": 1, "mem": 8192, "salt": b"s" * 16, "nonce": b"n" * 24, "size": 16}
    assert isinstance(file(base), bytes)
    with pytest.raises(WrongBackupPassphrase):
        ff.open_file(file(base), passphrase=PASS)
    for change, words in (({"mem": 1 << 40}, "beyond what meshcare allows"), ({"ops": 1000}, "beyond"),
                          ({"kdf": "scrypt"}, "header is not one"), ({"size": 1 << 40}, "header is not one"),
                          ({"salt": b"s"}, "header is not one"), ({"extra": 1}, "header is not one"),
                          ({"ops": True}, "header is not one")):
        with pytest.raises(BackupError, match=words):
            ff.open_file(file({**base, **change}), passphrase=PASS)


def test_sealing_refuses_bad_arguments() -> None:
    with pytest.raises(BadInput, match="empty"):
        ff.seal_with_passphrase(BODY, b"", **FAST)
    with pytest.raises(BadInput, match="out of bounds"):
        ff.seal_with_passphrase(BODY, PASS, ops=1, mem=1 << 40)
    with pytest.raises(BadInput, match="32 bytes"):
        ff.seal_with_key(BODY, b"short")
