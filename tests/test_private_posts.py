"""The "private" sealing scheme (circles/sealing.py): a post, its kind included, that only the members
its body's ``to`` names (and its author) can read; the rest of the circle sees a post of kind
``private`` and nothing else. What a modified client can try with it is refused as unreadable."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meshcare import envelope as env
from meshcare.circles import posts as ps
from meshcare.circles import sealing as sl
from meshcare.circles.circle import _UNREADABLE
from meshcare.crypto import seal
from meshcare.crypto.keys import x25519_public
from meshcare.errors import BadInput, LocalProtocolError
from meshcare.wire import pack, unpack_strict
from tests.circlenet import Net, ids
from tests.helpers import T

NAMES = ("F", "A", "B", "C")


def _net() -> Net:
    return Net(*NAMES).setup()


def _readable_by(n: Net, e: env.Envelope) -> set[str]:
    return {name for name in NAMES if e.id in ids(n.circles[name])}


@settings(max_examples=25, deadline=None)
@given(author=st.sampled_from(NAMES), readers=st.sets(st.sampled_from(NAMES), min_size=1, max_size=3))
def test_only_the_named_readers_and_the_author_read_a_private_post(author: str, readers: set[str]) -> None:
    readers.discard(author)
    if not readers:
        return
    n = _net()
    # (any private kind: a "request" may only ask facilitators, circles/requests.py; a follow-up's
    # "done" goes to whoever the author names)
    e = n.post(author, "followup_done", {"to": [n.me(r) for r in sorted(readers)], "followup": b"f" * 32, "call": b"c" * 32})
    assert _readable_by(n, e) == readers | {author}
    for name in readers | {author}:
        (p,) = [p for p in n.circles[name].posts if p.id == e.id]
        assert p.kind == "followup_done" and p.body["followup"] == b"f" * 32 and p.author == n.me(author)
        assert set(p.body["to"]) == {n.me(r) for r in readers}
    for name in set(NAMES) - readers - {author}:
        c = n.circles[name]
        assert c._content[e.id].post is _UNREADABLE          # held and forwarded, never read
        assert c.unreadable == 0                              # not anyone's fault: simply not for them


def test_the_circle_sees_neither_the_kind_nor_the_readers() -> None:
    n = _net()
    e = n.post("A", "ladder_request", {"to": [n.me("B")], "ladder": "calls", "step": 0})
    c = n.circles["C"]
    epoch_key = c.keys.body_key(e.epoch)
    assert epoch_key is not None
    outer = unpack_strict(env.open_body(e, epoch_key), "post")
    assert outer["k"] == "private" and set(outer) == {"k", "keys", "mine", "box"}
    assert n.me("B") not in pack(outer)                        # no member id in what the circle can read
    assert b"ladder_request" not in pack(outer)


def test_the_author_cannot_name_itself_and_a_person_mistake_is_badinput() -> None:
    n = _net()
    with pytest.raises(LocalProtocolError):
        n.post("F", "request", {"to": [n.me("F")], "text": "hi"})
    with pytest.raises(BadInput):
        ps.validate("request", {"to": [], "text": "hi"}, fault=BadInput)


def _forge_private(n: Net, author: str, inner: dict[str, Any], sealed_to: list[str]) -> env.Envelope:
    """A modified client's private post: ``inner`` (kind included) boxed, its key sealed to ``sealed_to``."""
    c = n.circles[author]
    key = seal.random_key()
    boxes = [seal.seal_to(x25519_public(n.me(m)), key) for m in sealed_to]
    outer = {"k": "private", "keys": boxes, "mine": seal.box(c.keys.self_key, key, b"private"),
             "box": seal.box(key, pack({"by": n.me(author), **inner}), b"private")}
    epoch = c.roster.current
    assert epoch is not None
    body_key = c.keys.body_key(epoch)
    assert body_key is not None
    n.seq[author] += 1
    e = c._seal(epoch, body_key, pack(outer), seq=n.seq[author], now=T, expires=T + 3600, lane=env.Lane.NORMAL)
    return n._spread(author, e, None)


def test_forged_private_posts_are_unreadable_and_counted() -> None:
    n = _net()
    b = n.circles["B"]
    to_b = [n.me("B")]
    forged = [
        # sealed to B but naming C only: B must not read what claims other readers
        _forge_private(n, "A", {"kind": "request", "to": [n.me("C")], "text": "hi"}, ["B"]),
        # a kind that is not private, smuggled inside the box
        _forge_private(n, "A", {"kind": "presence", "to": to_b, "status": "away"}, ["B"]),
        # names two readers, sealed to one
        _forge_private(n, "A", {"kind": "request", "to": [n.me("B"), n.me("C")], "text": "hi"}, ["B"]),
        # bound to another author
        _forge_private(n, "A", {"kind": "request", "to": to_b, "text": "hi", "by": n.me("C")}, ["B"]),
    ]
    for e in forged:
        assert e.id not in ids(b) and b._content[e.id].post is _UNREADABLE
    assert b.unreadable == len(forged)


def test_a_private_kind_sent_in_the_clear_is_refused() -> None:
    """A private kind posted as a plain body would show its readers and content to the whole circle."""
    n = _net()
    c = n.circles["A"]
    epoch = c.roster.current
    assert epoch is not None
    body_key = c.keys.body_key(epoch)
    assert body_key is not None
    n.seq["A"] += 1
    plain = {"k": "request", "to": [n.me("B")], "text": "in the clear"}
    e = c._seal(epoch, body_key, pack(plain), seq=n.seq["A"], now=T, expires=T + 3600, lane=env.Lane.NORMAL)
    n._spread("A", e, None)
    assert e.id not in ids(n.circles["B"]) and n.circles["B"].unreadable == 1


def test_ingest_own_reads_a_private_post_as_its_readers_do() -> None:
    n = _net()
    a = n.circles["A"]
    n.seq["A"] += 1
    own = a.seal_post("request", {"to": [n.me("F")], "text": "a debrief?", "about": "debrief"}, seq=n.seq["A"], now=T)
    a.ingest_own(own)
    twin = n.fresh("A")
    n.give("A", n.log + [own.envelope], circle=twin)
    (mine,) = [p for p in a.posts if p.id == own.envelope.id]
    (theirs,) = [p for p in twin.posts if p.id == own.envelope.id]
    assert mine == theirs and dict(mine.body) == dict(theirs.body) and mine.kind == "request"
