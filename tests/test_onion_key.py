"""The onion key (meshcare/crypto/onion_key.py): addresses, their checks, the expanded key, the key file.

Budget: under 1 s.
"""

from __future__ import annotations

import base64
import os
import stat

import nacl.bindings
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meshcare.crypto import onion_key
from meshcare.crypto.onion_key import OnionKey, is_onion, load_or_create, onion_address, onion_public
from meshcare.errors import BadInput, StartupError

# rend-spec-v3's example address (a real v3 address with a valid checksum)
SPEC_EXAMPLE = "pg6mmjiyjmcrsslvykfwnntlaru7p5svn6y2ymmju6nubxndf4pscryd.onion"


def test_the_spec_example_parses_and_round_trips():
    public = onion_public(SPEC_EXAMPLE)
    assert len(public) == 32
    assert onion_address(public) == SPEC_EXAMPLE


@settings(max_examples=50, deadline=None)
@given(st.binary(min_size=32, max_size=32))
def test_address_round_trip(seed):
    key = OnionKey.from_seed(seed)
    address = key.address
    assert address.endswith(".onion") and len(address) == 62 and address == address.lower()
    assert address.endswith("d.onion")          # version 3 is the last 5 bits of the last char
    assert onion_public(address) == key.public
    assert onion_public(address.upper()) == key.public
    assert onion_public(address[:-6]) == key.public   # without the suffix
    assert key.service_id + ".onion" == address
    assert is_onion(address)


@settings(max_examples=50, deadline=None)
@given(st.binary(min_size=32, max_size=32), st.integers(0, 55), st.sampled_from("abcdefghijklmnopqrstuvwxyz234567"))
def test_a_changed_character_fails(seed, where, char):
    address = OnionKey.from_seed(seed).address
    if address[where] == char:
        return
    bad = address[:where] + char + address[where + 1:]
    with pytest.raises(BadInput, match="checksum|version"):
        onion_public(bad)


def test_wrong_length_characters_and_version_say_so():
    good = OnionKey.generate().address
    with pytest.raises(BadInput, match="55 characters"):
        onion_public(good[1:])
    with pytest.raises(BadInput, match="old v2"):
        onion_public("expyuzz4wqqyqhjn.onion")
    with pytest.raises(BadInput, match="a-z and the digits 2-7"):
        onion_public("1" + good[1:])
    raw = bytearray(base64.b32decode(good[:-6].upper()))
    raw[34] = 4
    with pytest.raises(BadInput, match="version 4"):
        onion_public(base64.b32encode(bytes(raw)).decode().lower() + ".onion")
    assert not is_onion("192.168.1.2") and not is_onion("onion.example")


def test_the_expanded_key_holds_the_public_key():
    key = OnionKey.generate()
    expanded = key.expanded()
    assert len(expanded) == 64
    assert len(base64.b64decode(key.expanded_b64())) == 64
    scalar = expanded[:32]
    assert scalar[0] & 7 == 0 and scalar[31] & 0x80 == 0 and scalar[31] & 0x40
    assert nacl.bindings.crypto_scalarmult_ed25519_base_noclamp(scalar) == key.public


def test_repr_hides_the_seed():
    key = OnionKey.generate()
    assert key.seed.hex() not in repr(key) and key.address in repr(key)


def test_load_or_create_keeps_one_key(tmp_path):
    path = tmp_path / "onion.key"
    first = load_or_create(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create(path) == first
    assert [p.name for p in tmp_path.iterdir()] == ["onion.key"]   # no temporary file left


def test_load_or_create_refuses_open_or_damaged_files(tmp_path):
    path = tmp_path / "onion.key"
    load_or_create(path)
    os.chmod(path, 0o644)
    with pytest.raises(StartupError, match="chmod 600"):
        load_or_create(path)
    path.write_bytes(b"garbage")
    os.chmod(path, 0o600)
    with pytest.raises(StartupError, match="damaged"):
        load_or_create(path)
    other = OnionKey.generate()
    path.write_bytes(onion_key.encode(OnionKey(seed=other.seed, public=OnionKey.generate().public)))
    with pytest.raises(StartupError, match="does not match"):
        load_or_create(path)


def test_load_or_create_says_when_the_directory_is_not_writable(tmp_path):
    if os.geteuid() == 0:
        missing = tmp_path / "file-not-dir" / "onion.key"
        (tmp_path / "file-not-dir").write_text("x")
        with pytest.raises(StartupError, match="cannot read"):
            load_or_create(missing)
        return
    os.chmod(tmp_path, 0o500)
    try:
        with pytest.raises(StartupError, match="cannot write"):
            load_or_create(tmp_path / "onion.key")
    finally:
        os.chmod(tmp_path, 0o700)


def test_the_onion_key_is_not_the_identity():
    """Two keys made one after the other are unrelated (no derivation from a shared secret)."""
    assert OnionKey.generate().public != OnionKey.generate().public
