"""Issue 9 item 14: strict msgpack, the data dir's mode, the passphrase file's mode, bounded Argon2."""

from __future__ import annotations

import logging
import os
import stat

import msgpack
import pytest

from meshcare import wire
from meshcare.config import Settings
from meshcare.crypto import keystore
from meshcare.crypto.keys import Identity
from meshcare.errors import BadInput, KeystoreError, RemoteProtocolError
from meshcare.transport.service import data_dir_lock


@pytest.mark.parametrize("value", [
    msgpack.Timestamp(1, 0),                        # ext -1 (the one msgpack decodes by itself)
    [1, msgpack.Timestamp(2**33, 5)],
    {"k": msgpack.Timestamp(0, 0)},
    msgpack.ExtType(5, b"x"),
    {b"bytes key": 1},                               # protocol maps have str keys
    {"a": {b"nested": 1}},
    2**64 - 1,                                       # integers fit in signed 64 bits
    [0, [2**63]],
])
def test_strict_unpack_refuses_what_the_protocol_does_not_allow(value):
    data = msgpack.packb(value, use_bin_type=True)
    with pytest.raises(RemoteProtocolError):
        wire.unpack_strict(data)


def test_strict_unpack_keeps_what_the_protocol_allows():
    value = [1, -(2**63), 2**63 - 1, b"bin", "str", {"k": [None, True, 1.5]}]
    assert wire.unpack_strict(msgpack.packb(value, use_bin_type=True)) == value


def test_open_data_dir_is_tightened_once_and_logged(tmp_path, caplog):
    home = tmp_path / "home"
    home.mkdir(mode=0o755)
    os.chmod(home, 0o755)
    caplog.set_level(logging.INFO)
    with data_dir_lock(Settings(home=home)):
        assert stat.S_IMODE(home.stat().st_mode) == 0o700
    with data_dir_lock(Settings(home=home)):
        pass
    said = [r for r in caplog.records if "0700" in r.getMessage()]
    assert len(said) == 1 and str(home) in said[0].getMessage()


def test_group_readable_passphrase_file_is_refused_with_the_chmod(tmp_path):
    path = tmp_path / "pass"
    path.write_bytes(b"correct horse\n")
    os.chmod(path, 0o644)
    with pytest.raises(BadInput) as caught:
        keystore.read_passphrase_file(path)
    assert str(path) in str(caught.value) and f"chmod 600 {path}" in str(caught.value)
    os.chmod(path, 0o600)
    assert keystore.read_passphrase_file(path) == b"correct horse"


def _tampered(ops: int, mem: int) -> bytes:
    identity = Identity.generate("t")
    data = keystore.encode(identity, b"pw", ops=keystore.OPS_MIN, mem=keystore.MEM_MIN)
    record = msgpack.unpackb(data, raw=False)
    record["ops"], record["mem"] = ops, mem
    return msgpack.packb(record, use_bin_type=True)


@pytest.mark.parametrize("ops, mem", [
    (keystore.OPS_MIN, 64 * 2**30),          # 64 GiB of memory
    (keystore.OPS_MIN, 2**30 + 1024),        # just over 1 GiB
    (2**31, keystore.MEM_MIN),               # absurd passes
    (0, keystore.MEM_MIN),                   # below libsodium's minimum
    (keystore.OPS_MIN, 1),
])
def test_key_file_cannot_ask_for_unbounded_argon2(ops, mem, monkeypatch):
    data = _tampered(ops, mem)

    def never(*args, **kw):
        raise AssertionError("Argon2 must not run with parameters out of bounds")
    monkeypatch.setattr(keystore.nacl.pwhash.argon2id, "kdf", never)
    with pytest.raises(KeystoreError) as caught:
        keystore.decode(data, b"pw")
    assert "key-derivation" in str(caught.value)
