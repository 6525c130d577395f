"""The writing half of a circle: new roster operations and posts, sealed for the right readers. Pure.

``Circle`` (circle.py) inherits this mixin; the attributes declared first below are its own. Writing reads
the circle's folded roster and its keyring but never judges or opens a received envelope (that is
circle.py). What it asks of the keyring: the roster-key generation new roster operations are sealed
under (``roster_key``; ``repair_generation`` when a member lacks the current one) and the key material a
membership change carries (``new_epoch_fields``, ``new_generation_fields``, ``history_for``,
``roster_keys_for_joiner`` for a welcome). How a post is sealed inside the epoch encryption is the
scheme sealing.py picks for it. Every key and nonce is drawn from the circle's ``random_bytes``. The
caller supplies ``seq`` and ``now``; the lamport comes from what the circle has seen, saturating at
``LAMPORT_CAP``, the bound circle.py's verdicts enforce.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from .. import envelope as env
from ..crypto import seal as _seal
from ..crypto.keys import Identity
from ..errors import BadInput, LocalProtocolError
from ..ids import TopicId
from ..wire import pack
from . import membership as ms
from . import posts as ps
from . import roster_body as rb
from . import sealing as sl
from .chains import Chains
from .library import LIBRARY_KINDS
from .requests import asks_facilitators
from .keyring import Keyring, Learned, seal_keys

NEVER: Final = env.MAX_UINT           # a roster operation's expiry
#: Highest lamport a post may carry: far beyond honest use (a million posts a second for 12 days), so
#: every node decides alike, and far below 2**63, so local counters never overflow.
LAMPORT_CAP: Final = 2**40
URGENT_KINDS: Final = frozenset({"call", "offer", "claim", "accept", "escalate", "release"})


@dataclass(frozen=True, slots=True)
class OwnPost:
    """A post this node just sealed: its envelope, and what ``Circle.ingest_own`` records of it (the
    validated body, the keys its author holds for it) without opening it again."""

    envelope: env.Envelope
    kind: str
    body: dict[str, Any]
    learned: tuple[Learned, ...]


class Writing:
    """New envelopes of one circle (mixin of ``Circle``)."""

    identity: Identity
    me: bytes
    topic: TopicId
    chains: Chains
    keys: Keyring
    random_bytes: _seal.RandomBytes
    max_lamport: int
    _ops: dict[bytes, ms.RosterOp]

    @property
    def roster(self) -> ms.Roster:
        raise NotImplementedError

    # ---------------------------------------------------------------------------------------------
    # keys for new envelopes

    @property
    def roster_key(self) -> bytes:
        """The key new roster operations are sealed under (the current generation's, when we hold it)."""
        return self.keys.roster[self._sealing_generation()]

    def _sealing_generation(self) -> int:
        return self.keys.sealing_generation(self.roster)

    def repair_generation(self) -> int:
        """The generation a rotation repairing ``roster_key_missing`` is sealed under (Keyring.repair_generation)."""
        return self.keys.repair_generation(self.roster, self._ops)

    def roster_keys_for_joiner(self) -> list[list[Any]]:
        """Every roster-key generation we hold, for a welcome (Keyring.for_joiner)."""
        return self.keys.for_joiner(self.roster)

    def new_generation_fields(self, readers: Iterable[bytes], relays: Iterable[bytes]) -> dict[str, Any]:
        """A new epoch key and roster-key generation (Keyring.new_generation_fields)."""
        return self.keys.new_generation_fields(readers, relays, self.random_bytes)

    def new_epoch_fields(self, readers: Iterable[bytes]) -> dict[str, Any]:
        """A new epoch key sealed to ``readers`` and us."""
        return self.keys.new_epoch_fields(readers, self.random_bytes)

    def history_for(self, member: bytes, calls: Iterable[bytes] = ()) -> list[list[bytes]]:
        """Earlier epoch keys and the keys of ``calls``, sealed to a new member (Keyring.history_for)."""
        return self.keys.history_for(member, calls, self.random_bytes)

    def sealed_keys(self, key: bytes, to: Iterable[bytes]) -> list[list[bytes]]:
        return seal_keys(key, to, self.random_bytes)

    def departure_fields(self, member: bytes) -> dict[str, Any]:
        """``last_seq``/``last_id`` of ``member``: the last envelope of theirs this node accepted."""
        last_seq, last_id = self.chains.top(member)
        return {"last_seq": last_seq, "last_id": last_id}

    # ---------------------------------------------------------------------------------------------
    # sealing (the caller supplies seq and created; lamport comes from what this circle has seen)

    def roster_envelope(self, kind: str, fields: Mapping[str, Any], *, seq: int, now: int,
                        prev: bytes | None = None, generation: int | None = None) -> env.Envelope:
        """Seal a roster operation that builds on the current heads (validated as any received one). Its
        lamport is 1 + the parents' highest (the rule every node checks). ``generation``: the roster-key
        generation to seal under (default: the current one; see ``repair_generation``)."""
        body = {"k": kind, **fields}
        lamport = 1
        if kind != "create":
            body["parents"] = list(self.roster.heads)
            lamport = 1 + max((self._ops[h].lamport for h in self.roster.heads), default=0)
        rb.validate(body)
        generation = self._sealing_generation() if generation is None else generation
        return self._seal(generation, self.keys.roster[generation], pack(body), seq=seq, now=now, expires=NEVER,
                          lane=env.Lane.URGENT, lamport=lamport, prev=prev)

    def post_envelope(self, kind: str, body: Mapping[str, Any], *, seq: int, now: int,
                      audience: Iterable[bytes] = (), lane: env.Lane | None = None,
                      prev: bytes | None = None) -> env.Envelope:
        """Encrypt and seal one post (``seal_post``), for a caller that ingests it as any other."""
        return self.seal_post(kind, body, seq=seq, now=now, audience=audience, lane=lane, prev=prev).envelope

    def seal_post(self, kind: str, body: Mapping[str, Any], *, seq: int, now: int,
                  audience: Iterable[bytes] = (), lane: env.Lane | None = None,
                  prev: bytes | None = None, checked: bool = False) -> OwnPost:
        """Encrypt and seal one post under the current epoch, by the scheme sealing.py picks for it
        (``audience``: who a call or escalation reaches, a plan share's one recipient). ``checked``: the
        body is already ``posts.validate``'s output (an op validated it to report a person's mistake
        first), so it is not validated twice. Raises BadInput when this node cannot post, or cannot
        read what the post answers. The result carries what ``Circle.ingest_own`` records, so the
        author never decrypts its own post again."""
        roster = self.roster
        if roster.role(self.me) in (None, "relay"):
            raise BadInput("only members of a circle can post to it")
        epoch = roster.current
        body_key = None if epoch is None else self.keys.body_key(epoch)
        if epoch is None or body_key is None or roster.needs_rotation:
            raise LocalProtocolError("rotate the epoch before posting (Circle.needs_rotation)")
        valid = dict(body) if checked else ps.validate(kind, dict(body))
        if kind == "checkin" and valid["call"] is None and self.me not in roster.epochs[epoch].facilitators:
            # every node reads check-in authority from the epoch's facilitators: a post they would all
            # find unreadable must not go out (Registry.post rotates first for a newly promoted one)
            raise BadInput("only facilitators send check-ins to the circle")
        if kind in LIBRARY_KINDS and self.me not in roster.epochs[epoch].facilitators:
            raise BadInput("only facilitators write the circle's library")
        if kind == "request" and not asks_facilitators(valid["to"], roster.epochs[epoch].facilitators):
            raise BadInput("a private request goes to facilitators only")
        draft = sl.Draft(self.me, kind, valid, frozenset(audience), roster.readers, roster.facilitators)
        sealed = sl.scheme_for(kind, valid).seal(draft, self.keys, self.random_bytes)
        expires = now + roster.settings.retention_days * 86_400
        if kind == "presence" and valid.get("until") is not None:
            expires = min(expires, max(now + 1, int(valid["until"])))
        lane = lane if lane is not None else (env.Lane.URGENT if kind in URGENT_KINDS else env.Lane.NORMAL)
        e = self._seal(epoch, body_key, pack(sealed.outer), seq=seq, now=now, expires=expires, lane=lane, prev=prev)
        return OwnPost(e, kind, valid, sealed.learned(e.id))

    def _seal(self, epoch: int, key: bytes, plaintext: bytes, *, seq: int, now: int, expires: int,
              lane: env.Lane, lamport: int | None = None, prev: bytes | None = None) -> env.Envelope:
        """Seal with the next lamport (posts: saturating at LAMPORT_CAP, so a remote value can never make
        this raise) and ``prev`` (default: our own envelope at seq - 1, which we accepted)."""
        if lamport is None:
            self.max_lamport = min(LAMPORT_CAP, self.max_lamport + 1)
            lamport = self.max_lamport
        if prev is None:
            prev = b"" if seq == 1 else self.chains.of(self.me).get(seq - 1, (b"",))[0]
        return env.seal(signing_key=self.identity.signing_key, topic=self.topic, epoch=epoch, key=key,
                        seq=seq, lamport=lamport, created=now, expires=expires, plaintext=plaintext,
                        lane=lane, prev=prev, nonce=_seal.random_nonce(self.random_bytes))
