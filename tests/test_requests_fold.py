"""The private-request fold (circles/requests.py): threads, who may reply, who closes, any order."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from meshcare.circles.posts import Post
from meshcare.circles.requests import RequestState, asks_facilitators, fold_requests, request_key, waiting_on

from .helpers import mid, mk, shuffled_with_duplicates

ASKER, ANA, BO, OTHER = mid(2), mid(1), mid(3), mid(9)
T0 = 1_700_000_000
ASK = mk("request", ASKER, 1, T0, to=[ANA, BO], about="conflict", text="Could we talk about last week?")
RID = ASK.id


def reply(author: bytes, lamport: int, text: str = "yes", to: list[bytes] | None = None) -> Post:
    others = [m for m in (ASKER, ANA, BO) if m != author] if to is None else to
    return mk("request_reply", author, lamport, T0 + lamport, to=others, request=RID, text=text)


def close(author: bytes, lamport: int, to: list[bytes] | None = None) -> Post:
    return mk("request_close", author, lamport, T0 + lamport, to=[ANA, BO] if to is None else to, request=RID)


def fold(*posts: Post) -> RequestState:
    return fold_requests([ASK, *posts])[RID]


def test_a_request_alone_is_open_and_names_its_people():
    s = fold()
    assert (s.asker, s.to, s.about, s.text, s.replies, s.closed) == (
        ASKER, (ANA, BO), "conflict", "Could we talk about last week?", (), False)
    assert s.people == {ASKER, ANA, BO}
    assert waiting_on(s, ANA) and not waiting_on(s, ASKER)


def test_replies_from_the_threads_people_count_in_order():
    s = fold(reply(BO, 5, "Thursday?"), reply(ANA, 3, "I'm here"), reply(ASKER, 7, "Thursday works"))
    assert [(r.author, r.text) for r in s.replies] == [(ANA, "I'm here"), (BO, "Thursday?"),
                                                      (ASKER, "Thursday works")]
    assert waiting_on(s, ANA) and not waiting_on(s, ASKER)


def test_outsiders_and_misaddressed_replies_count_for_nothing():
    s = fold(reply(OTHER, 2, to=[ASKER, ANA, BO]),          # not one of the thread
             reply(ANA, 3, to=[ASKER]),                      # leaves Bo out
             reply(ANA, 4, to=[ASKER, BO, OTHER]))          # names an outsider
    assert s.replies == ()


def test_only_the_asker_closes_and_closing_is_final():
    assert not fold(close(ANA, 3, to=[ASKER, BO])).closed
    s = fold(close(ASKER, 3), reply(ANA, 4, "noted"))
    assert s.closed and s.closed_at == T0 + 3
    assert [r.text for r in s.replies] == ["noted"]       # nothing anyone wrote is hidden
    assert not waiting_on(s, ASKER)
    assert not fold(close(ASKER, 3, to=[ANA])).closed       # sealed to only one of the two asked


def test_posts_of_a_request_not_held_count_for_nothing():
    assert fold_requests([reply(ANA, 2), close(ASKER, 3)]) == {}
    assert request_key(reply(ANA, 2)) == RID and request_key(ASK) == RID


def test_asks_facilitators_checks_every_person_and_tolerates_junk():
    assert asks_facilitators([ANA, BO], frozenset({ANA, BO, OTHER}))
    assert not asks_facilitators([ANA, ASKER], frozenset({ANA, BO}))
    assert not asks_facilitators([["not", "bytes"]], frozenset({ANA}))


@st.composite
def threads(draw: st.DrawFn) -> list[Post]:
    """A few requests with replies and closes by anyone, some misaddressed."""
    people = [ASKER, ANA, BO, OTHER]
    posts: list[Post] = []
    for n in range(draw(st.integers(1, 3))):
        asker = draw(st.sampled_from(people))
        to = draw(st.lists(st.sampled_from([m for m in people if m != asker]), min_size=1, max_size=2, unique=True))
        ask = mk("request", asker, draw(st.integers(1, 20)), T0 + n, to=to, about="conversation", text=f"ask {n}")
        posts.append(ask)
        for i in range(draw(st.integers(0, 5))):
            author = draw(st.sampled_from(people))
            readers = draw(st.lists(st.sampled_from([m for m in people if m != author]), min_size=1, max_size=3,
                                    unique=True))
            kind = draw(st.sampled_from(["request_reply", "request_close"]))
            body = {"to": readers, "request": ask.id}
            if kind == "request_reply":
                body["text"] = f"reply {n}.{i}"
            posts.append(mk(kind, author, draw(st.integers(1, 30)), T0 + i, **body))
    return posts


@settings(max_examples=80, deadline=None)
@given(threads().flatmap(lambda ps: st.tuples(st.just(ps), shuffled_with_duplicates(ps))))
def test_fold_is_independent_of_order_and_duplicates(history):
    posts, shuffled = history
    result = fold_requests(sorted(posts, key=lambda p: p.order))
    assert fold_requests(shuffled) == result
    for rid, s in result.items():
        people = s.people
        for r in s.replies:
            assert r.author in people                    # only the thread's people speak in it
        closers = [p for p in posts if p.kind == "request_close" and p.body["request"] == rid
                   and p.author == s.asker and set(p.body["to"]) == set(s.to)]
        assert s.closed == bool(closers)                 # only the asker closes
