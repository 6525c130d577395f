"""The ladder fold (circles/ladders.py): requests, answers and withdrawals in any order and with any
repeats give the same state; only the named person's answers count and the latest wins; only the
requester withdraws; ladders group by name and step, bounded; only accepted rungs are ever used.
Also the private "who not to involve" lists in the node's state file (version 3, reading version 2)."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from meshcare import vocab
from meshcare.circles import ladders as ld
from meshcare.circles.posts import Post
from meshcare.circles.state import LocalState

A, B, C, D = (bytes([i]) * 32 for i in (1, 2, 3, 4))


def _post(i: int, author: bytes, kind: str, body: dict[str, Any], lamport: int | None = None) -> Post:
    return Post(bytes([0, i]) + bytes(30), author, 1000 + i, lamport if lamport is not None else i, kind, body)


def _request(i: int, author: bytes, member: bytes, ladder: str = "calls", step: int = 0) -> Post:
    return _post(i, author, "ladder_request", {"to": [member], "ladder": ladder, "step": step, "text": ""})


def _answer(i: int, author: bytes, request: Post, answer: str) -> Post:
    return _post(i, author, "ladder_answer", {"to": [request.author], "request": request.id, "answer": answer})


def _withdraw(i: int, author: bytes, request: Post) -> Post:
    return _post(i, author, "ladder_withdraw", {"to": [request.body["to"][0]], "request": request.id})


R1 = _request(1, A, B)
R2 = _request(2, A, C, step=1)
R3 = _request(3, A, D, ladder="practical")
STORY = [R1, R2, R3,
         _answer(4, B, R1, "accept"), _answer(5, C, R2, "accept"), _answer(6, C, R2, "decline"),
         _answer(7, D, R1, "decline"),           # not the person asked: ignored
         _answer(8, B, R3, "accept"),            # nor here
         _withdraw(9, B, R1),                    # only the requester withdraws
         _withdraw(10, A, R3), _answer(11, D, R3, "accept")]


@settings(max_examples=60, deadline=None)
@given(st.permutations(STORY), st.lists(st.sampled_from(STORY), max_size=5))
def test_any_order_and_any_repeat_give_the_same_state(order: list[Post], repeats: list[Post]) -> None:
    assert ld.fold_ladders(order + repeats) == ld.fold_ladders(STORY)


def test_the_rules() -> None:
    state = ld.fold_ladders(STORY)
    assert state[R1.id].state == "accepted" and state[R1.id].member == B
    assert state[R2.id].state == "declined"                 # accepted, then declined: the latest wins
    assert state[R3.id].state == "withdrawn"                # withdrawn stays withdrawn, answered or not
    assert ld.fold_ladders([_answer(4, B, R1, "accept")]) == {}   # an answer to a request not held: nothing


def test_accept_after_decline_and_lamport_order_not_arrival() -> None:
    late_accept = _answer(20, C, R2, "accept")
    state = ld.fold_ladders([R2, late_accept, _answer(5, C, R2, "decline")])
    assert state[R2.id].state == "accepted"


def test_a_request_to_oneself_counts_for_nothing() -> None:
    assert ld.fold_ladders([_request(1, A, A)]) == {}


def test_ladders_group_by_name_and_step_and_only_accepted_rungs_are_used() -> None:
    posts = [_request(1, A, B, step=0), _request(2, A, C, step=1), _request(3, A, D, step=1),
             _request(4, A, B, ladder="practical"), _answer(5, B, _request(1, A, B), "accept"),
             _answer(6, D, _request(3, A, D, step=1), "accept"), _answer(7, C, _request(2, A, C, step=1), "decline")]
    state = ld.fold_ladders(posts)
    ladders = ld.ladders_of(state, A)
    assert [lad.name for lad in ladders] == ["calls", "practical"]
    calls = ladders[0]
    assert [(r.member, r.step, r.state) for r in calls.rungs] == [(B, 0, "accepted"), (C, 1, "declined"),
                                                                  (D, 1, "accepted")]
    assert ladders[1].rungs[0].state == "pending"
    # declined (C) and pending (B on "practical") rungs are never used
    assert ld.accepted_steps(state, A, "calls") == [[B], [D]]
    assert ld.accepted_steps(state, A, "practical") == []
    assert ld.ladders_of(state, B) == ()
    assert [r.requester for r in ld.requests_to(state, B)] == [A, A]


def test_a_member_asked_again_counts_once_per_ladder() -> None:
    first, again = _request(1, A, B, step=0), _request(2, A, B, step=2)
    state = ld.fold_ladders([first, again, _answer(3, B, first, "accept")])
    (ladder,) = ld.ladders_of(state, A)
    assert [(r.member, r.step, r.state) for r in ladder.rungs] == [(B, 2, "pending")]   # the latest request


def test_rungs_are_bounded() -> None:
    many = [_request(i, A, bytes([9, i % 256, i // 256]) + bytes(29)) for i in range(vocab.MAX_STEP_MEMBERS + 5)]
    (ladder,) = ld.ladders_of(ld.fold_ladders(many), A)
    assert len(ladder.rungs) == vocab.MAX_STEP_MEMBERS


def test_avoid_lists_live_in_the_state_file_and_version_2_still_reads() -> None:
    state = LocalState(avoid={b"t" * 16: {B, C}})
    again = LocalState.from_obj(state.to_obj())
    assert again.avoid == {b"t" * 16: {B, C}}
    old = [2, [], [], [], None, []]
    assert LocalState.from_obj(old).avoid == {}
