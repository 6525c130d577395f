"""Circle membership: roster operations and their deterministic fold. Pure: no I/O, no clock, no randomness.

Theory of operation
-------------------
Every change to a circle's membership is a signed **roster operation** (an envelope of epoch 0, encrypted
with the circle's roster key, which members *and relays* hold: relays must check who may post, but hold
no epoch key). Each operation names the roster operations it builds on (``parents``: the heads its author
knew), so the operations form a DAG rooted in the circle's ``create``.

``fold(ops, founder)`` turns any *set* of operations into one ``Roster``:

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
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Final

from ..crypto import sign as _sign
from .. import vocab
from ..errors import InvalidSignature
from .remove_wins import _not_counting, _unacknowledged, _void_counter_removals, ancestry

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
KINDS: Final = ("create", "invite", "revoke", "admit", "remove", "leave", "role", "rotate", "settings", "seen")
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

    def may_sync(self, node: bytes) -> bool:
        """Links carry this circle only to current members and relays (bound in the Noise handshake)."""
        return node in self.members


def epoch_number(op_id: bytes) -> int:
    """The content epoch an operation opens: 62 bits of its id, at or above ROSTER_LIMIT."""
    return (int.from_bytes(op_id[:8], "big") & GENERATION_MASK) | ROSTER_LIMIT


def generation_number(op_id: bytes) -> int:
    """The roster-key generation an operation introduces: 62 other bits of its id, never 0 (the founding
    key), always below ROSTER_LIMIT."""
    return (int.from_bytes(op_id[8:16], "big") & GENERATION_MASK) or 1


def invite_proof_message(topic: bytes, member: bytes) -> bytes:
    return topic + member


def check_invite_proof(invite_key: bytes, topic: bytes, member: bytes, proof: bytes) -> bool:
    try:
        _sign.verify(invite_key, INVITE_DOMAIN, invite_proof_message(topic, member), proof)
    except InvalidSignature:
        return False
    return True


# ---------------------------------------------------------------------------------------------------
# the fold


def linearize(ops: Mapping[bytes, RosterOp]) -> tuple[list[RosterOp], frozenset[bytes]]:
    """Parents first, ties by (lamport, id). Returns (ordered ready ops, ids waiting for parents)."""
    children: dict[bytes, list[bytes]] = {}
    waiting: dict[bytes, int] = {}
    blocked: set[bytes] = set()
    for op in ops.values():
        if any(p not in ops for p in op.parents):
            blocked.add(op.id)
    # anything descending from a blocked op is blocked too
    changed = True
    while changed:
        changed = False
        for op in ops.values():
            if op.id not in blocked and any(p in blocked for p in op.parents):
                blocked.add(op.id)
                changed = True
    heap: list[tuple[int, bytes]] = []
    for op in ops.values():
        if op.id in blocked:
            continue
        waiting[op.id] = len(op.parents)
        for p in op.parents:
            children.setdefault(p, []).append(op.id)
        if not op.parents:
            heapq.heappush(heap, (op.lamport, op.id))
    ordered: list[RosterOp] = []
    while heap:
        _, op_id = heapq.heappop(heap)
        ordered.append(ops[op_id])
        for child in children.get(op_id, ()):
            waiting[child] -= 1
            if waiting[child] == 0:
                heapq.heappush(heap, (ops[child].lamport, child))
    return ordered, frozenset(blocked)


class _Folding:
    """Mutable scratch state of one fold; ``Roster`` is its frozen result."""

    def __init__(self, founder: bytes, topic: bytes, ops: Mapping[bytes, RosterOp],
                 ancestors: Mapping[bytes, int], bit: Mapping[bytes, int], excluded: Mapping[bytes, str]) -> None:
        self.founder = founder
        self.topic = topic
        self.ops = ops
        self.ancestors = ancestors          # op id -> bitset of its ancestors (bit positions: ``bit``)
        self.bit = bit
        self.excluded = excluded
        self.generation = 0
        self.generations: dict[int, Generation] = {}
        self.roster_stale = False
        #: departed member -> (the departure op, the role they had): for the mutual-removal rule
        self.gone_by: dict[bytes, tuple[RosterOp, str]] = {}
        self.departures: list[tuple[RosterOp, bytes]] = []     # counted (departure, who left)
        self.admissions: list[tuple[RosterOp, bytes]] = []     # counted (admit or create, who came in)
        self.name = ""
        self.created = 0
        self.settings = CircleSettings()
        self.members: dict[bytes, Member] = {}
        self.departed: dict[bytes, int] = {}
        self.cuts: dict[bytes, tuple[Cut, ...]] = {}
        self.ever: set[bytes] = set()
        self.invites: dict[bytes, Invite] = {}
        self.void_invites: dict[bytes, Invite] = {}
        self.epochs: dict[int, Epoch] = {}
        self.current: int | None = None
        self.ignored: dict[bytes, str] = {}
        self.position = 0
        self.last_rotation = 0
        self.created_seen = False

    def role(self, member: bytes) -> str | None:
        m = self.members.get(member)
        return m.role if m else None

    def concurrent(self, a: RosterOp, b: RosterOp) -> bool:
        """Neither is an ancestor of the other."""
        return not (self.ancestors[a.id] >> self.bit[b.id]) & 1 and not (self.ancestors[b.id] >> self.bit[a.id]) & 1

    def apply(self, op: RosterOp) -> None:
        why = self.excluded.get(op.id) or self._check(op)
        if why is not None:
            self.ignored[op.id] = why
            if op.kind == "invite" and op.body["invite"] not in self.invites:
                b = op.body
                self.void_invites[b["invite"]] = Invite(b["invite"], b["role"], b["expires"], op.author)
            return
        b = op.body
        if op.kind == "create":
            self.created_seen = True
            self.name, self.created, self.settings = b["name"], op.created, b["settings"]
            self._admit(op.author, "facilitator", b["member_name"], op.id)
        elif op.kind == "invite":
            self.invites[b["invite"]] = Invite(b["invite"], b["role"], b["expires"], op.author)
        elif op.kind == "revoke":
            self.invites[b["invite"]] = replace(self.invites[b["invite"]], revoked=True)
        elif op.kind == "admit":
            invite = self.invites[b["invite"]]
            self.invites[b["invite"]] = replace(invite, used_by=b["member"], used_at=op.created)
            self._admit(b["member"], invite.role, b["name"], op.id)
        elif op.kind in ("remove", "leave"):
            gone = b["member"] if op.kind == "remove" else op.author
            self.gone_by[gone] = (op, self.members[gone].role)
            del self.members[gone]
            self.departed[gone] = b["last_seq"]
            self.cuts[gone] = (*self.cuts.get(gone, ()), Cut(b["last_seq"], b["last_id"]))
            self.departures.append((op, gone))
            self._keep_a_facilitator()
            if op.kind == "leave":
                self.roster_stale = True
        elif op.kind == "role":
            member = self.members[b["member"]]
            self.members[b["member"]] = replace(member, role=b["role"])
            self._keep_a_facilitator()
        elif op.kind == "settings":
            self.settings = b["settings"]
        if "roster_keys" in b:
            number = generation_number(op.id)
            self.generations[number] = Generation(number, op.id, b["roster_keys"], self.position)
            self.generation, self.roster_stale = number, False
        if op.kind in KEYED:
            number = epoch_number(op.id)
            facilitators = frozenset(m for m, v in self.members.items() if v.role == "facilitator")
            self.epochs[number] = Epoch(number, op.id, b["keys"], b.get("history", {}), facilitators, op.created,
                                        self.position)
            self.current = number
            self.last_rotation = op.created
        self.position += 1

    def _admit(self, member: bytes, role: str, name: str, op_id: bytes) -> None:
        self.members[member] = Member(member, role, name, op_id, self.position)
        self.departed.pop(member, None)
        self.gone_by.pop(member, None)
        cuts = self.cuts.get(member)
        if cuts and cuts[-1].back is None:       # back in: epochs from here on are theirs again
            self.cuts[member] = (*cuts[:-1], replace(cuts[-1], back=self.position))
        self.ever.add(member)
        self.admissions.append((self.ops[op_id], member))

    def _keep_a_facilitator(self) -> None:
        if self.members and not any(m.role == "facilitator" for m in self.members.values()):
            readers = [m for m in self.members.values() if m.role != "relay"]
            if readers:
                senior = min(readers, key=lambda m: m.order)
                self.members[senior.id] = replace(senior, role="facilitator")

    def _check(self, op: RosterOp) -> str | None:
        """Why ``op`` cannot apply at this point of the order, or None when it can."""
        b = op.body
        parents = [self.ops[p].lamport for p in op.parents]
        if op.lamport != 1 + max(parents, default=0):
            return "its lamport is not 1 + its parents' highest"
        if op.kind == "create":
            if op.seq != 1:
                return "create is its author's first envelope"
            if self.created_seen:
                return "the circle already exists"
            if op.author != self.founder:
                return "only the founder named by the circle id creates it"
            return self._author_holds_key(op)
        if not self.created_seen:
            return "the circle does not exist yet"
        role = self.role(op.author) or self._mutual_removal_role(op)
        if role is None:
            return "the author is not a member"
        if op.kind == "invite":
            if role == "facilitator" or (role == "member" and self.settings.members_invite and b["role"] == "member"):
                return "an invite with this key exists" if b["invite"] in self.invites else None
            return "only facilitators invite (or members, for members, when the circle allows it)"
        if op.kind == "revoke":
            invite = self.invites.get(b["invite"])
            if invite is None:
                return "no such invite"
            return None if role == "facilitator" or invite.by == op.author else "only facilitators or the inviter revoke"
        if op.kind == "admit":
            invite = self.invites.get(b["invite"])
            if role == "relay":
                return "relays cannot admit (they hold no epoch key)"
            if invite is None or invite.revoked:
                return "no such invite, or it was revoked"
            if invite.used_by is not None:
                return "the invite was already used"
            if op.created >= invite.expires:
                return "the invite had expired"
            if b["member"] in self.members:
                return "already a member"
            if not check_invite_proof(b["invite"], self.topic, b["member"], b["proof"]):
                return "the invite proof does not verify"
            return self._author_holds_key(op)
        if op.kind == "remove":
            if role != "facilitator":
                return "only facilitators remove members"
            if b["member"] not in self.members or b["member"] == op.author:
                return "not a member (or removing oneself: use leave)"
            return self._author_holds_key(op)
        if op.kind in ("leave", "seen"):
            return None
        if op.kind == "role":
            if role != "facilitator":
                return "only facilitators grant or drop roles"
            target = self.members.get(b["member"])
            if target is None or target.role == "relay":
                return "roles are granted to members, not relays or non-members"
            return None
        if op.kind == "rotate":
            if role == "relay":
                return "relays hold no epoch key"
            return self._author_holds_key(op)
        if op.kind == "settings":
            return None if role == "facilitator" else "only facilitators change settings"
        return "unknown kind"

    def _mutual_removal_role(self, op: RosterOp) -> str | None:
        """The role the author had before it was removed, when ``op`` removes its remover concurrently:
        both removals stand (nobody picks the winner by lamport, id or backdating)."""
        gone = self.gone_by.get(op.author)
        if op.kind != "remove" or gone is None:
            return None
        departure, role = gone
        if departure.kind == "remove" and departure.author == op.body["member"] and self.concurrent(op, departure):
            return role
        return None

    @staticmethod
    def _author_holds_key(op: RosterOp) -> str | None:
        """The author must hold the key it made. Recipients are the readers *its author* knew: a
        concurrent change can make them differ from the readers at this point of the order; the epoch
        still counts (so a race never undoes an admission), and ``needs_rotation`` makes the next
        poster rotate before anything is sent under it."""
        if op.author not in op.body["keys"]:
            return "the author must hold the key it made"
        return None


def fold(ops: Iterable[RosterOp], founder: bytes, topic: bytes) -> Roster:
    """The roster that ``ops`` (any order, duplicates allowed) add up to. Deterministic in the set."""
    by_id = {op.id: op for op in ops}
    ordered, pending = linearize(by_id)
    ancestors, bit = ancestry(ordered)
    # equivocation: two operations of one author with one seq. Both are stored everywhere (so every
    # node folds the same set) and neither counts
    by_seq: dict[tuple[bytes, int], list[bytes]] = {}
    for op in ordered:
        by_seq.setdefault((op.author, op.seq), []).append(op.id)
    excluded = {i: "equivocation: another operation of its author has the same seq"
                for ids in by_seq.values() if len(ids) > 1 for i in ids}
    excluded.update(_void_counter_removals(ordered, ancestors, bit, excluded))
    for _ in range(MAX_FOLD_PASSES):
        state = _Folding(founder, topic, by_id, ancestors, bit, excluded)
        for op in ordered:
            state.apply(op)
        more = {k: v for k, v in _not_counting(state, ordered).items() if k not in excluded}
        if not more:
            break
        excluded = {**excluded, **more}
    has_child = {p for op in ordered for p in op.parents}
    heads = tuple(sorted(op.id for op in ordered if op.id not in has_child))
    return Roster(
        name=state.name, founder=founder if state.created_seen else b"", created=state.created,
        settings=state.settings, members=dict(state.members), departed=dict(state.departed),
        cuts=dict(state.cuts),
        ever=frozenset(state.ever), invites=dict(state.invites),
        void_invites={k: v for k, v in state.void_invites.items() if k not in state.invites}, epochs=dict(state.epochs),
        current=state.current, order=tuple(op.id for op in ordered), ignored=dict(state.ignored),
        pending=pending, heads=heads, max_lamport=max((op.lamport for op in by_id.values()), default=0),
        last_rotation=state.last_rotation, generation=state.generation, generations=dict(state.generations),
        roster_stale=state.roster_stale, unacknowledged=_unacknowledged(state, ordered))
