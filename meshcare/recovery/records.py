"""The records of social recovery: the owner's signed setup record, what a holder keeps, the REQUEST
code a new device shows, and the release a holder sends it. Pure.

Theory of operation
-------------------
*Setup.* The owner's node draws a recovery key R, seals the owner's current backup bundle with it, and
splits R into n SLIP-0039 shares (``shamir.py``). The **setup record** names the recovery (a random
``rid``), the owner's identity key and name, the threshold k, the chosen holders *in order* (holder i gets
the share with index i), the share set's SLIP-0039 identifier and a hash of the sealed bundle; the owner
signs it with their identity key. Each holder gets, in a private post sealed to them alone
(``recovery_share``), their share, the sealed bundle and the record.

*Holding.* A holder's node keeps what it holds in its local state (posts expire; what a node holds for
someone must not), one entry per owner: a newer setup from the same owner replaces the old one, so the
shares of a superseded recovery are dropped.

*Request.* The owner, on a new device, creates an X25519 key pair; the REQUEST code carries its public
key, a hint of whose recovery it is (the old identity key when the person knows it, and a name), and
where the new device listens. Its **fingerprint** (six groups of five digits) is what the holder and the
owner compare in person: the code may travel over any channel, the fingerprint may not.

*Release.* A holder who checked the fingerprint seals (share, sealed bundle, record) to the request key
and posts it in the request's lobby (``lobby.py``), signed by its own identity. The new device judges
each release (``collect.py``) against the record the owner signed, and opens nothing below k.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Any, Final

from ..crypto import seal as _seal
from ..crypto import sign as _sign
from ..crypto.keys import Identity
from ..errors import BadInput, InvalidSignature, RemoteProtocolError
from .. import vocab
from ..wire import pack, unpack_strict
from . import shamir

RECORD_VERSION: Final = 1
REQUEST_VERSION: Final = 1
RELEASE_VERSION: Final = 1
REQUEST_PREFIX: Final = "MCR1"
MAX_HINTS: Final = 4
MAX_NAME: Final = 64
FINGERPRINT_GROUPS: Final = 6
RID_SIZE: Final = 16
_SETUP_DOMAIN: Final = _sign.require_domain(b"meshcare/recovery-setup/v1\x00")
_FINGERPRINT_DOMAIN: Final = b"meshcare/recovery-fingerprint/v1\x00"
#: The most a sealed release may weigh (share + sealed bundle + record + msgpack and box overhead).
MAX_RELEASE: Final = vocab.MAX_RECOVERY_SHARE + vocab.MAX_RECOVERY_BUNDLE + vocab.MAX_RECOVERY_RECORD + 256


def bundle_hash(sealed_bundle: bytes) -> bytes:
    return hashlib.blake2b(sealed_bundle, digest_size=32).digest()


# --- the setup record --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SetupRecord:
    rid: bytes                                 # this recovery's id (a new setup has a new one)
    owner: bytes                               # the identity to recover (Ed25519 public key)
    name: str                                  # the owner's name when they set it up
    threshold: int
    holders: tuple[tuple[bytes, str], ...]     # (identity, name) in share-index order
    set_id: int                                # the shares' SLIP-0039 identifier
    bundle: bytes                              # bundle_hash of the sealed bundle
    created: int
    signature: bytes = b""

    def _signed_part(self) -> list[Any]:
        return [RECORD_VERSION, self.rid, self.owner, self.name, self.threshold,
                [[h, n] for h, n in self.holders], self.set_id, self.bundle, self.created]

    def encode(self) -> bytes:
        return pack(self._signed_part() + [self.signature])

    def index_of(self, holder: bytes) -> int | None:
        for i, (h, _) in enumerate(self.holders):
            if h == holder:
                return i
        return None

    def newer_than(self, other: "SetupRecord") -> bool:
        return (self.created, self.rid) > (other.created, other.rid)


def sign_record(identity: Identity, rid: bytes, threshold: int, holders: list[tuple[bytes, str]], set_id: int,
                sealed_bundle: bytes, created: int) -> SetupRecord:
    """The setup record, signed by the owner's identity (checked like one from outside: BadInput)."""
    unsigned = SetupRecord(rid, bytes(identity.node_id), identity.name, threshold, tuple(holders), set_id,
                           bundle_hash(sealed_bundle), created)
    signature = _sign.sign(identity.signing_key, _SETUP_DOMAIN, pack(unsigned._signed_part()))
    record = SetupRecord(rid, unsigned.owner, unsigned.name, threshold, tuple(holders), set_id, unsigned.bundle,
                         created, signature)
    return read_record(record.encode(), fault=BadInput)


def read_record(data: bytes, *, fault: type[RemoteProtocolError] | type[BadInput] = RemoteProtocolError
                ) -> SetupRecord:
    """A setup record from bytes, its every field and the owner's signature checked. Raises ``fault``."""
    if type(data) is not bytes or len(data) > vocab.MAX_RECOVERY_RECORD:
        raise fault("a recovery setup record is at most 2 KiB")
    try:
        items = unpack_strict(data, "recovery setup record")
    except RemoteProtocolError:
        raise fault("the recovery setup record is damaged") from None
    if type(items) is not list or len(items) != 10 or items[0] != RECORD_VERSION:
        raise fault("a recovery setup record from another meshcare version")
    _, rid, owner, name, k, holders, set_id, digest, created, sig = items
    if (type(rid) is not bytes or len(rid) != RID_SIZE or type(owner) is not bytes or len(owner) != 32
            or type(name) is not str or not 0 < len(name) <= MAX_NAME or not name.isprintable()
            or type(k) is not int or type(holders) is not list
            or not shamir.MIN_THRESHOLD <= k <= len(holders) <= shamir.MAX_SHARES
            or type(set_id) is not int or not 0 <= set_id < 2 ** 15
            or type(digest) is not bytes or len(digest) != 32 or type(created) is not int or created < 0
            or type(sig) is not bytes or len(sig) != _sign.SIGNATURE_SIZE):
        raise fault("the recovery setup record is malformed")
    pairs: list[tuple[bytes, str]] = []
    for pair in holders:
        if (type(pair) is not list or len(pair) != 2 or type(pair[0]) is not bytes or len(pair[0]) != 32
                or type(pair[1]) is not str or not 0 < len(pair[1]) <= MAX_NAME or not pair[1].isprintable()):
            raise fault("the recovery setup record names a holder wrongly")
        pairs.append((pair[0], pair[1]))
    if len({h for h, _ in pairs}) != len(pairs) or owner in {h for h, _ in pairs}:
        raise fault("the recovery setup record names a holder twice, or the owner as a holder")
    record = SetupRecord(rid, owner, name, k, tuple(pairs), set_id, digest, created, sig)
    try:
        _sign.verify(owner, _SETUP_DOMAIN, pack(record._signed_part()), sig)
    except InvalidSignature:
        raise fault("the recovery setup record is not signed by the person it names") from None
    return record


# --- what a holder keeps -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Held:
    """A share this node holds for someone (in LocalState, keyed by the owner's identity)."""

    share: str
    bundle: bytes              # the owner's bundle, sealed with the recovery key
    record: bytes              # the signed setup record, as received
    circle: bytes              # the circle the share came through
    received: int

    def to_obj(self) -> list[Any]:
        return [self.share, self.bundle, self.record, self.circle, self.received]

    @classmethod
    def from_obj(cls, obj: Any) -> "Held":
        share, bundle, record, circle, received = obj
        return cls(share, bundle, record, circle, received)


def check_package(holder: bytes, share: str, sealed_bundle: bytes, record_bytes: bytes, *,
                  fault: type[RemoteProtocolError] | type[BadInput] = RemoteProtocolError) -> SetupRecord:
    """That ``holder`` was chosen by the record and holds the share of its index, of that set, and that
    the bundle is the one the owner signed for. Returns the record; raises ``fault`` saying what is wrong."""
    record = read_record(record_bytes, fault=fault)
    index = record.index_of(holder)
    if index is None:
        raise fault("a share came from someone who was not chosen")
    try:
        info = shamir.info(share)
    except BadInput as e:
        raise fault(str(e)) from None
    if info.identifier != record.set_id:
        raise fault("a share from another recovery setup than its record names")
    if info.index != index:
        raise fault("a share with the wrong index for its holder")
    if info.threshold != record.threshold:
        raise fault("a share whose threshold differs from its record's")
    if bundle_hash(sealed_bundle) != record.bundle:
        raise fault("the sealed bundle is not the one the setup record names")
    return record


# --- the REQUEST code ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RecoveryRequest:
    key: bytes                        # the new device's X25519 public key for this request
    owner: bytes = b""                # the identity to recover, when the person knows it (32 bytes or b"")
    name: str = ""                    # whose recovery it is, in words (a hint; the record decides)
    hints: tuple[str, ...] = ()       # "host:port" where the new device listens

    def encode(self) -> str:
        """``MCR1`` + base32 (letters and digits only, QR alphanumeric friendly)."""
        body = pack([REQUEST_VERSION, self.key, self.owner, self.name, list(self.hints)])
        check = hashlib.blake2b(body, digest_size=4).digest()
        return REQUEST_PREFIX + base64.b32encode(body + check).decode().rstrip("=")

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.key)


def fingerprint(request_key: bytes) -> str:
    """Six groups of five digits (about 2^99 choices) to compare in person: short enough to read aloud,
    far too many for anyone to make a key of their own that shows the same."""
    digest = hashlib.blake2b(_FINGERPRINT_DOMAIN + request_key, digest_size=30).digest()
    return " ".join(f"{int.from_bytes(digest[5 * i:5 * i + 5], 'big') % 100_000:05d}"
                    for i in range(FINGERPRINT_GROUPS))


def parse_request(text: str) -> RecoveryRequest:
    """A REQUEST code as a person pasted it (spaces, line breaks and case do not matter). Raises BadInput."""
    if type(text) is not str or len(text) > 2_000:
        raise BadInput("that is not a meshcare recovery request (they start with MCR1)")
    compact = "".join(text.split()).upper()
    if not compact.startswith(REQUEST_PREFIX):
        raise BadInput("that is not a meshcare recovery request (they start with MCR1)")
    data = compact[len(REQUEST_PREFIX):]
    try:
        raw = base64.b32decode(data + "=" * (-len(data) % 8))
    except ValueError:
        raise BadInput("the recovery request is damaged (not valid base32); copy it again") from None
    body, check = raw[:-4], raw[-4:]
    if len(raw) < 8 or hashlib.blake2b(body, digest_size=4).digest() != check:
        raise BadInput("the recovery request is damaged or incomplete; copy it again")
    try:
        items = unpack_strict(body, "recovery request")
    except RemoteProtocolError:
        raise BadInput("the recovery request is damaged; copy it again") from None
    if type(items) is not list or len(items) != 5 or items[0] != REQUEST_VERSION:
        raise BadInput("this recovery request is from another meshcare version; update meshcare")
    _, key, owner, name, hints = items
    if (type(key) is not bytes or len(key) != 32 or type(owner) is not bytes or len(owner) not in (0, 32)
            or type(name) is not str or len(name) > MAX_NAME or not name.isprintable()
            or type(hints) is not list or len(hints) > MAX_HINTS
            or not all(type(h) is str and 0 < len(h) < 300 for h in hints)):
        raise BadInput("the recovery request is damaged; copy it again")
    return RecoveryRequest(key, owner, name, tuple(hints))


# --- the release ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Release:
    share: str
    bundle: bytes
    record: bytes


def seal_release(request_key: bytes, held: Held, random_bytes: _seal.RandomBytes = _seal.system_random) -> bytes:
    """What a holder sends: its share, the sealed bundle and the record, sealed to the request key."""
    return _seal.seal_to(request_key, pack([RELEASE_VERSION, held.share, held.bundle, held.record]), random_bytes)


def open_release(request_private: bytes, sealed: bytes) -> Release:
    """A release sealed to this request. Raises RemoteProtocolError (not for this request, malformed)."""
    if type(sealed) is not bytes or len(sealed) > MAX_RELEASE:
        raise RemoteProtocolError("a release larger than any share, bundle and record")
    items = unpack_strict(_seal.open_sealed(request_private, sealed), "recovery release")
    if (type(items) is not list or len(items) != 4 or items[0] != RELEASE_VERSION or type(items[1]) is not str
            or len(items[1]) > vocab.MAX_RECOVERY_SHARE or type(items[2]) is not bytes
            or len(items[2]) > vocab.MAX_RECOVERY_BUNDLE or type(items[3]) is not bytes):
        raise RemoteProtocolError("a malformed release")
    return Release(items[1], items[2], items[3])
