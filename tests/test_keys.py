"""Identity, fingerprints, key derivation, the keystore at rest."""

from __future__ import annotations

import os
import random
import stat

import msgpack
import nacl.public
import pytest

from meshcare.crypto import kdf, keys, keystore, seal
from meshcare.errors import BadInput, DecryptionFailed, KeystoreError, LocalProtocolError, WrongPassphrase

FAST = {"ops": keystore.OPS_MIN, "mem": keystore.MEM_MIN}  # Argon2id minimum cost: tests stay fast


def test_x25519_derivation_matches_private_key():
    ident = keys.Identity.generate("Ana")
    assert nacl.public.PrivateKey(ident.x25519_private).public_key.encode() == ident.x25519_public
    assert keys.x25519_public(ident.node_id) == ident.x25519_public


def test_fingerprint_is_twelve_digit_groups_and_distinguishes_keys():
    a, b = keys.Identity.generate("a"), keys.Identity.generate("b")
    fa = keys.fingerprint(a.node_id)
    groups = fa.split(" ")
    assert len(groups) == 12 and all(len(g) == 5 and g.isdigit() for g in groups)
    assert fa == keys.fingerprint(a.node_id) != keys.fingerprint(b.node_id)


def test_repr_hides_secret():
    ident = keys.Identity.from_seed(b"\x01" * 32, "Ana")
    assert ident.seed.hex() not in repr(ident) and "01010101" not in repr(ident)


@pytest.mark.parametrize("name", ["", " ", "x" * 65, "bad\nname"])
def test_bad_names(name):
    with pytest.raises(BadInput):
        keys.Identity.generate(name)


def test_kdf_separates_purposes_and_contexts():
    s = b"s" * 32
    a = kdf.derive_key(s, kdf.TOPIC, size=16)
    assert len(a) == 16
    assert a != kdf.derive_key(s, kdf.EPOCH_BODY, size=16)
    assert kdf.derive_key(s, kdf.EPOCH_BODY, b"1") != kdf.derive_key(s, kdf.EPOCH_BODY, b"2")
    assert kdf.derive_key(s, kdf.EPOCH_BODY, b"1") == kdf.derive_key(s, kdf.EPOCH_BODY, b"1")
    with pytest.raises(LocalProtocolError):
        kdf.derive_key(s, "meshcare/v1/unknown")
    with pytest.raises(LocalProtocolError):
        kdf.derive_key(b"short", kdf.TOPIC)


def test_sealed_box_to_member():
    ident = keys.Identity.generate("Ana")
    box = seal.seal_to(ident.x25519_public, b"epoch key")
    assert seal.open_sealed(ident.x25519_private, box) == b"epoch key"
    with pytest.raises(DecryptionFailed):
        seal.open_sealed(keys.Identity.generate("Bo").x25519_private, box)


def _seeded(seed: int):
    """A deterministic ``random_bytes``: the same seed gives the same stream."""
    return random.Random(seed).randbytes


@pytest.mark.parametrize("size", [0, 1, 32, 3000])
def test_sealed_box_is_libsodiums_format_whatever_the_randomness(size):
    recipient = nacl.public.PrivateKey.generate()
    plaintext = os.urandom(size)
    ours = seal.seal_to(bytes(recipient.public_key), plaintext, _seeded(7))
    assert nacl.public.SealedBox(recipient).decrypt(ours) == plaintext        # libsodium opens ours
    assert len(ours) == len(nacl.public.SealedBox(recipient.public_key).encrypt(plaintext))
    theirs = nacl.public.SealedBox(recipient.public_key).encrypt(plaintext)
    assert seal.open_sealed(bytes(recipient), theirs) == plaintext              # and we open libsodium's


def test_injected_randomness_gives_known_answers():
    recipient = keys.Identity.generate("Ana").x25519_public
    key = seal.random_key(_seeded(1))
    assert key == seal.random_key(_seeded(1)) != seal.random_key(_seeded(2))
    assert seal.seal_to(recipient, b"k", _seeded(1)) == seal.seal_to(recipient, b"k", _seeded(1))
    assert seal.seal_to(recipient, b"k", _seeded(1)) != seal.seal_to(recipient, b"k", _seeded(2))
    assert seal.box(key, b"m", b"ad", _seeded(1)) == seal.box(key, b"m", b"ad", _seeded(1))
    assert seal.box(key, b"m", b"ad", _seeded(1)) != seal.box(key, b"m", b"ad", _seeded(2))
    with pytest.raises(LocalProtocolError):
        seal.random_key(lambda size: b"short")                                   # a broken source is our bug
    with pytest.raises(LocalProtocolError):
        seal.seal_to(b"not a key", b"k")


def test_keystore_round_trip_plain_and_mode(tmp_path):
    path = tmp_path / "h" / keystore.FILENAME
    ident = keys.Identity.generate("Ana")
    keystore.create(path, ident, None)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    loaded = keystore.load(path, None)
    assert loaded.seed == ident.seed and loaded.name == "Ana"
    assert keystore.read_public(path) == ("Ana", ident.node_id, False)


def test_keystore_refuses_overwrite(tmp_path):
    path = tmp_path / keystore.FILENAME
    keystore.create(path, keys.Identity.generate("Ana"), None)
    before = path.read_bytes()
    with pytest.raises(KeystoreError, match="will not overwrite"):
        keystore.create(path, keys.Identity.generate("Bo"), None)
    assert path.read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_passphrase_protects_and_wrong_one_is_clear(tmp_path):
    path = tmp_path / keystore.FILENAME
    ident = keys.Identity.generate("Ana")
    keystore.create(path, ident, b"correct horse", **FAST)
    assert ident.seed not in path.read_bytes()
    assert keystore.load(path, b"correct horse").seed == ident.seed
    with pytest.raises(WrongPassphrase) as info:
        keystore.load(path, b"wrong horse")
    text = str(info.value)
    assert "passphrase" in text and ident.seed.hex() not in text and "horse" not in text
    with pytest.raises(KeystoreError, match="protected by a passphrase"):
        keystore.load(path, None)
    assert keystore.read_public(path)[2] is True


def test_group_readable_keystore_refused(tmp_path):
    path = tmp_path / keystore.FILENAME
    keystore.create(path, keys.Identity.generate("Ana"), None)
    os.chmod(path, 0o644)
    with pytest.raises(KeystoreError, match="chmod 600"):
        keystore.load(path, None)


@pytest.mark.parametrize("content", [
    b"", b"garbage", b"\xff" * 5000, msgpack.packb([1, 2]), msgpack.packb({"v": 9}),
    msgpack.packb({"v": 1, "name": "x", "kdf": "rot13"}),
    msgpack.packb({"v": 1, "name": "x", "kdf": "none", "seed": b"short", "id": b""}),
    msgpack.packb({"v": 1, "name": "x", "kdf": "none", "seed": b"s" * 32, "id": b"i" * 32}),
    msgpack.packb({"v": 1, "name": "x", "kdf": "argon2id13", "salt": b"s", "nonce": b"n", "box": b"b",
                   "ops": 1, "mem": 1, "id": b""}),
])
def test_damaged_keystore_is_a_clear_error_without_key_material(tmp_path, content):
    path = tmp_path / keystore.FILENAME
    path.write_bytes(content)
    os.chmod(path, 0o600)
    with pytest.raises(KeystoreError) as info:
        keystore.load(path, b"pass")
    assert "identity file" in str(info.value) or "passphrase" in str(info.value)
    assert b"s" * 32 not in str(info.value).encode()


def test_missing_keystore_says_how_to_create(tmp_path):
    with pytest.raises(KeystoreError, match="meshcare init"):
        keystore.load(tmp_path / keystore.FILENAME, None)
