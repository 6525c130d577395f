"""The library fold (circles/library.py): versions, removal, re-posts, the keeper, any order."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from meshcare.circles.library import NoteState, by_title, fold_library, keeper, note_key, repost_at
from meshcare.circles.posts import Post

from .helpers import mid, mk, shuffled_with_duplicates

ANA, BO, CY = mid(1), mid(3), mid(5)
T0 = 1_700_000_000
FIRST = mk("library_note", ANA, 1, T0, title="House agreements", text="We listen first.")
NID = FIRST.id


def edit(author: bytes, lamport: int, text: str, title: str = "House agreements", revises: bytes = NID) -> Post:
    return mk("library_note", author, lamport, T0 + lamport, title=title, text=text, revises=revises)


def fold(*posts: Post) -> NoteState:
    return fold_library([FIRST, *posts])[NID]


def test_a_first_version_is_the_note():
    n = fold()
    assert (n.id, n.title, n.text, n.author, n.current, n.edits) == (NID, "House agreements", "We listen first.",
                                                                    ANA, NID, 0)


def test_the_latest_edit_by_lamport_then_id_is_current_and_earlier_are_versions():
    n = fold(edit(BO, 5, "We listen first. We ask before advising."), edit(ANA, 3, "We listen."))
    assert n.text == "We listen first. We ask before advising." and n.author == BO
    assert [v.text for v in n.versions] == ["We listen first.", "We listen.", "We listen first. We ask before advising."]
    assert n.edits == 2


def test_a_repost_of_the_same_text_is_not_a_new_version_but_is_the_newest_post():
    again = edit(BO, 9, "We listen first.")
    n = fold(again)
    assert n.edits == 0 and n.author == ANA and n.current == again.id and n.posted == T0 + 9


def test_the_note_outlives_its_first_post():
    later = edit(BO, 9, "Still here.")
    assert fold_library([later])[NID].text == "Still here."


def test_removal_is_final_even_against_a_later_edit():
    removal = mk("library_remove", BO, 4, T0 + 4, note=NID)
    assert fold_library([FIRST, removal, edit(ANA, 8, "back?")]) == {}
    assert note_key(removal) == NID


def test_notes_list_in_order_and_are_found_by_title():
    other = mk("library_note", BO, 2, T0, title="How we respond", text="Calmly.")
    notes = fold_library([other, FIRST])
    assert list(notes) == [NID, other.id]
    assert [n.id for n in by_title(notes.values(), " how WE respond ")] == [other.id]


def test_the_keeper_is_the_author_while_a_facilitator_else_the_smallest_id():
    n = fold()
    assert keeper(n, frozenset({ANA, BO})) == ANA
    assert keeper(n, frozenset({CY, BO})) == BO
    assert keeper(n, frozenset()) is None


def test_repost_comes_before_expiry():
    n = fold()
    assert repost_at(n, 30) == T0 + 30 * 86_400 - 2 * 86_400
    assert repost_at(n, 1) == T0 + 86_400 - 86_400 // 4
    assert repost_at(n, 30, expires=T0 + 86_400) == T0 + 86_400 - 86_400 // 4     # the envelope's own expiry wins


@st.composite
def histories(draw: st.DrawFn) -> list[Post]:
    people = [ANA, BO, CY]
    posts: list[Post] = []
    firsts: list[bytes] = []
    for n in range(draw(st.integers(1, 3))):
        first = mk("library_note", draw(st.sampled_from(people)), draw(st.integers(1, 10)), T0 + n,
                   title=f"note {n}", text=draw(st.sampled_from(["a", "b"])))
        posts.append(first)
        firsts.append(first.id)
    for i in range(draw(st.integers(0, 8))):
        target = draw(st.sampled_from(firsts))
        author, lamport = draw(st.sampled_from(people)), draw(st.integers(1, 20))
        if draw(st.integers(0, 5)) == 0:
            posts.append(mk("library_remove", author, lamport, T0 + i, note=target))
        else:
            posts.append(mk("library_note", author, lamport, T0 + i, title="t", text=draw(st.sampled_from(["a", "b", "c"])),
                            revises=target))
    return posts


@settings(max_examples=80, deadline=None)
@given(histories().flatmap(lambda ps: st.tuples(st.just(ps), shuffled_with_duplicates(ps))))
def test_fold_is_independent_of_order_and_duplicates(history):
    posts, shuffled = history
    result = fold_library(sorted(posts, key=lambda p: p.order))
    assert fold_library(shuffled) == result
    removed = {p.body["note"] for p in posts if p.kind == "library_remove"}
    assert not removed & set(result)
    for nid, n in result.items():
        group = sorted((p for p in posts if p.kind == "library_note" and note_key(p) == nid), key=lambda p: p.order)
        assert n.current == group[-1].id and n.text == group[-1].body["text"]
