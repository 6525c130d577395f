"""Members' onion addresses in the roster (issue 15, C5): the ``reach`` roster operation, its value, its
fold (latest counted per author wins, only while a member or relay, bounded), and the rule that nothing
builds on it; the pure helpers the node and the ops use; the state file's new field.

The fold tests build ``RosterOp`` values with test_membership's ``Chain``/``Ops`` (fast enough for
hypothesis); the verdict tests go through real envelopes (``Real``).
"""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meshcare import envelope as env
from meshcare.circles import membership as ms
from meshcare.circles import reach as rc
from meshcare.circles import roster_body as rb
from meshcare.circles.circle import Verdict
from meshcare.circles.state import LocalState
from meshcare.circles.writing import NEVER
from meshcare.crypto.onion_key import onion_address
from meshcare.errors import BadInput, RemoteProtocolError
from meshcare.wire import pack

from .helpers import examples
from .test_membership import A, B, C, D, F, T, Chain, Real, fold, keys, mid

ONION = [onion_address(bytes([i]) * 32) for i in range(4)]
AT = [f"{host}:7447" for host in ONION]


# ---------------------------------------------------------------------------------------------------
# the value


def test_a_reach_carries_one_canonical_onion_address_or_nothing() -> None:
    for value in (AT[0], f"{ONION[1]}:1", f"{ONION[2]}:65535", ""):
        kind, body = rb.validate({"k": "reach", "parents": [mid(1)], "onion": value})
        assert kind == "reach" and body["onion"] == value
    assert rc.parse_onion(AT[0]) == (ONION[0], 7447)
    assert rc.address_of("") is None and rc.address_of(AT[3]) == (ONION[3], 7447)


@pytest.mark.parametrize("value", [
    ONION[0],                                        # no port
    AT[0].upper(),                                   # not lowercase
    f"{ONION[0]}.:7447",                             # a trailing dot
    f"{ONION[0]}:0", f"{ONION[0]}:65536", f"{ONION[0]}:07447", f"{ONION[0]}:-1", f"{ONION[0]}:７４４７",
    f"{ONION[0][:-7]}aaaaaa.onion:7447".replace("aaaaaa", "bbbbbb"),      # a wrong checksum
    "a" * 15 + "b.onion:80",                         # the old v2 kind
    "192.168.1.20:7447", "example.com:7447", "localhost:7447",
    "x" * 200, 7447, None, [AT[0]], b"abc",
])
def test_anything_but_a_v3_onion_with_its_port_is_the_peers_fault(value: Any) -> None:
    with pytest.raises(RemoteProtocolError):
        rb.validate({"k": "reach", "parents": [mid(1)], "onion": value})
    if value != "":
        assert rc.address_of(value if isinstance(value, str) else "") is None


@pytest.mark.parametrize("body", [
    {"k": "reach", "parents": [mid(1)]},                                  # no value
    {"k": "reach", "parents": [mid(1)], "onion": AT[0], "member": A},     # about someone else
    {"k": "reach", "onion": AT[0]},                                       # no parents
])
def test_a_malformed_reach_is_the_peers_fault(body: dict[str, Any]) -> None:
    with pytest.raises(RemoteProtocolError):
        rb.validate(body)


def test_a_person_is_told_what_is_wrong_with_an_address() -> None:
    with pytest.raises(BadInput, match="checksum"):
        rc.parse_onion(f"{ONION[0][:10]}{'b' if ONION[0][10] != 'b' else 'c'}{ONION[0][11:]}:7447")
    with pytest.raises(BadInput, match="port"):
        rc.parse_onion(f"{ONION[0]}:99999")


# ---------------------------------------------------------------------------------------------------
# the fold


def test_the_last_counted_reach_per_member_wins_and_a_relay_may_say_it_too() -> None:
    ch = Chain().members(A, B)
    ch.admit(D, role="relay")
    ch.add("reach", A, onion=AT[0])
    ch.add("reach", A, onion=AT[1])
    ch.add("reach", D, onion=AT[2])
    ch.add("reach", B, onion=AT[3])
    ch.add("reach", B, onion="")                     # B turned it off
    r = ch.roster
    assert r.reach == {A: AT[1], D: AT[2], B: ""} and r.reaches == {A: 2, D: 1, B: 2}
    assert len({op.id for op in ch.log[-5:]} - set(r.ignored)) == 5
    assert r.reach_refused(A) is None and r.reach_refused(C) is not None


def test_nothing_builds_on_a_reach_it_is_never_a_head() -> None:
    ch = Chain().members(A, B)
    heads = ch.roster.heads
    op = ch.add("reach", A, onion=AT[0])
    r = ch.roster
    assert r.heads == heads and op.id in r.order and op.id not in r.ignored
    # the next operation builds on the heads without it, with the lamport those give
    nxt = ch.add("rename", B, name="Bo")
    assert op.id not in nxt.parents and ch.roster.heads == (nxt.id,)


def test_an_operation_naming_a_reach_as_parent_does_not_count() -> None:
    ch = Chain().members(A, B)
    reach = ch.add("reach", A, onion=AT[0])
    forged = ch.ops.make("rename", B, [reach, *ch.roster.heads], name="Bo")
    r = fold([*ch.log, forged])
    assert "builds on a reach" in r.ignored[forged.id] and r.members[B].name == "B"
    assert forged.id not in r.heads


def test_a_node_that_refuses_reach_folds_the_same_roster_otherwise() -> None:
    """An older node refuses every reach envelope; as nothing builds on one, it holds nothing up and
    the rest of its roster is the same."""
    ch = Chain().members(A, B)
    ch.add("reach", A, onion=AT[0])
    ch.add("rename", B, name="Bo")
    ch.add("reach", B, onion=AT[1])
    ch.add("remove", F, member=A, last_seq=3, keys=keys(F, B))
    ch.add("seen", B)
    new, old = ch.roster, fold([op for op in ch.log if op.kind != "reach"])
    assert not old.pending and old.heads == new.heads and old.members == new.members
    assert old.epochs == new.epochs and old.unacknowledged == new.unacknowledged
    assert [i for i in new.order if i in set(old.order)] == list(old.order)


def test_a_removed_members_address_is_gone_and_their_later_or_backdated_reach_does_not_count() -> None:
    ch = Chain().members(A, B)
    ch.add("reach", B, onion=AT[0])
    before = ch.roster.heads
    ch.add("remove", F, member=B, last_seq=3, keys=keys(F, A))
    after = ch.add("reach", B, onion=AT[1])
    backdated = ch.ops.make("reach", B, before, onion=AT[2])
    r = fold([*ch.log, backdated])
    assert B not in r.reach and after.id in r.ignored and backdated.id in r.ignored
    # back in: an address counts again only once they say it again
    ch.log.append(backdated)
    ch.admit(B)
    assert B not in ch.roster.reach
    ch.add("reach", B, onion=AT[3])
    assert ch.roster.reach[B] == AT[3]


def test_reaches_past_the_bound_do_not_count() -> None:
    ch = Chain().members(A)
    for i in range(rc.MAX_REACHES):
        ch.add("reach", A, onion=AT[i % 2])
    one_more = ch.add("reach", A, onion=AT[3])
    r = ch.roster
    assert r.reaches[A] == rc.MAX_REACHES + 1 and r.reach[A] == AT[(rc.MAX_REACHES - 1) % 2]
    assert r.ignored[one_more.id] == r.reach_refused(A)
    assert not {op.id for op in ch.log if op.kind == "reach"} - {one_more.id} & set(r.ignored)


@st.composite
def reach_histories(draw: st.DrawFn) -> list[ms.RosterOp]:
    """F, A, B, C in a circle; each says an address now and then on the heads it knows (concurrently),
    knowledge merges now and then, and F may remove one of them midway."""
    ch = Chain().members(A, B, C)
    log = list(ch.log)
    known = {m: ch.roster.heads for m in (F, A, B, C)}
    removed = False
    for _ in range(draw(st.integers(1, 14))):
        who = draw(st.sampled_from([F, A, B, C]))
        step = draw(st.integers(0, 5))
        if step == 0:
            known[who] = fold(log).heads
            continue
        if step == 1 and who == F and not removed:
            gone = draw(st.sampled_from([A, B, C]))
            op = ch.ops.make("remove", F, known[F], member=gone, last_seq=1,
                             keys=keys(m for m in (F, A, B, C) if m != gone))
            removed = True
            log.append(op)
            known[F] = (op.id,)
            continue
        log.append(ch.ops.make("reach", who, known[who], onion=draw(st.sampled_from(["", *AT]))))
    return log


@settings(max_examples=examples(100), deadline=None)
@given(reach_histories(), st.randoms(use_true_random=False))
def test_any_order_or_duplicates_of_reach_operations_give_the_same_addresses(history: list[ms.RosterOp],
                                                                              rnd: random.Random) -> None:
    reference = fold(history)
    shuffled = [*history, *rnd.sample(history, min(3, len(history)))]
    rnd.shuffle(shuffled)
    assert fold(shuffled) == reference
    by_id = {op.id: op for op in history}
    assert set(reference.reach) <= set(reference.members)            # removed members' addresses are gone
    for member, value in reference.reach.items():
        counted = [by_id[i] for i in reference.order
                   if by_id[i].kind == "reach" and by_id[i].author == member and i not in reference.ignored]
        assert counted and value == max(counted, key=lambda op: op.seq).body["onion"]
    assert not any(by_id[h].kind == "reach" for h in reference.heads)


def test_real_envelopes_an_honest_reach_is_stored_and_one_built_on_a_reach_is_rejected() -> None:
    w = Real("F", "A", "B")
    w.op("F", "create", {"name": "real", "member_name": "F", **w.circles["F"].new_epoch_fields([])})
    w.join("F", "A")
    w.join("F", "B")
    reach = w.op("A", "reach", {"onion": AT[0]})
    assert all(c.roster.reach == {w.me("A"): AT[0]} for c in w.circles.values())
    renamed = w.op("B", "rename", {"name": "Bo"})              # builds on the heads without the reach
    op = w.circles["F"].roster_operation(renamed.id)
    assert op is not None and reach.id not in op.parents
    # a modified client building on a reach: every node rejects it outright
    b = w.circles["B"]
    w.seq["B"] += 1
    parents = [reach.id, *b.roster.heads]
    body = {"k": "rename", "name": "Bob", "parents": parents}
    rb.validate(body)
    lamport = 1 + max(o.lamport for o in map(b.roster_operation, parents) if o is not None)
    generation = b._sealing_generation()
    forged = b._seal(generation, b.keys.roster[generation], pack(body), seq=w.seq["B"], now=T, expires=NEVER,
                     lane=env.Lane.URGENT, lamport=lamport)
    assert w.circles["F"].verdict(forged, T) is Verdict.REJECT


# ---------------------------------------------------------------------------------------------------
# the helpers the node and the ops use


@pytest.mark.parametrize("own, share, shown, post", [
    (AT[0], True, None, AT[0]),          # first time: say it
    (AT[0], True, AT[0], None),          # the roster agrees
    (AT[1], True, AT[0], AT[1]),         # a new address
    (None, True, AT[0], None),           # tor gone for now: the address stays, it comes back
    (None, False, AT[0], ""),            # turned off: say there is none
    (AT[0], False, "", None),            # already says none
    (AT[0], False, None, None),          # never said anything: nothing to take back
    (AT[0], True, "", AT[0]),            # turned on again
])
def test_what_the_node_owes_a_circle(own: str | None, share: bool, shown: str | None, post: str | None) -> None:
    assert rc.reach_to_post(own, share, shown) == post


def test_a_value_posted_last_waits_the_repost_delay_a_new_one_goes_at_once() -> None:
    assert rc.reach_due(AT[0], None, 100.0) == 100.0
    assert rc.reach_due(AT[0], (100.0, AT[1]), 150.0) == 150.0
    assert rc.reach_due(AT[0], (100.0, AT[0]), 150.0) == 100.0 + rc.REPOST_AFTER


def test_members_onions_leave_out_this_node_and_a_disputed_address_has_no_owner() -> None:
    onions = rc.member_onions([{A: AT[0], B: AT[1], F: AT[2], C: ""}, {A: AT[0], D: AT[1]}], me=F)
    assert onions == {(ONION[0], 7447): A, (ONION[1], 7447): b""}


def test_invite_hints_name_relays_first_and_at_most_the_limit() -> None:
    roles = {A: "member", B: "facilitator", C: "member", D: "relay", F: "facilitator"}
    reach = {A: AT[0], B: AT[1], C: "", D: AT[2], F: AT[3]}
    assert rc.hint_onions(reach, roles, F) == [AT[2], AT[1], AT[0]]
    assert rc.hint_onions(reach, roles, F, limit=1) == [AT[2]]


def test_onion_changes_forget_what_went_and_announce_what_came() -> None:
    a, b, c = (ONION[0], 1), (ONION[1], 2), (ONION[2], 3)
    lost, found = rc.onion_changes({a: A, b: B}, {b: C, c: D})
    assert lost == [a, b] and found == [(b, C), (c, D)]
    assert rc.onion_changes({a: A}, {a: A}) == ([], [])


# ---------------------------------------------------------------------------------------------------
# the state file


def test_the_choice_not_to_share_is_kept_and_older_state_files_still_load() -> None:
    state = LocalState(unshared={b"t" * 32})
    again = LocalState.from_obj(state.to_obj())
    assert again.unshared == {b"t" * 32}
    v5 = [5, *state.to_obj()[1:9]]                       # a file from before onion addresses
    assert LocalState.from_obj(v5).unshared == set()
