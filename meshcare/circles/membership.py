"""Circle membership: roster operations and the roster they fold into. Pure: no I/O, no clock, no randomness.

This module holds the model (``RosterOp``, ``Roster`` and its parts, the numbering of epochs and
generations); the fold itself is roster_fold.py, its remove-wins rules remove_wins.py.

Theory of operation
-------------------
Every change to a circle's membership is a signed **roster operation** (an envelope of epoch 0, encrypted
with the circle's roster key, which members *and relays* hold: relays must check who may post, but hold
no epoch key). Each operation names the roster operations it builds on (``parents``: the heads its author
knew), so the operations form a DAG rooted in the circle's ``create``.

``roster_fold.fold(ops, founder, topic)`` turns any *set* of operations into one ``Roster``:

1. Operations whose parents are not all known wait in ``pending`` (sync will bring the parents).
2. The rest are put in one order: parents before children, and among operations that are ready at the same
   time, the smaller ``(lamport, id)`` first (Kahn's algorithm with a heap). The order depends only on the
   set, so every node that holds the same set computes the same roster, whatever the arrival order. An
   operation's lamport must be exactly 1 + its parents' highest (create: 1): authors cannot pick a place.
3. Each operation is applied in that order if its author holds the needed role *at that point*; otherwise
   it is ignored (recorded in ``ignored`` with the reason).
4. **Remove wins**, the mutual-removal rule and acknowledgement of removals: see remove_wins.py.

Epochs. ``create``, ``admit``, ``remove`` and ``rotate`` carry a fresh epoch key sealed to each reader the
author knew (``keys``). The epoch's number is derived from the operation id, so concurrent rotations never
collide. The *current* epoch is the last one in the order. When its recipients differ from the current
readers (someone left, or two admits raced), ``needs_rotation`` is true and the next member who posts
rotates first; nobody ever posts under a key a departed member holds once its departure is known.

Who may post. A content envelope of epoch E by author A is accepted when A was a recipient of E's key and
A's departure, if any, did not cut it off: ``remove`` and ``leave`` name the departing member's last
envelope that counts (``last_seq``, ``last_id``); an envelope of theirs counts only on that chain (its
id is ``last_id`` or the ``prev`` of one on the chain), which the circle checks (``post_verdict``).

Roster keys. Roster envelopes are encrypted with a roster key of a *generation* (the envelope's ``epoch``
field, below ``ROSTER_LIMIT``; content epochs are at or above it). Generation 0 derives from the circle
secret; every ``remove`` and any ``rotate`` that carries ``roster_keys`` introduce a new one: readers
derive it from the new epoch key the operation seals to them, relays get it sealed in ``roster_keys``
(so a removal stays within the envelope cap), and a departed member gets neither. After a ``leave`` the
roster ``needs_rotation`` until a ``rotate`` with ``roster_keys`` is folded.

Roles: ``facilitator`` (invite, remove, grant or drop roles, change settings, post check-ins), ``member``
(post calls and responses, admit holders of an invite), ``relay`` (stores and forwards, verifies, holds
the roster key but no epoch key; cannot read or post). If the last facilitator leaves or is removed, the
earliest-admitted remaining member becomes facilitator, so a circle never ends up unable to invite.

Names. A member's name is the one its ``create`` (``member_name``) or ``admit`` gave, then that of its
last counted ``rename`` (the author renames itself; in the fold's order, so the last one wins on every
node). A rename counts only while its author is a member or relay (remove wins as for any operation),
only to a name nobody else in the circle has or had (compared by ``name_key``: case, width and spacing
do not make a name different), and only ``MAX_RENAMES`` times per member: a modified client cannot
take someone's name, nor flood every screen with name changes. Why a roster operation and not a post:
posts expire with the circle's retention (the name would fall back after 30 days), joiners cannot read
posts from before they joined (they read the whole roster), relays read the roster but no post, and
remove-wins already decides which operations of a removed member count.

Onion addresses. A member's (or relay's) ``reach`` operation says where its node can be dialled over
Tor ("xxx.onion:PORT", or "" for nowhere); of each author's counted ones, the one latest on its chain
(highest ``seq``: reach operations of one author are concurrent in the DAG) is ``Roster.reach`` (reach.py),
for current members only; only a member's first ``reach.MAX_REACHES`` (by seq) can count. Nothing builds on a
``reach``: it is never a parent (``Roster.heads`` leaves it out) and an operation naming one as a parent
is ignored (so forged), because a node that does not know the kind refuses it, and would hold every
operation built on it for ever; a leaf it refuses holds nothing up.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from ..crypto import sign as _sign
from .. import vocab
from ..errors import InvalidSignature
from .reach import MAX_REACHES

ID_SIZE: Final = 32
MAX_PARENTS: Final = 32
MAX_KEYS: Final = 200                    # members per circle (the envelope cap allows ~300 sealed keys)
MAX_NAME: Final = vocab.MAX_NAME
EPOCH_MASK: Final = 2**63 - 1
#: Envelope ``epoch`` values below this are roster-key generations (roster operations); at or above it,
#: content epochs. Disjoint ranges, so a roster envelope can never pass for a post or the reverse.
ROSTER_LIMIT: Final = 2**62
GENERATION_MASK: Final = ROSTER_LIMIT - 1
INVITE_DOMAIN: Final = _sign.require_domain(b"meshcare/invite-proof/v1\x00")
ROLES: Final = vocab.ROLES
KINDS: Final = ("create", "invite", "revoke", "admit", "remove", "leave", "role", "rotate", "settings", "seen",
                "rename", "reach")
#: Renames that count per member (each after the last is ignored): a person renames themself a few times
#: in a circle's life; a modified client renaming itself every second would flood every member's screen.
MAX_RENAMES: Final = 50
MAX_FOLD_PASSES: Final = 64   # remove-wins passes; each adds exclusions, and in practice 2 suffice
#: Operations that carry a new epoch key.
KEYED: Final = frozenset({"create", "admit", "remove", "rotate"})


@dataclass(frozen=True, slots=True)
class CircleSettings:
    """Circle settings, chosen by facilitators. Retention bounds how long calls and check-ins live."""

    retention_days: int = vocab.DEFAULT_RETENTION_DAYS
    rotate_days: int = vocab.DEFAULT_ROTATE_DAYS   # 0: rotate only on membership changes
    share_history: bool = False       # new members may read what was said before they joined
    members_invite: bool = False      # members (not only facilitators) may invite members

    def to_dict(self) -> dict[str, Any]:
        return {"retention_days": self.retention_days, "rotate_days": self.rotate_days,
                "share_history": self.share_history, "members_invite": self.members_invite}


@dataclass(frozen=True, slots=True)
class RosterOp:
    """A decrypted, signature-checked roster operation, as the fold consumes it."""

    id: bytes
    author: bytes
    lamport: int
    created: int
    seq: int
    kind: str
    body: Mapping[str, Any]
    prev: bytes = b""
    generation: int = 0                  # the roster-key generation it was sealed under

    @property
    def parents(self) -> tuple[bytes, ...]:
        return tuple(self.body.get("parents", ()))


@dataclass(frozen=True, slots=True)
class Member:
    id: bytes
    role: str
    name: str
    admitted: bytes          # the operation that admitted them (``create`` for the founder)
    order: int               # position of that operation in the fold order (seniority)


@dataclass(frozen=True, slots=True)
class Invite:
    key: bytes               # the invite's Ed25519 public key (its secret is in the token)
    role: str
    expires: int
    by: bytes
    used_by: bytes | None = None
    used_at: int | None = None
    revoked: bool = False

    def open_at(self, now: int) -> bool:
        return self.used_by is None and not self.revoked and now < self.expires

    def lobby_open_at(self, now: int, grace: int = 900) -> bool:
        """Serve the invite's lobby while it is open, and a while after its use (the welcome travels)."""
        if self.revoked or now >= self.expires:
            return False
        return self.used_at is None or now < self.used_at + grace


@dataclass(frozen=True, slots=True)
class Epoch:
    number: int
    op: bytes
    keys: Mapping[bytes, bytes]          # recipient -> sealed epoch key
    history: Mapping[bytes, bytes]       # recipient -> sealed earlier keys (share_history admits)
    facilitators: frozenset[bytes]       # facilitators when the epoch began (who may post check-ins)
    created: int
    position: int = 0                    # of its operation in the fold order

    @property
    def recipients(self) -> frozenset[bytes]:
        return frozenset(self.keys)


@dataclass(frozen=True, slots=True)
class Cut:
    """What a departure leaves of the departed member's chain: its envelope ``last_id`` (seq ``last_seq``)
    and what that one builds on. ``back``: fold position of the re-admission that ended the cut (None:
    still out); the cut holds for every epoch opened before it."""

    last_seq: int
    last_id: bytes
    back: int | None = None


@dataclass(frozen=True, slots=True)
class Generation:
    """A roster key generation after 0: the operation that introduced it and the sealed copies."""

    number: int
    op: bytes
    keys: Mapping[bytes, bytes]          # member or relay -> sealed roster key
    position: int


#: One author's accepted envelopes in a topic: seq -> (id, prev).
Chain = Mapping[int, tuple[bytes, bytes]]


def on_chain(chain: Chain, seq: int, envelope_id: bytes, cut: Cut) -> bool | None:
    """Is the envelope (``seq``, ``envelope_id``) on the chain that ends at ``cut.last_id``? Walks back
    from the cut through ``prev`` links. True/False, or None when a link is missing (not arrived yet)."""
    if seq > cut.last_seq or cut.last_seq == 0:
        return False
    current, at = cut.last_id, cut.last_seq
    while at > seq:
        entry = chain.get(at)
        if entry is None:
            return None
        if entry[0] != current:
            return False
        current, at = entry[1], at - 1
    return current == envelope_id


@dataclass(frozen=True, slots=True)
class Roster:
    """The folded state of one circle's membership."""

    name: str = ""
    founder: bytes = b""
    created: int = 0
    settings: CircleSettings = field(default_factory=CircleSettings)
    members: Mapping[bytes, Member] = field(default_factory=dict)
    departed: Mapping[bytes, int] = field(default_factory=dict)     # member -> last seq that counts
    #: member -> their cuts. A cut holds for every epoch opened before the re-admission that ended it
    #: (including epochs a concurrent change sealed to them after they left), so what someone signed
    #: while out never becomes acceptable later
    cuts: Mapping[bytes, tuple[Cut, ...]] = field(default_factory=dict)
    ever: frozenset[bytes] = frozenset()                            # everyone ever admitted
    invites: Mapping[bytes, Invite] = field(default_factory=dict)
    #: invites from operations that do not count (e.g. minted by someone removed): never usable, but their
    #: lobbies are served for a while so that a person holding such a token is told, not left waiting
    void_invites: Mapping[bytes, Invite] = field(default_factory=dict)
    epochs: Mapping[int, Epoch] = field(default_factory=dict)
    current: int | None = None
    order: tuple[bytes, ...] = ()
    ignored: Mapping[bytes, str] = field(default_factory=dict)
    pending: frozenset[bytes] = frozenset()
    heads: tuple[bytes, ...] = ()
    max_lamport: int = 0
    last_rotation: int = 0
    generation: int = 0                                             # current roster-key generation
    generations: Mapping[int, Generation] = field(default_factory=dict)
    roster_stale: bool = False                                      # a leave since the current generation
    #: counted removals no third member has built on yet (see remove_wins.py): members' nodes post ``seen``
    unacknowledged: frozenset[bytes] = frozenset()
    #: member -> their counted renames (at most MAX_RENAMES count)
    renames: Mapping[bytes, int] = field(default_factory=dict)
    #: ``name_key`` of every name anyone had in the circle (admitted or renamed) -> who had it
    names_taken: Mapping[str, frozenset[bytes]] = field(default_factory=dict)
    #: current member -> the onion address of its last counted ``reach`` ("xxx.onion:PORT"; "" for none)
    reach: Mapping[bytes, str] = field(default_factory=dict)
    #: member -> their ``reach`` operations in the roster (their first reach.MAX_REACHES by seq can count)
    reaches: Mapping[bytes, int] = field(default_factory=dict)

    @property
    def exists(self) -> bool:
        return bool(self.founder)

    def role(self, member: bytes) -> str | None:
        m = self.members.get(member)
        return m.role if m else None

    @property
    def readers(self) -> frozenset[bytes]:
        """Members who hold epoch keys: everyone but relays."""
        return frozenset(m for m, v in self.members.items() if v.role != "relay")

    @property
    def facilitators(self) -> frozenset[bytes]:
        return frozenset(m for m, v in self.members.items() if v.role == "facilitator")

    @property
    def needs_rotation(self) -> bool:
        """True when the current epoch's key is held by someone who is no longer a reader, or a reader lacks it."""
        if self.roster_stale or self.roster_key_missing:
            return True          # the roster key is held by someone who left, or not by someone who stays
        if self.current is None:
            return bool(self.readers)
        return self.epochs[self.current].recipients != self.readers

    @property
    def roster_key_missing(self) -> bool:
        """Someone in the circle lacks the current roster-key generation: admitted concurrently with the
        operation that introduced it (readers derive it from that operation's epoch key, relays get it
        sealed in its ``roster_keys``; a member admitted on another branch got neither). The next
        rotation then introduces a new generation that reaches everyone."""
        gen = self.generations.get(self.generation)
        if gen is None:
            return False         # generation 0: derived from the circle secret every member was given
        epoch = self.epochs.get(epoch_number(gen.op))
        holders = set(gen.keys) | (set(epoch.keys) if epoch is not None else set())
        return not set(self.members) <= holders

    def post_verdict(self, author: bytes, epoch: int, seq: int, envelope_id: bytes, chain: Chain) -> bool | None:
        """May ``author`` have written the content envelope (``epoch``, ``seq``, ``envelope_id``)? A departed
        author's envelope counts only on the chain its departure named (``chain``: the author's accepted
        envelopes). True, False, or None when the chain cannot be linked yet (defer)."""
        e = self.epochs.get(epoch)
        if e is None or author not in e.keys:
            return False
        undecided = False
        for cut in self.cuts.get(author, ()):
            if cut.back is not None and e.position >= cut.back:
                continue
            linked = on_chain(chain, seq, envelope_id, cut)
            if linked is False:
                return False
            undecided = undecided or linked is None
        return None if undecided else True

    def may_post(self, author: bytes, epoch: int, seq: int, envelope_id: bytes = b"", chain: Chain | None = None) -> bool:
        """``post_verdict`` as a yes/no (undecided is no)."""
        return self.post_verdict(author, epoch, seq, envelope_id, chain or {}) is True

    def rename_refused(self, member: bytes, name: str) -> str | None:
        """Why a ``rename`` of ``member`` to ``name`` would not count now, or None when it would."""
        if member not in self.members:
            return "only members rename themselves"
        return rename_refusal(self.names_taken, self.renames, member, name)

    def reach_refused(self, member: bytes) -> str | None:
        """Why a ``reach`` of ``member`` would not count now, or None when it would."""
        if member not in self.members:
            return "only members and relays say where they can be reached"
        if self.reaches.get(member, 0) >= MAX_REACHES:
            return f"a member changes their onion address at most {MAX_REACHES} times in a circle"
        return None

    def may_sync(self, node: bytes) -> bool:
        """Links carry this circle only to current members and relays (bound in the Noise handshake)."""
        return node in self.members


def name_key(name: str) -> str:
    """What makes two names the same name to a reader: compatibility forms (full-width letters, ligatures),
    case and runs of spaces do not count. Letters of other scripts that merely look alike still differ;
    fingerprints are the check for who is who."""
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


def rename_refusal(names_taken: Mapping[str, frozenset[bytes]], renames: Mapping[bytes, int], member: bytes,
                   name: str) -> str | None:
    """Why a member's rename to ``name`` does not count, given the names taken and the renames counted so
    far (the fold's rule, and the op's check before it writes one), or None when it counts."""
    if names_taken.get(name_key(name), frozenset()) - {member}:
        return "someone else in the circle has or had that name"
    if renames.get(member, 0) >= MAX_RENAMES:
        return f"a member renames themself at most {MAX_RENAMES} times in a circle"
    return None


def epoch_number(op_id: bytes) -> int:
    """The content epoch an operation opens: 62 bits of its id, at or above ROSTER_LIMIT."""
    return (int.from_bytes(op_id[:8], "big") & GENERATION_MASK) | ROSTER_LIMIT


def generation_number(op_id: bytes) -> int:
    """The roster-key generation an operation introduces: 62 other bits of its id, never 0 (the founding
    key), always below ROSTER_LIMIT."""
    return (int.from_bytes(op_id[8:16], "big") & GENERATION_MASK) or 1


def names_ever(roster: Roster, ops: Mapping[bytes, RosterOp]) -> dict[bytes, str]:
    """Everyone ever admitted by ``ops`` (folded into ``roster``), with the last name the roster gave
    them: kept after they leave or are removed, so history still names them."""
    out = {}
    for op_id in roster.order:
        op = ops[op_id]
        if op_id in roster.ignored:
            continue
        if op.kind == "create":
            out[op.author] = str(op.body["member_name"])
        elif op.kind == "admit":
            out[bytes(op.body["member"])] = str(op.body["name"])
        elif op.kind == "rename":
            out[op.author] = str(op.body["name"])
    return out


def departure(roster: Roster, ops: Mapping[bytes, RosterOp], member: bytes) -> str | None:
    """How ``member`` last went, by ``ops`` folded into ``roster``: ``"removed"``, ``"left"``, or None
    (never admitted, or a member now)."""
    if member in roster.members or member not in roster.ever:
        return None
    how = None
    for op_id in roster.order:
        op = ops[op_id]
        if op_id in roster.ignored:
            continue
        if op.kind == "remove" and op.body.get("member") == member:
            how = "removed"
        elif op.kind == "leave" and op.author == member:
            how = "left"
    return how


def invite_proof_message(topic: bytes, member: bytes) -> bytes:
    return topic + member


def check_invite_proof(invite_key: bytes, topic: bytes, member: bytes, proof: bytes) -> bool:
    try:
        _sign.verify(invite_key, INVITE_DOMAIN, invite_proof_message(topic, member), proof)
    except InvalidSignature:
        return False
    return True
