"""The identity at rest: one small file, mode 0600, optionally sealed with a passphrase.

Format (msgpack map, string keys; version 1)::

    {"v": 1, "name": str, "kdf": "none", "seed": bytes32}
    {"v": 1, "name": str, "kdf": "argon2id13", "ops": int, "mem": int, "salt": bytes16,
     "nonce": bytes24, "box": secretbox(seed)}

With a passphrase the 32-byte seed is encrypted with XSalsa20-Poly1305 (``SecretBox``) under a key from
Argon2id (libsodium ``crypto_pwhash``, "moderate" limits by default: ~0.5 s and 256 MiB here; a Pi Zero
can take the "interactive" limits via ``ops``/``mem``). The name is not secret and stays readable so
``meshcare id`` can say whose store is locked. The file is written to a temporary name with mode 0600,
fsynced, then linked into place, so a crash never leaves half a key and an existing identity is never
overwritten.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TypeVar

import msgpack
import nacl.exceptions
import nacl.pwhash
import nacl.secret
import nacl.utils

from ..errors import BadInput, KeystoreError, WrongPassphrase
from ..files import replace_private, sync_directory, write_synced
from .key_file import parse_key_file
from .keys import Identity, check_name

_T = TypeVar("_T")

VERSION = 1
FILENAME = "identity.key"
KDF_NONE = "none"
KDF_ARGON2ID = "argon2id13"
OPS_MODERATE = nacl.pwhash.argon2id.OPSLIMIT_MODERATE
MEM_MODERATE = nacl.pwhash.argon2id.MEMLIMIT_MODERATE
OPS_MIN = nacl.pwhash.argon2id.OPSLIMIT_MIN
MEM_MIN = nacl.pwhash.argon2id.MEMLIMIT_MIN
#: What a key file may ask Argon2 for. The file is not authenticated before the derivation runs, so a
#: tampered one must not be able to make ``meshcare daemon`` allocate gigabytes or spin for hours:
#: libsodium's "sensitive" limits (4 passes, 1 GiB) are the most any meshcare writes or reads.
OPS_MAX = nacl.pwhash.argon2id.OPSLIMIT_SENSITIVE
MEM_MAX = 1 << 30
_MAX_FILE = 4096
_MAX_PASSPHRASE_FILE = 4096


def _kdf_params_ok(ops: int, mem: int) -> bool:
    return OPS_MIN <= ops <= OPS_MAX and MEM_MIN <= mem <= MEM_MAX


def _derive(passphrase: bytes, salt: bytes, ops: int, mem: int) -> bytes:
    if not _kdf_params_ok(ops, mem):
        raise KeystoreError(f"Argon2 limits out of bounds: ops {ops} (allowed {OPS_MIN}..{OPS_MAX}), "
                            f"memory {mem} bytes (allowed {MEM_MIN}..{MEM_MAX})")
    return nacl.pwhash.argon2id.kdf(nacl.secret.SecretBox.KEY_SIZE, passphrase, salt, opslimit=ops, memlimit=mem)


def encode(identity: Identity, passphrase: bytes | None, *, ops: int = OPS_MODERATE, mem: int = MEM_MODERATE) -> bytes:
    """The keystore file contents for ``identity`` (sealed when a passphrase is given)."""
    if passphrase is None:
        record: dict[str, object] = {"v": VERSION, "name": identity.name, "id": identity.node_id,
                                     "kdf": KDF_NONE, "seed": identity.seed}
    else:
        if not passphrase:
            raise KeystoreError("the passphrase is empty; give a non-empty one or none at all")
        salt = nacl.utils.random(nacl.pwhash.argon2id.SALTBYTES)
        nonce = nacl.utils.random(nacl.secret.SecretBox.NONCE_SIZE)
        box = nacl.secret.SecretBox(_derive(passphrase, salt, ops, mem)).encrypt(identity.seed, nonce).ciphertext
        record = {"v": VERSION, "name": identity.name, "id": identity.node_id, "kdf": KDF_ARGON2ID, "ops": ops, "mem": mem,
                  "salt": salt, "nonce": nonce, "box": box}
    data: bytes = msgpack.packb(record, use_bin_type=True)
    return data


def _damaged(path: Path, why: str) -> KeystoreError:
    return KeystoreError(f"the identity file {path} is damaged ({why}); restore it from a backup, "
                         f"or move it away and run `meshcare init` to start a new identity")


def _parse(data: bytes, path: Path) -> dict[str, object]:
    return parse_key_file(
        data, max_size=_MAX_FILE, version=VERSION, what="a keystore", damaged=lambda why: _damaged(path, why),
        wrong_version=lambda v: KeystoreError(f"the identity file {path} has format version {v!r}; "
                                              f"this meshcare reads version {VERSION}: upgrade meshcare"))


def _field(record: dict[str, object], key: str, kind: type[_T], path: Path) -> _T:
    """``record[key]``, which must be exactly of type ``kind`` (a bool is not taken for an int)."""
    value = record.get(key)
    if type(value) is not kind or not isinstance(value, kind):  # isinstance: tells mypy it is a _T
        raise _damaged(path, f"field {key!r} missing or wrong")
    return value


def decode(data: bytes, passphrase: bytes | None, path: Path = Path(FILENAME)) -> Identity:
    """Rebuild the identity. Raises WrongPassphrase, or KeystoreError for a damaged or locked file."""
    record = _parse(data, path)
    name = _field(record, "name", str, path)
    kdf = record.get("kdf")
    if kdf == KDF_NONE:
        seed = _field(record, "seed", bytes, path)
    elif kdf == KDF_ARGON2ID:
        if passphrase is None:
            raise KeystoreError(f"the identity in {path} is protected by a passphrase; "
                                f"give it with --passphrase-file or MESHCARE_PASSPHRASE_FILE")
        salt = _field(record, "salt", bytes, path)
        nonce = _field(record, "nonce", bytes, path)
        box = _field(record, "box", bytes, path)
        ops = _field(record, "ops", int, path)
        mem = _field(record, "mem", int, path)
        if not _kdf_params_ok(ops, mem):
            raise _damaged(path, f"bad key-derivation parameters: ops {ops}, memory {mem} bytes are outside "
                                 f"{OPS_MIN}..{OPS_MAX} and {MEM_MIN}..{MEM_MAX}")
        try:
            key = _derive(passphrase, salt, ops, mem)
            seed = nacl.secret.SecretBox(key).decrypt(box, nonce)
        except nacl.exceptions.CryptoError:
            raise WrongPassphrase(f"the passphrase does not unlock {path}") from None
        except (nacl.exceptions.ValueError, nacl.exceptions.TypeError):
            raise _damaged(path, "bad key-derivation parameters") from None
    else:
        raise _damaged(path, f"unknown protection {kdf!r}")
    if len(seed) != 32:
        raise _damaged(path, "wrong key length")
    identity = Identity.from_seed(seed, name)
    if identity.node_id != _field(record, "id", bytes, path):
        raise _damaged(path, "the public key does not match the secret key")
    return identity


def create(path: Path, identity: Identity, passphrase: bytes | None, *, ops: int = OPS_MODERATE,
           mem: int = MEM_MODERATE) -> None:
    """Write a new keystore at ``path`` (mode 0600). Refuses to replace an existing one."""
    if path.exists():
        raise KeystoreError(f"an identity already exists at {path}; meshcare will not overwrite it "
                            f"(move it away first if you really want a new identity)")
    data = encode(identity, passphrase, ops=ops, mem=mem)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_synced(tmp, data)
    except OSError as exc:
        raise KeystoreError(f"cannot write the identity file {path}: {exc.strerror or exc}; the data directory "
                            "must be a directory you own and can write (or give another with --home)") from None
    try:
        os.link(tmp, path)  # fails if someone created the file meanwhile: never overwrite
    except FileExistsError:
        raise KeystoreError(f"an identity already exists at {path}; meshcare will not overwrite it") from None
    finally:
        os.unlink(tmp)
    sync_directory(path.parent)


def load(path: Path, passphrase: bytes | None) -> Identity:
    """Read the keystore at ``path``. Raises KeystoreError (missing, damaged, too open) or WrongPassphrase."""
    try:
        st = path.stat()
        data = path.read_bytes()
    except FileNotFoundError:
        raise KeystoreError(f"no identity at {path}; create one with `meshcare init --name NAME`") from None
    except OSError as exc:
        raise KeystoreError(f"cannot read the identity file {path}: {exc.strerror}") from None
    if st.st_mode & 0o077:
        raise KeystoreError(f"the identity file {path} is readable by other users (mode "
                            f"{st.st_mode & 0o777:o}); run `chmod 600 {path}` and try again")
    return decode(data, passphrase, path)


def read_passphrase_file(path: Path) -> bytes:
    """The passphrase in ``path`` (its first line). Refuses a file other users can read: a passphrase
    others can read protects nothing. Raises BadInput naming the file and what to do."""
    try:
        st = path.stat()
        with path.open("rb") as f:
            text = f.read(_MAX_PASSPHRASE_FILE)
    except OSError as exc:
        raise BadInput(f"cannot read the passphrase file {path}: {exc.strerror}") from None
    if st.st_mode & 0o077:
        raise BadInput(f"the passphrase file {path} is readable by other users (mode {st.st_mode & 0o777:o}); "
                       f"run `chmod 600 {path}` and try again")
    passphrase = text.splitlines()[0] if text.strip() else b""
    if not passphrase:
        raise BadInput(f"the passphrase file {path} is empty")
    return passphrase


def rename(path: Path, name: str) -> None:
    """Change the name kept in the keystore at ``path``, without the passphrase: the name is stored
    beside the sealed seed, not inside it. Everything else is written back byte for byte (the file is
    replaced atomically). Raises KeystoreError (missing, damaged, not writable), BadInput (the name)."""
    name = check_name(name)
    try:
        record = _parse(path.read_bytes(), path)
    except FileNotFoundError:
        raise KeystoreError(f"no identity at {path}; create one with `meshcare init --name NAME`") from None
    except OSError as exc:
        raise KeystoreError(f"cannot read the identity file {path}: {exc.strerror}") from None
    _field(record, "name", str, path)
    _field(record, "id", bytes, path)
    try:
        replace_private(path, msgpack.packb({**record, "name": name}, use_bin_type=True))
    except OSError as exc:
        raise KeystoreError(f"cannot write the identity file {path}: {exc.strerror}; check that the data "
                            "directory is yours and writable") from None


def read_public(path: Path) -> tuple[str, bytes, bool]:
    """(name, node id, needs a passphrase) without unlocking: what ``meshcare id`` shows."""
    try:
        record = _parse(path.read_bytes(), path)
    except FileNotFoundError:
        raise KeystoreError(f"no identity at {path}; create one with `meshcare init --name NAME`") from None
    except OSError as exc:
        raise KeystoreError(f"cannot read the identity file {path}: {exc.strerror}") from None
    name = _field(record, "name", str, path)
    node_id = _field(record, "id", bytes, path)
    return name, node_id, record.get("kdf") == KDF_ARGON2ID
