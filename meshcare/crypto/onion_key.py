"""The node's onion-service key: a v3 onion address of its own, kept apart from the node identity.

Why a separate key: the onion address is what a peer dials, and it is published (roster ``reach`` ops,
invites), while the identity signs everything the node says. Deriving one from the other would tie the
two for ever; a separate key can be replaced (a new address) without touching the identity, and a leak of
one does not give away the other. They are linked only where the node says so, signed (crypto/binding.py).

A v3 onion address (tor's rend-spec-v3, "Encoding onion addresses")::

    address  = base32(PUBKEY || CHECKSUM || VERSION) + ".onion"      (56 chars, lowercase)
    CHECKSUM = SHA3-256(".onion checksum" || PUBKEY || VERSION)[:2]
    VERSION  = 0x03

``ADD_ONION ED25519-V3:<blob>`` takes the 64-byte *expanded* secret key, base64: SHA-512(seed) with the
first half clamped as Ed25519 clamps its scalar. The key file (``onion.key`` in the data dir) is a small
msgpack map ``{"v": 1, "seed": bytes32, "public": bytes32}``, mode 0600, written atomically; the public
key is stored so a damaged file is told from a good one.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import msgpack
import nacl.signing

from ..errors import BadInput, StartupError
from ..files import sync_directory, write_synced
from .key_file import parse_key_file

FILENAME = "onion.key"
VERSION = 1
ONION_VERSION = 3
SUFFIX = ".onion"
_CHECKSUM_TAG = b".onion checksum"
_ADDRESS_CHARS = 56
_MAX_FILE = 512


def onion_address(public: bytes) -> str:
    """The v3 onion address ("xxx.onion", no port) of an Ed25519 public key."""
    if len(public) != 32:
        raise BadInput(f"an onion public key is 32 bytes, not {len(public)}")
    version = bytes([ONION_VERSION])
    checksum = hashlib.sha3_256(_CHECKSUM_TAG + public + version).digest()[:2]
    return base64.b32encode(public + checksum + version).decode("ascii").lower() + SUFFIX


def is_onion(host: str) -> bool:
    """Whether ``host`` names an onion service (cheap: only the suffix; ``onion_public`` validates)."""
    return host.lower().endswith(SUFFIX)


def onion_public(host: str) -> bytes:
    """The Ed25519 public key inside a v3 onion address ("xxx.onion", with or without the suffix).

    Raises ``BadInput`` saying what is wrong (length, characters, version, checksum): most often a
    mistyped or cut-short address, which the person should copy again from its source.
    """
    name = host.strip().lower()
    if name.endswith(SUFFIX):
        name = name[: -len(SUFFIX)]
    if len(name) != _ADDRESS_CHARS:
        old = " (a 16-character address is the old v2 kind, which tor no longer supports)" if len(name) == 16 else ""
        raise BadInput(f"{host!r} is not a v3 onion address: it has {len(name)} characters before .onion, "
                       f"a v3 address has {_ADDRESS_CHARS}{old}; copy the whole address again")
    try:
        raw = base64.b32decode(name.upper())
    except (binascii.Error, ValueError):
        raise BadInput(f"{host!r} is not a v3 onion address: it may hold only the letters a-z and the "
                       "digits 2-7; copy the address again") from None
    public, checksum, version = raw[:32], raw[32:34], raw[34]
    if version != ONION_VERSION:
        raise BadInput(f"{host!r} is an onion address of version {version}; meshcare speaks only version "
                       f"{ONION_VERSION} (a 56-character address ending in 'd')")
    if hashlib.sha3_256(_CHECKSUM_TAG + public + bytes([version])).digest()[:2] != checksum:
        raise BadInput(f"{host!r} is not a valid onion address: its checksum does not match (a character "
                       "is wrong or swapped); copy the address again")
    return public


@dataclass(frozen=True, slots=True)
class OnionKey:
    """An onion service's Ed25519 key pair: ``seed`` (32 bytes, secret) and ``public`` (32 bytes)."""

    seed: bytes
    public: bytes

    def __post_init__(self) -> None:
        if len(self.seed) != 32 or len(self.public) != 32:
            raise ValueError("an onion key has a 32-byte seed and a 32-byte public key")

    def __repr__(self) -> str:      # never the seed in a log or a traceback
        return f"OnionKey({self.address})"

    @classmethod
    def from_seed(cls, seed: bytes) -> OnionKey:
        """The key pair of a 32-byte seed."""
        return cls(seed=bytes(seed), public=bytes(nacl.signing.SigningKey(seed).verify_key))

    @classmethod
    def generate(cls) -> OnionKey:
        """A fresh random key pair."""
        return cls.from_seed(bytes(nacl.signing.SigningKey.generate()))   # as Identity.generate: nacl's CSPRNG

    @property
    def address(self) -> str:
        """"xxx.onion" (no port)."""
        return onion_address(self.public)

    @property
    def service_id(self) -> str:
        """The address without ".onion": what tor's control port calls the ServiceID."""
        return self.address[: -len(SUFFIX)]

    def expanded(self) -> bytes:
        """The 64-byte expanded secret key: the clamped scalar, then the nonce-deriving half."""
        digest = bytearray(hashlib.sha512(self.seed).digest())
        digest[0] &= 248
        digest[31] &= 127
        digest[31] |= 64
        return bytes(digest)

    def expanded_b64(self) -> str:
        """The expanded secret key in base64, as ``ADD_ONION ED25519-V3:`` wants it."""
        return base64.b64encode(self.expanded()).decode("ascii")


def encode(key: OnionKey) -> bytes:
    """The contents of an ``onion.key`` file."""
    data: bytes = msgpack.packb({"v": VERSION, "seed": key.seed, "public": key.public}, use_bin_type=True)
    return data


def _damaged(path: Path, why: str) -> StartupError:
    return StartupError(f"the onion key file {path} is damaged ({why}); move it away and start again to make "
                        "a new one (this node's onion address then changes: peers learn the new one from "
                        "the roster), or restore it from a backup")


def decode(data: bytes, path: Path = Path(FILENAME)) -> OnionKey:
    """The key in an ``onion.key`` file's contents. Raises ``StartupError`` for a damaged file."""
    record = parse_key_file(
        data, max_size=_MAX_FILE, version=VERSION, what="an onion key", damaged=lambda why: _damaged(path, why),
        wrong_version=lambda v: StartupError(f"the onion key file {path} has format version {v!r}; this "
                                             f"meshcare reads version {VERSION}: upgrade meshcare"))
    seed, public = record.get("seed"), record.get("public")
    if type(seed) is not bytes or type(public) is not bytes or len(seed) != 32 or len(public) != 32:
        raise _damaged(path, "the key fields are missing or of the wrong length")
    key = OnionKey.from_seed(seed)
    if key.public != public:
        raise _damaged(path, "the public key does not match the secret key")
    return key


def load(path: Path) -> OnionKey:
    """The key at ``path``. Raises ``FileNotFoundError`` when there is none, ``StartupError`` when the file
    is unreadable, damaged or readable by other users."""
    try:
        st = path.stat()
        data = path.read_bytes()
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise StartupError(f"cannot read the onion key file {path}: {exc.strerror or exc}; the data directory "
                           "must be yours and readable") from None
    if st.st_mode & 0o077:
        raise StartupError(f"the onion key file {path} is readable by other users (mode {st.st_mode & 0o777:o}); "
                           f"run `chmod 600 {path}` and start again (anyone who read it can pose as this "
                           "node's onion service: if that may have happened, move it away for a new address)")
    return decode(data, path)


def load_or_create(path: Path) -> OnionKey:
    """The onion key kept at ``path`` (the data dir's ``onion.key``), created on first use.

    A new key is written 0600 to a temporary file, fsynced and linked into place, so a crash never leaves
    half a key and two starting processes never overwrite each other's (the second reads the first's).
    Raises ``StartupError`` for a damaged or too open file, or a data directory that cannot be written.
    """
    try:
        return load(path)
    except FileNotFoundError:
        pass
    key = OnionKey.generate()
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.unlink(missing_ok=True)
        write_synced(tmp, encode(key))
    except OSError as exc:
        raise StartupError(f"cannot write the onion key file {path}: {exc.strerror or exc}; the data directory "
                           "must be a directory you own and can write") from None
    try:
        os.link(tmp, path)      # never overwrite: if another process made one meanwhile, use that
    except FileExistsError:
        return load(path)
    except OSError as exc:
        raise StartupError(f"cannot write the onion key file {path}: {exc.strerror or exc}") from None
    finally:
        tmp.unlink(missing_ok=True)
    sync_directory(path.parent)
    return key
