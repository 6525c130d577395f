"""The support plan's sections (issue 13 item 1): Plan round trips, old four-part plans, the review date,
shares of chosen sections, who can read what, and the share fold's order- and duplicate-independence
with sections; a call share names the one reader it is sealed to, and a lie about it is refused."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import date
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meshcare import vocab
from meshcare.circles import posts as ps
from meshcare.circles.circle import Circle, Verdict
from meshcare.circles.plans import Plan, ShareState, fold_shares, section_readers, shares_for_call
from meshcare.circles.posts import Post, make_post, validate
from meshcare.errors import BadInput, RemoteProtocolError
from tests.helpers import T, examples, mid, mk, shuffled_with_duplicates
from tests.test_circle_sealing import base

A, B, C = mid(1), mid(2), mid(3)
CALL = mid(50)
OLD = {"helps": "a walk", "avoid": "crowds", "contact": "my sister", "other": "the cat"}


def test_the_plan_has_every_section_in_vocab_order_with_a_label_and_a_hint() -> None:
    assert tuple(f.name for f in dataclasses.fields(Plan)) == vocab.PLAN_FIELDS
    assert set(vocab.PLAN_SECTION_WORDS) == set(vocab.PLAN_SECTION_HINTS) == set(vocab.PLAN_FIELDS)
    assert {"helps", "avoid", "contact", "other"} <= set(vocab.PLAN_FIELDS)       # the contract's four keys
    assert vocab.PLAN_FIELDS[0] == "when_well" and vocab.PLAN_FIELDS[-1] == vocab.PLAN_REVIEW_FIELD


def test_an_old_four_part_plan_loads_unchanged() -> None:
    plan = Plan.from_dict(OLD)
    assert {k: v for k, v in plan.to_dict().items() if v} == OLD
    assert plan.sections() == ("helps", "avoid", "contact", "other")
    assert validate("plan_share", {"to": "circle", "plan": OLD})["plan"] == plan.to_dict()   # an old share too


plans = st.fixed_dictionaries({}, optional={
    **{k: st.text(max_size=300) for k in vocab.PLAN_FIELDS},
    vocab.PLAN_REVIEW_FIELD: st.just("") | st.dates(date(1000, 1, 1), date(9999, 12, 31)).map(date.isoformat)})


@given(plans)
def test_a_plan_round_trips_and_edits_keep_the_other_sections(data: dict[str, str]) -> None:
    plan = Plan.from_dict(data)
    assert Plan.from_dict(plan.to_dict()) == plan
    assert list(plan.to_dict()) == list(vocab.PLAN_FIELDS)
    edited = plan.edited({"wishes": "no police"})
    assert edited.wishes == "no police" and dataclasses.replace(edited, wishes=plan.wishes) == plan
    only = plan.only(plan.sections()[:2])
    assert only.sections() == plan.sections()[:2]
    assert all(getattr(only, k) == getattr(plan, k) for k in only.sections())


def test_edit_one_section_or_clear_it() -> None:
    plan = Plan.from_dict(OLD).edited({"when_well": "I cook", "helps": ""})
    assert plan.when_well == "I cook" and plan.helps == "" and plan.avoid == "crowds"
    with pytest.raises(BadInput, match="no part called 'mood'"):
        plan.edited({"mood": "x"})
    with pytest.raises(BadInput, match="no part called 'mood'"):
        plan.only(["wishes", "mood"])


@pytest.mark.parametrize("when", ["2027-3-1", "01/03/2027", "2027-02-30", "tomorrow", "20270301", " 2027-03-01"])
def test_the_review_date_is_a_date(when: str) -> None:
    with pytest.raises(BadInput, match="must be a date written YYYY-MM-DD"):
        Plan(review_by=when)
    with pytest.raises(RemoteProtocolError, match="'review_by' must be a date written YYYY-MM-DD"):
        validate("plan_share", {"to": "circle", "plan": {"review_by": when}})


def test_the_review_is_due_the_day_after_its_date() -> None:
    plan = Plan(review_by="2027-03-01")
    assert not plan.review_due(date(2027, 2, 28)) and not plan.review_due(date(2027, 3, 1))
    assert plan.review_due(date(2027, 3, 2))
    assert not Plan().review_due(date(2027, 3, 2))


def test_a_plan_is_bounded_in_all() -> None:
    full = {k: "x" * 600 for k in vocab.PLAN_FIELDS if k != vocab.PLAN_REVIEW_FIELD}     # 15 x 600 = 9000
    with pytest.raises(BadInput, match=f"please keep it to {vocab.MAX_PLAN_TOTAL}"):
        Plan(**full)
    with pytest.raises(RemoteProtocolError, match=f"at most {vocab.MAX_PLAN_TOTAL} characters in all"):
        validate("plan_share", {"to": "circle", "plan": full})


def test_a_circle_share_names_no_reader() -> None:
    with pytest.raises(RemoteProtocolError, match="shared with the circle but names one reader"):
        validate("plan_share", {"to": "circle", "plan": OLD, "reader": B})
    assert validate("plan_share", {"to": "call", "call": CALL, "plan": OLD, "reader": B})["reader"] == B


# --- the fold, with sections -----------------------------------------------------------------------

def share(author: bytes, lamport: int, sections: dict[str, str], to: str = "circle", call: bytes | None = None,
          reader: bytes | None = None) -> Post:
    return mk("plan_share", author, lamport, T, to=to, call=call, plan=sections, reader=reader)


def test_a_share_carries_the_sections_it_was_given_and_says_so() -> None:
    circle = share(A, 1, {"wishes": "no police", "helps": "tea"})
    in_call = share(A, 2, {"helps": "tea"}, to="call", call=CALL, reader=B)
    shares = fold_shares([in_call, circle])
    assert shares[circle.id].sections == ("helps", "wishes") and shares[in_call.id].sections == ("helps",)
    assert shares[in_call.id].reader == B and shares[circle.id].reader is None
    readers = section_readers(shares.values())
    assert [s.id for s in readers["helps"]] == [circle.id, in_call.id]
    assert [s.id for s in readers["wishes"]] == [circle.id]
    assert readers["avoid"] == [] and list(readers) == list(vocab.PLAN_FIELDS)
    assert [s.id for s in shares_for_call(shares, CALL, caller=A)] == [circle.id, in_call.id]


MEMBERS = (A, B, C)


@st.composite
def share_posts(draw: st.DrawFn) -> list[Post]:
    """Shares of chosen sections by anyone, and retracts by anyone (only the author's count)."""
    made: list[Post] = []

    def new(kind: str, author: bytes, body: dict[str, Any]) -> Post:
        post_id = hashlib.sha256(f"{len(made)}".encode()).digest()           # distinct posts, distinct ids
        made.append(make_post(post_id, author, draw(st.integers(0, 2**31)), draw(st.integers(1, 20)), kind, body))
        return made[-1]
    sections = st.lists(st.sampled_from(vocab.PLAN_FIELDS[:-1]), min_size=1, max_size=5, unique=True)
    shares = [new("plan_share", draw(st.sampled_from(MEMBERS)),
                  {"to": "circle", "plan": {k: f"text of {k}" for k in draw(sections)}})
              for _ in range(draw(st.integers(1, 5)))]
    retracts = [new("plan_retract", draw(st.sampled_from(MEMBERS)), {"share": draw(st.sampled_from(shares)).id})
                for _ in range(draw(st.integers(0, 4)))]
    return shares + retracts


@settings(max_examples=examples(150))
@given(st.data())
def test_shares_and_who_can_read_what_ignore_order_and_duplicates(data: st.DataObject) -> None:
    posts = data.draw(share_posts())
    shuffled = data.draw(shuffled_with_duplicates(posts))
    folded = fold_shares(posts)
    again = fold_shares(shuffled)
    assert folded == again and list(folded) == list(again)
    assert ({k: [s.id for s in v] for k, v in section_readers(folded.values()).items()}
            == {k: [s.id for s in v] for k, v in section_readers(reversed(list(again.values()))).items()})
    retracted = {(p.author, p.body["share"]) for p in posts if p.kind == "plan_retract"}
    for s in folded.values():
        assert (s.author, s.id) not in retracted
        body = next(p for p in posts if p.id == s.id).body["plan"]
        assert s.sections == tuple(k for k in vocab.PLAN_FIELDS if body.get(k))


# --- sealing: a call share names the one reader it is sealed to ------------------------------------

def _seal_share(reader: bytes | None) -> tuple[Verdict, Circle, bytes]:
    n = base()
    a = Circle(n.ids["A"], n.secret, n.founder)
    b = Circle(n.ids["B"], n.secret, n.founder)
    n.give("A", n.log, circle=a)
    n.give("B", n.log, circle=b)
    me, them = n.me("A"), n.me("B")
    seq = n.seq["A"] + 1
    call = a.post_envelope("call", {"text": "rough night", "ladder": [
        {"after": 0, "to": "chosen", "members": [them]}]}, seq=seq, now=T, audience={me, them})
    assert n.give("A", [call], circle=a) == [Verdict.ACCEPT] and n.give("B", [call], circle=b) == [Verdict.ACCEPT]
    body = {"to": "call", "call": call.id, "plan": {"wishes": "no police"}, "reader": reader}
    e = a.post_envelope("plan_share", body, seq=seq + 1, now=T, audience={them})
    return n.give("B", [e], circle=b)[0], b, e.id


def test_a_call_share_names_its_reader_and_a_lie_about_it_is_refused() -> None:
    n = base()
    verdict, b, share_id = _seal_share(n.me("B"))
    assert verdict is Verdict.ACCEPT
    (post,) = [p for p in b.posts if p.id == share_id]
    assert post.body["reader"] == n.me("B") and post.body["plan"]["wishes"] == "no police"
    verdict, b, share_id = _seal_share(None)                         # a share from before readers were named
    assert verdict is Verdict.ACCEPT and share_id in {p.id for p in b.posts}
    verdict, b, share_id = _seal_share(n.me("C"))                    # sealed to B, claims C reads it
    assert verdict is Verdict.ACCEPT                                 # stored (relayed), but unreadable for good
    assert share_id not in {p.id for p in b.posts} and b.unreadable == 1


def test_share_state_defaults_keep_old_callers_working() -> None:
    state = ShareState(mid(9), A, "circle", None, Plan(helps="x"), T, 1)
    assert state.reader is None and state.sections == ("helps",)
    assert ps.plan_date_ok("") and ps.plan_date_ok("2027-03-01") and not ps.plan_date_ok("2027-13-01")
