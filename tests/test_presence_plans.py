"""Presence (latest post, expiry, load, cap) and plan shares (retract by the owner only, Plan checks)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meshcare.circles.calls import fold_calls
from meshcare.circles.plans import Plan, fold_shares, shares_for_call
from meshcare.circles.posts import Post, make_post
from meshcare.circles.presence import DEFAULT_PRESENCE_S, PresenceState, fold_presence, is_full, load
from meshcare.errors import BadInput
from meshcare.ops.present import roster_rows, share_view
from meshcare.vocab import PLAN_FIELDS

from .helpers import mid, mk, shuffled_with_duplicates

A, B, C, CALLER = mid(1), mid(2), mid(3), mid(4)
T0 = 1_700_000_000


def presence(author: bytes, lamport: int, status: str, created: int = T0, **body: Any) -> Post:
    return mk("presence", author, lamport, created, status=status, **body)


# --- presence ------------------------------------------------------------------------------------


def test_latest_presence_by_lamport_not_by_clock():
    p = fold_presence([presence(A, 5, "away", created=T0), presence(A, 2, "available", created=T0 + 999)], T0)
    assert p[A] == PresenceState(A, "away", T0 + DEFAULT_PRESENCE_S, None, T0)


def test_expired_presence_reads_as_unknown():
    posts = [presence(A, 1, "available", until=T0 + 60, cap=2), presence(B, 1, "away", until=T0 + 61)]
    assert fold_presence(posts, T0 + 59)[A] == PresenceState(A, "available", T0 + 60, 2, T0)
    p = fold_presence(posts, T0 + 60)
    assert p[A] == PresenceState(A, "unknown", None, None, T0)  # until <= now: expired
    assert p[B].status == "away"
    assert fold_presence([mk("claim", A, 1, call=mid(9))], T0) == {}


def calls_held(created: int) -> tuple[list[Post], dict[bytes, Any]]:
    """Three calls: A claims two (at T0+10 and T0+100), and one is claimed then resolved."""
    posts = []
    for n, claimed in ((1, T0 + 10), (2, T0 + 100), (3, T0 + 100)):
        c = mk("call", CALLER, n, T0, text=f"call {n}")
        posts += [c, mk("claim", A, 10 + n, claimed, call=c.id)]
    posts.append(mk("resolve", A, 20, T0 + 200, call=posts[-2].id))
    return posts, fold_calls(posts)


def test_load_counts_open_calls_held_since_the_presence_post():
    _, calls = calls_held(T0)
    assert load({}, calls, A) == 2  # no presence post: every call held
    assert load(fold_presence([presence(A, 1, "available", created=T0 + 50)], T0), calls, A) == 1
    assert load(fold_presence([presence(A, 1, "available", created=T0 + 100)], T0), calls, A) == 1  # at
    assert load(fold_presence([presence(A, 1, "available", created=T0 + 101)], T0), calls, A) == 0
    assert load({}, calls, B) == 0


def test_load_counts_from_when_a_released_call_was_handed_on():
    c = mk("call", CALLER, 1, T0, text="x")
    posts = [c, mk("claim", A, 2, T0 + 10, call=c.id), mk("claim", B, 3, T0 + 20, call=c.id),
             mk("release", A, 4, T0 + 300, call=c.id)]
    calls = fold_calls(posts)
    assert load(fold_presence([presence(B, 1, "available", created=T0 + 100)], T0), calls, B) == 1


def test_is_full_only_for_available_members_at_their_cap():
    _, calls = calls_held(T0)
    def full(status: str, **body: Any) -> bool:
        return is_full(fold_presence([presence(A, 1, status, **body)], T0), calls, A)
    assert full("available", cap=2)
    assert full("available", cap=1)
    assert not full("available", cap=3)
    assert not full("available")
    assert not full("away", cap=1)
    assert not full("available", cap=1, until=T0)  # expired: unknown
    assert not is_full({}, calls, A)


def test_roster_rows_for_json():
    _, calls = calls_held(T0)
    pres = fold_presence([presence(A, 1, "available", cap=2, until=T0 + 3600),
                          presence(B, 1, "away")], T0)
    rows = [r.to_data() for r in roster_rows(pres, calls, members=[C, A, B], names={B: "Bo", C: "Cy"})]
    json.dumps(rows)
    assert rows == [
        {"member": A.hex(), "name": None, "status": "available", "until": T0 + 3600, "cap": 2, "load": 2,
         "full": True},
        {"member": B.hex(), "name": "Bo", "status": "away", "until": T0 + DEFAULT_PRESENCE_S, "cap": None,
         "load": 0, "full": False},
        {"member": C.hex(), "name": "Cy", "status": "unknown", "until": None, "cap": None, "load": 0,
         "full": False}]


def test_presence_without_until_expires_after_the_default():
    """Issue 9 item 18: docs/circles.md promises availability "expires by itself"."""
    posts = [presence(C, 1, "available")]
    assert fold_presence(posts, T0 + DEFAULT_PRESENCE_S - 1)[C] == PresenceState(
        C, "available", T0 + DEFAULT_PRESENCE_S, None, T0)
    assert fold_presence(posts, T0 + DEFAULT_PRESENCE_S)[C].status == "unknown"
    assert DEFAULT_PRESENCE_S == 12 * 3600


def test_roster_shows_current_members_only():
    """Issue 9 item 18: a removed member's last "available" must not show."""
    pres = fold_presence([presence(A, 1, "available"), presence(B, 1, "available")], T0)
    assert [r.member for r in roster_rows(pres, {}, members=[A])] == [A.hex()]
    assert {r.member for r in roster_rows(pres, {})} == {A.hex(), B.hex()}    # no roster given: everyone


def test_a_re_announcement_keeps_the_load_since_the_original_post():
    """Re-announcing the same availability (for members who joined since) changes who can read it,
    not what it means: the cap still counts calls taken since the first post."""
    _, calls = calls_held(T0)
    first = presence(A, 1, "available", created=T0 + 50, until=T0 + 9000, cap=2)
    again = presence(A, 7, "available", created=T0 + 500, until=T0 + 9000, cap=2)
    assert fold_presence([first, again], T0)[A].since == T0 + 50
    assert load(fold_presence([first, again], T0), calls, A) == 1
    changed = presence(A, 8, "available", created=T0 + 600, until=T0 + 9000, cap=3)
    assert fold_presence([first, again, changed], T0)[A].since == T0 + 600


# --- plans ---------------------------------------------------------------------------------------

CALL_ID = mid(50)


def share(author: bytes, lamport: int, to: str = "circle", call: bytes | None = None, **plan: str) -> Post:
    return mk("plan_share", author, lamport, T0, to=to, call=call, plan=plan)


def test_shares_and_retracts_by_their_owner_only():
    mine = share(A, 1, helps="a walk and a warm drink")
    other = share(B, 2, to="call", call=CALL_ID, avoid="loud rooms")
    posts = [mine, other, mk("plan_retract", B, 3, share=mine.id), mk("plan_retract", C, 3, share=other.id)]
    shares = fold_shares(posts)
    assert list(shares) == [mine.id, other.id]
    assert shares[mine.id].plan == Plan(helps="a walk and a warm drink")
    assert (shares[other.id].to, shares[other.id].call) == ("call", CALL_ID)
    assert list(fold_shares([*posts, mk("plan_retract", A, 4, share=mine.id)])) == [other.id]


def test_a_retract_counts_whatever_order_it_arrives_in():
    mine = share(A, 5)
    assert fold_shares([mk("plan_retract", A, 1, share=mine.id), mine]) == {}


def test_shares_for_call():
    circle_a, circle_b = share(A, 1, helps="x"), share(B, 2, helps="y")
    on_call = share(B, 3, to="call", call=CALL_ID)
    with_context = share(C, 4, call=CALL_ID)
    elsewhere = share(A, 5, to="call", call=mid(51))
    shares = fold_shares([elsewhere, with_context, on_call, circle_b, circle_a])
    assert [s.id for s in shares_for_call(shares, CALL_ID)] == [on_call.id, with_context.id]
    assert [s.id for s in shares_for_call(shares, CALL_ID, caller=A)] == [circle_a.id, on_call.id,
                                                                          with_context.id]


def test_a_share_shows_as_json():
    s = fold_shares([share(A, 1, to="call", call=CALL_ID, contact="my sister")]).popitem()[1]
    d = share_view(s, {A: "Ari"}).to_data()
    json.dumps(d)
    assert d == {"id": s.id.hex(), "author": A.hex(), "name": "Ari", "to": "call", "call": CALL_ID.hex(),
                 "plan": {**dict.fromkeys(PLAN_FIELDS, ""), "contact": "my sister"}, "created": T0,
                 "sections": ["contact"]}


def test_plan_round_trip_and_emptiness():
    plan = Plan(helps="music", avoid="", contact="Jo", other="I like to walk")
    assert Plan.from_dict(plan.to_dict()) == plan
    assert Plan.from_dict({"helps": "music"}) == Plan(helps="music")
    assert Plan().is_empty() and Plan(other="  ").is_empty() and not plan.is_empty()
    Plan(helps="h" * 2000)


@pytest.mark.parametrize("data,message", [
    ("be kind", "a support plan must be a set of named parts"),
    ({"triggers": "x"}, "no part called 'triggers'; the parts are: when_well, helps, keeps_me_well, "),
    ({"helps": 3}, "the 'helps' part of a support plan must be text"),
    ({"contact": "c" * 2001}, "'contact' part of your support plan is 2001 characters long; please keep it to 2000"),
])
def test_bad_local_plans_say_what_to_fix(data, message):
    with pytest.raises(BadInput, match=message):
        Plan.from_dict(data)


def test_plan_checks_on_construction():
    with pytest.raises(BadInput):
        Plan(other="o" * 2001)
    with pytest.raises(BadInput):
        Plan(helps=None)  # type: ignore[arg-type]


# --- properties ----------------------------------------------------------------------------------

MEMBERS = [A, B, C]


@st.composite
def histories(draw: st.DrawFn) -> list[Post]:
    salt = draw(st.binary(max_size=4))
    count = iter(range(10**6))
    def new(kind: str, author: bytes, body: dict[str, Any]) -> Post:
        pid = hashlib.sha256(salt + next(count).to_bytes(4, "big")).digest()
        return make_post(pid, author, draw(st.integers(T0, T0 + 50)), draw(st.integers(0, 6)), kind, body)
    posts = [new("presence", draw(st.sampled_from(MEMBERS)),
                 {"status": draw(st.sampled_from(["available", "away"])),
                  "until": draw(st.none() | st.integers(T0, T0 + 100)), "cap": draw(st.none() | st.integers(1, 3))})
             for _ in range(draw(st.integers(0, 10)))]
    shares = [new("plan_share", draw(st.sampled_from(MEMBERS)), {"to": "circle", "plan": {"helps": "x"}})
              for _ in range(draw(st.integers(0, 6)))]
    posts += shares
    if shares:
        posts += [new("plan_retract", draw(st.sampled_from(MEMBERS)), {"share": draw(st.sampled_from(shares)).id})
                  for _ in range(draw(st.integers(0, 6)))]
    return posts


@settings(max_examples=80, deadline=None)
@given(histories().flatmap(lambda ps: st.tuples(st.just(ps), shuffled_with_duplicates(ps))),
       st.integers(T0, T0 + 120))
def test_folds_are_independent_of_order_and_duplicates(history, now):
    posts, shuffled = history
    ordered = sorted(posts, key=lambda p: p.order)
    assert fold_presence(shuffled, now) == fold_presence(ordered, now)
    assert fold_shares(shuffled) == fold_shares(ordered)
    retracted = {(p.author, p.body["share"]) for p in posts if p.kind == "plan_retract"}
    assert set(fold_shares(posts)) == {p.id for p in posts if p.kind == "plan_share"
                                       and (p.author, p.id) not in retracted}
    for member, state in fold_presence(posts, now).items():
        latest = max((p for p in posts if p.kind == "presence" and p.author == member), key=lambda p: p.order)
        until = latest.body["until"] if latest.body["until"] is not None else latest.created + DEFAULT_PRESENCE_S
        expired = until <= now
        assert state.status == ("unknown" if expired else latest.body["status"])
