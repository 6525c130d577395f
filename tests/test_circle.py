"""One circle as each node sees it: verdicts, opening posts, building envelopes, and convergence of several
nodes (each with its own ``Circle``) that receive the same envelopes in different orders.

``Net`` plays the network and the registry: an envelope is signature-checked, then ``verdict`` decides;
DEFER holds it aside and it is asked again after every envelope that was taken in.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meshcare import envelope as env
from meshcare.circles import calls as cl
from meshcare.circles import checkins as ck
from meshcare.circles import membership as ms
from meshcare.circles import plans as pl
from meshcare.circles.circle import _UNREADABLE, Circle, Verdict
from meshcare.circles.keyring import ROSTER_EPOCH
from meshcare.crypto import seal
from meshcare.crypto.keys import Identity
from meshcare.errors import BadInput, DecryptionFailed, LocalProtocolError
from meshcare.wire import pack

from .circlenet import PLAN, Net, ids
from .helpers import DAY, T


def readable(c: Circle) -> set[tuple[Any, ...]]:
    return {(p.id, p.kind, p.author, p.created, p.lamport, repr(p.body)) for p in c.posts}


def body_keys(c: Circle) -> list[bytes]:
    """Every key this node holds that could open an envelope body: epoch keys and what derives from them."""
    out = []
    for number, key in c.keys.epochs.items():
        out += [key, c.keys.body_key(number)]
    return out


# ---------------------------------------------------------------------------------------------------
# convergence


_SCENARIO: list[Net] = []


def scenario() -> Net:
    """Four members, content of every kind that has no ordering caveat, several epochs (two of them from
    concurrent rotations), a narrow call."""
    if _SCENARIO:
        return _SCENARIO[0]
    n = Net("F", "A", "B", "C").setup()
    call_a = n.call("A", text="rough night, could someone call")
    offer = n.post("B", "offer", {"call": call_a.id, "kind": "call", "text": "I can call at 9"})
    n.post("C", "claim", {"call": call_a.id})
    n.post("F", "presence", {"status": "available", "until": T + 3 * DAY})
    n.post("F", "checkin", {"prompt": "how is everyone this week?", "visibility": "circle"})
    n.post("A", "accept", {"call": call_a.id, "offer": offer.id})
    call_b = n.call("B", [{"after": 0, "to": "chosen", "members": [n.me("C")]}], text="only C please")
    n.post("C", "update", {"call": call_b.id, "text": "on my way"})
    n.rotate("F")
    concurrent = [n.rotate("B", to=[]), n.rotate("C", to=[])]       # from the same heads, at the same time
    for name in n.names:
        n.give(name, concurrent)
    n.post("A", "update", {"call": call_a.id, "text": "thank you, feeling better"})
    n.post("B", "plan_share", {"to": "circle", "plan": PLAN})
    n.roster("F", "role", {"member": n.me("A"), "role": "facilitator"})
    n.post("C", "presence", {"status": "away"})
    n.post("F", "checkin", {"prompt": "facilitators only", "visibility": "facilitators"})
    n.post("C", "resolve", {"call": call_a.id, "followup_at": T + DAY})
    assert all(not r for r in n.rejected.values()) and all(not h for h in n.held.values())
    _SCENARIO.append(n)
    return n


def test_the_scenario_reads_as_intended() -> None:
    n = scenario()
    f, a, b, c = (n.circles[x] for x in "FABC")
    assert f.roster == a.roster == b.roster == c.roster
    content = [e for e in n.log if e.epoch != ROSTER_EPOCH]
    narrow = {e.id for e in content[6:8]}                       # B's call to C and C's update in it
    assert ids(b) == ids(c) == {e.id for e in content}
    assert ids(f) == ids(a) == {e.id for e in content} - narrow
    calls = cl.fold_calls(a.posts)
    (state,) = calls.values()
    assert state.status == "resolved" and state.claimer == n.me("C") and len(state.updates) == 1
    assert len(cl.fold_calls(c.posts)) == 2


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_members_converge_whatever_the_arrival_order(data: st.DataObject) -> None:
    n = scenario()
    reference_roster = n.circles["F"].roster
    for name in n.names:
        order = data.draw(st.permutations(n.log), label=f"order at {name}")
        repeats = data.draw(st.lists(st.sampled_from(n.log), max_size=4), label=f"repeats at {name}")
        c = n.fresh(name)
        before = len(n.rejected[name])
        n.give(name, [*order, *repeats], circle=c)
        assert len(n.rejected[name]) == before, "nothing in the scenario may be rejected"
        assert n.held[c] == [], "nothing may wait once everything arrived"
        assert c.roster == reference_roster
        assert readable(c) == readable(n.circles[name])
        assert not any(i.post is _UNREADABLE for i in c._content.values())
    # what the folds make of it is the same too
    a = n.circles["A"]
    again = n.fresh("A")
    n.give("A", reversed(n.log), circle=again)
    assert cl.fold_calls(again.posts) == cl.fold_calls(a.posts)
    assert ck.fold_checkins(again.posts) == ck.fold_checkins(a.posts)
    assert pl.fold_shares(again.posts) == pl.fold_shares(a.posts)


def test_content_before_its_epoch_waits_and_then_opens() -> None:
    n = scenario()
    late = n.fresh("B")
    content = [e for e in n.log if e.epoch != ROSTER_EPOCH]
    roster = [e for e in n.log if e.epoch == ROSTER_EPOCH]
    verdicts = [late.verdict(e, T) for e in content]
    assert set(verdicts) == {Verdict.DEFER}
    n.give("B", [*content, *roster], circle=late)
    assert readable(late) == readable(n.circles["B"])


# ---------------------------------------------------------------------------------------------------
# removal


def test_a_removed_member_reads_nothing_new_and_its_later_envelopes_are_rejected() -> None:
    n = Net("F", "A", "B", "C").setup()
    early = n.post("C", "presence", {"status": "available"})
    f = n.circles["F"]
    removal = n.roster("F", "remove", n.remove_fields("F", "C"), to=["A", "B"])
    # C has not heard yet, and posts again: everyone else refuses it
    late = n.post("C", "presence", {"status": "away"}, to=[])
    for name in "FAB":
        assert n.circles[name].verdict(late, T) is Verdict.REJECT
        assert n.circles[name].verdict(early, T) is Verdict.ACCEPT
    newcomer = n.fresh("B")
    n.give("B", [e for e in n.log if e.id != late.id], circle=newcomer)
    assert newcomer.verdict(late, T) is Verdict.REJECT and newcomer.verdict(early, T) is Verdict.ACCEPT
    assert early.id in ids(newcomer)
    # C learns of its removal; what the others say from now on is closed to it
    n.give("C", [removal])
    c = n.circles["C"]
    assert c.roster.role(n.me("C")) is None and n.me("C") in c.roster.departed
    after = [n.call("A", text="after C left"), n.post("B", "presence", {"status": "away"})]
    for e in after:
        assert e.epoch == f.roster.current and n.me("C") not in f.roster.epochs[e.epoch].keys
        assert e.id in c.content_ids() and e.id not in ids(c)
        for key in body_keys(c):
            with pytest.raises(DecryptionFailed):
                env.open_body(e, key)
    assert all(e.id in ids(n.circles[name]) for e in after for name in "FAB")
    with pytest.raises(BadInput):
        c.post_envelope("presence", {"status": "away"}, seq=99, now=T)


def test_a_removed_member_posting_under_its_old_epoch_is_rejected_even_with_a_valid_key() -> None:
    n = Net("F", "A", "C").setup()
    f, c = n.circles["F"], n.circles["C"]
    old = f.roster.current
    n.roster("F", "remove", n.remove_fields("F", "C"), to=["A"])
    assert old is not None and old in c.keys.epochs
    forged = c._seal(old, c.keys.body_key(old), pack({"k": "presence", "status": "away"}),
                     seq=n.seq["C"] + 1, now=T, expires=T + DAY, lane=env.Lane.NORMAL)
    assert f.verdict(forged, T) is Verdict.REJECT and n.circles["A"].verdict(forged, T) is Verdict.REJECT


# ---------------------------------------------------------------------------------------------------
# rejections


def test_a_non_member_on_an_existing_epoch_is_rejected() -> None:
    n = Net("F", "A").setup()
    stranger = Circle(Identity.generate("stranger"), n.secret, n.founder)   # knows the secret, never admitted
    f = n.circles["F"]
    epoch = f.roster.current
    assert epoch is not None
    key = f.keys.body_key(epoch)                                              # even with the right key
    forged = stranger._seal(epoch, key, pack({"k": "presence", "status": "away"}), seq=1, now=T,
                            expires=T + DAY, lane=env.Lane.NORMAL)
    assert f.verdict(forged, T) is Verdict.REJECT
    assert n.circles["A"].verdict(forged, T) is Verdict.REJECT
    member = n.post("A", "presence", {"status": "away"})
    assert f.verdict(member, T) is Verdict.ACCEPT


def test_an_unknown_epoch_waits() -> None:
    n = Net("F", "A").setup()
    f = n.circles["F"]
    e = f._seal(ms.ROSTER_LIMIT + 12345, os.urandom(32), pack({"k": "presence", "status": "away"}), seq=9, now=T,
                expires=T + DAY, lane=env.Lane.NORMAL, prev=os.urandom(32))
    assert n.circles["A"].verdict(e, T) is Verdict.DEFER


def test_a_check_in_posted_by_a_member_is_not_read_anywhere() -> None:
    n = Net("F", "A", "B").setup()
    original = n.post("F", "checkin", {"prompt": "I am not a facilitator", "visibility": "circle"}, to=[])
    forged = _repost_as(n, "A", original)   # A's own node refuses to make one (BadInput); a modified client
    real = n.post("F", "checkin", {"prompt": "I am", "visibility": "circle"})
    for name in "FAB":
        c = n.circles[name]
        assert forged.id in c.content_ids() and forged.id not in ids(c)
        assert real.id in ids(c)
        assert set(ck.fold_checkins(c.posts)) - {original.id} == {real.id}
    # in a call's thread anyone who reads the call may post a check-in (a follow-up)
    call = n.call("A")
    n.post("B", "claim", {"call": call.id})
    n.post("B", "resolve", {"call": call.id, "followup_at": T + 10})
    followup = n.post("B", "checkin", {"prompt": "how are you now?", "call": call.id, "visibility": "circle"})
    assert followup.id in ids(n.circles["A"]) and followup.id in ids(n.circles["F"])


def test_a_replayed_envelope_changes_nothing() -> None:
    n = Net("F", "A").setup()
    for e in (n.post("A", "presence", {"status": "away"}), n.rotate("F")):
        c = n.circles["A"]
        version, roster, posts = c.version, c.roster, readable(c)
        assert c.ingest(e) is False
        assert c.ingest(env.decode(e.encoded)) is False
        assert (c.version, c.roster, readable(c)) == (version, roster, posts)


def test_a_new_envelope_changes_the_version() -> None:
    n = Net("F", "A").setup()
    a = n.circles["A"]
    version = a.version
    n.post("F", "presence", {"status": "away"})
    assert a.version > version


def test_an_envelope_of_another_circle_is_rejected() -> None:
    n = Net("F", "A").setup()
    elsewhere = Circle(n.ids["F"], os.urandom(32), n.founder)      # the same author, another circle
    e = elsewhere.roster_envelope("create", {"name": "other", **elsewhere.new_epoch_fields([])}, seq=1, now=T)
    assert n.circles["A"].verdict(e, T) is Verdict.REJECT
    content = n.post("F", "presence", {"status": "away"})
    wrong_topic = env.seal(signing_key=n.ids["F"].signing_key, topic=elsewhere.topic, epoch=content.epoch,
                           key=os.urandom(32), seq=50, lamport=1, created=T, expires=T + DAY, plaintext=b"x",
                           prev=os.urandom(32))
    assert n.circles["A"].verdict(wrong_topic, T) is Verdict.REJECT


def test_expired_content_is_dropped() -> None:
    n = Net("F", "A").setup()
    short = n.post("A", "presence", {"status": "away", "until": T + 600})
    long = n.post("A", "presence", {"status": "available"})
    f = n.circles["F"]
    assert short.expires == T + 600 and long.expires == T + 30 * DAY
    assert f.expire(T + 599) == 0 and short.id in ids(f)
    version = f.version
    assert f.expire(T + 600) == 1
    assert short.id not in f.content_ids() and long.id in ids(f) and f.version > version
    assert f.expire(T + 600) == 0 and f.roster.exists       # roster operations never expire
    assert f.expire(T + 30 * DAY) == 1 and ids(f) == set()


def test_a_roster_envelope_under_another_key_is_rejected() -> None:
    n = Net("F", "A").setup()
    f = n.circles["F"]
    body = pack({"k": "leave", "parents": list(f.roster.heads), "last_seq": 3, "last_id": b"L" * 32})
    wrong_key = f._seal(ROSTER_EPOCH, os.urandom(32), body, seq=5, now=T, expires=env.MAX_UINT, lane=env.Lane.URGENT,
                        prev=os.urandom(32))
    right_key = f._seal(ROSTER_EPOCH, f.roster_key, body, seq=5, now=T, expires=env.MAX_UINT, lane=env.Lane.URGENT,
                        prev=os.urandom(32), lamport=f.roster.max_lamport + 1)
    malformed = f._seal(ROSTER_EPOCH, f.roster_key, pack({"k": "leave", "last_seq": 3}), seq=5, now=T,
                        expires=env.MAX_UINT, lane=env.Lane.URGENT, prev=os.urandom(32))
    a = n.circles["A"]
    assert a.verdict(wrong_key, T) is Verdict.REJECT
    assert a.verdict(malformed, T) is Verdict.REJECT
    assert a.verdict(right_key, T) is Verdict.ACCEPT
    version = a.version
    assert a.ingest(wrong_key) is False and a.version == version


def test_roster_ops_of_someone_not_yet_admitted_wait() -> None:
    n = Net("F", "A", "B").create()
    n.join("A")
    n.join("B")
    b_op = n.rotate("B", to=[])
    late = n.fresh("A")
    assert late.verdict(b_op, T) is Verdict.DEFER        # nothing known yet
    n.give("A", [b_op, *[e for e in n.log if e.id != b_op.id]], circle=late)
    assert late.roster.current == ms.epoch_number(b_op.id)


# ---------------------------------------------------------------------------------------------------
# a call's audience and escalation


def _call_with_ladder(n: Net, second_step: dict[str, Any]) -> tuple[env.Envelope, env.Envelope, list[dict[str, Any]]]:
    ladder = [{"after": 0, "to": "chosen", "members": [n.me("B")]}, {"after": 10, **second_step}]
    call = n.call("A", ladder, text="please, B first")
    update = n.post("B", "update", {"call": call.id, "text": "I see it, calling you now"})
    return call, update, ladder


def test_a_call_reaches_only_its_first_step_at_first() -> None:
    n = Net("F", "A", "B", "C").setup()
    call, update, _ = _call_with_ladder(n, {"to": "circle", "members": []})
    for name in "AB":
        assert {call.id, update.id} <= ids(n.circles[name])
        assert set(cl.fold_calls(n.circles[name].posts)) == {call.id}
    for name in "FC":
        c = n.circles[name]
        assert {call.id, update.id} <= set(c.content_ids()) and not ids(c) & {call.id, update.id}
        assert cl.fold_calls(c.posts) == {}
    with pytest.raises(BadInput):
        n.circles["C"].post_envelope("offer", {"call": call.id, "kind": "text"}, seq=50, now=T)


@pytest.mark.parametrize("escalate_first", [False, True], ids=["call-first", "escalate-first"])
def test_escalating_to_chosen_members_opens_the_call_and_its_thread_for_them(escalate_first: bool) -> None:
    n = Net("F", "A", "B", "C").setup()
    call, update, ladder = _call_with_ladder(n, {"to": "chosen", "members": [n.me("B"), n.me("C")]})
    audience = n.circles["A"].call_audience(n.me("A"), ladder, 1)
    assert audience == {n.me("A"), n.me("B"), n.me("C")}
    late = n.fresh("C")
    n.give("C", [e for e in n.log if e.epoch == ROSTER_EPOCH], circle=late)
    esc = n.post("A", "escalate", {"call": call.id, "step": 1}, audience=audience)
    n.give("C", [esc, call, update] if escalate_first else [call, update, esc], circle=late)
    for c in (n.circles["C"], late):
        assert {call.id, update.id, esc.id} <= ids(c)
        (state,) = cl.fold_calls(c.posts).values()
        assert state.step == 1 and len(state.updates) == 1
    f = n.circles["F"]
    assert not ids(f) & {call.id, update.id, esc.id}


@pytest.mark.parametrize("escalate_first", [False, True], ids=["call-first", "escalate-first"])
def test_escalating_to_the_circle_opens_the_call_and_its_thread_for_everyone(escalate_first: bool) -> None:
    n = Net("F", "A", "B", "C").setup()
    call, update, ladder = _call_with_ladder(n, {"to": "circle", "members": []})
    audience = n.circles["A"].call_audience(n.me("A"), ladder, 1)
    assert audience == n.circles["A"].roster.readers
    late = n.fresh("C")
    n.give("C", [e for e in n.log if e.epoch == ROSTER_EPOCH], circle=late)
    esc = n.post("A", "escalate", {"call": call.id, "step": 1}, audience=audience)
    n.give("C", [esc, call, update] if escalate_first else [call, update, esc], circle=late)
    for c in (n.circles["C"], n.circles["F"], late):
        assert {call.id, update.id, esc.id} <= ids(c)
        (state,) = cl.fold_calls(c.posts).values()
        assert state.step == 1 and [u.text for u in state.updates] == ["I see it, calling you now"]
    # and the newly reached can answer in the thread
    n.post("C", "offer", {"call": call.id, "kind": "come_over"})


def test_a_forged_escalate_cannot_keep_a_call_closed() -> None:
    n = Net("F", "A", "B", "C").setup()
    call, update, ladder = _call_with_ladder(n, {"to": "chosen", "members": [n.me("B"), n.me("F")]})
    c = n.circles["C"]                        # outside the call's audience; it knows only the call's id
    bogus = os.urandom(32)
    epoch = c.roster.current
    assert epoch is not None
    outer = {"k": "escalate", "call": call.id, "keys": c.sealed_keys(bogus, [n.me("F")]),
             "box": seal.box(bogus, pack({"call": call.id, "step": 1}), call.id)}
    n.seq["C"] += 1
    forged = c._seal(epoch, c.keys.body_key(epoch), pack(outer), seq=n.seq["C"], now=T,
                     expires=T + DAY, lane=env.Lane.URGENT)
    n._spread("C", forged, to=["F"])
    audience = n.circles["A"].call_audience(n.me("A"), ladder, 1)
    esc = n.post("A", "escalate", {"call": call.id, "step": 1}, audience=audience)
    assert {call.id, update.id, esc.id} <= ids(n.circles["F"])


# ---------------------------------------------------------------------------------------------------
# check-in replies


def test_replies_to_a_facilitators_check_in_are_read_by_facilitators_and_their_author_only() -> None:
    n = Net("F", "A", "B", "C").setup()
    n.roster("F", "role", {"member": n.me("C"), "role": "facilitator"})
    checkin = n.post("F", "checkin", {"prompt": "how are you doing?", "visibility": "facilitators"})
    reply = n.post("A", "checkin_reply", {"checkin": checkin.id, "option": 1, "text": "a chat would help"})

    def reply_seen_by(name: str) -> Any:
        (post,) = [p for p in n.circles[name].posts if p.id == reply.id]
        return post.body

    for name in "FCA":
        assert reply_seen_by(name) == {"checkin": checkin.id, "option": 1, "text": "a chat would help"}
    assert reply_seen_by("B")["option"] is None and reply_seen_by("B")["text"] == ""
    tallies = {name: ck.tally(ck.fold_checkins(n.circles[name].posts)[checkin.id]) for name in "FCAB"}
    assert tallies["F"]["could use a chat"] == tallies["C"]["could use a chat"] == 1
    assert sum(tallies["B"].values()) == 0
    assert ck.answered(ck.fold_checkins(n.circles["B"].posts)[checkin.id]) == {n.me("A")}
    # the reply is sealed: no epoch key opens the option
    outer = n.circles["B"]
    for key in body_keys(outer):
        try:
            raw = env.open_body(reply, key)
        except DecryptionFailed:
            continue
        assert b"a chat would help" not in raw


def test_replies_to_a_circle_check_in_are_read_by_everyone() -> None:
    n = Net("F", "A", "B").setup()
    checkin = n.post("F", "checkin", {"prompt": "all good?", "visibility": "circle"})
    reply = n.post("A", "checkin_reply", {"checkin": checkin.id, "option": 0})
    for name in "FAB":
        (post,) = [p for p in n.circles[name].posts if p.id == reply.id]
        assert post.body["option"] == 0


def test_a_check_in_nobody_here_can_see_cannot_be_answered() -> None:
    n = Net("F", "A").setup()
    checkin = n.post("F", "checkin", {"prompt": "x?", "visibility": "circle"}, to=[])
    with pytest.raises(BadInput):
        n.circles["A"].post_envelope("checkin_reply", {"checkin": checkin.id, "option": 0}, seq=9, now=T)


@pytest.mark.parametrize("visibility", ["circle", "facilitators"])
def test_a_reply_that_arrives_before_its_check_in_is_read_once_the_check_in_arrives(visibility: str) -> None:
    n = Net("F", "A", "B").setup()
    n.roster("F", "role", {"member": n.me("B"), "role": "facilitator"})
    checkin = n.post("F", "checkin", {"prompt": "how are you?", "visibility": visibility}, to=["A"])
    reply = n.post("A", "checkin_reply", {"checkin": checkin.id, "option": 2}, to=["F", "B"])
    n.give("B", [checkin])
    (post,) = [p for p in n.circles["B"].posts if p.id == reply.id]
    assert post.body["option"] == 2


# ---------------------------------------------------------------------------------------------------
# plan shares


def test_a_plan_shared_with_the_claimer_is_read_by_the_claimer_and_its_author_only() -> None:
    n = Net("F", "A", "B", "C").setup()
    call = n.call("A")
    n.post("B", "claim", {"call": call.id})
    share = n.post("A", "plan_share", {"to": "call", "call": call.id, "plan": PLAN}, audience=[n.me("B")])
    for name in "AB":
        shares = pl.fold_shares(n.circles[name].posts)
        assert shares[share.id].plan == pl.Plan(**PLAN) and shares[share.id].call == call.id
    for name in "FC":
        c = n.circles[name]
        assert share.id in c.content_ids() and share.id not in ids(c) and pl.fold_shares(c.posts) == {}
        for key in body_keys(c):
            try:
                raw = env.open_body(share, key)
            except DecryptionFailed:
                continue
            assert b"my sister" not in raw
    with pytest.raises(LocalProtocolError):
        n.circles["A"].post_envelope("plan_share", {"to": "call", "call": call.id, "plan": PLAN},
                                     audience=[n.me("B"), n.me("C")], seq=99, now=T)


def test_a_plan_shared_with_the_circle_is_read_by_every_member() -> None:
    n = Net("F", "A", "B").setup()
    share = n.post("A", "plan_share", {"to": "circle", "plan": PLAN})
    assert all(share.id in pl.fold_shares(n.circles[x].posts) for x in "FAB")


# ---------------------------------------------------------------------------------------------------
# posting rules


def test_posting_needs_a_fresh_epoch_after_someone_left() -> None:
    n = Net("F", "A", "B").setup()
    n.roster("B", "leave", n.leave_fields("B"))
    a = n.circles["A"]
    assert a.roster.needs_rotation
    with pytest.raises(LocalProtocolError, match="rotate"):
        a.post_envelope("presence", {"status": "away"}, seq=50, now=T)
    n.rotate("A")
    e = n.post("A", "presence", {"status": "away"})
    assert n.me("B") not in a.roster.epochs[e.epoch].keys


def test_relays_verify_but_neither_read_nor_post() -> None:
    n = Net("F", "A", "R")
    n.create()
    n.join("A")
    n.join("R", role="relay")
    e = n.post("A", "presence", {"status": "away"})
    r = n.circles["R"]
    assert r.verdict(e, T) is Verdict.ACCEPT and e.id in r.content_ids() and r.posts == []
    assert not r.can_read()
    with pytest.raises(BadInput):
        r.post_envelope("presence", {"status": "away"}, seq=9, now=T)


def test_shared_history_lets_a_new_member_read_the_past() -> None:
    n = Net("F", "A", "B", settings={"share_history": True}).create()
    n.join("A")
    before = n.post("A", "presence", {"status": "away"})
    n.join("B")
    assert before.id in ids(n.circles["B"])
    closed = Net("F", "A", "B").create()
    closed.join("A")
    early = closed.post("A", "presence", {"status": "away"})
    closed.join("B")
    assert early.id not in ids(closed.circles["B"])


# ---------------------------------------------------------------------------------------------------
# sealed boxes are bound to their author and target (issue 9 item 10)


def _repost_as(n: Net, copier: str, original: env.Envelope, **changes: Any) -> env.Envelope:
    """``copier`` takes ``original``'s epoch-encrypted body (sealed boxes and all) and posts it as its
    own envelope, as a modified client can."""
    from meshcare.wire import unpack_strict
    c = n.circles[copier]
    key = c.keys.body_key(original.epoch)
    outer = {**unpack_strict(env.open_body(original, key)), **changes}
    n.seq[copier] += 1
    e = c._seal(original.epoch, key, pack(outer), seq=n.seq[copier], now=T, expires=original.expires,
                lane=env.Lane.NORMAL)
    return n._spread(copier, e, None)


@pytest.mark.parametrize("visibility", ["circle", "facilitators"])
def test_a_copied_sealed_reply_reposted_by_another_member_is_not_counted_as_theirs(visibility: str) -> None:
    n = Net("F", "A", "B").setup()
    checkin = n.post("F", "checkin", {"prompt": "how are you?", "visibility": visibility})
    reply = n.post("A", "checkin_reply", {"checkin": checkin.id, "option": 2, "text": "need someone"})
    copy = _repost_as(n, "B", reply)
    # who can open the box finds it bound to A and drops B's copy (others only ever see "answered")
    for name in ("FAB" if visibility == "circle" else "F"):
        state = ck.fold_checkins(n.circles[name].posts)[checkin.id]
        assert copy.id not in ids(n.circles[name]), name
        assert [r.member for r in state.replies] == [n.me("A")]
    assert ck.tally(ck.fold_checkins(n.circles["F"].posts)[checkin.id])["need support now"] == 1


def test_a_copied_sealed_plan_share_reposted_by_another_member_is_not_read_as_theirs() -> None:
    n = Net("F", "A", "B", "C").setup()
    call = n.call("A")
    n.post("B", "claim", {"call": call.id})
    share = n.post("A", "plan_share", {"to": "call", "call": call.id, "plan": PLAN}, audience=[n.me("B")])
    copy = _repost_as(n, "C", share)
    assert copy.id not in ids(n.circles["B"])
    assert set(pl.fold_shares(n.circles["B"].posts)) == {share.id}
