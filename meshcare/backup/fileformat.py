"""The encrypted backup file: a bundle's bytes sealed with a passphrase (Argon2id) or a 32-byte key.

Layout (version 1)::

    magic      16 bytes  b"meshcare backup\\n"
    version     1 byte   1
    hlen        2 bytes  big-endian length of the header
    header   hlen bytes  msgpack map: {"kdf": "argon2id13", "ops": int, "mem": int, "salt": bin16,
                                       "nonce": bin24, "size": int}  or  {"kdf": "key", "nonce", "size"}
    check      32 bytes  BLAKE2b-256 keyed with the check key, over everything before it
    body     size bytes  XChaCha20-Poly1305(bundle bytes), associated data: everything before ``check``
    digest     32 bytes  BLAKE2b-256 (unkeyed) of everything before it

The file key is Argon2id(passphrase, salt, ops, mem) or the given key; the body key and the check key are
derived from it with their own purposes (``kdf.BACKUP_BODY``, ``kdf.BACKUP_CHECK``). Each part answers
one question, so that every failure has its own clear error before anything is restored:

* magic: is this a meshcare backup at all? version: can this meshcare read it?
* digest: is the file whole? It needs no passphrase, so truncation or a flipped bit (a bad SD card, a
  half-copied file) is told as such, before any key is derived, and never as a wrong passphrase.
* check: does this passphrase open it? It is a MAC of the header under a key only the passphrase gives:
  a wrong one fails here. (It tells an attacker nothing the ciphertext does not: either lets them test
  a guess, at the price of one Argon2id run.)
* body: the AEAD fails only if someone who could recompute the digest altered the body: tampering.

Argon2id parameters are in the header (bound into the check and the body's associated data). The
default is 64 MiB and 3 passes: about 0.1 s on this project's x86 machines and 1 to 2 s on a Raspberry
Pi Zero 2 W, whose 512 MB must also hold the daemon; libsodium's MODERATE (256 MiB) would not fit
beside it. A backup is opened rarely and offline guessing is what the passphrase must resist, so the
memory is as much as a Zero can spare, not as little as an interactive login wants. What a file may ask
for is bounded (``OPS_MAX``, ``MEM_MAX``): the header is read before anything is authenticated, and a
hostile file must not make a small board allocate gigabytes.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from dataclasses import dataclass
from typing import Final

import nacl.pwhash

from ..crypto import kdf
from ..crypto import seal as _seal
from ..errors import BackupError, BadInput, DecryptionFailed, RemoteProtocolError, WrongBackupPassphrase
from ..wire import pack, unpack_strict

MAGIC: Final = b"meshcare backup\n"
VERSION: Final = 1
KDF_ARGON2ID: Final = "argon2id13"
KDF_KEY: Final = "key"
OPS_DEFAULT: Final = 3
MEM_DEFAULT: Final = 64 * 1024 * 1024
OPS_MIN: Final = nacl.pwhash.argon2id.OPSLIMIT_MIN
MEM_MIN: Final = nacl.pwhash.argon2id.MEMLIMIT_MIN
OPS_MAX: Final = 10
MEM_MAX: Final = 256 * 1024 * 1024
#: The largest body a file may declare (a bundle is at most ``bundle.MAX_BUNDLE``; room to grow).
MAX_BODY: Final = 16 * 1024 * 1024
_HLEN: Final = struct.Struct(">H")
_PREFIX: Final = len(MAGIC) + 1 + _HLEN.size
_MAX_HEADER: Final = 512
_CHECK: Final = 32
_DIGEST: Final = 32
_SALT: Final = nacl.pwhash.argon2id.SALTBYTES


def seal_with_passphrase(bundle_bytes: bytes, passphrase: bytes, *, ops: int = OPS_DEFAULT,
                         mem: int = MEM_DEFAULT) -> bytes:
    """The backup file of ``bundle_bytes`` under ``passphrase``. Raises BadInput for an empty passphrase
    or Argon2id parameters outside ``OPS_MIN..OPS_MAX`` / ``MEM_MIN..MEM_MAX``."""
    if not passphrase:
        raise BadInput("the passphrase is empty; a backup needs one")
    if not (OPS_MIN <= ops <= OPS_MAX and MEM_MIN <= mem <= MEM_MAX):
        raise BadInput(f"Argon2id parameters out of bounds: ops {ops} ({OPS_MIN}..{OPS_MAX}), memory {mem} bytes "
                       f"({MEM_MIN}..{MEM_MAX})")
    salt = _seal.system_random(_SALT)
    header = {"kdf": KDF_ARGON2ID, "ops": ops, "mem": mem, "salt": salt}
    return _seal_file(bundle_bytes, _argon2(passphrase, salt, ops, mem), header)


def seal_with_key(bundle_bytes: bytes, key32: bytes) -> bytes:
    """The backup file of ``bundle_bytes`` under a random 32-byte key (social recovery's key): no
    Argon2id, the key is already uniformly random. Raises BadInput for a key that is not 32 bytes."""
    if type(key32) is not bytes or len(key32) != 32:
        raise BadInput("a backup key is 32 bytes")
    return _seal_file(bundle_bytes, key32, {"kdf": KDF_KEY})


def open_file(data: bytes, passphrase: bytes | None = None, key: bytes | None = None) -> bytes:
    """The bundle bytes in a backup file. Raises BackupError (not a backup, truncated, damaged or altered,
    unknown version; a passphrase missing or given for the other kind of file) or WrongBackupPassphrase."""
    header, prefix, size = _read_header(data)
    end = len(prefix) + _CHECK + size
    if len(data) < end + _DIGEST:
        raise BackupError(f"the backup file is cut short: {len(data)} of its {end + _DIGEST} bytes are there; "
                          "copy it again from where it was kept")
    if len(data) > end + _DIGEST:
        raise BackupError(f"the backup file has {len(data) - end - _DIGEST} bytes more than it should: it is "
                          "damaged (or something was appended to it)")
    if not hmac.compare_digest(hashlib.blake2b(data[:end], digest_size=_DIGEST).digest(), data[end:]):
        raise BackupError("the backup file is damaged: its contents changed since it was written (a bad disk or "
                          "card, or an incomplete copy); use another copy")
    file_key = _file_key(header, passphrase, key)
    check = hmac.new(kdf.derive_key(file_key, kdf.BACKUP_CHECK), prefix, hashlib.blake2b).digest()[:_CHECK]
    if not hmac.compare_digest(check, data[len(prefix):len(prefix) + _CHECK]):
        what = "passphrase" if header.kdf == KDF_ARGON2ID else "recovery key"
        raise WrongBackupPassphrase(f"the {what} does not open this backup; check it and try again")
    try:
        return _seal.decrypt(kdf.derive_key(file_key, kdf.BACKUP_BODY), header.nonce,
                             data[len(prefix) + _CHECK:end], prefix)
    except DecryptionFailed:
        raise BackupError("the backup file was altered after it was written (its contents do not match what was "
                          "sealed); do not trust this copy") from None


def kdf_of(data: bytes) -> str:
    """Which secret opens this backup file: ``argon2id13`` (a passphrase) or ``key``. Raises BackupError."""
    return _read_header(data)[0].kdf


# --- inside ---------------------------------------------------------------------------------------------


def _argon2(passphrase: bytes, salt: bytes, ops: int, mem: int) -> bytes:
    key: bytes = nacl.pwhash.argon2id.kdf(32, passphrase, salt, opslimit=ops, memlimit=mem)
    return key


def _seal_file(bundle_bytes: bytes, file_key: bytes, header: dict[str, object]) -> bytes:
    if type(bundle_bytes) is not bytes or len(bundle_bytes) > MAX_BODY - _seal.TAG_SIZE:
        raise BadInput(f"a backup holds at most {MAX_BODY - _seal.TAG_SIZE} bytes")
    nonce = _seal.random_nonce()
    packed = pack({**header, "nonce": nonce, "size": len(bundle_bytes) + _seal.TAG_SIZE})
    prefix = MAGIC + bytes([VERSION]) + _HLEN.pack(len(packed)) + packed
    check = hmac.new(kdf.derive_key(file_key, kdf.BACKUP_CHECK), prefix, hashlib.blake2b).digest()[:_CHECK]
    body = _seal.encrypt(kdf.derive_key(file_key, kdf.BACKUP_BODY), nonce, bundle_bytes, prefix)
    out = prefix + check + body
    return out + hashlib.blake2b(out, digest_size=_DIGEST).digest()


def _read_header(data: bytes) -> tuple[_Header, bytes, int]:
    """(header, the bytes it spans from the start, the body's size), every field checked."""
    if type(data) is not bytes:
        raise BackupError("a backup file is bytes")
    if not data:
        raise BackupError("the file is empty: not a meshcare backup (or a copy that failed)")
    if not data.startswith(MAGIC):
        if MAGIC.startswith(data):
            raise BackupError(f"the backup file is cut short: only {len(data)} bytes are there")
        raise BackupError("this is not a meshcare backup file (it does not begin like one)")
    if len(data) < _PREFIX:
        raise BackupError(f"the backup file is cut short: only {len(data)} bytes are there")
    version = data[len(MAGIC)]
    if version != VERSION:
        raise BackupError(f"this backup was written in format version {version}; this meshcare reads version "
                          f"{VERSION}: upgrade meshcare to open it")
    (hlen,) = _HLEN.unpack_from(data, len(MAGIC) + 1)
    if not 1 <= hlen <= _MAX_HEADER:
        raise BackupError("the backup file is damaged (its header length is impossible)")
    if len(data) < _PREFIX + hlen:
        raise BackupError(f"the backup file is cut short: only {len(data)} bytes are there")
    try:
        header = unpack_strict(data[_PREFIX:_PREFIX + hlen], "backup header")
    except RemoteProtocolError:
        raise BackupError("the backup file is damaged (its header cannot be read)") from None
    checked = _check_header(header)
    return checked, data[:_PREFIX + hlen], checked.size


@dataclass(frozen=True, slots=True)
class _Header:
    kdf: str
    nonce: bytes
    size: int
    ops: int = 0
    mem: int = 0
    salt: bytes = b""


def _check_header(header: object) -> _Header:
    damaged = BackupError("the backup file is damaged (its header is not one meshcare writes)")
    if type(header) is not dict:
        raise damaged
    kdf_name = header.get("kdf")
    keys = {"kdf", "nonce", "size"} | ({"ops", "mem", "salt"} if kdf_name == KDF_ARGON2ID else set())
    if kdf_name not in (KDF_ARGON2ID, KDF_KEY) or set(header) != keys:
        raise damaged
    nonce, size = header["nonce"], header["size"]
    if type(nonce) is not bytes or len(nonce) != _seal.NONCE_SIZE:
        raise damaged
    if type(size) is not int or not _seal.TAG_SIZE <= size <= MAX_BODY:
        raise damaged
    if kdf_name == KDF_ARGON2ID:
        ops, mem, salt = header["ops"], header["mem"], header["salt"]
        if type(salt) is not bytes or len(salt) != _SALT or type(ops) is not int or type(mem) is not int:
            raise damaged
        if not (OPS_MIN <= ops <= OPS_MAX and MEM_MIN <= mem <= MEM_MAX):
            raise BackupError(f"the backup asks for Argon2id parameters beyond what meshcare allows (ops {ops}, "
                              f"memory {mem} bytes): it is damaged or was not written by meshcare")
        return _Header(kdf_name, nonce, size, ops, mem, salt)
    return _Header(KDF_KEY, nonce, size)


def _file_key(header: _Header, passphrase: bytes | None, key: bytes | None) -> bytes:
    if header.kdf == KDF_ARGON2ID:
        if not passphrase:
            raise BackupError("this backup is locked with a passphrase; give it (on the terminal or with "
                              "--passphrase-file)")
        return _argon2(passphrase, header.salt, header.ops, header.mem)
    if key is None:
        raise BackupError("this backup is locked with a recovery key, not a passphrase: it is opened by social "
                          "recovery (`meshcare recovery`)")
    if type(key) is not bytes or len(key) != 32:
        raise BackupError("a recovery key is 32 bytes")
    return key
