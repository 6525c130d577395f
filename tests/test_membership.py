"""The roster fold: validation of roster bodies, who may do what, the concurrency rules, and that the fold
is a function of the *set* of operations (any order, duplicates, late parents).

Most tests build ``RosterOp`` values directly from validated bodies (fast, so hypothesis can make long
histories with concurrent branches); the tests at the end go through the real path, ``Circle.roster_envelope``
with real identities, sealed epoch keys and envelopes, ingested by separate ``Circle`` objects.
"""

from __future__ import annotations

import hashlib
import os
import random
from collections.abc import Iterable, Sequence
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meshcare import envelope as env
from meshcare.circles import membership as ms
from meshcare.circles import roster_body as rb
from meshcare.circles import roster_fold as rf
from meshcare.circles.circle import Circle, Verdict, invite_proof
from meshcare.crypto import sign
from meshcare.crypto.keys import Identity
from meshcare.errors import RemoteProtocolError

T = 1_800_000_000
TOPIC = bytes(range(16))
SEALED = b"\x5a" * 48                         # fold never opens sealed keys: any 48..4096 bytes will do


def mid(n: int) -> bytes:
    return hashlib.blake2b(b"member %d" % n, digest_size=32).digest()


F, A, B, C, D = (mid(i) for i in range(5))      # F founds every circle here
NAMES = {F: "F", A: "A", B: "B", C: "C", D: "D"}


def seed_of(label: str) -> bytes:
    return hashlib.blake2b(label.encode(), digest_size=32).digest()


def keys(*members: bytes | Iterable[bytes]) -> list[list[bytes]]:
    flat: set[bytes] = set()
    for m in members:
        flat |= {m} if isinstance(m, bytes) else set(m)
    return [[m, SEALED] for m in sorted(flat)]


class Ops:
    """Makes validated roster operations; ids are unique, lamport defaults to 1 + the parents' highest."""

    def __init__(self) -> None:
        self.all: dict[bytes, ms.RosterOp] = {}
        self.count = 0
        self.seqs: dict[bytes, int] = {}

    def make(self, kind: str, author: bytes, parents: Iterable[ms.RosterOp | bytes] = (), *,
             lamport: int | None = None, created: int = T, seq: int | None = None, id: bytes | None = None,
             **fields: Any) -> ms.RosterOp:
        body: dict[str, Any] = {"k": kind, **fields}
        if kind in ("remove", "leave") and "last_id" not in body:       # a stand-in for the chain's id
            body["last_id"] = b"" if body["last_seq"] == 0 else hashlib.blake2b(b"last %d" % body["last_seq"],
                                                                                  digest_size=32).digest()
        if kind == "remove" and "roster_keys" not in body:
            body["roster_keys"] = body["keys"]
        if kind != "create":
            body["parents"] = [p.id if isinstance(p, ms.RosterOp) else p for p in parents]
        k, normalised = rb.validate(body)
        self.count += 1
        if lamport is None:
            lamport = 1 + max((self.all[p].lamport for p in normalised["parents"] if p in self.all), default=0)
        op_id = id if id is not None else hashlib.blake2b(b"op %d" % self.count, digest_size=32).digest()
        if seq is None:                       # one chain per author: seqs never repeat
            seq = self.seqs[author] = self.seqs.get(author, 0) + 1
        op = ms.RosterOp(op_id, author, lamport, created, seq, k, normalised)
        self.all[op_id] = op
        return op


def fold(ops: Iterable[ms.RosterOp], founder: bytes = F) -> ms.Roster:
    return rf.fold(ops, founder, TOPIC)


class Chain:
    """A linear history (each operation builds on the previous heads), for the rule tests."""

    def __init__(self, settings: dict[str, Any] | None = None) -> None:
        self.ops = Ops()
        self.log: list[ms.RosterOp] = []
        self.seeds: dict[bytes, bytes] = {}
        create_fields: dict[str, Any] = {"name": "circle", "member_name": "F", "keys": keys(F)}
        if settings is not None:
            create_fields["settings"] = settings
        self.log.append(self.ops.make("create", F, **create_fields))

    @property
    def roster(self) -> ms.Roster:
        return fold(self.log)

    def add(self, kind: str, author: bytes, *, created: int = T, **fields: Any) -> ms.RosterOp:
        op = self.ops.make(kind, author, self.roster.heads, created=created, **fields)
        self.log.append(op)
        return op

    def invite(self, by: bytes = F, role: str = "member", expires: int = T + 3600) -> bytes:
        seed = seed_of(f"invite {len(self.seeds)} {os.urandom(4).hex()}")
        key = sign.public_key(seed)
        self.seeds[key] = seed
        self.add("invite", by, invite=key, role=role, expires=expires)
        return key

    def admit(self, member: bytes, *, by: bytes = F, invite: bytes | None = None, role: str = "member",
              proof: bytes | None = None, created: int = T) -> ms.RosterOp:
        key = invite if invite is not None else self.invite(role=role)
        if proof is None:
            proof = invite_proof(self.seeds[key], TOPIC, member)
        readers = self.roster.readers | ({member} if role != "relay" else set())
        return self.add("admit", by, invite=key, member=member, name=NAMES.get(member, "x"), proof=proof,
                        keys=keys(readers, by), created=created)

    def members(self, *people: bytes) -> Chain:
        for p in people:
            self.admit(p)
        return self


# ---------------------------------------------------------------------------------------------------
# validation


P1, P2 = mid(101), mid(102)
GOOD: dict[str, dict[str, Any]] = {
    "create": {"k": "create", "name": "circle", "member_name": "F", "settings": {"rotate_days": 3},
               "keys": [[F, SEALED]]},
    "invite": {"k": "invite", "parents": [P1], "invite": mid(7), "role": "member", "expires": T},
    "revoke": {"k": "revoke", "parents": [P1], "invite": mid(7)},
    "admit": {"k": "admit", "parents": [P1], "invite": mid(7), "member": A, "name": "A", "proof": b"s" * 64,
              "keys": [[A, SEALED]], "history": [[A, SEALED]]},
    "remove": {"k": "remove", "parents": [P1], "member": A, "last_seq": 3, "last_id": P2, "keys": [[F, SEALED]],
               "roster_keys": [[F, SEALED]]},
    "leave": {"k": "leave", "parents": [P1], "last_seq": 3, "last_id": P2},
    "role": {"k": "role", "parents": [P1], "member": A, "role": "facilitator"},
    "rotate": {"k": "rotate", "parents": [P1, P2], "keys": [[F, SEALED]], "roster_keys": [[F, SEALED]]},
    "settings": {"k": "settings", "parents": [P1], "settings": {"members_invite": True}},
}
OPTIONAL = {"create": {"settings", "member_name"}, "admit": {"history"}, "rotate": {"roster_keys"}}


@pytest.mark.parametrize("kind", sorted(GOOD))
def test_each_good_body_validates_and_normalises(kind: str) -> None:
    k, body = rb.validate(dict(GOOD[kind]))
    assert k == kind
    assert set(body) == (rb._FIELDS[kind] | {"parents"})
    assert body["parents"] == tuple(sorted(GOOD[kind].get("parents", [])))
    for name in ("keys", "history"):
        if name in body:
            assert body[name] == {m: s for m, s in GOOD[kind][name]}


def test_validate_fills_optional_fields_and_dedupes_parents() -> None:
    _, body = rb.validate({"k": "create", "name": "c", "keys": [[F, SEALED]]})
    assert body["member_name"] == "founder" and body["settings"] == ms.CircleSettings()
    _, body = rb.validate({"k": "leave", "parents": [P2, P1, P2], "last_seq": 0, "last_id": b""})
    assert body["parents"] == tuple(sorted({P1, P2}))
    _, body = rb.validate({**GOOD["settings"], "settings": {}})
    assert body["settings"] == ms.CircleSettings()


def _without(kind: str, field: str) -> dict[str, Any]:
    body = dict(GOOD[kind])
    del body[field]
    return body


def _with(kind: str, **changes: Any) -> dict[str, Any]:
    return {**GOOD[kind], **changes}


MISSING = [(kind, field) for kind in sorted(GOOD) for field in sorted(rb._FIELDS[kind] - OPTIONAL.get(kind, set()))
           if not (kind == "settings" and field == "settings")]


@pytest.mark.parametrize(("kind", "field"), MISSING)
def test_a_missing_field_is_the_peers_fault(kind: str, field: str) -> None:
    with pytest.raises(RemoteProtocolError, match="missing fields"):
        rb.validate(_without(kind, field))


BAD: list[tuple[str, object]] = [
    ("not a map", [1, 2]),
    ("not a map (str)", "create"),
    ("no kind", {"parents": [P1], "last_seq": 1}),
    ("unknown kind", {"k": "promote", "parents": [P1]}),
    ("kind of the wrong type", {"k": 7, "parents": [P1]}),
    ("extra field", _with("leave", extra=1)),
    ("extra field on create", _with("create", parents_=[])),
    # ids and sizes
    ("short invite key", _with("invite", invite=b"i" * 31)),
    ("long member id", _with("remove", member=b"m" * 33)),
    ("member id as str", _with("role", member="A" * 32)),
    ("short parent", _with("leave", parents=[b"p" * 31])),
    ("parent as str", _with("leave", parents=["p" * 32])),
    ("parents not a list", _with("leave", parents=P1)),
    ("too many parents", _with("leave", parents=[mid(200 + i) for i in range(ms.MAX_PARENTS + 1)])),
    ("short proof", _with("admit", proof=b"s" * 63)),
    ("proof as str", _with("admit", proof="s" * 64)),
    ("sealed key too short", _with("rotate", keys=[[F, b"k" * 47]])),
    ("sealed key too long", _with("rotate", keys=[[F, b"k" * 4097]])),
    ("keys not a list", _with("rotate", keys={F: SEALED})),
    ("keys pair of three", _with("rotate", keys=[[F, SEALED, SEALED]])),
    ("keys pair not a list", _with("rotate", keys=[(F, SEALED)])),
    ("too many keys", _with("rotate", keys=[[m, SEALED] for m in sorted(mid(1000 + i) for i in range(ms.MAX_KEYS + 1))])),
    ("empty name", _with("admit", name="")),
    ("name too long", _with("admit", name="n" * (ms.MAX_NAME + 1))),
    ("name with a control character", _with("admit", name="A\nB")),
    ("circle name not text", _with("create", name=b"circle")),
    ("member name unprintable", _with("create", member_name="F\x00")),
    # integers
    ("negative expiry", _with("invite", expires=-1)),
    ("expiry beyond 63 bits", _with("invite", expires=2**63)),
    ("expiry as bool", _with("invite", expires=True)),
    ("expiry as float", _with("invite", expires=1.5)),
    ("negative last_seq", _with("leave", last_seq=-1)),
    ("last_seq as str", _with("remove", last_seq="3")),
    # enums
    ("invite role unknown", _with("invite", role="admin")),
    ("role op to relay", _with("role", role="relay")),
    ("role op unknown role", _with("role", role="owner")),
    # settings
    ("settings unknown key", _with("settings", settings={"admins": True})),
    ("settings not a map", _with("settings", settings=[["members_invite", True]])),
    ("retention 0 days", _with("settings", settings={"retention_days": 0})),
    ("retention 366 days", _with("settings", settings={"retention_days": 366})),
    ("rotate_days negative", _with("settings", settings={"rotate_days": -1})),
    ("share_history as int", _with("settings", settings={"share_history": 1})),
    ("retention as bool", _with("create", settings={"retention_days": True})),
    # parents
    ("parents on create", _with("create", parents=[P1])),
    ("empty parents on leave", _with("leave", parents=[])),
    ("no parents on invite", _without("invite", "parents")),
    ("no parents on rotate", _without("rotate", "parents")),
]


def _keys_case(order: str) -> dict[str, Any]:
    lo, hi = sorted([A, B])
    pairs = {"unsorted": [[hi, SEALED], [lo, SEALED]], "repeated": [[lo, SEALED], [lo, SEALED]]}[order]
    return _with("remove", keys=pairs)


@pytest.mark.parametrize(("why", "body"), BAD + [("keys unsorted", _keys_case("unsorted")),
                                               ("keys repeated", _keys_case("repeated"))],
                         ids=[b[0] for b in BAD] + ["keys unsorted", "keys repeated"])
def test_malformed_bodies_are_the_peers_fault(why: str, body: object) -> None:
    with pytest.raises(RemoteProtocolError, match="malformed roster operation"):
        rb.validate(body)


def test_history_unsorted_case_is_really_unsorted() -> None:
    # the parametrised case above builds its order from A and B; make sure it is the bad order
    lo, hi = sorted([A, B])
    with pytest.raises(RemoteProtocolError, match="sorted"):
        rb.validate(_with("admit", history=[[hi, SEALED], [lo, SEALED]]))


def test_a_settings_operation_without_settings_is_the_peers_fault() -> None:
    with pytest.raises(RemoteProtocolError):
        rb.validate({"k": "settings", "parents": [P1]})


@pytest.mark.parametrize("kind", [["admit"], {"k": "admit"}])
def test_an_unhashable_kind_is_the_peers_fault(kind: object) -> None:
    with pytest.raises(RemoteProtocolError):
        rb.validate({"k": kind, "parents": [P1]})


# ---------------------------------------------------------------------------------------------------
# authority


def test_founder_creates_and_holds_the_first_epoch() -> None:
    ch = Chain()
    r = ch.roster
    assert r.exists and r.name == "circle" and r.founder == F
    assert r.role(F) == "facilitator" and r.members[F].name == "F"
    assert r.current == ms.epoch_number(ch.log[0].id) and r.epochs[r.current].recipients == {F}
    assert not r.needs_rotation


def test_create_by_a_non_founder_is_ignored() -> None:
    ops = Ops()
    fake = ops.make("create", A, name="mine", keys=keys(A))
    r = fold([fake])
    assert not r.exists and r.members == {} and "founder" in r.ignored[fake.id]
    # and nothing built on it counts either
    later = ops.make("invite", A, [fake], invite=mid(50), role="member", expires=T + 10)
    assert fold([fake, later]).invites == {}


def test_create_by_a_non_founder_is_rejected_by_circles() -> None:
    founder, other = Identity.generate("founder"), Identity.generate("other")
    secret = os.urandom(32)
    theirs = Circle(other, secret, bytes(founder.node_id))
    forged = theirs.roster_envelope("create", {"name": "c", **theirs.new_epoch_fields([])}, seq=1, now=T)
    real_founder = Circle(founder, secret, bytes(founder.node_id))
    real = real_founder.roster_envelope("create", {"name": "c", **real_founder.new_epoch_fields([])}, seq=1, now=T)
    observer = Circle(Identity.generate("observer"), secret, bytes(founder.node_id))
    assert observer.verdict(forged, T) is Verdict.REJECT
    assert observer.verdict(real, T) is Verdict.ACCEPT


def test_a_second_create_is_ignored() -> None:
    ch = Chain()
    again = ch.ops.make("create", F, name="again", keys=keys(F))
    r = fold([*ch.log, again])
    assert r.name == "circle" and again.id in r.ignored


def test_the_founder_must_hold_the_key_it_makes() -> None:
    ops = Ops()
    bad = ops.make("create", F, name="c", keys=keys(A))
    assert not fold([bad]).exists


def test_invite_by_a_plain_member_is_ignored() -> None:
    ch = Chain().members(A)
    op = ch.add("invite", A, invite=mid(60), role="member", expires=T + 100)
    r = ch.roster
    assert mid(60) not in r.invites and "only facilitators invite" in r.ignored[op.id]


def test_members_may_invite_members_when_the_circle_allows_it() -> None:
    ch = Chain(settings={"members_invite": True}).members(A)
    ok = ch.add("invite", A, invite=mid(61), role="member", expires=T + 100)
    too_much = ch.add("invite", A, invite=mid(62), role="facilitator", expires=T + 100)
    relay = ch.add("invite", A, invite=mid(63), role="relay", expires=T + 100)
    r = ch.roster
    assert ok.id not in r.ignored and r.invites[mid(61)].by == A
    assert {too_much.id, relay.id} <= set(r.ignored) and mid(62) not in r.invites and mid(63) not in r.invites


def test_settings_allow_member_invites_only_after_the_change() -> None:
    ch = Chain().members(A)
    early = ch.add("invite", A, invite=mid(64), role="member", expires=T + 100)
    ch.add("settings", F, settings={"members_invite": True})
    late = ch.add("invite", A, invite=mid(65), role="member", expires=T + 100)
    r = ch.roster
    assert early.id in r.ignored and late.id not in r.ignored and r.settings.members_invite


def test_an_invite_key_cannot_be_published_twice() -> None:
    ch = Chain()
    key = ch.invite()
    again = ch.add("invite", F, invite=key, role="facilitator", expires=T + 9999)
    r = ch.roster
    assert r.invites[key].role == "member" and "exists" in r.ignored[again.id]


def test_settings_change_by_a_member_is_ignored() -> None:
    ch = Chain().members(A)
    op = ch.add("settings", A, settings={"retention_days": 2})
    assert ch.roster.settings == ms.CircleSettings() and "only facilitators" in ch.roster.ignored[op.id]
    ch.add("settings", F, settings={"retention_days": 2})
    assert ch.roster.settings.retention_days == 2


def test_admit_with_a_valid_proof_makes_a_member_with_a_new_epoch() -> None:
    ch = Chain()
    key = ch.invite()
    op = ch.admit(A, invite=key)
    r = ch.roster
    assert r.role(A) == "member" and r.members[A].admitted == op.id
    assert r.invites[key].used_by == A and r.invites[key].used_at == T and not r.invites[key].open_at(T)
    assert r.current == ms.epoch_number(op.id) and r.epochs[r.current].recipients == {F, A}
    assert A in r.ever and not r.needs_rotation


def test_admit_with_a_proof_for_another_member_is_ignored() -> None:
    ch = Chain()
    key = ch.invite()
    op = ch.admit(A, invite=key, proof=invite_proof(ch.seeds[key], TOPIC, B))
    r = ch.roster
    assert A not in r.members and r.ignored[op.id] == "the invite proof does not verify"
    assert r.invites[key].open_at(T)


def test_admit_with_a_proof_for_another_circle_or_another_invite_is_ignored() -> None:
    ch = Chain()
    key, other = ch.invite(), ch.invite()
    wrong_topic = ch.admit(A, invite=key, proof=invite_proof(ch.seeds[key], bytes(16), A))
    wrong_seed = ch.admit(A, invite=key, proof=invite_proof(ch.seeds[other], TOPIC, A))
    r = ch.roster
    assert A not in r.members and {wrong_topic.id, wrong_seed.id} <= set(r.ignored)


def test_a_used_invite_admits_nobody_else() -> None:
    ch = Chain()
    key = ch.invite()
    ch.admit(A, invite=key)
    second = ch.admit(B, invite=key)
    r = ch.roster
    assert B not in r.members and r.ignored[second.id] == "the invite was already used"


def test_a_revoked_invite_admits_nobody() -> None:
    ch = Chain()
    key = ch.invite()
    ch.add("revoke", F, invite=key)
    op = ch.admit(A, invite=key)
    r = ch.roster
    assert A not in r.members and "revoked" in r.ignored[op.id] and r.invites[key].revoked
    assert not r.invites[key].lobby_open_at(T)


def test_only_facilitators_or_the_inviter_revoke() -> None:
    ch = Chain(settings={"members_invite": True}).members(A, B)
    ch.add("invite", A, invite=mid(70), role="member", expires=T + 100)
    by_other = ch.add("revoke", B, invite=mid(70))
    assert not ch.roster.invites[mid(70)].revoked and by_other.id in ch.roster.ignored
    ch.add("revoke", A, invite=mid(70))
    assert ch.roster.invites[mid(70)].revoked
    missing = ch.add("revoke", F, invite=mid(71))
    assert ch.roster.ignored[missing.id] == "no such invite"


def test_admit_after_expiry_is_ignored() -> None:
    ch = Chain()
    key = ch.invite(expires=T + 100)
    late = ch.admit(A, invite=key, created=T + 100)
    assert A not in ch.roster.members and ch.roster.ignored[late.id] == "the invite had expired"
    in_time = ch.admit(A, invite=key, created=T + 99)
    assert ch.roster.role(A) == "member" and in_time.id not in ch.roster.ignored


def test_a_relay_cannot_admit_and_holds_no_epoch_key() -> None:
    ch = Chain()
    ch.admit(D, role="relay")
    r = ch.roster
    assert r.role(D) == "relay" and D not in r.readers and not r.needs_rotation
    key = ch.invite()
    op = ch.add("admit", D, invite=key, member=A, name="A", proof=invite_proof(ch.seeds[key], TOPIC, A),
                keys=keys(F, A, D))
    assert A not in ch.roster.members and "relays cannot admit" in ch.roster.ignored[op.id]
    rot = ch.add("rotate", D, keys=keys(F, D))
    assert rot.id in ch.roster.ignored


def test_any_member_may_admit_holders_of_an_invite() -> None:
    ch = Chain().members(A)
    key = ch.invite()
    op = ch.admit(B, by=A, invite=key)
    assert ch.roster.role(B) == "member" and op.id not in ch.roster.ignored


def test_the_author_of_a_keyed_operation_must_hold_its_key() -> None:
    ch = Chain().members(A)
    op = ch.add("rotate", A, keys=keys(F))
    assert "must hold the key" in ch.roster.ignored[op.id]


def test_only_facilitators_remove_and_nobody_removes_themselves() -> None:
    ch = Chain().members(A, B)
    by_member = ch.add("remove", A, member=B, last_seq=0, keys=keys(F, A))
    self_removal = ch.add("remove", F, member=F, last_seq=0, keys=keys(F, A, B))
    r = ch.roster
    assert set(r.members) == {F, A, B} and {by_member.id, self_removal.id} <= set(r.ignored)


def test_roles_are_for_members_only() -> None:
    ch = Chain().members(A)
    ch.admit(D, role="relay")
    by_member = ch.add("role", A, member=A, role="facilitator")
    to_relay = ch.add("role", F, member=D, role="facilitator")
    to_stranger = ch.add("role", F, member=C, role="facilitator")
    r = ch.roster
    assert r.role(A) == "member" and r.role(D) == "relay"
    assert {by_member.id, to_relay.id, to_stranger.id} <= set(r.ignored)
    ch.add("role", F, member=A, role="facilitator")
    assert ch.roster.facilitators == {F, A}


def test_operations_by_non_members_are_ignored() -> None:
    ch = Chain()
    op = ch.add("rotate", C, keys=keys(F, C))
    assert ch.roster.ignored[op.id] == "the author is not a member"


# ---------------------------------------------------------------------------------------------------
# concurrency rules


def _two_facilitators() -> Chain:
    ch = Chain().members(A, B)
    ch.add("role", F, member=A, role="facilitator")
    return ch


@pytest.mark.parametrize("first", ["F", "A"])
def test_two_facilitators_removing_each_other_at_once_both_removals_stand(first: str) -> None:
    """Nobody picks the winner (not lamport, id or backdating): both are out, the most senior remaining
    member is promoted. (v1: the removal ordered first stood.)"""
    ch = _two_facilitators()
    ch.admit(C)
    heads = ch.roster.heads
    by_f = ch.ops.make("remove", F, heads, member=A, last_seq=4, keys=keys(F, B, C))
    by_a = ch.ops.make("remove", A, heads, member=F, last_seq=4, keys=keys(A, B, C))
    for ops in ([*ch.log, by_f, by_a], [*ch.log, by_a, by_f]):
        r = fold(ops)
        assert set(r.members) == {B, C} and set(r.departed) == {F, A}
        assert r.facilitators == {B}                   # B was admitted before C
        assert by_f.id not in r.ignored and by_a.id not in r.ignored


def test_a_removed_facilitator_backdating_remove_of_its_remover_cannot_come_back() -> None:
    """The issue's attack: A, removed by F, later signs on its pre-removal heads (lamport as low as
    they allow) that F is removed, and more. v1 folded it first: A stayed, F went, everything after
    F's removal was ignored. Now A stays out; the most it gets is the mutual removal."""
    ch = _two_facilitators()
    ch.admit(C)
    before = ch.roster.heads
    removal = ch.add("remove", F, member=A, last_seq=3, keys=keys(F, B, C))
    later = ch.add("settings", F, settings={"retention_days": 9})       # life goes on after the removal
    invite = ch.add("invite", F, invite=mid(70), role="member", expires=T + 99)
    backdated = ch.ops.make("remove", A, before, member=F, last_seq=1, keys=keys(A, B, C))
    re_role = ch.ops.make("role", A, [backdated], member=C, role="facilitator")
    r = fold([*ch.log, backdated, re_role])
    assert A not in r.members and A in r.departed and removal.id not in r.ignored
    assert re_role.id in r.ignored and backdated.id not in r.ignored
    # the most it gets: the mutual-removal rule takes F out too (and what F did after its removal of A,
    # being concurrent with it); the most senior member left is promoted
    assert F not in r.members and r.facilitators == {B} and later.id in r.ignored and invite.id in r.ignored


def test_a_removal_the_circle_acted_on_cannot_be_undone_by_a_backdated_counter_removal() -> None:
    """Once a third member built on F's removal of A (the ``seen`` its node posts a few seconds after
    folding it), A's later counter-removal on older heads does not count: F stays, with everything F did
    since; A stays out. Without that acknowledgement the DAG cannot tell the attack from a real race."""
    ch = _two_facilitators()
    ch.admit(C)
    before = ch.roster.heads
    removal = ch.add("remove", F, member=A, last_seq=3, keys=keys(F, B, C))
    assert ch.roster.unacknowledged == {removal.id}
    seen = ch.add("seen", B)
    assert ch.roster.unacknowledged == frozenset()
    later = ch.add("settings", F, settings={"retention_days": 9})
    invite = ch.add("invite", F, invite=mid(71), role="member", expires=T + 99)
    backdated = ch.ops.make("remove", A, before, member=F, last_seq=1, keys=keys(A, B, C))
    r = fold([*ch.log, backdated])
    assert backdated.id in r.ignored and seen.id not in r.ignored
    assert F in r.members and A not in r.members and r.facilitators == {F}
    assert later.id not in r.ignored and invite.id not in r.ignored and mid(71) in r.invites


def test_an_ex_members_acknowledgement_of_a_backdated_counter_removal_does_not_count() -> None:
    """An accomplice who was removed earlier (its removal not in the attacker's chosen old heads) signs
    ``seen`` on the backdated counter-removal: it speaks for nobody, so the counter-removal stays void."""
    ch = _two_facilitators()
    ch.members(C, D)
    before = ch.roster.heads
    ch.add("remove", F, member=D, last_seq=1, keys=keys(F, A, B, C))
    removal = ch.add("remove", F, member=A, last_seq=3, keys=keys(F, B, C))
    ch.add("seen", B, )
    backdated = ch.ops.make("remove", A, before, member=F, last_seq=1, keys=keys(A, B, C, D))
    accomplice = ch.ops.make("seen", D, [backdated])
    r = fold([*ch.log, backdated, accomplice])
    assert backdated.id in r.ignored and F in r.members and A not in r.members and removal.id not in r.ignored


def test_an_ex_members_seen_does_not_acknowledge_a_removal_so_a_member_still_owes_one() -> None:
    """Acknowledgement and the mutual-removal rule use one test: a removal no node owes a ``seen`` for
    is one the circle acted on, and an ex-member's ``seen`` is neither."""
    ch = _two_facilitators()
    ch.members(C, D)
    before = ch.roster.heads
    ch.add("remove", F, member=D, last_seq=1, keys=keys(F, A, B, C))
    ack_by_b = ch.add("seen", B)                       # acknowledges D's removal
    removal = ch.add("remove", F, member=A, last_seq=3, keys=keys(F, B, C))
    late = ch.ops.make("seen", D, [removal])           # D is gone: speaks for nobody
    r = fold([*ch.log, late])
    assert removal.id in r.unacknowledged
    backdated = ch.ops.make("remove", A, before, member=F, last_seq=1, keys=keys(A, B, C, D))
    assert F not in fold([*ch.log, late, backdated]).members          # not acted on yet: both stand
    seen = ch.ops.make("seen", C, [removal])
    r = fold([*ch.log, late, seen, backdated])
    assert removal.id not in r.unacknowledged and backdated.id in r.ignored and F in r.members
    assert ack_by_b.id not in r.ignored


def test_a_mutual_removal_each_side_of_which_the_circle_acted_on_still_has_both_stand() -> None:
    ch = _two_facilitators()
    ch.admit(C)
    heads = ch.roster.heads
    by_f = ch.ops.make("remove", F, heads, member=A, last_seq=4, keys=keys(F, B, C))
    by_a = ch.ops.make("remove", A, heads, member=F, last_seq=4, keys=keys(A, B, C))
    b_saw_f = ch.ops.make("seen", B, [by_f])
    c_saw_a = ch.ops.make("seen", C, [by_a])
    r = fold([*ch.log, by_f, by_a, b_saw_f, c_saw_a])
    assert set(r.members) == {B, C} and by_f.id not in r.ignored and by_a.id not in r.ignored
    # only one side acted on: that side wins
    r = fold([*ch.log, by_f, by_a, b_saw_f])
    assert by_a.id in r.ignored and F in r.members and A not in r.members


def test_an_operation_concurrent_with_its_authors_removal_does_not_count_whatever_its_lamport() -> None:
    ch = Chain().members(A, B)
    ch.add("role", F, member=A, role="facilitator")
    heads = ch.roster.heads
    removal = ch.ops.make("remove", F, heads, member=A, last_seq=2, keys=keys(F, B))
    concurrent = [ch.ops.make("rotate", A, heads, keys=keys(F, A, B)),
                  ch.ops.make("invite", A, heads, invite=mid(81), role="member", expires=T + 10),
                  ch.ops.make("settings", A, heads, settings={"members_invite": True})]
    for op in concurrent:
        r = fold([*ch.log, removal, op])
        assert op.id in r.ignored and A not in r.members
        assert r.current == ms.epoch_number(removal.id) and mid(81) not in r.invites
        assert not r.settings.members_invite
    # and anything the removed member builds on its own removal counts for nothing either
    after = ch.ops.make("invite", A, [removal], invite=mid(80), role="member", expires=T + 10)
    assert after.id in fold([*ch.log, removal, after]).ignored


def test_a_removed_member_of_a_members_invite_circle_cannot_mint_invites() -> None:
    ch = Chain(settings={"members_invite": True}).members(A, B)
    heads = ch.roster.heads
    removal = ch.add("remove", F, member=A, last_seq=1, keys=keys(F, B))
    seed = seed_of("minted by the removed")
    key = sign.public_key(seed)
    minted = ch.ops.make("invite", A, heads, invite=key, role="member", expires=T + 3600)
    admit = ch.ops.make("admit", B, [removal, minted], invite=key, member=C, name="C",
                        proof=invite_proof(seed, TOPIC, C), keys=keys(F, B, C))
    r = fold([*ch.log, minted, admit])
    assert minted.id in r.ignored and admit.id in r.ignored
    assert C not in r.members and key not in r.invites


def test_a_lamport_other_than_one_above_the_parents_does_not_count() -> None:
    ch = Chain().members(A)
    heads = ch.roster.heads
    low = ch.ops.make("settings", F, heads, settings={"rotate_days": 1}, lamport=1)
    high = ch.ops.make("settings", F, heads, settings={"rotate_days": 2}, lamport=2**60)
    for op in (low, high):
        assert fold([*ch.log, op]).ignored[op.id] == "its lamport is not 1 + its parents' highest"


def test_a_removed_member_may_post_up_to_its_cut() -> None:
    ch = Chain().members(A, B)
    before = ch.roster.current
    assert before is not None
    last = hashlib.blake2b(b"last 7", digest_size=32).digest()          # what Ops names as last_id
    ch.add("remove", F, member=A, last_seq=7, last_id=last, keys=keys(F, B))
    r = ch.roster
    six, five = b"6" * 32, b"5" * 32
    chain = {7: (last, six), 6: (six, five)}
    assert r.post_verdict(A, before, 7, last, chain) is True
    assert r.post_verdict(A, before, 6, six, chain) is True
    assert r.post_verdict(A, before, 6, b"x" * 32, chain) is False       # a reused seq: not on the chain
    assert r.post_verdict(A, before, 4, b"4" * 32, chain) is None        # the link at 5 has not arrived
    assert r.post_verdict(A, before, 8, b"8" * 32, chain) is False
    assert not r.may_post(A, r.current, 1) and r.may_post(B, r.current, 10**6)
    assert not r.may_sync(A) and r.may_sync(B) and A in r.ever


def test_the_last_facilitator_leaving_promotes_the_earliest_admitted_member() -> None:
    ch = Chain()
    ch.admit(D, role="relay")             # admitted first, but a relay holds no epoch key
    ch.members(B, A, C)                   # B before A before C, whatever their ids
    ch.add("leave", F, last_seq=3)
    r = ch.roster
    assert r.role(B) == "facilitator" and r.facilitators == {B}
    assert r.role(D) == "relay" and r.role(A) == "member" and r.role(C) == "member"
    assert r.departed == {F: 3} and F not in r.members


def test_the_last_facilitator_cannot_demote_itself_away() -> None:
    ch = Chain().members(A)
    ch.add("role", F, member=F, role="member")
    assert ch.roster.facilitators == {F}
    ch.add("role", F, member=A, role="facilitator")
    ch.add("role", A, member=F, role="member")
    assert ch.roster.facilitators == {A}


def test_removing_the_other_facilitator_keeps_a_facilitator() -> None:
    ch = _two_facilitators()
    ch.add("remove", A, member=F, last_seq=1, keys=keys(A, B))
    assert ch.roster.facilitators == {A}


def test_a_leave_needs_rotation_and_a_rotate_clears_it() -> None:
    ch = Chain().members(A, B)
    assert not ch.roster.needs_rotation
    ch.add("leave", B, last_seq=2)
    assert ch.roster.needs_rotation and ch.roster.departed == {B: 2}
    wrong = ch.add("rotate", A, keys=keys(F, A, B))          # still sealed to the one who left
    assert ch.roster.current == ms.epoch_number(wrong.id) and ch.roster.needs_rotation
    rot = ch.add("rotate", A, keys=keys(F, A), created=T + 50)
    assert ch.roster.needs_rotation and ch.roster.roster_stale     # B still holds the roster key
    rot = ch.add("rotate", A, keys=keys(F, A), roster_keys=[], created=T + 60)
    assert not ch.roster.needs_rotation and ch.roster.last_rotation == T + 60
    assert ch.roster.generation == ms.generation_number(rot.id)
    assert ch.roster.current == ms.epoch_number(rot.id)


def test_concurrent_admits_both_count_and_need_a_rotation() -> None:
    ch = Chain().members(A)
    k1, k2 = ch.invite(), ch.invite()
    heads = ch.roster.heads
    a1 = ch.ops.make("admit", F, heads, invite=k1, member=B, name="B", proof=invite_proof(ch.seeds[k1], TOPIC, B),
                     keys=keys(F, A, B))
    a2 = ch.ops.make("admit", A, heads, invite=k2, member=C, name="C", proof=invite_proof(ch.seeds[k2], TOPIC, C),
                     keys=keys(F, A, C))
    r = fold([*ch.log, a1, a2])
    assert {B, C} <= set(r.members) and r.needs_rotation
    assert r.heads == tuple(sorted([a1.id, a2.id]))
    rot = ch.ops.make("rotate", C, r.heads, keys=keys(r.readers))
    assert not fold([*ch.log, a1, a2, rot]).needs_rotation


def test_a_member_removed_and_admitted_again_starts_over() -> None:
    ch = Chain().members(A)
    ch.add("remove", F, member=A, last_seq=2, keys=keys(F))
    assert A in ch.roster.departed
    ch.admit(A)
    r = ch.roster
    assert r.role(A) == "member" and A not in r.departed and r.may_post(A, r.current, 99)


def test_ops_with_missing_parents_wait_and_count_once_their_parents_arrive() -> None:
    ch = Chain().members(A)
    hidden = ch.add("role", F, member=A, role="facilitator")
    child = ch.add("invite", A, invite=mid(90), role="member", expires=T + 10)
    grandchild = ch.add("revoke", A, invite=mid(90))
    without = fold([op for op in ch.log if op is not hidden])
    assert without.pending == {child.id, grandchild.id}
    assert without.role(A) == "member" and mid(90) not in without.invites
    assert child.id not in without.order and not without.ignored
    full = fold(ch.log)
    assert full.pending == frozenset() and full.invites[mid(90)].revoked and full.role(A) == "facilitator"


def test_linearize_puts_parents_first_even_with_smaller_lamports_later() -> None:
    ops = Ops()
    create = ops.make("create", F, name="c", keys=keys(F), lamport=50)
    child = ops.make("settings", F, [create], settings={"rotate_days": 1}, lamport=1)
    ordered, pending = rf.linearize({op.id: op for op in (child, create)})
    assert [o.id for o in ordered] == [create.id, child.id] and not pending


# ---------------------------------------------------------------------------------------------------
# hypothesis: random histories with concurrent branches


ACTORS = (F, A, B, C, D)
OP_KINDS = ("invite", "invite", "admit", "admit", "admit", "revoke", "remove", "leave", "role", "rotate",
            "settings", "create", "rename")


@st.composite
def histories(draw: st.DrawFn) -> list[ms.RosterOp]:
    """Operations by several actors, each building on what *it* knows; syncs merge knowledge, so the
    history has concurrent branches (ops by different authors on the same parent heads)."""
    ops = Ops()
    seeds: dict[bytes, bytes] = {}
    know: dict[bytes, set[bytes]] = {a: set() for a in ACTORS}
    seqs = dict.fromkeys(ACTORS, 0)
    create = ops.make("create", F, name="circle", member_name="F", keys=keys(F),
                      settings={"members_invite": draw(st.booleans())})
    know[F].add(create.id)
    for step in range(draw(st.integers(1, 16))):
        if draw(st.integers(0, 3)) == 0:
            a, b = draw(st.sampled_from(ACTORS)), draw(st.sampled_from(ACTORS))
            know[a] |= know[b]
            continue
        author = draw(st.sampled_from([a for a in ACTORS if know[a]]))
        local = fold([ops.all[i] for i in know[author]])
        kind = draw(st.sampled_from(OP_KINDS))
        fields: dict[str, Any]
        target = draw(st.sampled_from(ACTORS))
        if kind == "create":
            fields = {"name": "again", "keys": keys(author)}
        elif kind == "invite":
            seed = seed_of(f"history invite {step} {draw(st.integers(0, 3))}")
            key = sign.public_key(seed)
            seeds[key] = seed
            fields = {"invite": key, "role": draw(st.sampled_from(ms.ROLES)),
                      "expires": draw(st.sampled_from([T + 5, T + 10_000]))}
        elif kind == "revoke":
            fields = {"invite": draw(st.sampled_from(sorted(local.invites) or [mid(99)]))}
        elif kind == "admit":
            known = sorted(k for k in local.invites if k in seeds)
            if not known:
                continue
            key = draw(st.sampled_from(known))
            honest = draw(st.integers(0, 4)) > 0
            proof = invite_proof(seeds[key], TOPIC, target if honest else F)
            fields = {"invite": key, "member": target, "name": NAMES[target], "proof": proof,
                      "keys": keys(local.readers, target, author)}
        elif kind == "remove":
            fields = {"member": target, "last_seq": draw(st.integers(0, 4)),
                      "keys": keys(local.readers - {target}, author)}
        elif kind == "leave":
            fields = {"last_seq": seqs[author] + 1}
        elif kind == "role":
            fields = {"member": target, "role": draw(st.sampled_from(["facilitator", "member"]))}
        elif kind == "rotate":
            fields = {"keys": keys(local.readers, author)}
        elif kind == "rename":
            fields = {"name": draw(st.sampled_from(["Ana", "ana", "A", "F", "Bo"]))}
        else:
            fields = {"settings": {"members_invite": draw(st.booleans()), "rotate_days": draw(st.integers(0, 9))}}
        seqs[author] += 1
        parents = [] if kind == "create" else local.heads
        op = ops.make(kind, author, parents, seq=seqs[author], created=T + step, **fields)
        know[author].add(op.id)
    return list(ops.all.values())


FIELDS = ("name", "founder", "settings", "members", "departed", "ever", "invites", "epochs", "current",
          "order", "ignored", "pending", "heads", "max_lamport", "last_rotation")


def assert_same(r1: ms.Roster, r2: ms.Roster) -> None:
    for name in FIELDS:
        assert getattr(r1, name) == getattr(r2, name), name
    assert r1 == r2


HYP = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@HYP
@given(histories(), st.randoms(use_true_random=False), st.data())
def test_fold_is_a_function_of_the_set(history: list[ms.RosterOp], rnd: random.Random, data: st.DataObject) -> None:
    reference = fold(history)
    shuffled = history + data.draw(st.lists(st.sampled_from(history), max_size=6))
    rnd.shuffle(shuffled)
    assert_same(fold(shuffled), reference)
    # every node applies the same operations, the same way
    assert set(reference.order) | set(reference.pending) == {op.id for op in history}


@HYP
@given(histories(), st.data())
def test_missing_parents_wait_and_late_parents_give_the_same_roster(history: list[ms.RosterOp],
                                                                     data: st.DataObject) -> None:
    by_id = {op.id: op for op in history}
    hidden = set(data.draw(st.lists(st.sampled_from(sorted(by_id)), max_size=4)))
    present = [op for op in history if op.id not in hidden]

    def has_hidden_ancestor(op: ms.RosterOp) -> bool:
        return any(p in hidden or (p in by_id and has_hidden_ancestor(by_id[p])) for p in op.parents)

    partial = fold(present)
    waiting = {op.id for op in present if has_hidden_ancestor(op)}
    assert partial.pending == waiting
    # what waits changes nothing: the roster is that of the operations whose history is complete
    complete = fold([op for op in present if op.id not in waiting])
    for name in FIELDS:
        if name not in ("pending", "max_lamport"):
            assert getattr(partial, name) == getattr(complete, name), name
    # the parents arrive late: exactly as if they had been there from the start
    assert_same(fold(present + [by_id[i] for i in hidden]), fold(history))


@HYP
@given(histories())
def test_fold_invariants(history: list[ms.RosterOp]) -> None:
    r = fold(history)
    position = {op_id: i for i, op_id in enumerate(r.order)}
    by_id = {op.id: op for op in history}
    for op_id in r.order:
        assert all(position[p] < position[op_id] for p in by_id[op_id].parents)
    assert not set(r.members) & set(r.departed)
    assert set(r.members) <= r.ever
    if r.readers:
        assert r.facilitators, "a circle with readers always has a facilitator"
    applied_keyed = [i for i in r.order if i not in r.ignored and by_id[i].kind in ms.KEYED]
    assert r.current == (ms.epoch_number(applied_keyed[-1]) if applied_keyed else None)
    assert set(r.epochs) == {ms.epoch_number(i) for i in applied_keyed}
    for member in r.members.values():
        assert member.admitted in r.order and member.admitted not in r.ignored


# ---------------------------------------------------------------------------------------------------
# the real path: Circle.roster_envelope, sealed keys, envelopes, separate Circle objects


class Real:
    """Identities with a Circle each; roster envelopes are built by one and handed to chosen others."""

    def __init__(self, *names: str) -> None:
        self.ids = {n: Identity.generate(n) for n in names}
        self.secret = os.urandom(32)
        self.founder = bytes(self.ids[names[0]].node_id)
        self.circles = {n: Circle(i, self.secret, self.founder) for n, i in self.ids.items()}
        self.seq = dict.fromkeys(names, 0)
        self.log: list[env.Envelope] = []

    def me(self, name: str) -> bytes:
        return bytes(self.ids[name].node_id)

    def op(self, name: str, kind: str, fields: dict[str, Any], to: Sequence[str] | None = None) -> env.Envelope:
        self.seq[name] += 1
        e = self.circles[name].roster_envelope(kind, fields, seq=self.seq[name], now=T + len(self.log))
        self.log.append(e)
        for other in (self.circles if to is None else [name, *to]):
            c = self.circles[other]
            assert c.verdict(e, T) is Verdict.ACCEPT
            c.ingest(e)
        return e

    def join(self, by: str, name: str, role: str = "member") -> None:
        circle = self.circles[by]
        seed = os.urandom(32)
        key = sign.public_key(seed)
        self.op(by, "invite", {"invite": key, "role": role, "expires": T + 3600})
        readers = circle.roster.readers | ({self.me(name)} if role != "relay" else set())
        self.op(by, "admit", {"invite": key, "member": self.me(name), "name": name,
                              "proof": invite_proof(seed, circle.topic, self.me(name)),
                              **circle.new_epoch_fields(readers)})

    def fresh(self, name: str) -> Circle:
        return Circle(self.ids[name], self.secret, self.founder)


def settle(circle: Circle, envelopes: Iterable[env.Envelope]) -> tuple[list[env.Envelope], list[env.Envelope]]:
    """Ingest as the registry does: DEFER waits and is retried after each accepted envelope. Returns
    (rejected, still waiting)."""
    held: list[env.Envelope] = []
    rejected = []
    for e in envelopes:
        env.verify(e)
        v = circle.verdict(e, T)
        if v is Verdict.DEFER:
            held.append(e)
            continue
        if v is Verdict.REJECT:
            rejected.append(e)
            continue
        circle.ingest(e)
        progress = True
        while progress:
            progress = False
            for h in list(held):
                hv = circle.verdict(h, T)
                if hv is not Verdict.DEFER:
                    held.remove(h)
                    progress = True
                    if hv is Verdict.ACCEPT:
                        circle.ingest(h)
                    else:
                        rejected.append(h)
    return rejected, held


def feed(circle: Circle, envelopes: Iterable[env.Envelope]) -> list[env.Envelope]:
    """``settle`` when everything's parents are in ``envelopes``: nothing may still wait. Returns the rejected."""
    rejected, held = settle(circle, envelopes)
    assert not held, "envelopes still waiting after everything arrived"
    return rejected


_REAL: list[Real] = []


def real_history() -> Real:
    """F founds; A, B, C join; A becomes facilitator; then concurrent branches from the same heads:
    F removes C, A invites, B rotates, C leaves (cut high enough that no envelope is refused)."""
    if _REAL:
        return _REAL[0]
    w = Real("F", "A", "B", "C", "R")
    f = w.circles["F"]
    w.op("F", "create", {"name": "real", "member_name": "F", **f.new_epoch_fields([])})
    for name in ("A", "B", "C"):
        w.join("F", name)
    w.join("F", "R", role="relay")
    w.op("F", "role", {"member": w.me("A"), "role": "facilitator"})
    # concurrent branches: each op is seen only by its author while the others are made
    c_f, c_a, c_b = w.circles["F"], w.circles["A"], w.circles["B"]
    w.op("F", "remove", {"member": w.me("C"), **c_f.departure_fields(w.me("C")),
                         **c_f.new_generation_fields(c_f.roster.readers - {w.me("C")}, {w.me("R")})}, to=[])
    w.op("A", "invite", {"invite": mid(300), "role": "member", "expires": T + 99}, to=[])
    w.op("B", "rotate", c_b.new_epoch_fields(c_b.roster.readers), to=[])
    w.op("C", "leave", {"last_seq": w.seq["C"], "last_id": w.circles["C"].chains.top(w.me("C"))[1]}, to=[])
    _REAL.append(w)
    return w


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_real_envelopes_in_any_order_give_every_node_the_same_roster(data: st.DataObject) -> None:
    w = real_history()
    reference = None
    for name in ("F", "A", "B", "R"):
        order = data.draw(st.permutations(w.log), label=f"order at {name}")
        dups = data.draw(st.lists(st.sampled_from(w.log), max_size=3), label=f"repeats at {name}")
        c = w.fresh(name)
        assert feed(c, [*order, *dups]) == []
        if reference is None:
            reference = c.roster
        assert_same(c.roster, reference)
    assert reference is not None
    me = w.me
    assert set(reference.members) == {me("F"), me("A"), me("B"), me("R")}
    assert me("C") in reference.departed and reference.role(me("R")) == "relay"
    assert reference.invites[mid(300)].by == me("A")


def test_real_nodes_open_their_own_epoch_keys_and_relays_hold_none() -> None:
    w = real_history()
    reader, relay = w.fresh("B"), w.fresh("R")
    feed(reader, w.log)
    feed(relay, w.log)
    assert reader.roster.current is not None
    assert reader.keys.epochs and relay.keys.epochs == {}
    # B holds the key of every epoch sealed to it (after it joined), and only keys sealed to it (some of
    # them from operations a later arrival ordered out: learned keys are kept, they are B's anyway)
    mine = {n for n, e in reader.roster.epochs.items() if w.me("B") in e.keys}
    sealed_to_b = {ms.epoch_number(i) for i, op in reader._ops.items()
                   if op.kind in ms.KEYED and w.me("B") in op.body["keys"]}
    assert mine <= set(reader.keys.epochs) <= sealed_to_b
    assert ms.epoch_number(w.log[0].id) not in reader.keys.epochs      # the founder's first epoch: not B's
    assert not relay.can_read()


def test_a_leave_concurrent_with_a_removal_gives_every_node_the_same_roster() -> None:
    w = Real("F", "A", "B", "X", "Y")
    f = w.circles["F"]
    w.op("F", "create", {"name": "race", "member_name": "F", **f.new_epoch_fields([])})
    for name in ("A", "B", "X", "Y"):
        w.join("F", name)
    b = w.circles["B"]
    cut = w.seq["B"]                                       # F saw nothing from B: the cut is 0
    assert cut == 0
    removal = w.op("F", "remove", {"member": w.me("B"), **f.departure_fields(w.me("B")),
                                   **f.new_generation_fields(f.roster.readers - {w.me("B")}, ())}, to=[])
    leave = w.op("B", "leave", {"last_seq": 0, "last_id": b""}, to=[])
    x, y = w.circles["X"], w.circles["Y"]
    feed(x, [leave, removal])                              # X hears B first
    feed(y, [removal, leave])                              # Y hears F first
    assert x.roster.departed == y.roster.departed
    assert x.roster.current == y.roster.current
    assert x.roster.heads == y.roster.heads


def test_roster_envelopes_round_trip_their_bodies() -> None:
    w = Real("F")
    f = w.circles["F"]
    e = w.op("F", "create", {"name": "round", "member_name": "Fa", "settings": {"rotate_days": 2},
                             **f.new_epoch_fields([])})
    op = f._ops[e.id]
    assert (op.kind, op.author, op.seq, op.lamport, op.created) == ("create", w.me("F"), 1, e.lamport, e.created)
    assert f.roster.settings.rotate_days == 2 and f.roster.members[w.me("F")].name == "Fa"
    assert e.epoch == 0 and e.expires == env.MAX_UINT
    with pytest.raises(RemoteProtocolError):
        f.roster_envelope("leave", {"last_seq": -1}, seq=2, now=T)


def test_a_member_admitted_in_a_losing_branch_does_not_split_the_circle() -> None:
    w = Real("F", "A", "J", "K", "X", "Y")
    f, a = w.circles["F"], w.circles["A"]
    w.op("F", "create", {"name": "race", "member_name": "F", **f.new_epoch_fields([])})
    for name in ("A", "X", "Y"):
        w.join("F", name)
    seed = os.urandom(32)
    key = sign.public_key(seed)
    w.op("F", "invite", {"invite": key, "role": "member", "expires": T + 3600})

    def admit(by: Circle, by_name: str, who: str) -> env.Envelope:
        return w.op(by_name, "admit", {"invite": key, "member": w.me(who), "name": who,
                                       "proof": invite_proof(seed, by.topic, w.me(who)),
                                       **by.new_epoch_fields(by.roster.readers | {w.me(who)})}, to=[who])

    a.max_lamport += 5                                     # K's admission sorts after J's: K's branch loses
    for_j, for_k = admit(f, "F", "J"), admit(a, "A", "K")
    k = w.circles["K"]
    w.seq["K"] += 1
    k_rotates = k.roster_envelope("rotate", k.new_epoch_fields(k.roster.readers), seq=w.seq["K"], now=T)
    x, y = w.circles["X"], w.circles["Y"]
    feed(x, [for_k, k_rotates])                            # X has heard only of K's branch so far
    feed(x, [for_j])
    w.seq["X"] += 1
    x_rotates = x.roster_envelope("rotate", x.new_epoch_fields(x.roster.readers), seq=w.seq["X"], now=T)
    x.ingest(x_rotates)
    # Y hears everything X holds, in another order: it must end where X is, with nothing left waiting
    rejected, waiting = settle(y, [for_j, for_k, k_rotates, x_rotates])
    assert waiting == [] and rejected == []
    assert y.roster.heads == x.roster.heads and y.roster.current == x.roster.current
