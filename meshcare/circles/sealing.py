"""How a post's body is sealed inside its epoch-encrypted envelope: one scheme per way, in a table. Pure.

Theory of operation
-------------------
Every post's envelope is encrypted with the current **epoch key** (members only; see membership.py for
how epochs rotate). Inside that body, most posts are plain (``plain``). The others add a second layer:

* ``call``: a random **call key** sealed to the call's audience (the first step of the ladder the caller
  approved; for the whole circle it rides in the body instead, which every reader can open anyway).
* ``thread``: every post in a call's thread is boxed with the call key; escalating seals the same call
  key to the next step's audience. So a member outside the audience cannot read the call or its
  replies, and escalation never reaches beyond the ladder. Only the caller widens a call.
* ``checkin``: a check-in carries a **reply key** pair; its private half goes to the facilitators
  (visibility "facilitators") or sits in the check-in itself (visibility "circle", or in a call's
  thread, which is then boxed as ``thread`` posts are).
* ``checkin_reply``: sealed to the check-in's reply key, with a copy for its author under the author's
  self key. Who answered is visible to the circle (the envelope's author); what they answered only to
  whom the check-in said.
* ``plan_share``: a plan shared in a call, sealed to its one recipient, with a copy for its author.
* ``private``: the posts of ``posts.PRIVATE_KINDS`` (ladder requests, private requests to facilitators,
  safety timers, ...). A fresh content key boxes the body, *and its kind*; the key is sealed to each
  member the body's ``to`` names (anonymous sealed boxes, sorted, so the list names nobody) and boxed
  for the author under the author's self key. The circle sees a post of kind ``private`` and how many
  boxes it carries, never what it is or whom it is for; a reader tries its key on each box (at most
  ``MAX_PRIVATE_TO``). The body's ``to`` must name exactly as many people as there are boxes, and the
  reader among them, so nobody reads a post that misstates its readers.

A sealed box is bound to the envelope that carries it (``_bound``): without that, a member could copy
another's sealed reply or plan share into an envelope of its own and have it read as theirs.

Each ``Scheme`` is a pair: ``seal(draft, keys, random_bytes) -> Sealed`` (the map that gets packed and
epoch-encrypted, with the keys its author now holds for it, so the author records its own post without
opening it again) and ``open(received, keys) -> Opened | WaitFor | NotForUs``. ``scheme_for`` picks the
scheme a new post is sealed with; ``scheme_of`` reads it back from a received outer map's shape. Opening
raises RemoteProtocolError, and only that, for anything a peer got wrong; keys a post teaches come back
in ``Opened.learned`` and the keyring keeps them only once the whole post validated.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Final

from ..crypto import seal as _seal
from ..crypto.keys import x25519_public
from ..errors import BadInput, DecryptionFailed, LocalProtocolError, RemoteProtocolError
from ..vocab import MAX_PRIVATE_TO
from ..wire import pack, unpack_strict
from . import posts as ps
from .keyring import CallKey, Keyring, Learned, ReplyKey, WaitKey, key_field, seal_keys

_REPLY_FIELDS: Final = frozenset({"reply_pub", "reply_priv", "reply_keys"})


#: Anonymous boxes a narrowed call or escalation carries at most (one per reader it reaches).
MAX_ANON_KEYS: Final = 1024


@dataclass(frozen=True, slots=True)
class Draft:
    """A post to seal: its kind, its validated body and who it is for."""

    me: bytes
    kind: str
    body: Mapping[str, Any]                 # posts.validate's output (plus reply key fields, for a check-in)
    audience: frozenset[bytes]              # a call's or an escalation's audience; a plan share's recipient
    readers: frozenset[bytes]               # the circle's readers now
    facilitators: frozenset[bytes]          # the circle's facilitators now (a check-in's reply key goes to them)


@dataclass(slots=True)
class Received:
    """A received post's outer map, with what its (signature-checked) envelope says. Read-only by
    convention, not frozen: one is made per post opened, and a frozen dataclass's ``__init__`` (a
    ``object.__setattr__`` per field) costs several times a plain one's there."""

    id: bytes
    author: bytes
    me: bytes
    kind: str
    outer: Mapping[str, Any]
    facilitators: frozenset[bytes]          # of the envelope's epoch: who may post check-ins to the circle
    caller_of: Callable[[bytes], bytes | None]   # the author of a call's envelope held here, or None


@dataclass(slots=True)
class Opened:
    """The post's body fields (for posts.validate) and the keys it taught. Not frozen, as ``Received``."""

    fields: dict[str, Any]
    learned: tuple[Learned, ...] = ()
    kind: str | None = None          # the post's kind, when the box hides it (scheme "private")


@dataclass(slots=True)
class Sealed:
    """A new post's outer map, and the keys its author holds for it: a call's key (the author reads its
    thread), a check-in's reply key pair (the author reads every answer). ``learned`` names them once
    the envelope has its id; they are exactly what opening the post again would teach."""

    outer: dict[str, Any]
    call_key: bytes | None = None
    reply: tuple[bytes, bytes] | None = None          # (public, private)

    def learned(self, post_id: bytes) -> tuple[Learned, ...]:
        out: list[Learned] = []
        if self.call_key is not None:
            out.append(CallKey(post_id, self.call_key))
        if self.reply is not None:
            out.append(ReplyKey(post_id, *self.reply))
        return tuple(out)


@dataclass(frozen=True, slots=True)
class WaitFor:
    """Not readable until we learn ``key``; ``meanwhile``: the body shown until then (a reply: answered)."""

    key: WaitKey
    meanwhile: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class NotForUs:
    """Sealed to someone else only (a plan shared with another member): never readable here, and fine."""


Outcome = Opened | WaitFor | NotForUs
RandomBytes = _seal.RandomBytes


@dataclass(frozen=True, slots=True)
class Scheme:
    name: str
    seal: Callable[[Draft, Keyring, RandomBytes], Sealed]
    open: Callable[[Received, Keyring], Outcome]


# ---------------------------------------------------------------------------------------------------
# plain: the body as it is, inside the epoch encryption alone

def _seal_plain(draft: Draft, keys: Keyring, random_bytes: RandomBytes) -> Sealed:
    return Sealed({"k": draft.kind, **draft.body})


def _open_plain(received: Received, keys: Keyring) -> Outcome:
    if received.kind in ps.PRIVATE_KINDS:
        raise RemoteProtocolError(f"a {received.kind!r} post must be sealed to its readers")
    return Opened({k: v for k, v in received.outer.items() if k != "k"})


# ---------------------------------------------------------------------------------------------------
# call: a new call key, sealed to the audience, boxes the call

def _seal_call(draft: Draft, keys: Keyring, random_bytes: RandomBytes) -> Sealed:
    call_key = _seal.random_key(random_bytes)
    return Sealed({"k": draft.kind,
                   **_call_key_fields(call_key, draft.audience | {draft.me}, draft.readers, random_bytes,
                                      narrowed=bool(draft.body.get("narrowed", False))),
                   "box": _seal.box(call_key, pack(dict(draft.body)), b"call", random_bytes)}, call_key=call_key)


def _open_call(received: Received, keys: Keyring) -> Outcome:
    outer = received.outer
    sealed = dict(_pairs(outer.get("keys", [])))
    known = keys.calls.get(received.id) or _key_or_none(outer.get("call_key"))
    if known is None and "anon" in outer:
        known = _anon_key(outer, keys)
        if known is None:
            return WaitFor(("call", received.id))      # not in the audience (yet: an escalation may add us)
    if received.me not in sealed and known is None:
        return WaitFor(("call", received.id))          # not in the audience (yet: an escalation may add us)
    call_key = known or keys.open_key(sealed[received.me], "a call key")
    inner = _map(_seal.unbox(call_key, _bytes(outer.get("box")), b"call"))
    return Opened(inner, (CallKey(received.id, call_key),))


def _call_key_fields(call_key: bytes, audience: frozenset[bytes], readers: frozenset[bytes],
                     random_bytes: RandomBytes, narrowed: bool = False) -> dict[str, Any]:
    """A call key for the whole circle rides in the epoch-encrypted body (every reader holds that key
    anyway: ~100 bytes instead of a sealed box per reader); for a narrower audience it is sealed to each
    person in it. A narrowed call (the caller's "who not to involve" list) always seals it to each
    person, in anonymous boxes: someone left out who is not a reader today could otherwise read it later
    with the epoch key a shared history hands them, and boxes that name their readers would tell the
    circle who was left out."""
    if narrowed:
        # anonymous boxes, sorted: the circle sees how many people a narrowed call reached, never who
        # (so never who was left out); a reader tries its key on each (``_anon_key``)
        return {"anon": sorted(_seal.seal_to(x25519_public(m), call_key, random_bytes) for m in audience)}
    if readers <= audience:
        return {"call_key": call_key}
    return {"keys": seal_keys(call_key, audience, random_bytes)}


def _anon_key(outer: Mapping[str, Any], keys: Keyring) -> bytes | None:
    """The call key in a narrowed call's anonymous boxes, if one is sealed to this node (else None)."""
    boxes = outer.get("anon")
    if type(boxes) is not list or len(boxes) > MAX_ANON_KEYS:
        raise RemoteProtocolError(f"a narrowed call carries a list of at most {MAX_ANON_KEYS} sealed keys")
    for sealed in boxes:
        try:
            return keys.open_key(sealed, "a call key")
        except DecryptionFailed:
            continue          # another reader's box
    return None


# ---------------------------------------------------------------------------------------------------
# thread: a post in a call's thread, boxed with the call key (an escalation also carries the key onwards)

def _seal_thread(draft: Draft, keys: Keyring, random_bytes: RandomBytes) -> Sealed:
    call = bytes(draft.body["call"])
    thread_key = keys.calls.get(call)
    if thread_key is None:
        raise BadInput("this node cannot read that call, so it cannot post in its thread")
    outer = {"k": draft.kind, "call": call, "box": _seal.box(thread_key, pack(dict(draft.body)), call, random_bytes)}
    if draft.kind == "escalate":
        outer.update(_call_key_fields(thread_key, draft.audience, draft.readers, random_bytes,
                                      narrowed=bool(draft.body.get("narrowed", False))))
    return Sealed(outer)


def _open_thread(received: Received, keys: Keyring) -> Outcome:
    outer = received.outer
    call = _bytes(outer["call"])
    call_key = keys.calls.get(call)
    learned: tuple[Learned, ...] = ()
    if call_key is None and received.kind == "escalate":
        # only the caller widens a call: trust the key an escalation carries only once the call's own
        # envelope shows the same author (another member could otherwise plant a wrong key and keep the
        # call closed for someone)
        caller = received.caller_of(call)
        if caller is None:
            return WaitFor(("call", call))
        if caller != received.author:
            raise RemoteProtocolError("an escalation by someone other than the caller")
        call_key = _key_or_none(outer.get("call_key"))
        if call_key is None and "anon" in outer:
            call_key = _anon_key(outer, keys)
            if call_key is None:
                return WaitFor(("call", call))
        if call_key is None:
            sealed = dict(_pairs(outer.get("keys")))
            if received.me not in sealed:
                return WaitFor(("call", call))
            call_key = keys.open_key(sealed[received.me], "a call key")
        learned = (CallKey(call, call_key),)
    if call_key is None:
        return WaitFor(("call", call))
    inner = _map(_seal.unbox(call_key, _bytes(outer["box"]), call))
    if inner.get("call") != call:
        raise RemoteProtocolError("a thread post names another call inside")
    return Opened(inner, learned)


def _is_thread(outer: Mapping[str, Any]) -> bool:
    return outer.get("call") is not None and "box" in outer


# ---------------------------------------------------------------------------------------------------
# checkin: a reply key pair rides with it (in a call's thread, boxed as the thread is)

def _seal_checkin(draft: Draft, keys: Keyring, random_bytes: RandomBytes) -> Sealed:
    inner = dict(draft.body)
    reply_priv = _seal.random_key(random_bytes)
    inner["reply_pub"] = _seal.x25519_public_of(reply_priv)
    if inner["visibility"] == "circle" or inner["call"] is not None:
        inner["reply_priv"] = reply_priv        # in a call's thread: whoever reads the call reads replies
    else:
        inner["reply_keys"] = seal_keys(reply_priv, draft.facilitators | {draft.me}, random_bytes)
    within = _seal_thread if inner["call"] is not None else _seal_plain
    sealed = within(replace(draft, body=inner), keys, random_bytes)
    sealed.reply = (inner["reply_pub"], reply_priv)
    return sealed


def _open_checkin(received: Received, keys: Keyring) -> Outcome:
    opened = (_open_thread if _is_thread(received.outer) else _open_plain)(received, keys)
    if not isinstance(opened, Opened):
        return opened
    fields = opened.fields
    public = key_field(fields.get("reply_pub"), "a check-in's reply public key")
    private: bytes | None = None
    if fields.get("reply_priv") is not None:
        private = key_field(fields["reply_priv"], "a check-in's reply key")
    else:
        sealed = dict(_pairs(fields.get("reply_keys", [])))
        if received.me in sealed:
            private = keys.open_key(sealed[received.me], "a check-in's reply key")
    if fields.get("call") is None and received.author not in received.facilitators:
        raise RemoteProtocolError("only facilitators post check-ins to the circle")
    return Opened({k: v for k, v in fields.items() if k not in _REPLY_FIELDS},
                  (*opened.learned, ReplyKey(received.id, public, private)))


# ---------------------------------------------------------------------------------------------------
# checkin_reply: sealed to the check-in's reply key, and a copy for its author

def _seal_reply(draft: Draft, keys: Keyring, random_bytes: RandomBytes) -> Sealed:
    checkin = bytes(draft.body["checkin"])
    reply_pub = keys.reply_pubs.get(checkin)
    if reply_pub is None:
        raise BadInput("this node cannot see that check-in, so it cannot answer it")
    sealed_reply = pack({**draft.body, "by": draft.me})                       # bound: see _bound
    return Sealed({"k": draft.kind, "checkin": checkin, "box": _seal.seal_to(reply_pub, sealed_reply, random_bytes),
                   "mine": _seal.box(keys.self_key, sealed_reply, checkin, random_bytes)})


def _open_reply(received: Received, keys: Keyring) -> Outcome:
    outer = received.outer
    checkin = _bytes(outer.get("checkin"))
    reply_priv = keys.replies.get(checkin)
    if received.author == received.me and outer.get("mine") is not None:
        raw = _seal.unbox(keys.self_key, _bytes(outer["mine"]), checkin)
    elif reply_priv is not None:
        raw = _seal.open_sealed(reply_priv, _bytes(outer.get("box")))
    else:
        # counts as answered now; read once (if ever) this node learns the reply key
        return WaitFor(("checkin", checkin), ps.opaque_reply(checkin))
    inner = _map(raw)
    if inner.get("checkin") != checkin:
        raise RemoteProtocolError("a reply names another check-in inside")
    return Opened(_bound(inner, received.author, {}))


# ---------------------------------------------------------------------------------------------------
# plan_share (in a call): sealed to its one recipient, and a copy for its author

def _seal_plan_share(draft: Draft, keys: Keyring, random_bytes: RandomBytes) -> Sealed:
    recipient = sorted(draft.audience)
    if len(recipient) != 1:
        raise LocalProtocolError("a plan shared in a call goes to exactly one person (its claimer)")
    sealed_plan = pack({**draft.body, "by": draft.me, "for": recipient[0]})   # bound: see _bound
    return Sealed({"k": draft.kind, "for": recipient[0],
                   "sealed": _seal.seal_to(x25519_public(recipient[0]), sealed_plan, random_bytes),
                   "mine": _seal.box(keys.self_key, sealed_plan, b"plan", random_bytes)})


def _open_plan_share(received: Received, keys: Keyring) -> Outcome:
    outer = received.outer
    if received.author == received.me:
        inner = _map(_seal.unbox(keys.self_key, _bytes(outer.get("mine")), b"plan"))
    elif outer["for"] == received.me:
        inner = _map(keys.open_sealed(outer.get("sealed")))
    else:
        return NotForUs()
    return Opened(_bound(inner, received.author, {"for": outer["for"]}))


# ---------------------------------------------------------------------------------------------------
# private: a post, kind and all, sealed to the people its body's ``to`` names

PRIVATE: Final = "private"          # the outer kind every private post shows


def _seal_private(draft: Draft, keys: Keyring, random_bytes: RandomBytes) -> Sealed:
    to = [bytes(m) for m in draft.body["to"]]
    if draft.me in to:
        raise LocalProtocolError("a private post names its readers besides its author")
    content_key = _seal.random_key(random_bytes)
    inner = pack({**draft.body, "kind": draft.kind, "by": draft.me})            # bound: see _bound
    boxes = sorted(_seal.seal_to(x25519_public(m), content_key, random_bytes) for m in to)
    return Sealed({"k": PRIVATE, "keys": boxes,
                   "mine": _seal.box(keys.self_key, content_key, b"private", random_bytes),
                   "box": _seal.box(content_key, inner, b"private", random_bytes)})


def _open_private(received: Received, keys: Keyring) -> Outcome:
    outer = received.outer
    boxes = outer.get("keys")
    if type(boxes) is not list or not 1 <= len(boxes) <= MAX_PRIVATE_TO:
        raise RemoteProtocolError(f"a private post carries 1 to {MAX_PRIVATE_TO} sealed keys")
    content_key: bytes | None = None
    if received.author == received.me:
        content_key = key_field(_seal.unbox(keys.self_key, _bytes(outer.get("mine")), b"private"), "a private key")
    else:
        for sealed in boxes:
            try:
                content_key = keys.open_key(sealed, "a private key")
                break
            except DecryptionFailed:
                continue          # another reader's box
    if content_key is None:
        return NotForUs()
    inner = _map(_seal.unbox(content_key, _bytes(outer.get("box")), b"private"))
    kind = inner.pop("kind", None)
    if type(kind) is not str or kind not in ps.PRIVATE_KINDS:
        raise RemoteProtocolError("a private post of a kind that is not private")
    to = inner.get("to")
    if type(to) is not list or len(to) != len(boxes):
        raise RemoteProtocolError("a private post names other readers than it is sealed to")
    if received.author != received.me and received.me not in to:
        raise RemoteProtocolError("a private post sealed to this node without naming it")
    return Opened(_bound(inner, received.author, {}), kind=kind)


# ---------------------------------------------------------------------------------------------------
# the table

SCHEMES: Final[Mapping[str, Scheme]] = {s.name: s for s in (
    Scheme("plain", _seal_plain, _open_plain),
    Scheme("call", _seal_call, _open_call),
    Scheme("thread", _seal_thread, _open_thread),
    Scheme("checkin", _seal_checkin, _open_checkin),
    Scheme("checkin_reply", _seal_reply, _open_reply),
    Scheme("plan_share", _seal_plan_share, _open_plan_share),
    Scheme(PRIVATE, _seal_private, _open_private),
)}


def scheme_for(kind: str, body: Mapping[str, Any]) -> Scheme:
    """The scheme a new post of ``kind`` with (validated) ``body`` is sealed with."""
    if kind in ("call", "checkin", "checkin_reply"):
        return SCHEMES[kind]
    if kind in ps.PRIVATE_KINDS:
        return SCHEMES[PRIVATE]
    if kind in ps.THREAD_KINDS and body.get("call") is not None:
        return SCHEMES["thread"]
    if kind == "plan_share" and body["to"] == "call":
        return SCHEMES["plan_share"]
    return SCHEMES["plain"]


def scheme_of(outer: Mapping[str, Any]) -> Scheme:
    """The scheme a received outer map was sealed with, read back from the shape each scheme gives it."""
    kind = outer["k"]
    if kind in ("call", "checkin", PRIVATE):
        return SCHEMES[kind]
    if _is_thread(outer):
        return SCHEMES["thread"]
    if kind == "checkin_reply":
        return SCHEMES["checkin_reply"]
    if kind == "plan_share" and outer.get("for") is not None:
        return SCHEMES["plan_share"]
    return SCHEMES["plain"]


def unpack_outer(raw: bytes) -> dict[str, Any]:
    """A decrypted post body: a map with a text kind ``k``. Raises RemoteProtocolError."""
    outer = _map(raw)
    if type(outer.get("k")) is not str:
        raise RemoteProtocolError("a post body is a map with a kind")
    return outer


# ---------------------------------------------------------------------------------------------------
# checks on what a peer wrote (each raises RemoteProtocolError)

def _bound(inner: dict[str, Any], author: bytes, targets: Mapping[str, object]) -> dict[str, Any]:
    """A sealed box's plaintext, checked to be bound to the envelope that carries it: ``by`` must be
    the envelope's (signed) author and every field of ``targets`` (the recipient) must match what the
    box says inside (the check-in or call is checked by the caller). Returns the plaintext without the
    binding fields; raises RemoteProtocolError on a mismatch (the post is unreadable, never counted)."""
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
    return None if value is None else key_field(value, "a call key")


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
