"""The gatherings fold (circles/gatherings.py): RSVPs (latest wins), cancellation rights, the agreements
template, who sees names, reminders; any order and any repetition of the posts folds the same."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from meshcare import vocab
from meshcare.circles import gatherings as gt
from meshcare.circles.folded import Folded
from meshcare.circles.posts import Post

from .helpers import mid, mk, shuffled_with_duplicates

FAC, ORG, HOST, A, B, GONE = mid(1), mid(2), mid(3), mid(4), mid(5), mid(6)
MEMBERS = frozenset({FAC, ORG, HOST, A, B})
FACS = frozenset({FAC})
T0 = 1_700_000_000
G = mk("gathering", ORG, 1, T0, title="Tuesday group", when=T0 + 86_400, where="the back room", hosts=[ORG, HOST],
       agreements=["Anyone may pass"], format=["check-in round", "closing round"], aftercare="ask Sam", remind=30)
GID = G.id


def rsvp(author: bytes, lamport: int, answer: str, gathering: bytes = GID) -> Post:
    return mk("rsvp", author, lamport, T0 + lamport, gathering=gathering, answer=answer)


def cancel(author: bytes, lamport: int) -> Post:
    return mk("gathering_cancel", author, lamport, T0 + lamport, gathering=GID)


def fold(*posts: Post, members: frozenset[bytes] = MEMBERS) -> dict[bytes, gt.GatheringState]:
    return gt.fold_gatherings([G, *posts], members=members, facilitators=FACS)


def test_a_gathering_alone() -> None:
    s = fold()[GID]
    assert (s.title, s.kind, s.when, s.ends, s.where, s.hosts, s.agreements, s.format, s.aftercare, s.remind) == (
        "Tuesday group", "group", T0 + 86_400, None, "the back room", (ORG, HOST), ("Anyone may pass",),
        ("check-in round", "closing round"), "ask Sam", 30)
    assert s.rsvps == () and not s.cancelled and gt.counts(s) == {"yes": 0, "maybe": 0, "no": 0}


def test_each_members_latest_answer_counts() -> None:
    s = fold(rsvp(A, 2, "yes"), rsvp(A, 5, "no"), rsvp(B, 3, "maybe"), rsvp(B, 4, "yes"))[GID]
    assert [(r.member, r.answer) for r in s.rsvps] == [(A, "no"), (B, "yes")]
    assert gt.counts(s) == {"yes": 1, "maybe": 0, "no": 1}
    assert gt.answer_of(s, A) == "no" and gt.answer_of(s, HOST) is None


def test_same_lamport_ties_break_by_id() -> None:
    first = mk("rsvp", A, 3, T0, id=b"\x01" * 32, gathering=GID, answer="yes")
    second = mk("rsvp", A, 3, T0, id=b"\x02" * 32, gathering=GID, answer="no")
    assert gt.answer_of(fold(second, first)[GID], A) == "no"


def test_rsvps_of_people_who_left_and_to_unknown_gatherings_count_for_nothing() -> None:
    s = fold(rsvp(GONE, 2, "yes"), rsvp(A, 3, "yes", gathering=mid(9)))[GID]
    assert s.rsvps == ()
    assert gt.fold_gatherings([rsvp(A, 3, "yes")], members=MEMBERS, facilitators=FACS) == {}


def test_who_may_cancel() -> None:
    for who in (ORG, HOST, FAC):
        s = fold(cancel(who, 7))[GID]
        assert s.cancelled and s.cancelled_by == who and s.cancelled_at == T0 + 7
    assert not fold(cancel(A, 7))[GID].cancelled                      # an ordinary member
    assert not fold(cancel(HOST, 7), members=MEMBERS - {HOST})[GID].cancelled    # a host who left
    s = fold(cancel(A, 2), cancel(FAC, 9), cancel(HOST, 8))[GID]
    assert s.cancelled_by == HOST                                     # the first that counts is shown


def test_the_agreements_template_latest_by_a_facilitator() -> None:
    assert gt.agreements([], members=MEMBERS, facilitators=FACS) == vocab.DEFAULT_AGREEMENTS
    one = mk("agreements", FAC, 2, T0, items=["Anyone may pass"])
    two = mk("agreements", FAC, 5, T0, items=["No advice", "Anyone may pass"])
    forged = mk("agreements", A, 9, T0, items=["Everyone must speak"])
    assert gt.agreements([two, forged, one], members=MEMBERS, facilitators=FACS) == ("No advice", "Anyone may pass")
    assert gt.agreements([one], members=MEMBERS - {FAC}, facilitators=FACS) == vocab.DEFAULT_AGREEMENTS


def test_names_are_shown_to_hosts_and_facilitators_only() -> None:
    s = fold()[GID]
    assert [gt.sees_names(s, m, MEMBERS, FACS) for m in (ORG, HOST, FAC, A)] == [True, True, True, False]


def test_ends_before_when_reads_as_no_end() -> None:
    g = mk("gathering", ORG, 1, T0, title="Walk", when=T0 + 100, ends=T0 + 50)
    s = gt.fold_gatherings([g], members=MEMBERS, facilitators=FACS)[g.id]
    assert s.ends is None and gt.end_of(s) == T0 + 100 + gt.DEFAULT_LENGTH


def test_upcoming_over_and_reminders() -> None:
    s = fold(rsvp(A, 2, "yes"), rsvp(B, 3, "no"))[GID]
    when = T0 + 86_400
    assert gt.is_upcoming(s, when - 1) and gt.is_upcoming(s, when + 60) and not gt.is_upcoming(s, when + 7200)
    assert not gt.is_over(s, when - 1) and gt.is_over(s, when)
    states = {GID: s}
    assert gt.reminders(states, A) == ((when - 30 * 60, GID),)
    assert gt.reminders(states, B) == ()                              # said no
    assert gt.reminders(states, HOST) == ((when - 30 * 60, GID),)     # hosts it, said nothing
    assert gt.reminders({GID: fold(cancel(ORG, 9))[GID]}, ORG) == ()


POSTS = [G, rsvp(A, 2, "yes"), rsvp(A, 6, "maybe"), rsvp(B, 3, "no"), rsvp(GONE, 4, "yes"), cancel(A, 5),
         cancel(HOST, 8), rsvp(B, 9, "yes"), mk("agreements", FAC, 3, T0, items=["Pass any time"]),
         mk("agreements", A, 7, T0, items=["Forged"])]


@settings(max_examples=60, deadline=None)
@given(shuffled_with_duplicates(POSTS))
def test_any_order_and_any_repetition_folds_the_same(posts: list[Post]) -> None:
    want = gt.fold_gatherings(POSTS, members=MEMBERS, facilitators=FACS)
    assert gt.fold_gatherings(posts, members=MEMBERS, facilitators=FACS) == want
    assert gt.agreements(posts, members=MEMBERS, facilitators=FACS) == ("Pass any time",)


@settings(max_examples=40, deadline=None)
@given(st.permutations(POSTS), st.integers(1, len(POSTS)))
def test_folding_post_by_post_matches_folding_everything(posts: list[Post], cut: int) -> None:
    folded = Folded()
    folded.catch_up(None, posts[:cut], 1, MEMBERS, FACS)
    folded.catch_up([(p.id, p) for p in posts[cut:]], (), 2, MEMBERS, FACS)
    gatherings, template = folded.gathering_parts()
    assert gatherings == gt.fold_gatherings(POSTS, members=MEMBERS, facilitators=FACS)
    assert template == ("Pass any time",)


def test_the_split_keeps_its_identity_while_nothing_changed() -> None:
    folded = Folded()
    folded.catch_up(None, [G], 1, MEMBERS, FACS)
    first = folded.gathering_parts()[0]
    folded.catch_up([(p.id, p) for p in [mk("call", A, 3, T0, text="hello")]], (), 2, MEMBERS, FACS)
    assert folded.gathering_parts()[0] is first


AUTHORS = st.sampled_from([FAC, ORG, HOST, A, B, GONE])


@st.composite
def histories(draw: st.DrawFn) -> list[Post]:
    """Any mix of RSVPs, cancels and templates, by anyone (members, a facilitator, someone who left), at
    any clocks, some sharing a lamport: what a circle of modified clients could send."""
    posts: list[Post] = [G]
    for i in range(draw(st.integers(0, 12))):
        author, lamport = draw(AUTHORS), draw(st.integers(1, 6))
        kind = draw(st.sampled_from(["rsvp", "rsvp", "gathering_cancel", "agreements"]))
        if kind == "rsvp":
            posts.append(mk("rsvp", author, lamport, T0 + i, gathering=GID, answer=draw(st.sampled_from(
                vocab.RSVP_ANSWERS))))
        elif kind == "gathering_cancel":
            posts.append(mk("gathering_cancel", author, lamport, T0 + i, gathering=GID))
        else:
            posts.append(mk("agreements", author, lamport, T0 + i, items=[f"agreement {i}"]))
    return posts


@settings(max_examples=80, deadline=None)
@given(histories().flatmap(lambda posts: st.tuples(st.just(posts), shuffled_with_duplicates(posts))))
def test_any_history_folds_the_same_in_any_order_and_only_rights_count(pair: tuple[list[Post], list[Post]]) -> None:
    posts, again = pair
    state = gt.fold_gatherings(posts, members=MEMBERS, facilitators=FACS)[GID]
    assert gt.fold_gatherings(again, members=MEMBERS, facilitators=FACS)[GID] == state
    assert gt.agreements(again, members=MEMBERS, facilitators=FACS) == gt.agreements(
        posts, members=MEMBERS, facilitators=FACS)
    assert {r.member for r in state.rsvps} <= MEMBERS
    assert state.cancelled_by in (None, ORG, HOST, FAC)
    latest = {}
    for p in sorted((p for p in posts if p.kind == "rsvp" and p.author in MEMBERS), key=lambda p: p.order):
        latest[p.author] = p.body["answer"]
    assert {r.member: r.answer for r in state.rsvps} == latest
