"""The mutual-aid board's fold (circles/board.py): states, who may take, release and close an item,
anonymous posts judged by the settings in force, the once-per-taker reach duty; any order, any repeats."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from meshcare.circles.board import (NeedState, anonymous_allowed, fold_needs, reach_due, reach_spent, settings_of,
                                    thread_need,
                                    visible_to)
from meshcare.circles.posts import Post

from .helpers import examples, mid, mk, shuffled_with_duplicates

ANN, BEN, CAT, FAC = mid(1), mid(2), mid(3), mid(4)
FACS = frozenset({FAC})
NEED = mk("need", ANN, 1, category="ride", text="a ride to the clinic on Tuesday", when="Tuesday 9:00")
N = NEED.id


def take(who: bytes, lamport: int) -> Post:
    return mk("need_take", who, lamport, need=N)


def release(who: bytes, lamport: int) -> Post:
    return mk("need_release", who, lamport, need=N)


def done(who: bytes, lamport: int) -> Post:
    return mk("need_done", who, lamport, need=N)


def reach(to: bytes, lamport: int, text: str = "call 555-0100", author: bytes = ANN) -> Post:
    return mk("need_reach", author, lamport, need=N, to=[to], text=text)


def board(*posts: Post, settings: tuple = ()) -> NeedState:       # noqa: ANN001 - a Settings tuple
    return fold_needs([NEED, *posts], settings)[N]


def test_a_new_need_is_open_and_names_its_author():
    s = board()
    assert (s.status, s.taker, s.author, s.kind, s.category, s.when, s.anonymous) == (
        "open", None, ANN, "need", "ride", "Tuesday 9:00", False)
    assert thread_need(NEED) == N and thread_need(take(BEN, 2)) == N


def test_the_first_take_in_the_circles_order_wins():
    s = board(take(CAT, 3), take(BEN, 2))
    assert (s.status, s.taker) == ("taken", BEN)


def test_the_author_cannot_take_their_own_item():
    assert board(take(ANN, 2)).status == "open"


def test_release_by_the_taker_or_the_author_reopens_by_others_it_does_nothing():
    assert board(take(BEN, 2), release(CAT, 3)).taker == BEN
    assert board(take(BEN, 2), release(BEN, 3)).status == "open"
    s = board(take(BEN, 2), release(ANN, 3), take(CAT, 4))
    assert (s.status, s.taker) == ("taken", CAT)


def test_done_by_the_author_or_the_taker_only_and_it_is_final():
    assert board(done(BEN, 2)).status == "open"                   # nobody's taker yet
    assert board(take(BEN, 2), done(CAT, 3)).status == "taken"
    s = board(take(BEN, 2), done(BEN, 3), release(BEN, 4), take(CAT, 5))
    assert (s.status, s.done_by, s.taker) == ("done", BEN, BEN)
    assert board(done(ANN, 2), take(BEN, 3)).status == "done"


def test_anonymous_is_judged_by_the_settings_in_force_before_the_post():
    anon = mk("need", ANN, 5, category="food", text="groceries this week", anonymous=True)
    on = mk("board_settings", FAC, 3, anonymous=True)
    off = mk("board_settings", FAC, 7, anonymous=False)
    by_member = mk("board_settings", BEN, 4, anonymous=True)
    allowed = settings_of([off, on, by_member], FACS)
    assert [value for _, value in allowed] == [True, False]         # a member's setting does not count
    assert fold_needs([anon], allowed)[anon.id].anonymous is True   # later "off" does not change it
    assert anonymous_allowed(allowed) is False
    withheld = fold_needs([anon, mk("need_take", BEN, 9, need=anon.id)], settings_of([off], FACS))[anon.id]
    assert (withheld.status, withheld.anonymous, withheld.taker) == ("withheld", False, None)
    assert visible_to(withheld, ANN) and not visible_to(withheld, BEN)
    assert fold_needs([anon], ())[anon.id].status == "withheld"    # never allowed: the default


def test_reach_is_shown_to_the_current_taker_only_and_sent_once_per_taker():
    texts = {N: "call 555-0100"}
    taken = fold_needs([NEED, take(BEN, 2)])
    assert reach_due(taken, ANN, texts) == [N] and reach_due(taken, BEN, texts) == []
    assert reach_due(taken, ANN, {}) == []                          # no way to reach was left
    sent = fold_needs([NEED, take(BEN, 2), reach(BEN, 3)])
    assert reach_due(sent, ANN, texts) == [] and sent[N].reach == "call 555-0100"
    again = fold_needs([NEED, take(BEN, 2), reach(BEN, 3), release(BEN, 4), take(CAT, 5)])
    assert again[N].reach is None and reach_due(again, ANN, texts) == [N]
    forged = fold_needs([NEED, take(BEN, 2), reach(BEN, 3, "call me instead", author=CAT)])
    assert forged[N].reach is None


_THREAD = [take(BEN, 2), take(CAT, 2), release(BEN, 3), release(ANN, 4), take(CAT, 5), done(BEN, 6), done(CAT, 7),
           reach(BEN, 3), reach(CAT, 6), mk("need_take", BEN, 2, need=mid(9))]


@settings(max_examples=examples(150))
@given(st.lists(st.sampled_from(_THREAD), unique_by=lambda p: p.id).flatmap(
    lambda picked: st.tuples(st.just(picked), shuffled_with_duplicates([NEED, *picked]))))
def test_any_order_and_any_repeats_give_the_same_board(case: tuple[list[Post], list[Post]]) -> None:
    picked, delivered = case
    assert fold_needs(delivered) == fold_needs([NEED, *picked])


@settings(max_examples=examples(100))
@given(st.permutations([mk("board_settings", FAC, 2, anonymous=True), mk("board_settings", FAC, 4, anonymous=False),
                        mk("board_settings", FAC, 6, anonymous=True), mk("board_settings", BEN, 5, anonymous=False)]),
       st.sampled_from([1, 3, 5, 7]))
def test_settings_in_force_do_not_depend_on_arrival_order(posts: list[Post], lamport: int) -> None:
    anon = mk("need", ANN, lamport, category="money", text="rent is short", anonymous=True)
    state = fold_needs([anon], settings_of(posts, FACS))[anon.id]
    assert state.anonymous is (lamport in (3, 7))      # after the facilitator's on, before off


def test_a_way_to_be_reached_is_forgotten_once_the_item_is_done():
    texts = {N: "call 555-0100", mid(9): "kept for an item not folded yet"}
    assert reach_spent(fold_needs([NEED, take(BEN, 2)]), texts) == []
    assert reach_spent(fold_needs([NEED, take(BEN, 2), done(BEN, 3)]), texts) == [N]


# --- kept up to date post by post (circles/folded.py) ------------------------------------------------

PEOPLE = [ANN, BEN, CAT, FAC]


@st.composite
def board_histories(draw: st.DrawFn) -> list[Post]:
    """A few needs (some anonymous), their threads and some settings posts, by the four people."""
    posts: list[Post] = []
    for i in range(draw(st.integers(1, 3))):
        need = mk("need", draw(st.sampled_from(PEOPLE)), draw(st.integers(1, 6)), created=i,
                  category=draw(st.sampled_from(["food", "ride"])), text=f"item {i}", anonymous=draw(st.booleans()))
        posts.append(need)
        for j in range(draw(st.integers(0, 5))):
            kind = draw(st.sampled_from(["need_take", "need_release", "need_done"]))
            posts.append(mk(kind, draw(st.sampled_from(PEOPLE)), draw(st.integers(1, 12)), created=j, need=need.id))
    for k in range(draw(st.integers(0, 3))):
        posts.append(mk("board_settings", draw(st.sampled_from(PEOPLE)), draw(st.integers(1, 8)), created=k,
                        anonymous=draw(st.booleans())))
    return posts


@settings(max_examples=examples(60), deadline=None)
@given(board_histories(), st.data())
def test_folding_post_by_post_shows_what_folding_everything_shows(posts: list[Post], data: st.DataObject) -> None:
    from meshcare.circles.folded import Folded

    pending, held, folded = list(posts), {}, Folded()
    for step in range(data.draw(st.integers(1, 10))):
        changed: list[tuple[bytes, Post | None]] = []
        for _ in range(data.draw(st.integers(0, 4))):
            if pending and data.draw(st.booleans()):
                post = pending.pop(data.draw(st.integers(0, len(pending) - 1)))
                held[post.id] = post
                changed.append((post.id, post))
            elif held:
                gone = data.draw(st.sampled_from(sorted(held)))
                del held[gone]
                changed.append((gone, None))
        facilitators = frozenset(data.draw(st.frozensets(st.sampled_from(PEOPLE))))
        folded.catch_up(changed if step else None, list(held.values()), step, frozenset(PEOPLE), facilitators)
        want = fold_needs(held.values(), settings_of(held.values(), facilitators))
        assert folded.needs.result == want and list(folded.needs.result) == list(want)
