"""The writing half of a circle: new roster operations and posts, sealed for the right readers. Pure.

``Circle`` (circle.py) inherits this mixin; the attributes and the two methods declared first below are
its own. Here: the roster-key generation new roster operations are sealed under (``roster_key``;
``repair_generation`` when a member lacks the current one), the key material a membership change
carries (``new_epoch_fields``, ``new_generation_fields``, ``history_for``, ``departure_fields``,
``roster_keys_for_joiner`` for a welcome), and the envelopes themselves: ``roster_envelope`` and
``post_envelope`` (call keys sealed to the call's audience, thread posts boxed with them, check-ins with
their reply key, replies and plan shares in sealed boxes bound to their author; circle.py's theory of
operation describes the scheme and opens what this writes). Writing reads the circle's folded state and
keys but never judges or opens a received envelope: that is circle.py. The caller supplies ``seq`` and
``now``; the lamport comes from what the circle has seen, saturating at ``LAMPORT_CAP``, the bound
circle.py's verdicts enforce.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

from .. import envelope as env
from ..crypto import kdf
from ..crypto import seal as _seal
from ..crypto.keys import Identity, x25519_public
from ..errors import BadInput, LocalProtocolError
from ..ids import TopicId
from ..wire import pack
from . import membership as ms
from . import posts as ps
from . import roster_body as rb
from .chains import Chains

ROSTER_EPOCH: Final = 0               # the founding roster-key generation
NEVER: Final = env.MAX_UINT
#: Highest lamport a post may carry: far beyond honest use (a million posts a second for 12 days), so
#: every node decides alike, and far below 2**63, so local counters never overflow.
LAMPORT_CAP: Final = 2**40
MAX_WELCOME_KEYS: Final = 500
URGENT_KINDS: Final = frozenset({"call", "offer", "claim", "accept", "escalate", "release"})


def roster_generation_key(epoch_key: bytes) -> bytes:
    """The roster key of the generation an operation introduces, from the epoch key it opens."""
    return kdf.derive_key(epoch_key, kdf.ROSTER_GENERATION)


class Sealing:
    """New envelopes of one circle (mixin of ``Circle``)."""

    identity: Identity
    me: bytes
    topic: TopicId
    chains: Chains
    max_lamport: int
    _roster_keys: dict[int, bytes]
    _ops: dict[bytes, ms.RosterOp]
    _epoch_keys: dict[int, bytes]
    _call_keys: dict[bytes, bytes]
    _reply_pubs: dict[bytes, bytes]
    _self_key: bytes

    @property
    def roster(self) -> ms.Roster:
        raise NotImplementedError

    def _body_key(self, epoch_key: bytes) -> bytes:
        raise NotImplementedError

    # ---------------------------------------------------------------------------------------------
    # keys for new envelopes

    @property
    def roster_key(self) -> bytes:
        """The key new roster operations are sealed under (the current generation's, when we hold it)."""
        return self._roster_keys[self._sealing_generation()]

    def _sealing_generation(self) -> int:
        """The current generation if we hold its key, else the newest (in fold order) that we hold."""
        roster = self.roster
        if roster.generation in self._roster_keys:
            return roster.generation
        held = [g for g in roster.generations.values() if g.number in self._roster_keys]
        return max(held, key=lambda g: g.position).number if held else ROSTER_EPOCH

    def repair_generation(self) -> int:
        """The roster-key generation a rotation that repairs ``roster_key_missing`` is sealed under: the
        newest one that every member lacking the current generation holds, i.e. that was introduced in
        the causal past of each one's admission (its welcome carried every generation its admitter held).
        Sealed under the current generation, the repair would be unreadable to exactly those it is for.
        An ex-member who held that older generation can read this one rotation: who the members are,
        never a key (docs/threat-model.md)."""
        roster = self.roster
        current = roster.generations.get(roster.generation)
        epoch = roster.epochs.get(ms.epoch_number(current.op)) if current is not None else None
        holders = (set(current.keys) | (set(epoch.keys) if epoch is not None else set())) if current else set()
        candidates: set[int] | None = None
        for member in set(roster.members) - holders:
            past = self._ancestors(roster.members[member].admitted)
            held = {g.number for g in roster.generations.values() if g.op in past}
            candidates = held if candidates is None else candidates & held
        usable = [roster.generations[g] for g in candidates or () if g in self._roster_keys]
        return max(usable, key=lambda g: g.position).number if usable else ROSTER_EPOCH

    def _ancestors(self, op_id: bytes) -> set[bytes]:
        seen: set[bytes] = set()
        todo = [op_id]
        while todo:
            current = todo.pop()
            op = self._ops.get(current)
            if op is None or current in seen:
                continue
            seen.add(current)
            todo.extend(op.parents)
        return seen

    def roster_keys_for_joiner(self) -> list[list[Any]]:
        """Every roster-key generation we hold, for a welcome: a joiner reads the whole roster history
        (not the secret alone: later generations are random, so the secret cannot derive them)."""
        roster = self.roster

        def position(number: int) -> int:      # generation numbers are random: order by the fold
            gen = roster.generations.get(number)
            return -1 if gen is None else gen.position

        held = sorted(self._roster_keys.items(), key=lambda item: (position(item[0]), item[0]))
        return [[n, k] for n, k in held][-MAX_WELCOME_KEYS:]      # the newest, if there are ever more

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
        return self._seal(generation, self._roster_keys[generation], pack(body), seq=seq, now=now, expires=NEVER,
                          lane=env.Lane.URGENT, lamport=lamport, prev=prev)

    def new_generation_fields(self, readers: Iterable[bytes], relays: Iterable[bytes]) -> dict[str, Any]:
        """A new epoch key for ``readers`` (and us) and with it a new roster-key generation: readers derive
        the roster key from that epoch key (``roster_generation_key``), ``relays`` get it sealed. Whoever is
        in neither (the departing member) cannot read the roster operations that follow."""
        epoch_key = _seal.random_key()
        return {"keys": self.sealed_keys(epoch_key, set(readers) | {self.me}),
                "roster_keys": self.sealed_keys(roster_generation_key(epoch_key), relays)}

    def departure_fields(self, member: bytes) -> dict[str, Any]:
        """``last_seq``/``last_id`` of ``member``: the last envelope of theirs this node accepted."""
        last_seq, last_id = self.chains.top(member)
        return {"last_seq": last_seq, "last_id": last_id}

    def sealed_keys(self, key: bytes, to: Iterable[bytes]) -> list[list[bytes]]:
        return [[m, _seal.seal_to(x25519_public(m), key)] for m in sorted(set(to))]

    def new_epoch_fields(self, readers: Iterable[bytes]) -> dict[str, Any]:
        return {"keys": self.sealed_keys(_seal.random_key(), set(readers) | {self.me})}

    def history_for(self, member: bytes, calls: Iterable[bytes] = ()) -> list[list[bytes]]:
        """Earlier epoch keys, and the keys of ``calls`` (those the whole circle could read), sealed to
        a new member: only when the circle shares history."""
        history = {"epochs": [[n, k] for n, k in sorted(self._epoch_keys.items())],
                   "calls": [[c, self._call_keys[c]] for c in sorted(calls) if c in self._call_keys]}
        return [[member, _seal.seal_to(x25519_public(member), pack(history))]]

    def post_envelope(self, kind: str, body: Mapping[str, Any], *, seq: int, now: int,
                      audience: Iterable[bytes] = (), lane: env.Lane | None = None,
                      prev: bytes | None = None) -> env.Envelope:
        """Encrypt and seal one post under the current epoch. Raises BadInput when this node cannot post."""
        if self.roster.role(self.me) in (None, "relay"):
            raise BadInput("only members of a circle can post to it")
        epoch = self.roster.current
        if epoch is None or epoch not in self._epoch_keys or self.roster.needs_rotation:
            raise LocalProtocolError("rotate the epoch before posting (Circle.needs_rotation)")
        body = ps.validate(kind, dict(body))
        if kind == "checkin" and body["call"] is None and self.me not in self.roster.epochs[epoch].facilitators:
            # every node reads check-in authority from the epoch's facilitators: a post they would all
            # find unreadable must not go out (Registry.post rotates first for a newly promoted one)
            raise BadInput("only facilitators send check-ins to the circle")
        expires = now + self.roster.settings.retention_days * 86_400
        inner = dict(body)
        if kind == "checkin":
            reply_priv = _seal.random_key()
            inner["reply_pub"] = _seal.x25519_public_of(reply_priv)
            if body["visibility"] == "circle" or body["call"] is not None:
                inner["reply_priv"] = reply_priv    # in a call's thread: whoever reads the call reads replies
            else:
                inner["reply_keys"] = self.sealed_keys(reply_priv, self.roster.facilitators | {self.me})
        outer: dict[str, Any]
        if kind == "call":
            call_key = _seal.random_key()
            outer = {"k": kind, **self._call_key_fields(call_key, set(audience) | {self.me}),
                     "box": _seal.box(call_key, pack(inner), b"call")}
        elif kind in ps.THREAD_KINDS and body.get("call") is not None:
            call = bytes(body["call"])
            thread_key = self._call_keys.get(call)
            if thread_key is None:
                raise BadInput("this node cannot read that call, so it cannot post in its thread")
            outer = {"k": kind, "call": call, "box": _seal.box(thread_key, pack(inner), call)}
            if kind == "escalate":
                outer.update(self._call_key_fields(thread_key, set(audience)))
        elif kind == "plan_share" and body["to"] == "call":
            recipient = sorted(set(audience))
            if len(recipient) != 1:
                raise LocalProtocolError("a plan shared in a call goes to exactly one person (its claimer)")
            sealed_plan = pack({**inner, "by": self.me, "for": recipient[0]})   # bound: see _bound
            outer = {"k": kind, "for": recipient[0],
                     "sealed": _seal.seal_to(x25519_public(recipient[0]), sealed_plan),
                     "mine": _seal.box(self._self_key, sealed_plan, b"plan")}
        elif kind == "checkin_reply":
            checkin = bytes(body["checkin"])
            reply_pub = self._reply_pubs.get(checkin)
            if reply_pub is None:
                raise BadInput("this node cannot see that check-in, so it cannot answer it")
            sealed_reply = pack({**inner, "by": self.me})                       # bound: see _bound
            outer = {"k": kind, "checkin": checkin, "box": _seal.seal_to(reply_pub, sealed_reply),
                     "mine": _seal.box(self._self_key, sealed_reply, checkin)}
        else:
            outer = {"k": kind, **inner}
            if kind == "presence" and body.get("until") is not None:
                expires = min(expires, max(now + 1, int(body["until"])))
        lane = lane if lane is not None else (env.Lane.URGENT if kind in URGENT_KINDS else env.Lane.NORMAL)
        return self._seal(epoch, self._body_key(self._epoch_keys[epoch]), pack(outer), seq=seq, now=now, expires=expires,
                          lane=lane, prev=prev)

    def _call_key_fields(self, call_key: bytes, audience: set[bytes]) -> dict[str, Any]:
        """A call key for the whole circle rides in the epoch-encrypted body (every reader holds that
        key anyway: ~100 bytes instead of a sealed box per reader); for a narrower audience it is
        sealed to each person in it."""
        if self.roster.readers <= audience:
            return {"call_key": call_key}
        return {"keys": self.sealed_keys(call_key, audience)}

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
                        lane=lane, prev=prev)
