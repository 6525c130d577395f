"""Every key one node holds for one circle, and the posts that wait for a key it lacks. Pure.

What each kind of key opens, and where it comes from:

* **roster keys**, by generation: roster operations. Generation 0 derives from the circle secret; later
  ones are opened from the operation that introduced them (``learn_roster_key``) or handed over in the
  welcome (the constructor's ``roster_keys``).
* **epoch keys**, by content epoch: post bodies. Opened from the roster operation that began the epoch,
  or from the history a share-history admission seals to a newcomer (``harvest``, after every fold).
* **call keys**, by call id: a call and its thread; **reply keys**, by check-in id: the private key
  that opens its replies (when we may read them) and the public one ours are sealed to. Both are taught
  by posts as sealing.py opens them (``learn``).
* the **self key**: our own copies of what we sealed to someone else (a reply, a plan share).

A post that needs a key we lack waits under a ``WaitKey`` (``wait``); learning keys hands back what
waited for them (``wake``), and since reopening one post may teach another key, ``wake`` runs a
worklist rather than a rescan. Writing draws every new key through the ``random_bytes`` it is given.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from ..crypto import kdf
from ..crypto import seal as _seal
from ..crypto.keys import Identity, x25519_public
from ..errors import RemoteProtocolError
from ..ids import TopicId
from ..wire import pack, unpack_strict
from . import membership as ms

ROSTER_EPOCH: Final = 0               # the founding roster-key generation
MAX_WELCOME_KEYS: Final = 500

#: What an unreadable post waits for: ("epoch", number), ("call", call id) or ("checkin", check-in id).
WaitKey = tuple[str, object]


@dataclass(frozen=True, slots=True)
class CallKey:
    """A call's key, taught by the call itself or by an escalation that reached us."""

    call: bytes
    key: bytes


@dataclass(frozen=True, slots=True)
class ReplyKey:
    """A check-in's reply key: ``public`` seals our answer; ``private`` (None: not ours to know) opens all."""

    checkin: bytes
    public: bytes
    private: bytes | None


Learned = CallKey | ReplyKey


def roster_generation_key(epoch_key: bytes) -> bytes:
    """The roster key of the generation an operation introduces, from the epoch key it opens."""
    return kdf.derive_key(epoch_key, kdf.ROSTER_GENERATION)


def seal_keys(key: bytes, to: Iterable[bytes], random_bytes: _seal.RandomBytes) -> list[list[bytes]]:
    """``key`` sealed to each member of ``to``, as ``[member, sealed]`` pairs in member order."""
    return [[m, _seal.seal_to(x25519_public(m), key, random_bytes)] for m in sorted(set(to))]


def key_field(value: object, what: str) -> bytes:
    """A 32-byte key from a peer's body; raises RemoteProtocolError for anything else."""
    if type(value) is not bytes or len(value) != _seal.KEY_SIZE:
        raise RemoteProtocolError(f"{what} is 32 bytes")
    return value


class Keyring:
    """The keys of one circle on this node (see the module docstring)."""

    def __init__(self, identity: Identity, secret: bytes, founder: bytes, topic: TopicId,
                 roster_keys: Mapping[int, bytes] | None = None) -> None:
        self.me = bytes(identity.node_id)
        self._private = identity.x25519_private
        #: roster-key generation -> key
        self.roster: dict[int, bytes] = {ROSTER_EPOCH: kdf.derive_key(secret, kdf.ROSTER, founder),
                                         **(roster_keys or {})}
        self.epochs: dict[int, bytes] = {}             # content epoch -> epoch key
        self.calls: dict[bytes, bytes] = {}            # call id -> call key
        self.replies: dict[bytes, bytes] = {}          # check-in id -> reply private key
        self.reply_pubs: dict[bytes, bytes] = {}       # check-in id -> reply public key (replying needs it)
        self.self_key = kdf.derive_key(identity.seed, kdf.SELF_COPY, topic)
        self._topic = topic
        self._waiting: dict[WaitKey, set[bytes]] = {}  # what unreadable posts wait for -> their ids

    # ---------------------------------------------------------------------------------------------
    # opening

    def body_key(self, epoch: int) -> bytes | None:
        """The key post bodies of ``epoch`` are encrypted with (derived from the epoch key and bound to
        this circle's topic), or None when we hold no key of that epoch."""
        epoch_key = self.epochs.get(epoch)
        return None if epoch_key is None else kdf.derive_key(epoch_key, kdf.EPOCH_BODY, self._topic)

    def open_sealed(self, sealed: object) -> bytes:
        """Open a sealed box addressed to this node. Raises RemoteProtocolError (DecryptionFailed when
        it is not ours or was altered)."""
        if type(sealed) is not bytes:
            raise RemoteProtocolError("a sealed box is bytes")
        return _seal.open_sealed(self._private, sealed)

    def open_key(self, sealed: object, what: str = "a sealed key") -> bytes:
        """A 32-byte key sealed to this node. Raises RemoteProtocolError."""
        return key_field(self.open_sealed(sealed), what)

    # ---------------------------------------------------------------------------------------------
    # learning

    def learn_roster_key(self, op: ms.RosterOp) -> bool:
        """Learn the roster-key generation ``op`` introduces, if it is ours to know: readers derive it from
        the epoch key sealed to them, relays open the copy sealed to them. True if we learned one; a copy
        we cannot open is someone else's business (never an error here)."""
        if "roster_keys" not in op.body:
            return False
        number = ms.generation_number(op.id)
        if number in self.roster:
            return False
        try:
            relay_copy = op.body["roster_keys"].get(self.me)
            if relay_copy is not None:
                key = self.open_key(relay_copy)
            elif self.me in op.body.get("keys", {}):
                key = roster_generation_key(self.open_key(op.body["keys"][self.me]))
            else:
                return False
        except RemoteProtocolError:
            return False
        self.roster[number] = key
        return True

    def harvest(self, roster: ms.Roster) -> list[WaitKey]:
        """Take the epoch keys a fold sealed to us, and the history a share-history admission sealed to
        us (earlier epoch keys, calls open to the whole circle). Returns the wait keys they satisfy. What
        we cannot open or parse is skipped: it was not for us, or its author wrote nonsense."""
        before = set(self.epochs)
        shared_calls: list[WaitKey] = []
        for number, epoch in roster.epochs.items():
            sealed = epoch.keys.get(self.me)
            if sealed is not None and number not in self.epochs:
                try:
                    self.epochs[number] = self.open_key(sealed, "an epoch key")
                except RemoteProtocolError:
                    pass
            shared = epoch.history.get(self.me)
            if shared is not None:
                try:
                    epochs, calls = _history(self.open_sealed(shared))
                except RemoteProtocolError:
                    continue
                for old, key in epochs:
                    self.epochs.setdefault(old, key)
                for call, key in calls:
                    self.calls.setdefault(call, key)
                    shared_calls.append(("call", call))
        return [("epoch", n) for n in set(self.epochs) - before] + shared_calls

    def learn(self, learned: Iterable[Learned]) -> list[WaitKey]:
        """Keep what an opened post taught; returns the wait keys it satisfies."""
        out: list[WaitKey] = []
        for item in learned:
            if isinstance(item, CallKey):
                self.calls.setdefault(item.call, item.key)
                out.append(("call", item.call))
            else:
                self.reply_pubs[item.checkin] = item.public
                if item.private is not None:
                    self.replies[item.checkin] = item.private
                    out.append(("checkin", item.checkin))
        return out

    # ---------------------------------------------------------------------------------------------
    # the worklist

    def wait(self, post_id: bytes, key: WaitKey) -> None:
        """File a post under the key it needs."""
        self._waiting.setdefault(key, set()).add(post_id)

    def wake(self, keys: list[WaitKey], reopen: Callable[[bytes], list[WaitKey]]) -> None:
        """Reopen (``reopen(post id)``, which returns the wait keys that post taught) what waited for
        ``keys``, and what those teach in turn."""
        while keys:
            key = keys.pop()
            for waiting in sorted(self._waiting.pop(key, ())):
                keys.extend(reopen(waiting))

    def forget(self, post_ids: Iterable[bytes]) -> None:
        """Stop waiting on behalf of posts that are gone."""
        gone = set(post_ids)
        for waiting in self._waiting.values():
            waiting.difference_update(gone)

    # ---------------------------------------------------------------------------------------------
    # writing: which roster-key generation, and the key material roster operations carry

    def sealing_generation(self, roster: ms.Roster) -> int:
        """The current generation if we hold its key, else the newest (in fold order) that we hold."""
        if roster.generation in self.roster:
            return roster.generation
        held = [g for g in roster.generations.values() if g.number in self.roster]
        return max(held, key=lambda g: g.position).number if held else ROSTER_EPOCH

    def repair_generation(self, roster: ms.Roster, ops: Mapping[bytes, ms.RosterOp]) -> int:
        """The roster-key generation a rotation that repairs ``roster_key_missing`` is sealed under: the
        newest one that every member lacking the current generation holds, i.e. that was introduced in
        the causal past of each one's admission (its welcome carried every generation its admitter held).
        Sealed under the current generation, the repair would be unreadable to exactly those it is for.
        An ex-member who held that older generation can read this one rotation: who the members are,
        never a key (docs/threat-model.md)."""
        current = roster.generations.get(roster.generation)
        epoch = roster.epochs.get(ms.epoch_number(current.op)) if current is not None else None
        holders = (set(current.keys) | (set(epoch.keys) if epoch is not None else set())) if current else set()
        candidates: set[int] | None = None
        for member in set(roster.members) - holders:
            past = _ancestors(ops, roster.members[member].admitted)
            held = {g.number for g in roster.generations.values() if g.op in past}
            candidates = held if candidates is None else candidates & held
        usable = [roster.generations[g] for g in candidates or () if g in self.roster]
        return max(usable, key=lambda g: g.position).number if usable else ROSTER_EPOCH

    def for_joiner(self, roster: ms.Roster) -> list[list[Any]]:
        """Every roster-key generation we hold, for a welcome: a joiner reads the whole roster history
        (not the secret alone: later generations are random, so the secret cannot derive them)."""
        def position(number: int) -> int:      # generation numbers are random: order by the fold
            gen = roster.generations.get(number)
            return -1 if gen is None else gen.position

        held = sorted(self.roster.items(), key=lambda item: (position(item[0]), item[0]))
        return [[n, k] for n, k in held][-MAX_WELCOME_KEYS:]      # the newest, if there are ever more

    def new_epoch_fields(self, readers: Iterable[bytes], random_bytes: _seal.RandomBytes) -> dict[str, Any]:
        """A new epoch key, sealed to ``readers`` and us."""
        return {"keys": seal_keys(_seal.random_key(random_bytes), set(readers) | {self.me}, random_bytes)}

    def new_generation_fields(self, readers: Iterable[bytes], relays: Iterable[bytes],
                              random_bytes: _seal.RandomBytes) -> dict[str, Any]:
        """A new epoch key for ``readers`` (and us) and with it a new roster-key generation: readers derive
        the roster key from that epoch key (``roster_generation_key``), ``relays`` get it sealed. Whoever is
        in neither (the departing member) cannot read the roster operations that follow."""
        epoch_key = _seal.random_key(random_bytes)
        return {"keys": seal_keys(epoch_key, set(readers) | {self.me}, random_bytes),
                "roster_keys": seal_keys(roster_generation_key(epoch_key), relays, random_bytes)}

    def history_for(self, member: bytes, calls: Iterable[bytes], random_bytes: _seal.RandomBytes) -> list[list[bytes]]:
        """Earlier epoch keys, and the keys of ``calls`` (those the whole circle could read), sealed to
        a new member: only when the circle shares history."""
        history = {"epochs": [[n, k] for n, k in sorted(self.epochs.items())],
                   "calls": [[c, self.calls[c]] for c in sorted(calls) if c in self.calls]}
        return [[member, _seal.seal_to(x25519_public(member), pack(history), random_bytes)]]


def _history(raw: bytes) -> tuple[list[tuple[int, bytes]], list[tuple[bytes, bytes]]]:
    """The (epoch, key) and (call, key) pairs of a history sealed to us (``Keyring.history_for``). Pairs
    of the wrong types are skipped; a body of the wrong shape raises RemoteProtocolError."""
    history = unpack_strict(raw, "history")
    if type(history) is not dict or type(history.get("epochs")) is not list or type(history.get("calls")) is not list:
        raise RemoteProtocolError("a history is a map of epoch and call key lists")
    pairs = [*history["epochs"], *history["calls"]]
    if not all(type(pair) is list and len(pair) == 2 for pair in pairs):
        raise RemoteProtocolError("a history lists [number or id, key] pairs")
    epochs = [(n, k) for n, k in history["epochs"] if type(n) is int and type(k) is bytes and len(k) == 32]
    calls = [(c, k) for c, k in history["calls"] if type(c) is bytes and type(k) is bytes and len(k) == 32]
    return epochs, calls


def _ancestors(ops: Mapping[bytes, ms.RosterOp], op_id: bytes) -> set[bytes]:
    seen: set[bytes] = set()
    todo = [op_id]
    while todo:
        current = todo.pop()
        op = ops.get(current)
        if op is None or current in seen:
            continue
        seen.add(current)
        todo.extend(op.parents)
    return seen
