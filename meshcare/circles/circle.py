"""One circle as this node sees it: keys, roster, posts and verdicts on envelopes. Pure. New envelopes are
sealed by its mixin ``Sealing`` (sealing.py).

Theory of operation
-------------------
A circle is named by its founder and a 32-byte secret. From them: the ``topic`` (what links and stores
call it) and the ``roster key`` (members and relays: membership operations, epoch 0). Content is
encrypted with the current **epoch key** (members only; see membership.py for how epochs rotate).

Inside an epoch-encrypted body, a call for support adds a second layer: a random **call key** sealed to
the call's audience (the first step of the ladder the caller approved), and every post in that call's
thread is boxed with it. Escalating seals the same call key to the next step's audience. So a member
outside the audience cannot read the call or its replies; escalation never reaches beyond the ladder.

Check-in replies are sealed to the check-in's reply key, whose private half goes to the facilitators
(visibility "facilitators") or sits in the check-in itself (visibility "circle"); each reply also carries
a copy for its author. Who answered is visible to the circle (the envelope's author); what they answered
only to whom the check-in said.

Verdicts on received envelopes (the daemon has checked the signature): ``ACCEPT`` (store and forward),
``REJECT`` (never stored, charges the link that sent it), ``DEFER`` (cannot decide yet: its epoch, its
roster-key generation, its author's admission or the chain link that places it has not arrived, or it was
created more than ``FUTURE_SLACK`` ahead of our clock; the daemon keeps it aside and asks again later),
``DROP`` (an equivocated post: not stored, not charged, since an honest peer may forward one copy).
Bounds no author chooses around: a post's lamport is at most ``LAMPORT_CAP``, its ``expires`` at most
``created`` + the circle's retention + ``EXPIRY_SLACK``, and it is refused once older than the retention;
roster operations never expire. Two posts of a member at one seq are equivocation: both dropped on every
node, whichever came first, and counted (``equivocations``); a departed author's are judged by the chain
its departure named. See chains.py and docs/protocol.md, "Chains and equivocation".
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
from .chains import Chains
from .sealing import LAMPORT_CAP, NEVER, ROSTER_EPOCH, Sealing, roster_generation_key

#: How far above its own counter a node lets one envelope move it.
LAMPORT_STEP: Final = 2**16
FUTURE_SLACK: Final = 600             # s: a post created further ahead of our clock waits (fast clock)
EXPIRY_SLACK: Final = 3600            # s: tolerated beyond created + retention
MAX_LOCKED: Final = 2000              # roster envelopes held for a generation key we lack
MAX_EQUIVOCATED: Final = 4096         # (author, seq) pairs of equivocated posts remembered
FACILITATOR_KINDS: Final = frozenset({"checkin"})


#: What an unreadable post waits for: ("epoch", number), ("call", call id) or ("checkin", check-in id).
WaitKey = tuple[str, object]


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


class Circle(Sealing):
    """The state of one circle on this node. Feed it accepted envelopes with ``ingest``."""

    def __init__(self, identity: Identity, secret: bytes, founder: bytes,
                 roster_keys: Mapping[int, bytes] | None = None) -> None:
        if len(secret) != 32 or len(founder) != 32:
            raise LocalProtocolError("a circle secret and its founder are 32 bytes each")
        self.identity = identity
        self.me = bytes(identity.node_id)
        self.secret = secret
        self.founder = founder
        self.topic = circle_topic(secret, founder)
        #: roster-key generation -> key: 0 from the secret; later ones opened from roster operations
        #: sealed to us, or handed over in the welcome (``roster_keys``)
        self._roster_keys: dict[int, bytes] = {ROSTER_EPOCH: kdf.derive_key(secret, kdf.ROSTER, founder),
                                               **(roster_keys or {})}
        self._locked: dict[bytes, env.Envelope] = {}    # roster envelopes under a generation we lack
        self.chains = Chains()
        #: (author, seq) of posts seen twice with different contents: every copy is dropped (bounded)
        self._equivocated: dict[tuple[bytes, int], None] = {}
        self.purge_due = False                          # an equivocation asks for purge_unacceptable
        self._self_key = kdf.derive_key(identity.seed, kdf.SELF_COPY, self.topic)
        self._ops: dict[bytes, ms.RosterOp] = {}
        self._content: dict[bytes, _Opened] = {}
        self._epoch_keys: dict[int, bytes] = {}
        self._call_keys: dict[bytes, bytes] = {}
        self._reply_keys: dict[bytes, bytes] = {}      # check-in id -> reply private key
        self._reply_pubs: dict[bytes, bytes] = {}      # check-in id -> reply public key (replying needs it)
        self._waiting: dict[WaitKey, set[bytes]] = {}  # what unreadable posts wait for -> their ids
        self._roster = ms.Roster()
        self._stale = False                             # roster operations arrived since the last fold
        self.max_lamport = 0
        self._version = 0                               # bumps whenever anything visible changes

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
            # the first would let nodes disagree for ever); the held one goes at the next purge
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
        if e.epoch not in self._roster_keys:
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
        past: dict[bytes, ms.RosterOp] = {op.id: op}
        todo = list(op.parents)
        while todo:
            parent = todo.pop()
            if parent in past:
                continue
            known = self._ops.get(parent)
            if known is None:
                return Verdict.DEFER
            past[parent] = known
            todo.extend(known.parents)
        folded = rf.fold(past.values(), self.founder, self.topic)
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
            if e.epoch not in self._roster_keys:
                # a start-up re-ingest may bring it before the operation with its key: keep it aside
                if len(self._locked) < MAX_LOCKED:
                    self._locked[e.id] = e
                return False
            try:
                op = self._roster_op(e)
            except RemoteProtocolError:
                return False
            self._ops[e.id] = op
            self.chains.add(e)
            self._stale = True              # folded once, when next read: a burst costs one fold
            self._version += 1
            if self._learn_roster_key(op):
                for waiting in [w for w in self._locked.values() if w.epoch in self._roster_keys]:
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
        if gone:
            self._version += 1
        return gone

    def expire(self, now: int) -> int:
        """Drop content whose time is up (the store deletes it too); returns how many went."""
        gone = [i for i, item in self._content.items() if item.envelope.is_expired(now)]
        for i in gone:
            self.chains.forget(self._content.pop(i).envelope)
        for waiting in self._waiting.values():
            waiting.difference_update(gone)
        if gone:
            self._version += 1
        return len(gone)

    def _roster_op(self, e: env.Envelope) -> ms.RosterOp:
        kind, body = rb.validate(unpack_strict(env.open_body(e, self._roster_keys[e.epoch]), "roster operation"))
        return ms.RosterOp(e.id, e.author, e.lamport, e.created, e.seq, kind, body, e.prev, e.epoch)

    def _learn_roster_key(self, op: ms.RosterOp) -> bool:
        """Learn the roster-key generation ``op`` introduces, if it is ours to know: readers derive it from
        the epoch key sealed to them, relays open the copy sealed to them. True if we learned one."""
        if "roster_keys" not in op.body:
            return False
        number = ms.generation_number(op.id)
        if number in self._roster_keys:
            return False
        try:
            relay_copy = op.body["roster_keys"].get(self.me)
            if relay_copy is not None:
                key = _seal.open_sealed(self.identity.x25519_private, relay_copy)
            elif self.me in op.body.get("keys", {}):
                key = roster_generation_key(_seal.open_sealed(self.identity.x25519_private, op.body["keys"][self.me]))
            else:
                return False
        except RemoteProtocolError:
            return False
        if len(key) != _seal.KEY_SIZE:
            return False
        self._roster_keys[number] = key
        return True

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
        before = set(self._epoch_keys)
        shared_calls: list[WaitKey] = []
        self.roster = rf.fold(self._ops.values(), self.founder, self.topic)
        for number, epoch in self.roster.epochs.items():
            sealed = epoch.keys.get(self.me)
            if sealed is not None and number not in self._epoch_keys:
                try:
                    self._epoch_keys[number] = _seal.open_sealed(self.identity.x25519_private, sealed)
                except RemoteProtocolError:
                    pass
            shared = epoch.history.get(self.me)
            if shared is not None:
                try:
                    history = unpack_strict(_seal.open_sealed(self.identity.x25519_private, shared))
                    for old, key in history["epochs"]:
                        if type(old) is int and type(key) is bytes and len(key) == 32:
                            self._epoch_keys.setdefault(old, key)
                    for call, key in history["calls"]:
                        if type(call) is bytes and type(key) is bytes and len(key) == 32:
                            self._call_keys.setdefault(call, key)
                            shared_calls.append(("call", call))
                except (RemoteProtocolError, TypeError, ValueError, KeyError):
                    pass
        self._wake([("epoch", n) for n in set(self._epoch_keys) - before] + shared_calls)

    def _open(self, item: _Opened) -> list[WaitKey]:
        """Decrypt and validate one content envelope. Returns the wait keys it satisfied (keys it taught
        us). When it cannot be read yet, it registers under the key it waits for and returns []."""
        e = item.envelope
        epoch_key = self._epoch_keys.get(e.epoch)
        if epoch_key is None:
            return self._wait(item, ("epoch", e.epoch))
        try:
            outer = unpack_strict(env.open_body(e, self._body_key(epoch_key)), "post")
            if type(outer) is not dict or type(outer.get("k")) is not str:
                raise RemoteProtocolError("a post body is a map with a kind")
            kind: str = outer["k"]
            learned: list[WaitKey] = []
            if kind == "call":
                sealed = dict(_pairs(outer.get("keys", [])))
                known = self._call_keys.get(e.id) or _key_or_none(outer.get("call_key"))
                if self.me not in sealed and known is None:
                    return self._wait(item, ("call", e.id))   # not in the audience (yet: an escalation may add us)
                call_key = known or _seal.open_sealed(self.identity.x25519_private, sealed[self.me])
                inner = _map(_seal.unbox(call_key, _bytes(outer.get("box")), b"call"))
                if e.id not in self._call_keys:
                    self._call_keys[e.id] = call_key
                learned.append(("call", e.id))
            elif outer.get("call") is not None and "box" in outer:
                call = _bytes(outer["call"])
                call_key_or_none = self._call_keys.get(call)
                if call_key_or_none is None and kind == "escalate":
                    # only the caller widens a call: trust the key an escalation carries only once the
                    # call's own envelope shows the same author (another member could otherwise plant a
                    # wrong key and keep the call closed for someone)
                    origin = self._content.get(call)
                    if origin is None:
                        return self._wait(item, ("call", call))
                    if origin.envelope.author != e.author:
                        raise RemoteProtocolError("an escalation by someone other than the caller")
                    call_key_or_none = _key_or_none(outer.get("call_key"))
                    if call_key_or_none is None:
                        sealed = dict(_pairs(outer.get("keys")))
                        if self.me not in sealed:
                            return self._wait(item, ("call", call))
                        call_key_or_none = _seal.open_sealed(self.identity.x25519_private, sealed[self.me])
                    self._call_keys[call] = call_key_or_none
                    learned.append(("call", call))
                if call_key_or_none is None:
                    return self._wait(item, ("call", call))
                inner = _map(_seal.unbox(call_key_or_none, _bytes(outer["box"]), call))
                if inner.get("call") != call:
                    raise RemoteProtocolError("a thread post names another call inside")
            elif kind == "checkin_reply":
                inner = self._open_reply(e, outer)
                if inner.get("option") is None:
                    # counts as answered now; read once (if ever) this node learns the reply key
                    item.post = ps.Post(e.id, e.author, e.created, e.lamport, kind,
                                        ps.opaque_reply(_bytes(outer.get("checkin"))))
                    self._version += 1
                    return self._wait(item, ("checkin", inner["checkin"]), keep_post=True)
            elif kind == "plan_share" and outer.get("for") is not None:
                if e.author == self.me:
                    inner = _map(_seal.unbox(self._self_key, _bytes(outer.get("mine")), b"plan"))
                elif outer["for"] == self.me:
                    inner = _map(_seal.open_sealed(self.identity.x25519_private, _bytes(outer.get("sealed"))))
                else:
                    item.post = _UNREADABLE         # shared with someone else only
                    return []
                inner = _bound(inner, e.author, {"for": outer["for"]})
            else:
                inner = {k: v for k, v in outer.items() if k != "k"}
            if kind == "checkin":
                if self._learn_reply_key(e.id, inner):
                    learned.append(("checkin", e.id))
                if inner.get("call") is None and e.author not in self.roster.epochs[e.epoch].facilitators:
                    raise RemoteProtocolError("only facilitators post check-ins to the circle")
                inner = {k: v for k, v in inner.items() if k not in _REPLY_FIELDS}
            body = ps.validate(kind, inner)
        except (RemoteProtocolError, TypeError, ValueError, KeyError):
            item.post = _UNREADABLE
            return []
        item.post = ps.Post(e.id, e.author, e.created, e.lamport, kind, body)
        self._version += 1
        return learned

    def _wait(self, item: _Opened, key: WaitKey, *, keep_post: bool = False) -> list[WaitKey]:
        if not keep_post:
            item.post = None
        self._waiting.setdefault(key, set()).add(item.envelope.id)
        return []

    def _wake(self, keys: list[WaitKey]) -> None:
        """Re-open what waited for ``keys``, and what those teach in turn (a worklist, not a rescan)."""
        while keys:
            key = keys.pop()
            for waiting in sorted(self._waiting.pop(key, ())):
                item = self._content.get(waiting)
                if item is not None:
                    keys.extend(self._open(item))

    def _learn_reply_key(self, checkin: bytes, fields: Mapping[str, Any]) -> bool:
        if fields.get("reply_priv") is not None:
            self._reply_keys[checkin] = _bytes(fields["reply_priv"])
        else:
            sealed = dict(_pairs(fields.get("reply_keys", [])))
            if self.me not in sealed:
                self._reply_pubs[checkin] = _bytes(fields.get("reply_pub"))
                return False
            self._reply_keys[checkin] = _seal.open_sealed(self.identity.x25519_private, sealed[self.me])
        self._reply_pubs[checkin] = _bytes(fields.get("reply_pub"))
        return True

    def _open_reply(self, e: env.Envelope, outer: Mapping[str, Any]) -> dict[str, Any]:
        checkin = _bytes(outer.get("checkin"))
        reply_priv = self._reply_keys.get(checkin)
        raw: bytes | None = None
        if e.author == self.me and outer.get("mine") is not None:
            raw = _seal.unbox(self._self_key, _bytes(outer["mine"]), checkin)
        elif reply_priv is not None:
            raw = _seal.open_sealed(reply_priv, _bytes(outer.get("box")))
        if raw is None:
            return {"checkin": checkin, "option": None}
        inner = _map(raw)
        if inner.get("checkin") != checkin:
            raise RemoteProtocolError("a reply names another check-in inside")
        return _bound(inner, e.author, {})

    # ---------------------------------------------------------------------------------------------
    # reading

    @property
    def posts(self) -> list[ps.Post]:
        if self._stale:
            self._refold()
        return [i.post for i in self._content.values() if i.post is not None and i.post is not _UNREADABLE]

    def epoch_of(self, post_id: bytes) -> int | None:
        """The epoch a content envelope was sealed under (who could read it then), or None."""
        item = self._content.get(post_id)
        return None if item is None else item.envelope.epoch

    def names_ever(self) -> dict[bytes, str]:
        """Everyone ever admitted, with the last name the roster gave them (kept after they leave or
        are removed, so history still names them)."""
        roster, out = self.roster, {}
        for op_id in roster.order:
            op = self._ops[op_id]
            if op_id in roster.ignored:
                continue
            if op.kind == "create":
                out[op.author] = str(op.body["member_name"])
            elif op.kind == "admit":
                out[bytes(op.body["member"])] = str(op.body["name"])
        return out

    def departure(self, member: bytes) -> str | None:
        """How ``member`` last went, by the folded roster: ``"removed"``, ``"left"``, or None (never
        admitted, or a member now)."""
        roster = self.roster
        if member in roster.members or member not in roster.ever:
            return None
        how = None
        for op_id in roster.order:
            op = self._ops[op_id]
            if op_id in roster.ignored:
                continue
            if op.kind == "remove" and op.body.get("member") == member:
                how = "removed"
            elif op.kind == "leave" and op.author == member:
                how = "left"
        return how

    def content_ids(self) -> list[bytes]:
        return list(self._content)

    def roster_operation(self, op_id: bytes) -> ms.RosterOp | None:
        """A roster operation this circle holds, by id."""
        return self._ops.get(op_id)

    def roster_envelope_count(self) -> int:
        return len(self._ops)

    def can_read(self) -> bool:
        return self.roster.current is not None and self.roster.current in self._epoch_keys

    def call_audience(self, caller: bytes, ladder: Iterable[Mapping[str, Any]], step: int) -> frozenset[bytes]:
        """Who a call's ladder reaches at ``step`` (cumulative; never beyond what the caller approved)."""
        readers = self.roster.readers
        audience = {caller}
        for s in list(ladder)[: step + 1]:
            if s["to"] == "circle":
                audience |= readers
            elif s["to"] == "facilitators":
                audience |= self.roster.facilitators
            else:
                audience |= set(s["members"]) & readers
        return frozenset(audience)

    def _body_key(self, epoch_key: bytes) -> bytes:
        """Bodies are encrypted with a key derived from the epoch key and bound to this circle's topic."""
        return kdf.derive_key(epoch_key, kdf.EPOCH_BODY, self.topic)


_UNREADABLE: Final = ps.Post(b"", b"", 0, 0, "unreadable", {})


_REPLY_FIELDS: Final = frozenset({"reply_pub", "reply_priv", "reply_keys"})


def _bound(inner: dict[str, Any], author: bytes, targets: Mapping[str, object]) -> dict[str, Any]:
    """A sealed box's plaintext, checked to be bound to the envelope that carries it: ``by`` must be
    the envelope's (signed) author and every field of ``targets`` (the recipient) must match what the
    box says inside (the check-in or call is checked by the caller). Without this, a member could copy
    another member's sealed reply or plan share into an envelope of its own and have it read as
    theirs. Returns the plaintext without the binding fields; raises RemoteProtocolError on a
    mismatch (the post is unreadable, never counted)."""
    if inner.get("by") != author:
        raise RemoteProtocolError("a sealed box written by someone other than the envelope's author")
    for name, value in targets.items():
        if inner.get(name) != value:
            raise RemoteProtocolError(f"a sealed box meant for another {name!r}")
    return {k: v for k, v in inner.items() if k != "by" and k not in targets}


def _map(raw: bytes) -> dict[str, Any]:
    value = unpack_strict(raw, "post")
    if type(value) is not dict:
        raise RemoteProtocolError("a post body is a map")
    return value


def _key_or_none(value: object) -> bytes | None:
    if value is None:
        return None
    if type(value) is not bytes or len(value) != _seal.KEY_SIZE:
        raise RemoteProtocolError("a call key is 32 bytes")
    return value


def _bytes(value: object) -> bytes:
    if type(value) is not bytes:
        raise RemoteProtocolError("expected bytes")
    return value


def _pairs(value: object) -> list[tuple[bytes, bytes]]:
    if type(value) is not list:
        raise RemoteProtocolError("expected a list of [member, sealed] pairs")
    out = []
    for pair in value:
        if type(pair) is not list or len(pair) != 2 or type(pair[0]) is not bytes or type(pair[1]) is not bytes:
            raise RemoteProtocolError("expected [member, sealed] pairs")
        out.append((pair[0], pair[1]))
    return out


def invite_proof(invite_seed: bytes, topic: bytes, member: bytes) -> bytes:
    """Prove possession of an invite token for ``member`` joining ``topic``."""
    return _sign.sign_with_seed(invite_seed, ms.INVITE_DOMAIN, ms.invite_proof_message(topic, member))
