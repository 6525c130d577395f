"""The call fold: claim/release/resolve/accept/escalate rules, the ladder timers, order independence."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from meshcare.circles.calls import CallState, fold_calls, followup_due, next_escalation, next_escalation_time
from meshcare.circles.posts import Post, make_post
from meshcare.control.views import Call
from meshcare.ops.present import call_from

from .helpers import ladders, mid, mk, shuffled_with_duplicates

CALLER, A, B, C = mid(1), mid(2), mid(3), mid(4)
T0 = 1_700_000_000
LADDER = [{"after": 0, "to": "chosen", "members": [A]}, {"after": 10, "to": "facilitators"},
          {"after": 20, "to": "circle"}, {"after": 30, "to": "chosen", "members": [B, C]}]


def call(lamport: int = 1, ladder: list[dict[str, Any]] | None = None, author: bytes = CALLER) -> Post:
    body: dict[str, Any] = {"text": "could someone come by tonight", "urgency": "now", "needs": ["company"]}
    if ladder is not None:
        body["ladder"] = ladder
    return mk("call", author, lamport, T0, **body)


CALL = call()
CID = CALL.id


def t(kind: str, author: bytes, lamport: int, /, created: int | None = None, **body: Any) -> Post:
    """A thread post in CALL's thread."""
    return mk(kind, author, lamport, T0 + lamport if created is None else created, call=CID, **body)


def fold(*posts: Post) -> CallState:
    return fold_calls([CALL, *posts])[CID]


# --- the call itself and unknown threads ---------------------------------------------------------


def test_a_call_alone_is_open_with_its_body():
    s = fold()
    assert (s.caller, s.text, s.urgency, s.needs, s.reach, s.consent, s.created) == (
        CALLER, "could someone come by tonight", "now", ("company",), None, (), T0)
    assert (s.status, s.claimer, s.step, s.offers, s.updates, s.received_by) == ("open", None, 0, (), (), frozenset())
    assert [(x.after, x.to, x.members) for x in s.ladder] == [(0, "circle", ())]


def test_thread_posts_of_an_unknown_call_count_for_nothing_until_it_arrives():
    claim = t("claim", A, 2)
    assert fold_calls([claim]) == {}
    assert fold_calls([claim, CALL])[CID].claimer == A


def test_thread_posts_naming_a_non_call_post_are_ignored():
    offer = t("offer", A, 2, kind="text")
    other = mk("claim", B, 3, call=offer.id)
    assert fold(offer, other).claimer is None


def test_other_kinds_are_skipped():
    assert set(fold_calls([CALL, mk("presence", A, 2, status="away"),
                           mk("checkin", A, 3, prompt="how are you all?")])) == {CID}


# --- claims --------------------------------------------------------------------------------------


def test_claim_takes_the_call():
    s = fold(t("claim", A, 2, created=T0 + 60))
    assert (s.status, s.claimer, s.claimed_at, s.also_claimed) == ("claimed", A, T0 + 60, frozenset())


def test_the_caller_cannot_claim_their_own_call():
    assert fold(t("claim", CALLER, 2)).status == "open"


def test_a_second_claim_does_not_take_it_and_is_recorded():
    s = fold(t("claim", A, 2), t("claim", B, 3), t("claim", A, 4))
    assert (s.claimer, s.also_claimed) == (A, frozenset({B}))


def test_release_hands_the_call_to_the_earliest_remaining_claim():
    s = fold(t("claim", A, 2), t("claim", C, 3), t("claim", B, 4), t("release", A, 5, created=T0 + 500))
    assert (s.claimer, s.also_claimed, s.claimed_at) == (C, frozenset({B}), T0 + 500)


def test_release_by_someone_also_on_it_only_removes_them():
    s = fold(t("claim", A, 2), t("claim", B, 3), t("release", B, 4))
    assert (s.claimer, s.also_claimed) == (A, frozenset())


def test_release_without_a_claim_does_nothing_and_a_later_claim_takes_it():
    s = fold(t("release", A, 2), t("claim", A, 3))
    assert s.claimer == A
    assert fold(t("claim", A, 2), t("release", B, 3)).claimer == A


def test_a_release_only_withdraws_claims_before_it():
    # A claims again after letting go: they join the back of the line behind B.
    s = fold(t("claim", A, 2), t("claim", B, 3), t("release", A, 4), t("claim", A, 5))
    assert (s.claimer, s.also_claimed) == (B, frozenset({A}))
    assert fold(t("claim", A, 2), t("release", A, 3), t("claim", A, 4)).claimer == A


def test_everyone_releasing_reopens_the_call():
    s = fold(t("claim", A, 2), t("release", A, 3))
    assert (s.status, s.claimer, s.claimed_at) == ("open", None, None)


def test_order_is_lamport_then_id_not_created():
    first = mk("claim", A, 2, T0 + 900, id=b"\x01" * 32, call=CID)
    second = mk("claim", B, 2, T0 + 1, id=b"\x02" * 32, call=CID)
    earlier = mk("claim", C, 1, T0 + 999, id=b"\xff" * 32, call=CID)
    assert fold(second, first).claimer == A
    assert fold(second, first, earlier).claimer == C


# --- offers and accepts --------------------------------------------------------------------------


def test_offers_and_accepts():
    o1 = t("offer", A, 3, kind="come_over", text="I can be there in 20 minutes")
    o2 = t("offer", B, 2, kind="listening")
    own = t("offer", CALLER, 4, kind="text")
    elsewhere = mk("offer", C, 2, call=mid(9), kind="call")
    s = fold(o1, o2, own, elsewhere,
             t("accept", CALLER, 5, offer=o1.id), t("accept", CALLER, 6, offer=o2.id),
             t("accept", CALLER, 7, offer=elsewhere.id), t("accept", CALLER, 8, offer=mid(7)),
             t("accept", A, 9, offer=o2.id))
    assert [(o.id, o.author, o.kind, o.accepted) for o in s.offers] == [
        (o2.id, B, "listening", True), (o1.id, A, "come_over", True)]
    assert s.accepted == {o1.id, o2.id}
    s = fold(o1, o2, t("accept", A, 5, offer=o1.id), t("accept", B, 6, offer=o1.id))
    assert s.accepted == frozenset() and not any(o.accepted for o in s.offers)


def test_an_offer_of_another_call_is_not_accepted_here():
    other = call(lamport=2, author=A)
    foreign = mk("offer", B, 3, call=other.id, kind="text")
    s = fold_calls([CALL, other, foreign, t("accept", CALLER, 4, offer=foreign.id)])
    assert s[CID].accepted == frozenset() and s[other.id].offers[0].accepted is False


# --- resolve -------------------------------------------------------------------------------------


def test_resolve_by_the_caller():
    s = fold(t("resolve", CALLER, 2, created=T0 + 77, followup_at=T0 + 86400))
    assert (s.status, s.resolved_by, s.resolved_at, s.followup_at) == ("resolved", CALLER, T0 + 77, T0 + 86400)


def test_resolve_by_the_current_claimer_only():
    assert fold(t("claim", A, 2), t("resolve", A, 3)).resolved_by == A
    assert fold(t("claim", A, 2), t("claim", B, 3), t("resolve", B, 4)).status == "claimed"
    assert fold(t("resolve", A, 2), t("claim", A, 3)).status == "claimed"  # not the claimer yet
    assert fold(t("claim", A, 2), t("release", A, 3), t("resolve", A, 4)).status == "open"
    assert fold(t("resolve", C, 2)).status == "open"


def test_the_first_valid_resolve_wins():
    s = fold(t("claim", A, 2), t("resolve", B, 3), t("resolve", A, 4, followup_at=5),
             t("resolve", CALLER, 5, followup_at=9))
    assert (s.resolved_by, s.followup_at) == (A, 5)


def test_resolve_freezes_the_call_and_later_thread_posts_do_not_apply():
    """Issue 9 item 16: after the resolve, claims, releases, offers, accepts, updates and escalations
    count for nothing (the op refuses them locally; the fold ignores a modified client's); receipts and
    follow-up check-ins still do."""
    s = fold(t("claim", A, 2), t("claim", B, 3), t("resolve", CALLER, 4), t("release", A, 5),
             t("claim", C, 6), t("update", A, 7, text="got home safe"), t("offer", C, 8, kind="text"),
             t("receipt", C, 9))
    assert (s.status, s.claimer, s.also_claimed, s.claimed_at) == ("resolved", A, frozenset({B}), T0 + 2)
    assert s.updates == () and s.offers == () and s.received_by == {C}
    offer = t("offer", C, 2, kind="text")
    late = fold(offer, t("resolve", CALLER, 3), t("accept", CALLER, 4, offer=offer.id))
    assert late.accepted == frozenset() and len(late.offers) == 1


def test_resolve_while_nobody_holds_it():
    s = fold(t("resolve", CALLER, 2))
    assert (s.claimer, s.claimed_at, s.also_claimed) == (None, None, frozenset())


# --- departed claimers, facilitators, the claim race (issue 9 item 16) ------------------------------

EVERYONE = frozenset({CALLER, A, B, C})


def test_a_departed_claimers_claim_lapses_and_the_next_claim_takes_over():
    posts = (t("claim", A, 2), t("claim", B, 3, created=T0 + 30))
    assert fold(*posts).claimer == A
    s = fold_calls([CALL, *posts], members=EVERYONE - {A})[CID]
    assert (s.status, s.claimer, s.claimed_at, s.also_claimed) == ("claimed", B, T0 + 30, frozenset())
    s = fold_calls([CALL, t("claim", A, 2)], members=EVERYONE - {A})[CID]
    assert (s.status, s.claimer, s.claimed_at) == ("open", None, None)


def test_a_departed_claimers_resolve_before_leaving_still_stands():
    s = fold_calls([CALL, t("claim", A, 2), t("resolve", A, 3)], members=EVERYONE - {A})[CID]
    assert (s.status, s.resolved_by, s.claimer) == ("resolved", A, A)


def test_a_facilitator_can_close_a_call_others_cannot():
    posts = [CALL, t("claim", A, 2), t("resolve", C, 3)]
    assert fold_calls(posts)[CID].status == "claimed"
    s = fold_calls(posts, facilitators=frozenset({C}))[CID]
    assert (s.status, s.resolved_by, s.claimer) == ("resolved", C, A)


def test_release_by_someone_who_never_claimed_and_a_second_resolve_change_nothing():
    s = fold(t("claim", A, 2), t("release", B, 3), t("resolve", A, 4, created=T0 + 9),
             t("resolve", CALLER, 5, created=T0 + 99))
    assert (s.claimer, s.resolved_by, s.resolved_at) == (A, A, T0 + 9)


def test_the_claim_race_has_one_winner_whatever_the_arrival_order():
    a, b = t("claim", A, 2), t("claim", B, 2)
    first = min((a, b), key=lambda p: p.order).author
    for order in ([CALL, a, b], [b, CALL, a], [a, b, CALL]):
        s = fold_calls(order)[CID]
        assert s.claimer == first and s.also_claimed == {A, B} - {first}


# --- escalation, receipts, updates, check-ins ----------------------------------------------------


def test_escalate_only_by_the_caller_highest_step_within_the_ladder():
    c = call(ladder=LADDER)
    def e(author: bytes, lamport: int, step: int) -> Post:
        return mk("escalate", author, lamport, call=c.id, step=step)
    s = fold_calls([c, e(CALLER, 3, 2), e(CALLER, 4, 1), e(A, 5, 3)])[c.id]
    assert s.step == 2
    assert fold_calls([c, e(CALLER, 3, 4)])[c.id].step == 0  # the ladder has steps 0..3 only


def test_receipts_updates_and_followup_checkins():
    u1 = t("update", B, 5, text="on my way")
    u2 = t("update", CALLER, 3, text="thank you")
    ck = mk("checkin", A, 6, prompt="how are you today?", call=CID)
    s = fold(u1, u2, ck, t("receipt", A, 2), t("receipt", A, 4), t("receipt", CALLER, 2),
             mk("checkin", A, 7, prompt="everyone OK?"))
    assert s.received_by == {A, CALLER}
    assert [(u.author, u.text, u.created) for u in s.updates] == [(CALLER, "thank you", T0 + 3),
                                                                 (B, "on my way", T0 + 5)]
    assert s.checkins == (ck.id,)


def call_json(s: CallState, names: dict[bytes, str] | None = None) -> dict[str, Any]:
    """The call as the daemon shows it (``present.call_from``), without a circle around it."""
    return call_from(s, names or {}, circle_id="00" * 16, circle_name="c", audience=frozenset(), me=mid(0)).to_data()


def test_a_call_shows_as_json_with_hex_ids_and_names():
    o = t("offer", A, 2, kind="come_over")
    s = fold(o, t("claim", A, 3), t("claim", B, 4), t("accept", CALLER, 5, offer=o.id),
             t("update", A, 6, text="there soon"), t("receipt", C, 7))
    d = call_json(s, {CALLER: "Sam", A: "Ari", mid(99): "not in this call"})
    json.dumps(d)
    assert {"id", "caller", "text", "urgency", "needs", "reach", "consent", "consent_note", "created",
            "status", "claimer", "also_claimed", "offers", "accepted", "updates", "resolved_by",
            "resolved_at", "followup_at", "step", "received_by", "ladder"} <= set(d)
    assert (d["id"], d["caller"], d["claimer"], d["also_claimed"]) == (CID.hex(), CALLER.hex(), A.hex(), [B.hex()])
    assert d["offers"] == [{"id": o.id.hex(), "author": A.hex(), "kind": "come_over", "text": "",
                            "created": T0 + 2, "accepted": True}]
    assert d["accepted"] == [o.id.hex()] and d["received_by"] == [C.hex()]
    assert d["names"] == {CALLER.hex(): "Sam", A.hex(): "Ari"}
    assert d["ladder"] == [{"after": 0, "to": "circle", "members": []}]
    assert call_json(fold())["names"] == {}


# --- the ladder timers ---------------------------------------------------------------------------


def test_next_escalation_follows_the_ladder():
    c = call(ladder=LADDER)
    s = fold_calls([c])[c.id]
    assert next_escalation(s, T0) is None
    assert next_escalation(s, T0 + 599) is None
    assert next_escalation(s, T0 + 600) == 1
    assert next_escalation(s, T0 + 25 * 60) == 2  # late: skip step 1
    assert next_escalation(s, T0 + 10**6) == 3  # never past the ladder
    s2 = fold_calls([c, mk("escalate", CALLER, 2, call=c.id, step=2)])[c.id]
    assert next_escalation(s2, T0 + 25 * 60) is None
    assert next_escalation(s2, T0 + 30 * 60) == 3
    s3 = fold_calls([c, mk("escalate", CALLER, 2, call=c.id, step=3)])[c.id]
    assert next_escalation(s3, T0 + 10**6) is None


def test_no_escalation_while_held_or_resolved_and_again_after_release():
    c = call(ladder=LADDER)
    claim = mk("claim", A, 2, call=c.id)
    assert next_escalation(fold_calls([c, claim])[c.id], T0 + 10**6) is None
    assert next_escalation(fold_calls([c, mk("resolve", CALLER, 2, call=c.id)])[c.id], T0 + 10**6) is None
    reopened = fold_calls([c, claim, mk("release", A, 3, call=c.id)])[c.id]
    assert next_escalation(reopened, T0 + 15 * 60) == 1


def test_the_default_ladder_never_escalates():
    assert next_escalation(fold(), T0 + 10**6) is None and next_escalation_time(fold()) is None


def test_next_escalation_time():
    c = call(ladder=LADDER)
    assert next_escalation_time(fold_calls([c])[c.id]) == T0 + 600
    assert next_escalation_time(fold_calls([c, mk("escalate", CALLER, 2, call=c.id, step=1)])[c.id]) == T0 + 1200
    assert next_escalation_time(fold_calls([c, mk("escalate", CALLER, 2, call=c.id, step=3)])[c.id]) is None
    assert next_escalation_time(fold_calls([c, mk("claim", A, 2, call=c.id)])[c.id]) is None
    assert next_escalation_time(fold_calls([c, mk("resolve", CALLER, 2, call=c.id)])[c.id]) is None


def test_followup_due():
    done = fold(t("resolve", CALLER, 2, followup_at=T0 + 1000))
    assert not followup_due(done, False, T0 + 999)
    assert followup_due(done, False, T0 + 1000)
    assert not followup_due(done, True, T0 + 5000)
    assert not followup_due(fold(t("resolve", CALLER, 2)), False, T0 + 10**6)
    assert not followup_due(fold(), False, T0 + 10**6)


# --- properties ----------------------------------------------------------------------------------

MEMBERS = [mid(i) for i in range(1, 5)]
THREAD = ["offer", "claim", "release", "accept", "update", "resolve", "escalate", "receipt", "checkin"]


@st.composite
def histories(draw: st.DrawFn) -> list[Post]:
    """Valid posts over 1..3 calls and 4 members: conflicting claims, releases, resolves, strays."""
    salt = draw(st.binary(max_size=4))
    count = iter(range(10**6))
    def new(kind: str, author: bytes, lamport: int, body: dict[str, Any]) -> Post:
        pid = hashlib.sha256(salt + next(count).to_bytes(4, "big")).digest()
        return make_post(pid, author, draw(st.integers(T0, T0 + 5000)), lamport, kind, body)
    calls = [new("call", draw(st.sampled_from(MEMBERS)), draw(st.integers(0, 3)),
                 {"text": "help", "ladder": draw(ladders(st.sampled_from(MEMBERS)))})
             for _ in range(draw(st.integers(1, 3)))]
    call_ids = [c.id for c in calls] + [mid(99)]
    posts, offers = list(calls), []
    for _ in range(draw(st.integers(0, 30))):
        kind, author = draw(st.sampled_from(THREAD)), draw(st.sampled_from(MEMBERS))
        body: dict[str, Any] = {"call": draw(st.sampled_from(call_ids))}
        if kind == "offer":
            body["kind"] = "text"
        elif kind == "accept":
            body["offer"] = draw(st.sampled_from(offers)) if offers and draw(st.booleans()) else mid(98)
        elif kind in ("update", "checkin"):
            body["text" if kind == "update" else "prompt"] = "x"
        elif kind == "resolve":
            body["followup_at"] = draw(st.none() | st.integers(T0, T0 + 10**5))
        elif kind == "escalate":
            body["step"] = draw(st.integers(1, 4))
        post = new(kind, author, draw(st.integers(0, 12)), body)
        posts.append(post)
        if kind == "offer":
            offers.append(post.id)
    return posts


def reference_claim(caller: bytes, thread: list[Post]) -> tuple[bytes | None, frozenset[bytes]]:
    """The claim rule stated directly, on a thread in (lamport, id) order: the claims not followed by
    a release from the same author are live; the earliest one's author holds the call. Resolved: the
    same, on the thread before the first resolve by the caller or by whoever then held it."""
    def live(before: list[Post]) -> tuple[bytes | None, frozenset[bytes]]:
        valid = [p for i, p in enumerate(before) if p.kind == "claim" and p.author != caller
                 and not any(q.kind == "release" and q.author == p.author for q in before[i + 1:])]
        holder = valid[0].author if valid else None
        return holder, frozenset(p.author for p in valid) - {holder}
    for i, post in enumerate(thread):
        if post.kind == "resolve" and post.author in (caller, live(thread[:i])[0]):
            return live(thread[:i])
    return live(thread)


@settings(max_examples=80, deadline=None)
@given(histories().flatmap(lambda ps: st.tuples(st.just(ps), shuffled_with_duplicates(ps))))
def test_fold_is_independent_of_order_and_duplicates(history):
    posts, shuffled = history
    result = fold_calls(sorted(posts, key=lambda p: p.order))
    assert fold_calls(shuffled) == result
    assert set(result) == {p.id for p in posts if p.kind == "call"}
    for s in result.values():
        thread = sorted({p for p in posts if p.body.get("call") == s.id}, key=lambda p: p.order)
        assert (s.claimer, s.also_claimed) == reference_claim(s.caller, thread)
        assert s.claimer != s.caller and s.caller not in s.also_claimed
        assert s.status == ("resolved" if s.resolved_by else "claimed" if s.claimer else "open")
        assert s.resolved_by in (None, s.caller) or s.resolved_by == s.claimer
        assert s.accepted == {o.id for o in s.offers if o.accepted}
        assert all(o.author != s.caller for o in s.offers)
        assert 0 <= s.step < len(s.ladder)
        d = call_json(s)
        json.dumps(d)
        assert Call.from_data(d).to_data() == d         # what the daemon shows is what the control API reads


@settings(max_examples=80, deadline=None)
@given(histories(), st.integers(T0 - 100, T0 + 2000 * 60))
def test_next_escalation_stays_within_the_ladder_and_only_when_open(posts, now):
    for s in fold_calls(posts).values():
        step, when = next_escalation(s, now), next_escalation_time(s)
        if s.status != "open":
            assert step is None and when is None
        if step is not None:
            assert s.step < step < len(s.ladder)
            assert s.created + s.ladder[step].after * 60 <= now
            assert when is not None and when <= now
        elif when is not None:
            assert when > now

