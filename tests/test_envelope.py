"""Envelope: canonical encoding, signature and AEAD properties."""

from __future__ import annotations

import msgpack
import nacl.signing
import pytest
from hypothesis import given
from hypothesis import strategies as st

from meshcare import envelope as env
from meshcare.errors import DecryptionFailed, InvalidSignature, LocalProtocolError, RemoteProtocolError, \
    UnsupportedVersion

from .helpers import NOW, make_envelope

KEY = b"K" * 32
SK = nacl.signing.SigningKey(b"S" * 32)

envelope_args = st.fixed_dictionaries({
    "topic": st.binary(min_size=16, max_size=16),
    "key": st.binary(min_size=32, max_size=32),
    "seq": st.integers(1, 2**63 - 1),
    "lamport": st.integers(0, 2**63 - 1),
    "epoch": st.integers(0, 2**32),
    "created": st.integers(0, 2**40),
    "ttl": st.integers(0, 2**20),
    "plaintext": st.binary(max_size=2048),
    "lane": st.sampled_from(list(env.Lane)),
    "nonce": st.binary(min_size=24, max_size=24),
})


@given(envelope_args, st.binary(min_size=32, max_size=32))
def test_round_trip(args, prev):
    prev = b"" if args["seq"] == 1 else prev
    e = make_envelope(SK, prev=prev, **args)
    d = env.decode(e.encoded)
    assert d == e and d.id == e.id and d.encoded == e.encoded
    env.verify(d)
    assert env.open_body(d, args["key"]) == args["plaintext"]
    assert d.prev == prev


@given(st.integers(1, 2**63 - 1), st.binary(max_size=40))
def test_prev_shape_is_empty_exactly_for_the_first_envelope(seq, prev):
    """v2: prev is b"" iff seq == 1, else a 32-byte id; seal refuses (our bug) and decode rejects (theirs)
    anything else, so a chain link can never be ambiguous."""
    good = (seq == 1 and prev == b"") or (seq > 1 and len(prev) == 32)
    if good:
        e = make_envelope(SK, seq=seq, prev=prev)
        assert env.decode(e.encoded).prev == prev
        return
    with pytest.raises(LocalProtocolError):
        make_envelope(SK, seq=seq, prev=prev)
    fields = msgpack.unpackb(make_envelope(SK, seq=2, prev=b"P" * 32).encoded)
    fields[4], fields[9] = seq, prev
    with pytest.raises(RemoteProtocolError):
        env.decode(msgpack.packb(fields))


def test_seq_zero_is_rejected():
    fields = msgpack.unpackb(make_envelope(SK).encoded)
    fields[4] = 0
    with pytest.raises(RemoteProtocolError):
        env.decode(msgpack.packb(fields))


def test_known_answer_id_is_blake2b_of_bytes():
    import hashlib
    e = make_envelope(nonce=b"N" * 24)
    assert e.id == hashlib.blake2b(e.encoded, digest_size=32).digest()
    # fixed key, nonce and fields: the encoding (and so the id) is stable across runs and versions
    assert make_envelope(nonce=b"N" * 24).encoded == e.encoded


@given(st.data())
def test_any_flipped_byte_is_caught(data):
    e = make_envelope(SK, plaintext=b"call for support", nonce=b"N" * 24)
    i = data.draw(st.integers(0, len(e.encoded) - 1))
    bit = data.draw(st.integers(0, 7))
    tampered = bytearray(e.encoded)
    tampered[i] ^= 1 << bit
    with pytest.raises(RemoteProtocolError):  # decode, signature or decryption must fail
        d = env.decode(bytes(tampered))
        env.verify(d)
        env.open_body(d, KEY)


FIELDS = ["topic", "epoch", "author", "seq", "lamport", "created", "expires", "lane", "prev", "nonce", "ciphertext"]


@given(st.sampled_from(FIELDS), st.data())
def test_swapped_field_fails_verification_and_decryption(field, data):
    """Replace one field by a well-formed other value: the signature (and the AEAD) must catch it."""
    e = make_envelope(SK, plaintext=b"x", nonce=b"N" * 24)
    e = make_envelope(SK, plaintext=b"x", nonce=b"N" * 24, seq=3, prev=b"Q" * 32)
    other = make_envelope(nacl.signing.SigningKey(b"O" * 32), topic=b"U" * 16, seq=2, lamport=3, epoch=4,
                          created=NOW + 5, ttl=99, plaintext=b"y", lane=env.Lane.URGENT, nonce=b"M" * 24,
                          prev=b"R" * 32)
    fields = msgpack.unpackb(e.encoded)
    idx = FIELDS.index(field) + 1
    fields[idx] = msgpack.unpackb(other.encoded)[idx]
    forged = msgpack.packb(fields)
    with pytest.raises(RemoteProtocolError):
        d = env.decode(forged)
        env.verify(d)
    with pytest.raises(RemoteProtocolError):  # the header is the AEAD's associated data
        env.open_body(env.decode(forged), KEY)


def test_resigned_by_other_author_still_cannot_claim_original_author():
    e = make_envelope(SK)
    fields = msgpack.unpackb(e.encoded)
    fields[12] = nacl.signing.SigningKey(b"O" * 32).sign(b"whatever").signature
    with pytest.raises(InvalidSignature):
        env.verify(env.decode(msgpack.packb(fields)))


def test_wrong_key_fails():
    e = make_envelope(SK)
    with pytest.raises(DecryptionFailed):
        env.open_body(e, b"Z" * 32)


@pytest.mark.parametrize("mutate, error", [
    (lambda f: f.__setitem__(0, 1), UnsupportedVersion),
    (lambda f: f.__setitem__(0, 3), UnsupportedVersion),
    (lambda f: f.__setitem__(9, b"x" * 32), RemoteProtocolError),   # prev for seq 1
    (lambda f: f.append(b""), RemoteProtocolError),
    (lambda f: f.pop(), RemoteProtocolError),
    (lambda f: f.__setitem__(1, b"short"), RemoteProtocolError),
    (lambda f: f.__setitem__(4, -1), RemoteProtocolError),
    (lambda f: f.__setitem__(8, 7), RemoteProtocolError),
    (lambda f: f.__setitem__(7, 0), RemoteProtocolError),  # expires before created
    (lambda f: f.__setitem__(6, "text"), RemoteProtocolError),
])
def test_malformed_fields_rejected(mutate, error):
    fields = msgpack.unpackb(make_envelope().encoded)
    mutate(fields)
    with pytest.raises(error):
        env.decode(msgpack.packb(fields))


def test_non_canonical_encoding_rejected():
    e = make_envelope(seq=1)
    # seq=1 as a uint64 instead of a positive fixint: same value, another encoding, another id
    fields = msgpack.unpackb(e.encoded)
    head = msgpack.packb(fields[:4])[1:]
    odd = bytes([0x9D]) + head + b"\xcf" + (1).to_bytes(8, "big") + b"".join(msgpack.packb(x) for x in fields[5:])
    assert msgpack.unpackb(odd) == fields
    with pytest.raises(RemoteProtocolError, match="canonical"):
        env.decode(odd)


@pytest.mark.parametrize("data", [b"", b"\xc1", b"\x92\x01", msgpack.packb({"a": 1}), b"\xff" * 40,
                                  msgpack.packb([2] * 13) + b"\x00", b"\xdd\xff\xff\xff\xff"])
def test_garbage_is_a_remote_error(data):
    with pytest.raises(RemoteProtocolError):
        env.decode(data)


def test_oversize_rejected_both_ways():
    with pytest.raises(LocalProtocolError, match="too large"):
        make_envelope(plaintext=b"x" * env.MAX_ENVELOPE_SIZE)
    with pytest.raises(RemoteProtocolError):
        env.decode(b"\x00" * (env.MAX_ENVELOPE_SIZE + 1))


def test_local_misuse_is_local_error():
    with pytest.raises(LocalProtocolError):
        make_envelope(topic=b"short")
    with pytest.raises(LocalProtocolError):
        make_envelope(ttl=-1)


def test_expiry():
    e = make_envelope(created=NOW, ttl=10)
    assert not e.is_expired(NOW + 9) and e.is_expired(NOW + 10)
