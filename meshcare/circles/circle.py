"""One circle as this node sees it: roster, posts, and verdicts on envelopes. Pure.

Theory of operation
-------------------
A circle is named by its founder and a 32-byte secret. From them: the ``topic`` (what links and stores
call it) and the ``roster key`` (members and relays: membership operations, epoch 0). Content is
encrypted with the current **epoch key** (members only; see membership.py for how epochs rotate). The
keys live in a ``Keyring`` (keyring.py), with the posts that wait for one; how each kind of post is
sealed inside the epoch encryption, and opened, is a table of schemes (sealing.py). A post that cannot
be opened for a reason its author is responsible for is kept unreadable and counted (``unreadable``);
anything else raised while opening is this node's bug and propagates.

Verdicts on received envelopes (the daemon has checked the signature): ``ACCEPT`` (store and forward),
``REJECT`` (never stored, charges the link that sent it), ``DEFER`` (cannot decide yet: its epoch, its
roster-key generation, its author's admission or the chain link that places it has not arrived, or it was
created more than ``FUTURE_SLACK`` ahead of our clock; the daemon keeps it aside and asks again later),
``DROP`` (an equivocated post: not stored, not charged, since an honest peer may forward one copy).
Bounds no author chooses around: a post's lamport is at most ``LAMPORT_CAP``, its ``expires`` at most
``created`` + the circle's retention + ``EXPIRY_SLACK``, and it is refused once older than the retention;
roster operations never expire. Two posts of a member at one seq, each acceptable on its own, are
equivocation: both dropped on every node, whichever came first, and counted (``equivocations``); a
second one refused on its own is refused and counted, and drops nothing, as on a node that saw it first;
a departed author's are judged by the chain its departure named. See chains.py and docs/protocol.md, "Chains and equivocation".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, Final

from .. import envelope as env
from ..crypto import kdf
from ..crypto import seal as _seal
from ..crypto import sign as _sign
from ..crypto.keys import Identity
from ..errors import LocalProtocolError, RemoteProtocolError
from ..ids import TopicId
from ..wire import unpack_strict
from . import membership as ms
from . import posts as ps
from . import roster_body as rb
from . import roster_fold as rf
from . import sealing as sl
from .chains import Chains
from .keyring import Keyring, WaitKey
from .writing import LAMPORT_CAP, NEVER, OwnPost, Writing

#: How far above its own counter a node lets one envelope move it.
LAMPORT_STEP: Final = 2**16
FUTURE_SLACK: Final = 600             # s: a post created further ahead of our clock waits (fast clock)
EXPIRY_SLACK: Final = 3600            # s: tolerated beyond created + retention
MAX_LOCKED: Final = 2000              # roster envelopes held for a generation key we lack
MAX_EQUIVOCATED: Final = 4096         # (author, seq) pairs of equivocated posts remembered
#: Post changes remembered for readers that keep their folds up to date (circles/folded.py); a reader
#: further behind than this folds everything again.
JOURNAL_LIMIT: Final = 4096
MAX_PROOFS: Final = 10_000           # invite-proof checks remembered (by admit op id)
MAX_DECODED: Final = 2000            # roster envelopes opened and remembered until ingested


class Verdict(Enum):
    ACCEPT = "accept"
    REJECT = "reject"     # the sender's fault: never stored, charges the link
    DEFER = "defer"       # undecided: held aside, asked again later
    DROP = "drop"         # not stored, not charged: an equivocated post an honest peer may still forward


def circle_topic(secret: bytes, founder: bytes) -> TopicId:
    return TopicId(kdf.derive_key(secret, kdf.TOPIC, founder, size=env.TOPIC_SIZE))


@dataclass(slots=True)
class _Opened:
    envelope: env.Envelope
    post: ps.Post | None = None       # None: not readable here (yet)


class Circle(Writing):
    """The state of one circle on this node. Feed it accepted envelopes with ``ingest``; new envelopes
    are sealed by its mixin ``Writing`` (writing.py), which draws every key and nonce from
    ``random_bytes`` (tests pass a seeded one for known answers)."""

    def __init__(self, identity: Identity, secret: bytes, founder: bytes,
                 roster_keys: Mapping[int, bytes] | None = None,
                 random_bytes: _seal.RandomBytes = _seal.system_random) -> None:
        if len(secret) != 32 or len(founder) != 32:
            raise LocalProtocolError("a circle secret and its founder are 32 bytes each")
        self.identity = identity
        self.me = bytes(identity.node_id)
        self.secret = secret
        self.founder = founder
        self.topic = circle_topic(secret, founder)
        self.random_bytes = random_bytes
        #: roster keys (0 from the secret; ``roster_keys`` from a welcome), epoch, call, reply, self keys
        self.keys = Keyring(identity, secret, founder, self.topic, roster_keys)
        self._locked: dict[bytes, env.Envelope] = {}    # roster envelopes under a generation we lack
        self.chains = Chains()
        #: (author, seq) of posts seen twice with different contents: every copy is dropped (bounded)
        self._equivocated: dict[tuple[bytes, int], None] = {}
        self.purge_due = False                          # an equivocation asks for purge_unacceptable
        self._ops: dict[bytes, ms.RosterOp] = {}
        self._proofs: dict[bytes, bool] = {}            # admit op id -> its invite proof verifies
        self._decoded: dict[bytes, ms.RosterOp] = {}    # roster envelopes opened but not ingested yet
        self._content: dict[bytes, _Opened] = {}
        self.unreadable = 0                             # posts found unreadable by their author's doing
        self._roster = ms.Roster()
        self._stale = False                             # roster operations arrived since the last fold
        self.max_lamport = 0
        self._version = 0                               # bumps whenever anything visible changes
        self._journal: list[bytes] = []                 # ids of posts that came, went or changed reading
        self._journal_start = 0                         # the position of _journal[0] since this began

    # ---------------------------------------------------------------------------------------------
    # receiving

    @property
    def equivocations(self) -> Mapping[bytes, int]:
        """Author -> equivocating envelopes seen (a modified client: for a later UI)."""
        return self.chains.equivocations

    def verdict(self, e: env.Envelope, now: int) -> Verdict:
        """Whether a signature-checked envelope of this circle belongs in the store (``now``: our clock)."""
        if e.topic != self.topic:
            return Verdict.REJECT
        conflict = self.chains.conflict(e)
        if e.epoch < ms.ROSTER_LIMIT:
            v = self._roster_verdict(e, now)
            if conflict is not None and v is Verdict.ACCEPT:
                # counted, but stored: every node must fold the same set of roster operations, or the
                # children of the one it kept would wait for ever elsewhere; the fold ignores both
                self.chains.record_equivocation(e)
            return v
        roster = self.roster
        if e.author in roster.cuts and e.author not in roster.members:
            # departed: the chain its departure named decides which envelope counts at each seq, on every
            # node alike; a sibling at a seq is simply off that chain (and purged if held)
            if conflict is not None:
                self.chains.record_equivocation(e)
                self.purge_due = True
            return self._post_verdict(e, now)
        if (e.author, e.seq) in self._equivocated:
            self.chains.record_equivocation(e)
            return Verdict.DROP
        held = self.chains.of(e.author).get(e.seq)
        if held is not None and held[0] != e.id:
            # two posts at one (author, seq): neither stays, on any node, whichever came first here (keeping
            # the first would let nodes disagree for ever); the held one goes at the next purge. Only if
            # this one would be accepted on its own: one refused on its own (a lamport over the cap, a key
            # its author never had) is refused on every node that sees it first too, so letting it drop
            # the held post would make the outcome depend on arrival order; one that cannot be judged yet
            # waits, and is judged again (and then drops both) once it can
            alone = self._post_verdict(e, now)
            if alone is not Verdict.ACCEPT:
                if alone is Verdict.REJECT:
                    self.chains.record_equivocation(e)
                return alone
            self.chains.record_equivocation(e)
            self._equivocated[(e.author, e.seq)] = None
            while len(self._equivocated) > MAX_EQUIVOCATED:
                del self._equivocated[next(iter(self._equivocated))]
            self.purge_due = True
            return Verdict.DROP
        return self._post_verdict(e, now)

    def _roster_verdict(self, e: env.Envelope, now: int) -> Verdict:
        if e.expires != NEVER:
            return Verdict.REJECT
        if e.created > now + FUTURE_SLACK:
            # as for posts: held until our clock gets there, so a far-future ``created`` (which would move
            # ``last_rotation`` ahead and put off periodic rotation) does not apply before its time
            return Verdict.DEFER
        if e.epoch not in self.keys.roster:
            return Verdict.DEFER            # its generation's key comes with an operation not here yet
        try:
            op = self._roster_op(e)
        except RemoteProtocolError:
            return Verdict.REJECT
        if op.kind == "create":
            ok = e.author == self.founder and e.lamport == 1 and e.seq == 1     # what the fold requires
            return Verdict.ACCEPT if ok else Verdict.REJECT
        # judged by its own past only, never by what this node happens to have folded already:
        # otherwise nodes that heard of a concurrent removal first would store a different set
        return self._judge_in_its_past(op)

    def _post_verdict(self, e: env.Envelope, now: int) -> Verdict:
        if e.lamport > LAMPORT_CAP:
            return Verdict.REJECT
        if e.created > now + FUTURE_SLACK:
            return Verdict.DEFER            # a fast clock is not hostile: acceptable later
        roster = self.roster
        if e.epoch not in roster.epochs:
            return Verdict.DEFER
        retention = roster.settings.retention_days * 86_400
        if e.expires > e.created + retention + EXPIRY_SLACK or e.created + retention < now:
            return Verdict.REJECT
        linked = roster.post_verdict(e.author, e.epoch, e.seq, e.id, self.chains.of(e.author))
        return Verdict.DEFER if linked is None else Verdict.ACCEPT if linked else Verdict.REJECT

    def _judge_in_its_past(self, op: ms.RosterOp) -> Verdict:
        """Fold the operation with its ancestors only: if it is invalid even by what its author knew
        (a member "removing" someone, a forged role, a second create), it is forged, and rejected. An
        operation valid in its past is stored even if concurrent changes later make the fold ignore it,
        because every node must fold the same set."""
        parents = op.parents
        if any(p not in self._ops for p in parents):
            return Verdict.DEFER            # the common wait, found without walking the whole past
        past: dict[bytes, ms.RosterOp] = {op.id: op}
        todo = list(parents)
        while todo:
            parent = todo.pop()
            if parent in past:
                continue
            known = self._ops.get(parent)
            if known is None:
                return Verdict.DEFER
            past[parent] = known
            todo.extend(known.parents)
        folded = self._fold(past.values())
        return Verdict.REJECT if op.id in folded.ignored else Verdict.ACCEPT

    def _observe_lamport(self, lamport: int) -> None:
        """Move the local counter towards what we saw, by at most LAMPORT_STEP and never past the cap:
        a remote value never drives our counter anywhere ``_seal`` could not go."""
        if lamport > self.max_lamport:
            self.max_lamport = min(LAMPORT_CAP, lamport, self.max_lamport + LAMPORT_STEP)

    def ingest(self, e: env.Envelope) -> bool:
        """Take an accepted envelope into the state; True if anything visible changed."""
        self._observe_lamport(e.lamport)
        if e.epoch < ms.ROSTER_LIMIT:
            if e.id in self._ops:
                return False
            if e.epoch not in self.keys.roster:
                # a start-up re-ingest may bring it before the operation with its key: keep it aside
                if len(self._locked) < MAX_LOCKED:
                    self._locked[e.id] = e
                return False
            try:
                op = self._roster_op(e)
            except RemoteProtocolError:
                return False
            self._ops[e.id] = op
            self._decoded.pop(e.id, None)
            self.chains.add(e)
            self._stale = True              # folded once, when next read: a burst costs one fold
            self._version += 1
            if self.keys.learn_roster_key(op):
                for waiting in [w for w in self._locked.values() if w.epoch in self.keys.roster]:
                    del self._locked[waiting.id]
                    self.ingest(waiting)
            return True
        if e.id in self._content:
            return False
        self.chains.add(e)
        if self._stale:
            self._refold()                  # its epoch key may come with operations not folded yet
        self._content[e.id] = _Opened(e)
        self._wake([("call", e.id)])            # an escalation that waited for this call's envelope
        self._wake(self._open(self._content[e.id]))
        self._version += 1
        return True

    def ingest_own(self, own: OwnPost) -> bool:
        """Take a post this node just sealed (``seal_post``) into the state as ``ingest`` would, without
        decrypting and validating it again: its body and the keys it teaches its author are known.
        The state after is the same as after ``ingest`` (tests/test_circle_sealing.py holds it)."""
        e = own.envelope
        self._observe_lamport(e.lamport)
        if e.id in self._content:
            return False
        self.chains.add(e)
        if self._stale:
            self._refold()
        item = self._content[e.id] = _Opened(e)
        item.post = self._post(e, own.kind, own.body)
        self._changed(e.id)
        self._version += 2                  # as ingest: one for the envelope, one for the post it opened
        self._wake([("call", e.id)])
        self._wake(self.keys.learn(own.learned))
        return True

    def purge_unacceptable(self) -> list[bytes]:
        """Content that the roster, as folded now, says should never have been accepted (a removed
        member's post that arrived before its removal did). Dropped here; the caller deletes it from the
        store, so this node stops offering what every other node refuses."""
        roster = self.roster
        self.purge_due = False
        gone = [i for i, item in self._content.items()
                if (item.envelope.author, item.envelope.seq) in self._equivocated
                or roster.post_verdict(item.envelope.author, item.envelope.epoch, item.envelope.seq, i,
                                       self.chains.of(item.envelope.author)) is False]
        for i in gone:
            self.chains.forget(self._content.pop(i).envelope)
            self._changed(i)
        if gone:
            self._version += 1
        return gone

    def expire(self, now: int) -> int:
        """Drop content whose time is up (the store deletes it too); returns how many went."""
        gone = [i for i, item in self._content.items() if item.envelope.is_expired(now)]
        for i in gone:
            self.chains.forget(self._content.pop(i).envelope)
            self._changed(i)
        self.keys.forget(gone)
        if gone:
            self._version += 1
        return len(gone)

    def _roster_op(self, e: env.Envelope) -> ms.RosterOp:
        """Decrypt and validate a roster envelope (RemoteProtocolError if its author got it wrong).

        Remembered by id until it is ingested: an envelope held for a missing parent is judged again
        after every roster change, and opening it each time was most of a large circle's join cost. The
        id hashes the ciphertext, which opens to one plaintext or none (AEAD), so the answer holds."""
        op = self._decoded.get(e.id)
        if op is None:
            kind, body = rb.validate(unpack_strict(env.open_body(e, self.keys.roster[e.epoch]), "roster operation"))
            op = ms.RosterOp(e.id, e.author, e.lamport, e.created, e.seq, kind, body, e.prev, e.epoch)
            if len(self._decoded) >= MAX_DECODED:
                self._decoded.clear()
            self._decoded[e.id] = op
        return op

    @property
    def version(self) -> int:
        """Bumps whenever anything visible changes (views are cached by it)."""
        if self._stale:
            self._refold()
        return self._version

    @property
    def roster(self) -> ms.Roster:
        """The folded membership. Roster operations only mark it stale; it is refolded when read, so a
        node catching up on hundreds of operations (a restart, a newcomer) folds once, not once each."""
        if self._stale:
            self._refold()
        return self._roster

    @roster.setter
    def roster(self, value: ms.Roster) -> None:
        self._roster, self._stale = value, False

    def _refold(self) -> None:
        self.roster = self._fold(self._ops.values())
        self._wake(self.keys.harvest(self.roster))

    def _fold(self, ops: Iterable[ms.RosterOp]) -> ms.Roster:
        """``roster_fold.fold`` with this circle's memo of invite-proof checks (bounded: forged
        admissions judged and rejected must not grow it for ever)."""
        if len(self._proofs) > MAX_PROOFS:
            self._proofs.clear()
        return rf.fold(ops, self.founder, self.topic, self._proofs)

    def _open(self, item: _Opened) -> list[WaitKey]:
        """Decrypt and validate one content envelope. Returns the wait keys it satisfied (keys it taught
        us). When it cannot be read yet, it waits under the key it needs and returns []. When its author
        got it wrong (``RemoteProtocolError`` from the scheme or ``posts.validate``), it is unreadable
        for good, and counted; any other error is our bug and propagates."""
        e = item.envelope
        body_key = self.keys.body_key(e.epoch)
        if body_key is None:
            return self._wait(item, ("epoch", e.epoch))
        try:
            outer = sl.unpack_outer(env.open_body(e, body_key))
            epoch = self.roster.epochs.get(e.epoch)
            received = sl.Received(e.id, e.author, self.me, outer["k"], outer,
                                   epoch.facilitators if epoch is not None else frozenset(), self._caller_of)
            outcome = sl.scheme_of(outer).open(received, self.keys)
            if isinstance(outcome, sl.WaitFor):
                meanwhile = None if outcome.meanwhile is None else self._post(e, received.kind, outcome.meanwhile)
                return self._wait(item, outcome.key, meanwhile)
            if isinstance(outcome, sl.NotForUs):
                item.post = _UNREADABLE
                self._changed(e.id)
                return []
            kind = outcome.kind or received.kind          # a private post's kind is inside its box
            post = self._post(e, kind, ps.validate(kind, outcome.fields))
            learned = outcome.learned
        except RemoteProtocolError:
            item.post = _UNREADABLE
            self.unreadable += 1
            self._changed(e.id)
            return []
        item.post = post
        self._changed(e.id)
        self._version += 1
        return self.keys.learn(learned)

    def _post(self, e: env.Envelope, kind: str, body: Mapping[str, Any]) -> ps.Post:
        return ps.Post(e.id, e.author, e.created, e.lamport, kind, body)

    def _caller_of(self, call: bytes) -> bytes | None:
        origin = self._content.get(call)
        return None if origin is None else origin.envelope.author

    def _wait(self, item: _Opened, key: WaitKey, meanwhile: ps.Post | None = None) -> list[WaitKey]:
        """File ``item`` under ``key``; until then it reads as ``meanwhile`` (None: not at all)."""
        item.post = meanwhile
        self._changed(item.envelope.id)
        if meanwhile is not None:
            self._version += 1
        self.keys.wait(item.envelope.id, key)
        return []

    def _wake(self, keys: list[WaitKey]) -> None:
        """Re-open what waited for ``keys``, and what those teach in turn."""
        self.keys.wake(keys, self._reopen)

    def _reopen(self, post_id: bytes) -> list[WaitKey]:
        item = self._content.get(post_id)
        return [] if item is None else self._open(item)

    # ---------------------------------------------------------------------------------------------
    # reading

    @property
    def posts(self) -> list[ps.Post]:
        if self._stale:
            self._refold()
        return [i.post for i in self._content.values() if i.post is not None and i.post is not _UNREADABLE]

    def post_of(self, post_id: bytes) -> ps.Post | None:
        """The readable post ``post_id``, or None (not held, not readable, or not yet)."""
        item = self._content.get(post_id)
        post = None if item is None else item.post
        return None if post is None or post is _UNREADABLE else post

    @property
    def cursor(self) -> int:
        """Where the journal of post changes stands now (for ``changed_since`` later)."""
        if self._stale:
            self._refold()
        return self._journal_start + len(self._journal)

    def changed_since(self, cursor: int) -> list[bytes] | None:
        """Ids of posts that came, went or changed how they read since ``cursor`` (repeats possible;
        ``post_of`` says what each is now), or None if that is too long ago to tell: read ``posts``."""
        if self._stale:
            self._refold()
        if cursor < self._journal_start:
            return None
        return self._journal[cursor - self._journal_start:]

    def _changed(self, post_id: bytes) -> None:
        self._journal.append(post_id)
        if len(self._journal) > JOURNAL_LIMIT:
            drop = len(self._journal) // 2
            del self._journal[:drop]
            self._journal_start += drop

    def epoch_of(self, post_id: bytes) -> int | None:
        """The epoch a content envelope was sealed under (who could read it then), or None."""
        item = self._content.get(post_id)
        return None if item is None else item.envelope.epoch

    def names_ever(self) -> dict[bytes, str]:
        """Everyone ever admitted, with the last name the roster gave them (``membership.names_ever``)."""
        return ms.names_ever(self.roster, self._ops)

    def departure(self, member: bytes) -> str | None:
        """How ``member`` last went: ``"removed"``, ``"left"`` or None (``membership.departure``)."""
        return ms.departure(self.roster, self._ops, member)

    def content_ids(self) -> list[bytes]:
        return list(self._content)

    def roster_operation(self, op_id: bytes) -> ms.RosterOp | None:
        """A roster operation this circle holds, by id."""
        return self._ops.get(op_id)

    def roster_envelope_count(self) -> int:
        return len(self._ops)

    def can_read(self) -> bool:
        return self.roster.current is not None and self.roster.current in self.keys.epochs

    def call_audience(self, caller: bytes, ladder: Iterable[Mapping[str, Any]], step: int,
                      avoid: Iterable[bytes] = (), skip: Iterable[bytes] = ()) -> frozenset[bytes]:
        """Who a call's ladder reaches at ``step`` (cumulative; never beyond what the caller approved).
        ``avoid``: the caller's "who not to involve" list, left out at every step, "circle" included;
        ``skip``: members at their load cap, left out of the steps that chose them by name."""
        readers = self.roster.readers
        audience = {caller}
        for s in list(ladder)[: step + 1]:
            if s["to"] == "circle":
                audience |= readers
            elif s["to"] == "facilitators":
                audience |= self.roster.facilitators
            else:
                audience |= (set(s["members"]) & readers) - set(skip)
        return frozenset(audience - (set(avoid) - {caller}))


_UNREADABLE: Final = ps.Post(b"", b"", 0, 0, "unreadable", {})


def invite_proof(invite_seed: bytes, topic: bytes, member: bytes) -> bytes:
    """Prove possession of an invite token for ``member`` joining ``topic``."""
    return _sign.sign_with_seed(invite_seed, ms.INVITE_DOMAIN, ms.invite_proof_message(topic, member))
