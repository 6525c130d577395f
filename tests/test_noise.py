"""Noise handshake and transport: the public cacophony vectors, plus properties the vectors cannot show
(tampering is always caught, misuse never corrupts state, size limits hold)."""

from __future__ import annotations

import collections
import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meshcare.crypto import noise, noise_cipher
from meshcare.crypto.noise import MAX_MESSAGE_LEN, CipherState, HandshakeState, public_key
from meshcare.errors import DecryptionFailed, LocalProtocolError, RemoteProtocolError

# --- vectors --------------------------------------------------------------------------------------------

VECTORS_ENV = "MESHCARE_NOISE_VECTORS"
DEFAULT_VECTORS = Path(__file__).resolve().parents[1].parent / "shared" / "vectors" / "cacophony.txt"
FUNDAMENTAL = ("NN", "NK", "NX", "KN", "KK", "KX", "XN", "XK", "XX", "IN", "IK", "IX")
SELECTED = re.compile(
    r"Noise_((?:%s)(?:psk[0-9]+(?:\+psk[0-9]+)*)?)_25519_ChaChaPoly_BLAKE2b" % "|".join(FUNDAMENTAL)
)


def _vectors_path() -> Path:
    return Path(os.environ.get(VECTORS_ENV) or DEFAULT_VECTORS)


def _load_selected() -> tuple[str, list[dict[str, Any]]]:
    """('missing' | 'ok', vectors). Never raises at collection time: a broken file must fail a test, not
    hide every test in this module behind a collection error."""
    path = _vectors_path()
    if not path.is_file():
        return "missing", []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        vectors = [v for v in data["vectors"] if SELECTED.fullmatch(v.get("protocol_name", ""))]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return "unreadable", []
    return "ok", vectors


STATUS, VECTORS = _load_selected()


def _vector_params() -> list[Any]:
    if not VECTORS:
        return [pytest.param(None, id=f"vectors-{STATUS if STATUS != 'ok' else 'none-selected'}")]
    seen: collections.Counter[str] = collections.Counter()
    params = []
    for vector in VECTORS:
        name = SELECTED.fullmatch(vector["protocol_name"]).group(1)  # type: ignore[union-attr]
        seen[name] += 1
        params.append(pytest.param(vector, id=name if seen[name] == 1 else f"{name}-{seen[name]}"))
    return params


def _require_vectors() -> None:
    path = _vectors_path()
    if STATUS == "missing":
        reason = f"Noise vectors not found at {path}; see ../shared/vectors/ORIGIN.md"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    if STATUS == "unreadable":
        pytest.fail(f"Noise vectors at {path} are not the expected JSON {{'vectors': [...]}}")
    assert VECTORS, f"{path} exists but holds no Noise_<pattern>_25519_ChaChaPoly_BLAKE2b vector we support"


def _hex(value: str | None) -> bytes | None:
    return None if value is None else bytes.fromhex(value)


def _side(vector: dict[str, Any], prefix: str, pattern: str) -> HandshakeState:
    return HandshakeState(
        pattern,
        initiator=prefix == "init",
        prologue=bytes.fromhex(vector[f"{prefix}_prologue"]),
        s=_hex(vector.get(f"{prefix}_static")),
        e=_hex(vector[f"{prefix}_ephemeral"]),
        rs=_hex(vector.get(f"{prefix}_remote_static")),
        psks=[bytes.fromhex(p) for p in vector.get(f"{prefix}_psks", [])],
    )


def test_vector_count(record_property: Any) -> None:
    _require_vectors()
    names = [SELECTED.fullmatch(v["protocol_name"]).group(1) for v in VECTORS]  # type: ignore[union-attr]
    per_pattern = collections.Counter(names)
    record_property("noise_vectors", len(VECTORS))
    print(f"\n{len(VECTORS)} Noise vectors selected: {dict(sorted(per_pattern.items()))}")
    assert len(VECTORS) > 0


@pytest.mark.parametrize("vector", _vector_params())
def test_vector(vector: dict[str, Any] | None) -> None:
    _require_vectors()
    assert vector is not None
    pattern = SELECTED.fullmatch(vector["protocol_name"]).group(1)  # type: ignore[union-attr]
    initiator, responder = _side(vector, "init", pattern), _side(vector, "resp", pattern)
    messages = vector["messages"]
    index = 0
    while not initiator.complete:
        writer, reader = (initiator, responder) if index % 2 == 0 else (responder, initiator)
        payload = bytes.fromhex(messages[index]["payload"])
        ciphertext = writer.write_message(payload)
        assert ciphertext.hex() == messages[index]["ciphertext"], f"handshake message {index}"
        assert reader.read_message(ciphertext) == payload
        index += 1
    assert responder.complete
    assert initiator.handshake_hash.hex() == responder.handshake_hash.hex() == vector["handshake_hash"]
    i_send, i_recv = initiator.split()
    r_recv, r_send = responder.split()
    # Transport messages keep alternating by their index in the list: even = initiator -> responder.
    for index in range(index, len(messages)):
        sender, receiver = (i_send, r_recv) if index % 2 == 0 else (r_send, i_recv)
        payload = bytes.fromhex(messages[index]["payload"])
        ciphertext = sender.encrypt_with_ad(b"", payload)
        assert ciphertext.hex() == messages[index]["ciphertext"], f"transport message {index}"
        assert receiver.decrypt_with_ad(b"", ciphertext) == payload


# --- helpers for the properties -------------------------------------------------------------------------

keys = st.binary(min_size=32, max_size=32)
payloads = st.binary(max_size=200)
HANDSHAKE = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CHEAP = settings(max_examples=100, deadline=None)


def xx_pair(
    si: bytes = b"\x11" * 32, sr: bytes = b"\x22" * 32, prologue: bytes = b"p"
) -> tuple[HandshakeState, HandshakeState]:
    return (HandshakeState("XX", True, prologue, s=si), HandshakeState("XX", False, prologue, s=sr))


def ik_pair(si: bytes = b"\x11" * 32, sr: bytes = b"\x22" * 32) -> tuple[HandshakeState, HandshakeState]:
    return (HandshakeState("IK", True, s=si, rs=public_key(sr)), HandshakeState("IK", False, s=sr))


def run_handshake(initiator: HandshakeState, responder: HandshakeState, data: list[bytes]) -> list[bytes]:
    """Drive both sides to completion; returns the wire messages."""
    wire, index = [], 0
    while not initiator.complete:
        writer, reader = (initiator, responder) if index % 2 == 0 else (responder, initiator)
        payload = data[index % len(data)] if data else b""
        wire.append(writer.write_message(payload))
        assert reader.read_message(wire[-1]) == payload
        index += 1
    assert responder.complete
    return wire


def check_transport(initiator: HandshakeState, responder: HandshakeState, data: list[bytes]) -> None:
    assert initiator.handshake_hash == responder.handshake_hash
    i_send, i_recv = initiator.split()
    r_recv, r_send = responder.split()
    for payload in data:
        assert r_recv.decrypt_with_ad(b"ad", i_send.encrypt_with_ad(b"ad", payload)) == payload
        assert i_recv.decrypt_with_ad(b"", r_send.encrypt_with_ad(b"", payload)) == payload


def flip(message: bytes, bit: int) -> bytes:
    bit %= len(message) * 8
    out = bytearray(message)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


# --- round trips ----------------------------------------------------------------------------------------


@HANDSHAKE
@given(si=keys, sr=keys, prologue=st.binary(max_size=40), data=st.lists(payloads, min_size=1, max_size=4))
def test_xx_round_trip(si: bytes, sr: bytes, prologue: bytes, data: list[bytes]) -> None:
    initiator, responder = xx_pair(si, sr, prologue)
    run_handshake(initiator, responder, data)
    assert initiator.remote_static == public_key(sr) and responder.remote_static == public_key(si)
    check_transport(initiator, responder, data)


@HANDSHAKE
@given(si=keys, sr=keys, data=st.lists(payloads, min_size=1, max_size=4))
def test_ik_round_trip(si: bytes, sr: bytes, data: list[bytes]) -> None:
    initiator, responder = ik_pair(si, sr)
    run_handshake(initiator, responder, data)
    assert responder.remote_static == public_key(si)
    check_transport(initiator, responder, data)


@pytest.mark.parametrize("pattern", ["XXpsk3", "NNpsk0", "IKpsk2", "NNpsk0+psk2"])
def test_psk_round_trip_and_mismatch(pattern: str) -> None:
    def pair(psk_r: bytes) -> tuple[HandshakeState, HandshakeState]:
        count = pattern.count("psk")
        s = {"s": b"\x11" * 32} if pattern[0] in "XI" else {}
        rs = {"rs": public_key(b"\x22" * 32)} if pattern[1] == "K" else {}
        r_s = {"s": b"\x22" * 32} if pattern[1] in "XK" else {}
        return (HandshakeState(pattern, True, psks=[b"P" * 32] * count, **s, **rs),
                HandshakeState(pattern, False, psks=[psk_r] * count, **r_s))

    initiator, responder = pair(b"P" * 32)
    run_handshake(initiator, responder, [b"hi"])
    check_transport(initiator, responder, [b"x"])
    initiator, responder = pair(b"Q" * 32)
    with pytest.raises(DecryptionFailed):
        run_handshake(initiator, responder, [b"hi"])


# --- tampering ------------------------------------------------------------------------------------------


@HANDSHAKE
@given(which=st.integers(0, 2), bit=st.integers(0, 2**20), data=st.lists(payloads, min_size=3, max_size=3))
def test_xx_flipped_bit_in_handshake_is_caught(which: int, bit: int, data: list[bytes]) -> None:
    """XX message 1 is just ``e`` and a plaintext payload: nothing authenticates it yet, so the responder
    accepts a flipped bit there. It still lands in the handshake hash (and, in ``e``, in every later DH),
    so the initiator's read of message 2 must fail. Messages 2 and 3 are caught on arrival, and the
    failed read leaves the reader able to accept the genuine message."""
    initiator, responder = xx_pair()
    sides = [(initiator, responder), (responder, initiator), (initiator, responder)]
    for index in range(which):
        writer, reader = sides[index]
        reader.read_message(writer.write_message(data[index]))
    writer, reader = sides[which]
    message = writer.write_message(data[which])
    tampered = flip(message, bit)
    if which == 0:
        with pytest.raises((DecryptionFailed, RemoteProtocolError)):
            reader.read_message(tampered)  # undetectable here ...
            initiator.read_message(responder.write_message(data[1]))  # ... but caught one message later
        return
    with pytest.raises((DecryptionFailed, RemoteProtocolError)):
        reader.read_message(tampered)
    assert reader.read_message(message) == data[which]  # state was left untouched
    run_handshake_rest(initiator, responder, which + 1, data)
    check_transport(initiator, responder, data)


def run_handshake_rest(initiator: HandshakeState, responder: HandshakeState, start: int, data: list[bytes]) -> None:
    for index in range(start, 3):
        writer, reader = (initiator, responder) if index % 2 == 0 else (responder, initiator)
        assert reader.read_message(writer.write_message(data[index])) == data[index]


@HANDSHAKE
@given(which=st.integers(0, 1), bit=st.integers(0, 2**20))
def test_ik_flipped_bit_in_handshake_is_caught(which: int, bit: int) -> None:
    initiator, responder = ik_pair()
    first = initiator.write_message(b"one")
    if which == 0:
        with pytest.raises((DecryptionFailed, RemoteProtocolError)):
            responder.read_message(flip(first, bit))
    responder.read_message(first)
    second = responder.write_message(b"two")
    if which == 1:
        with pytest.raises((DecryptionFailed, RemoteProtocolError)):
            initiator.read_message(flip(second, bit))
    assert initiator.read_message(second) == b"two"
    check_transport(initiator, responder, [b"after"])


@CHEAP
@given(payload=payloads, ad=st.binary(max_size=16), bit=st.integers(0, 2**20))
def test_flipped_bit_in_transport_is_caught(payload: bytes, ad: bytes, bit: int) -> None:
    sender, receiver = CipherState(b"k" * 32), CipherState(b"k" * 32)
    ciphertext = sender.encrypt_with_ad(ad, payload)
    with pytest.raises(DecryptionFailed):
        receiver.decrypt_with_ad(ad, flip(ciphertext, bit))
    assert receiver.nonce == 0  # a failed decryption does not consume the nonce
    assert receiver.decrypt_with_ad(ad, ciphertext) == payload


def test_transport_replay_and_wrong_ad_fail() -> None:
    sender, receiver = CipherState(b"k" * 32), CipherState(b"k" * 32)
    first = sender.encrypt_with_ad(b"", b"a")
    assert receiver.decrypt_with_ad(b"", first) == b"a"
    with pytest.raises(DecryptionFailed):
        receiver.decrypt_with_ad(b"", first)
    with pytest.raises(DecryptionFailed):
        receiver.decrypt_with_ad(b"other", sender.encrypt_with_ad(b"", b"b"))


@pytest.mark.parametrize("pattern", ["XX", "IK"])
def test_failed_read_after_partial_progress_rolls_back(pattern: str) -> None:
    """The last message's payload tag fails only after ``s`` was decrypted and a DH mixed in: the rollback
    must restore the older cipher *and* its counter, or the genuine message would no longer decrypt."""
    initiator, responder = xx_pair() if pattern == "XX" else ik_pair()
    wire = run_handshake(*(xx_pair() if pattern == "XX" else ik_pair()), [b"payload"])
    sides = [(initiator, responder), (responder, initiator)]
    for index in range(len(wire)):
        writer, reader = sides[index % 2]
        message = writer.write_message(b"payload")
        if index > 0 or pattern == "IK":  # XX message 1 has no key yet, hence no tag to fail
            with pytest.raises(DecryptionFailed):
                reader.read_message(message[:-1] + bytes([message[-1] ^ 1]))
        assert reader.read_message(message) == b"payload"
    check_transport(initiator, responder, [b"ok"])


def test_ik_wrong_responder_static_fails() -> None:
    initiator = HandshakeState("IK", True, s=b"\x11" * 32, rs=public_key(b"\x33" * 32))
    responder = HandshakeState("IK", False, s=b"\x22" * 32)
    with pytest.raises(DecryptionFailed):
        responder.read_message(initiator.write_message(b"hello"))


@pytest.mark.parametrize("cut", [0, 10, 32, 40, 95])
def test_truncated_handshake_messages_are_remote_errors(cut: int) -> None:
    initiator, responder = ik_pair()
    first = initiator.write_message(b"")
    with pytest.raises(RemoteProtocolError):
        responder.read_message(first[:cut])
    responder.read_message(first)


def test_low_order_ephemeral_from_peer_is_remote_error() -> None:
    responder = HandshakeState("NN", False)
    responder.read_message(bytes(32))  # the all-zero point: accepted as bytes, refused at the DH
    with pytest.raises(RemoteProtocolError):
        responder.write_message(b"")


# --- misuse ---------------------------------------------------------------------------------------------


def test_illegal_calls_raise_and_leave_state_usable() -> None:
    initiator, responder = xx_pair()
    with pytest.raises(LocalProtocolError):
        responder.write_message(b"")  # the initiator speaks first
    with pytest.raises(LocalProtocolError):
        initiator.read_message(b"\0" * 32)  # our turn to write
    with pytest.raises(LocalProtocolError):
        initiator.split()  # not complete
    first = initiator.write_message(b"1")
    with pytest.raises(LocalProtocolError):
        initiator.write_message(b"again")  # writing twice in a row
    assert responder.read_message(first) == b"1"
    with pytest.raises(LocalProtocolError):
        responder.read_message(first)  # reading twice in a row
    run_handshake_rest(initiator, responder, 1, [b"1", b"2", b"3"])
    for side in (initiator, responder):
        with pytest.raises(LocalProtocolError):
            side.write_message(b"")
        with pytest.raises(LocalProtocolError):
            side.read_message(b"\0" * 64)
    check_transport(initiator, responder, [b"still fine"])
    with pytest.raises(LocalProtocolError):
        initiator.split()  # a second split would reuse nonces


def test_oversize_messages_are_rejected() -> None:
    initiator, responder = xx_pair()
    with pytest.raises(LocalProtocolError):
        initiator.write_message(b"x" * (MAX_MESSAGE_LEN + 1))
    with pytest.raises(LocalProtocolError):
        initiator.write_message(b"x" * (MAX_MESSAGE_LEN - 31))  # 32 bytes of e push it over
    biggest = initiator.write_message(b"x" * (MAX_MESSAGE_LEN - 32))
    assert len(biggest) == MAX_MESSAGE_LEN
    with pytest.raises(RemoteProtocolError):
        responder.read_message(biggest + b"x")
    assert responder.read_message(biggest) == b"x" * (MAX_MESSAGE_LEN - 32)
    with pytest.raises(LocalProtocolError):
        responder.write_message(b"x" * (MAX_MESSAGE_LEN - 32 - 48 - 16 + 1))  # e, s + tag, payload tag
    run_handshake_rest(initiator, responder, 1, [b"", b"2", b"3"])
    sender, receiver = CipherState(b"k" * 32), CipherState(b"k" * 32)
    with pytest.raises(LocalProtocolError):
        sender.encrypt_with_ad(b"", b"x" * (MAX_MESSAGE_LEN - 15))
    assert sender.nonce == 0
    with pytest.raises(RemoteProtocolError):
        receiver.decrypt_with_ad(b"", b"x" * (MAX_MESSAGE_LEN + 1))
    with pytest.raises(RemoteProtocolError):
        receiver.decrypt_with_ad(b"", b"x" * 15)
    full = sender.encrypt_with_ad(b"", b"x" * (MAX_MESSAGE_LEN - 16))
    assert len(full) == MAX_MESSAGE_LEN and receiver.decrypt_with_ad(b"", full) == b"x" * (MAX_MESSAGE_LEN - 16)


SECRET = b"\x5a" * 32


@pytest.mark.parametrize(
    "kwargs",
    [
        {"pattern": "ZZ"},
        {"pattern": "XXpsk9", "s": SECRET, "psks": [SECRET]},
        {"pattern": "XXpsk3+psk3", "s": SECRET, "psks": [SECRET, SECRET]},
        {"pattern": "XX"},  # missing s
        {"pattern": "NN", "s": SECRET},  # superfluous s
        {"pattern": "XX", "s": SECRET[:31]},
        {"pattern": "XX", "s": SECRET, "e": SECRET + b"\0"},
        {"pattern": "XX", "s": SECRET, "rs": SECRET},  # XX sends rs; giving one would be silently unchecked
        {"pattern": "IK", "s": SECRET},  # missing rs
        {"pattern": "IK", "s": SECRET, "rs": bytes(32)},  # low-order rs
        {"pattern": "XXpsk3", "s": SECRET},  # missing psk
        {"pattern": "XXpsk3", "s": SECRET, "psks": [SECRET[:16]]},
        {"pattern": "NN", "prologue": "text"},
    ],
)
def test_bad_arguments_raise_local_errors_without_key_material(kwargs: dict[str, Any]) -> None:
    kwargs = {"initiator": True, **kwargs}
    with pytest.raises(LocalProtocolError) as info:
        HandshakeState(**kwargs)
    text = str(info.value)
    assert text and SECRET.hex() not in text and repr(SECRET) not in text and "ZZZZ" not in text


def test_cipher_state_nonce_and_rekey() -> None:
    with pytest.raises(LocalProtocolError):
        CipherState(b"short")
    a, b = CipherState(b"k" * 32), CipherState(b"k" * 32)
    for bad in (-1, 2**64, 1.5):
        with pytest.raises(LocalProtocolError):
            a.set_nonce(bad)  # type: ignore[arg-type]
    a.set_nonce(2**64 - 1)
    with pytest.raises(LocalProtocolError):
        a.encrypt_with_ad(b"", b"x")  # the reserved nonce is never used for a message
    a.set_nonce(5)
    b.set_nonce(5)
    before = a.encrypt_with_ad(b"", b"m")
    a.set_nonce(5)
    a.rekey()
    b.rekey()
    after = a.encrypt_with_ad(b"", b"m")
    assert after != before and b.decrypt_with_ad(b"", after) == b"m"
    with pytest.raises(LocalProtocolError):
        CipherState().rekey()
    assert CipherState().encrypt_with_ad(b"", b"plain") == b"plain"  # no key yet: identity, per spec
    assert "k" * 8 not in repr(a)


@CHEAP
@given(key=st.binary(min_size=0, max_size=200), data=st.binary(max_size=300))
def test_hmac_matches_spec_definition(key: bytes, data: bytes) -> None:
    """Spec 4.3: HMAC-HASH per RFC 2104 with the hash's 128-byte block; checked against a literal
    transcription, since a wrong block size would still produce plausible-looking keys."""
    block = 128
    k = hashlib.blake2b(key).digest() if len(key) > block else key
    k = k.ljust(block, b"\0")
    inner = hashlib.blake2b(bytes(x ^ 0x36 for x in k) + data).digest()
    expected = hashlib.blake2b(bytes(x ^ 0x5C for x in k) + inner).digest()
    assert noise_cipher._hmac(key, data) == expected
