"""The sealing schemes of a circle's posts (circles/sealing.py) and the keyring behind them: known answers
with injected randomness, what a peer's malformed body does (unreadable, counted) and what our own bug
does (propagates)."""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import Any

import pytest

from meshcare import envelope as env
from meshcare.circles import posts as ps
from meshcare.circles import sealing as sl
from meshcare.circles.circle import _UNREADABLE, Circle, Verdict
from meshcare.crypto import seal
from meshcare.crypto.keys import x25519_public
from meshcare.wire import pack
from tests.circlenet import PLAN, Net, ids
from tests.helpers import T


def seeded(seed: int) -> seal.RandomBytes:
    """A deterministic ``random_bytes``: the same seed, the same stream."""
    return random.Random(seed).randbytes


_BASE: list[Net] = []


def base() -> Net:
    """Four members, a facilitators-only check-in by F: what A's seeded circles start from."""
    if not _BASE:
        n = Net("F", "A", "B", "C").setup()
        n.post("F", "checkin", {"prompt": "how are you this week?", "visibility": "facilitators"})
        _BASE.append(n)
    return _BASE[0]


def sealed_by_a(seed: int) -> list[bytes]:
    """A fresh circle of A's, fed the same history, seals one post of every scheme (and a rotation's key
    material) with ``seeded(seed)``; returns what it wrote, as bytes. Each post is also read by B."""
    n = base()
    a = Circle(n.ids["A"], n.secret, n.founder, random_bytes=seeded(seed))
    b = Circle(n.ids["B"], n.secret, n.founder)
    n.give("A", n.log, circle=a)
    n.give("B", n.log, circle=b)
    me, them = n.me("A"), n.me("B")
    checkin = next(e for e in n.log if e.author == n.me("F") and e.epoch == a.roster.current)
    seq = n.seq["A"]
    out: list[env.Envelope] = []

    def post(kind: str, body: dict[str, Any], audience: Iterable[bytes] = ()) -> env.Envelope:
        nonlocal seq
        seq += 1
        e = a.post_envelope(kind, body, seq=seq, now=T, audience=audience)
        assert n.give("A", [e], circle=a) == [Verdict.ACCEPT] and n.give("B", [e], circle=b) == [Verdict.ACCEPT]
        out.append(e)
        return e

    ladder = [{"after": 0, "to": "chosen", "members": [them]}, {"after": 10, "to": "circle", "members": []}]
    call = post("call", {"text": "rough night", "ladder": ladder}, audience={me, them})      # sealed to two
    post("update", {"call": call.id, "text": "still awake"})                                   # thread box
    post("escalate", {"call": call.id, "step": 1}, audience=a.call_audience(me, ladder, 1))
    post("checkin_reply", {"checkin": checkin.id, "option": 0, "text": "fine"})
    post("plan_share", {"to": "call", "call": call.id, "plan": PLAN}, audience={them})
    post("presence", {"status": "available"})
    assert {e.id for e in out} <= ids(b)
    (reply,) = [p for p in b.posts if p.id == out[3].id]
    assert reply.body["option"] is None                               # B sees it answered; F reads it
    rotation = a.new_generation_fields(a.roster.readers, ())
    return [e.encoded for e in out] + [pack(rotation)]


def test_seeded_randomness_gives_known_answers() -> None:
    first, again, other = sealed_by_a(1), sealed_by_a(1), sealed_by_a(2)
    assert first == again
    for mine, theirs in zip(first, other):
        assert mine != theirs


def test_every_scheme_is_in_the_table_and_picked_by_shape() -> None:
    assert set(sl.SCHEMES) == {"plain", "call", "thread", "checkin", "checkin_reply", "plan_share", "private"}
    call = b"c" * 32
    picks = {
        ("call", "call"): ({"text": "x"}, {"k": "call", "keys": [], "box": b""}),
        ("thread", "offer"): ({"call": call}, {"k": "offer", "call": call, "box": b""}),
        ("checkin", "checkin"): ({"call": None}, {"k": "checkin"}),
        ("checkin_reply", "checkin_reply"): ({"checkin": call}, {"k": "checkin_reply", "checkin": call, "box": b""}),
        ("plan_share", "plan_share"): ({"to": "call", "call": call}, {"k": "plan_share", "for": call}),
        ("plain", "plan_share"): ({"to": "circle", "call": None}, {"k": "plan_share", "to": "circle"}),
        ("plain", "presence"): ({"status": "away"}, {"k": "presence", "status": "away"}),
        ("private", "request"): ({"to": [call]}, {"k": "private", "keys": [], "box": b""}),
        ("private", "ladder_request"): ({"to": [call]}, {"k": "private", "keys": [], "box": b""}),
    }
    for (name, kind), (body, outer) in picks.items():
        assert sl.scheme_for(kind, body).name == name
        assert sl.scheme_of(outer).name == name


# ---------------------------------------------------------------------------------------------------
# unreadable: the author's fault, counted; our own bugs propagate


def _forge(n: Net, author: str, outer: object) -> env.Envelope:
    """A member's modified client: ``outer`` (any msgpack value) as a post body under the current epoch."""
    c = n.circles[author]
    epoch = c.roster.current
    assert epoch is not None
    key = c.keys.body_key(epoch)
    assert key is not None
    n.seq[author] += 1
    e = c._seal(epoch, key, pack(outer), seq=n.seq[author], now=T, expires=T + 3600, lane=env.Lane.NORMAL)
    return n._spread(author, e, None)


MALFORMED: list[object] = [
    [1, 2, 3],                                                       # not a map
    {"kind": "presence"},                                            # no kind
    {"k": 7},                                                        # a kind that is not text
    {"k": "presence", "status": "sleeping"},                         # posts.validate refuses it
    {"k": "call", "keys": "everyone", "box": b""},                   # keys not a list of pairs
    {"k": "call", "call_key": b"short", "box": b""},                 # a call key of the wrong size
    {"k": "call", "call_key": b"k" * 32, "box": 12},                 # a box that is not bytes
    {"k": "offer", "call": 5, "box": b"x"},                          # a call id that is not bytes
    {"k": "offer", "call": b"c" * 32, "box": b"x"},                  # ... fine, but we lack that call: waits
    {"k": "checkin", "prompt": "hi", "reply_pub": b"short"},         # a reply key of the wrong size
    {"k": "checkin_reply", "checkin": [b"x"], "box": b""},           # a check-in id that is not bytes
    {"k": "plan_share", "for": None, "to": "call", "plan": {}},      # plain, then refused by validate
]


def test_a_malformed_body_from_a_member_is_unreadable_and_counted() -> None:
    n = Net("F", "A").setup()
    a = n.circles["A"]
    before = a.unreadable
    forged = [_forge(n, "F", outer) for outer in MALFORMED]
    for e in forged:
        assert e.id in a.content_ids() and e.id not in ids(a)
    assert a.unreadable - before == len(MALFORMED) - 1                # the thread post only waits
    assert sum(1 for e in forged if a._content[e.id].post is _UNREADABLE) == len(MALFORMED) - 1
    # and the circle goes on: an honest post after them reads as ever
    ok = n.post("F", "presence", {"status": "away"})
    assert ok.id in ids(a) and a.unreadable - before == len(MALFORMED) - 1


def test_a_short_epoch_key_sealed_to_a_member_is_not_taken() -> None:
    """A modified facilitator's rotation seals 5 bytes as the epoch key: once, it reached key derivation
    and raised out of ``ingest``; now the key is refused and what follows under it waits."""
    n = Net("F", "A").setup()
    readers = n.circles["F"].roster.readers
    rotation = n.roster("F", "rotate", {"keys": [[m, seal.seal_to(x25519_public(m), b"short")]
                                                  for m in sorted(readers)]})
    a = n.circles["A"]
    epoch = a.roster.current
    assert epoch is not None and a.roster.epochs[epoch].op == rotation.id and epoch not in a.keys.epochs
    n.seq["F"] += 1
    e = n.circles["F"]._seal(epoch, seal.random_key(), pack({"k": "presence", "status": "away"}), seq=n.seq["F"],
                             now=T, expires=T + 3600, lane=env.Lane.NORMAL)
    n._spread("F", e, None)
    assert e.id in a.content_ids() and e.id not in ids(a) and a._content[e.id].post is None   # waits


def test_a_bug_while_opening_propagates_instead_of_reading_as_unreadable(monkeypatch: pytest.MonkeyPatch) -> None:
    n = Net("F", "A").setup()
    a = n.circles["A"]

    def broken(received: sl.Received, keys: Any) -> sl.Outcome:
        raise TypeError("a bug in this node, not the author's fault")

    monkeypatch.setitem(sl.SCHEMES, "plain", sl.Scheme("plain", sl.SCHEMES["plain"].seal, broken))
    e = n.circles["F"].post_envelope("presence", {"status": "away"}, seq=n.seq["F"] + 1, now=T)
    assert a.verdict(e, T) is Verdict.ACCEPT
    before = a.unreadable
    with pytest.raises(TypeError, match="a bug in this node"):
        a.ingest(e)
    assert a.unreadable == before


# ---------------------------------------------------------------------------------------------------
# the author records its own post without opening it again (Circle.ingest_own)


def _state(c: Circle) -> tuple[object, ...]:
    """Everything reading a circle shows, and every key a post can teach."""
    k = c.keys
    return (sorted((p.id, p.author, p.created, p.lamport, p.kind, repr(p.body)) for p in c.posts),
            dict(k.calls), dict(k.replies), dict(k.reply_pubs), dict(k._waiting), c.version, c.max_lamport,
            c.chains.top(c.me))


def test_ingest_own_leaves_the_state_ingest_would_for_every_scheme() -> None:
    """The author's circle records each post with ``ingest_own``; a twin of it (the same identity fed
    the same log) takes the same envelope in with ``ingest``, which decrypts and validates it. After
    every post of every scheme the two read alike and hold the same keys; the twin's answer is what a
    restart re-ingesting the store gives, so a fault here would show as a post that reads differently
    after a restart."""
    n = Net("F", "A", "B").setup()
    me, them = n.me("F"), n.me("A")
    own, twin = n.circles["F"], Circle(n.ids["F"], n.secret, n.founder)
    n.give("F", n.log, circle=twin)
    assert _state(own) == _state(twin)
    seq = n.seq["F"]

    def post(kind: str, body: dict[str, Any], audience: Iterable[bytes] = (), checked: bool = False) -> bytes:
        nonlocal seq
        seq += 1
        made = own.seal_post(kind, body, seq=seq, now=T, audience=audience, checked=checked)
        assert own.ingest_own(made) and not own.ingest_own(made)             # a second time: nothing new
        assert n.give("F", [made.envelope], circle=twin) == [Verdict.ACCEPT]
        assert n.give("A", [made.envelope]) == [Verdict.ACCEPT]
        assert _state(own) == _state(twin), kind
        return made.envelope.id

    ladder = [{"after": 0, "to": "chosen", "members": [them]}, {"after": 10, "to": "circle", "members": []}]
    call = post("call", {"text": "rough night", "ladder": ladder}, audience={me, them})
    wide = post("call", {"text": "anyone around?"}, audience=own.roster.readers)    # key rides in the body
    post("offer", {"call": wide, "kind": "text", "text": "here"})
    post("escalate", {"call": call, "step": 1}, audience=own.call_audience(me, ladder, 1))
    assert call in own.keys.calls and wide in own.keys.calls
    checkins = [post("checkin", {"prompt": "how are you?", "visibility": v}) for v in ("facilitators", "circle")]
    threaded = post("checkin", {"prompt": "who can go?", "visibility": "facilitators", "call": call})
    assert all(c in own.keys.replies for c in (*checkins, threaded))
    post("checkin_reply", {"checkin": checkins[0], "option": 0, "text": "fine"})
    post("plan_share", {"to": "call", "call": call, "plan": PLAN}, audience={them})
    post("plan_share", {"to": "circle", "call": None, "plan": PLAN})
    post("presence", ps.validate("presence", {"status": "available"}), checked=True)
    assert {p.id for p in own.posts} >= {call, wide, threaded, *checkins}
