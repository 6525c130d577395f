"""Verdicts on roster envelopes: forged authority is rejected at the door, not only ignored by the fold."""

from __future__ import annotations

from meshcare.circles.circle import Circle, Verdict, invite_proof
from meshcare.circles.invites import new_invite_seed
from meshcare.crypto import seal, sign
from meshcare.crypto.keys import Identity

NOW = 1_800_000_000

PREV = b"P" * 32                  # a stand-in for the author's previous envelope (seq > 1)


def two_member_circle() -> tuple[Circle, Circle, Identity, Identity]:
    ann, bob = Identity.generate("ann"), Identity.generate("bob")
    secret = seal.random_key()
    a = Circle(ann, secret, bytes(ann.node_id))
    a.ingest(a.roster_envelope("create", {"name": "Elm St", **a.new_epoch_fields([])}, seq=1, now=NOW))
    seed = new_invite_seed()
    a.ingest(a.roster_envelope("invite", {"invite": sign.public_key(seed), "role": "member",
                                          "expires": NOW + 3600}, seq=2, now=NOW, prev=PREV))
    member = bytes(bob.node_id)
    a.ingest(a.roster_envelope("admit", {"invite": sign.public_key(seed), "member": member, "name": "bob",
                                         "proof": invite_proof(seed, a.topic, member),
                                         **a.new_epoch_fields(a.roster.readers | {member})}, seq=3, now=NOW, prev=PREV))
    b = Circle(bob, secret, bytes(ann.node_id))
    return a, b, ann, bob


def test_a_member_cannot_remove_or_promote_and_its_forgery_is_rejected():
    a, b, ann, bob = two_member_circle()
    # bob (a plain member) forges a removal of ann and a promotion of himself, with a correct signature
    b.roster = a.roster            # bob's node knows the roster (as after sync)
    b._ops = dict(a._ops)
    b.max_lamport = a.max_lamport
    remove = b.roster_envelope("remove", {"member": bytes(ann.node_id), "last_seq": 0, "last_id": b"",
                                          **b.new_generation_fields({bytes(bob.node_id)}, ())}, seq=10, now=NOW, prev=PREV)
    promote = b.roster_envelope("role", {"member": bytes(bob.node_id), "role": "facilitator"}, seq=11, now=NOW, prev=PREV)
    assert a.verdict(remove, NOW) is Verdict.REJECT
    assert a.verdict(promote, NOW) is Verdict.REJECT
    # a legitimate operation by the same member (rotate) is accepted
    rotate = b.roster_envelope("rotate", b.new_epoch_fields(a.roster.readers), seq=12, now=NOW, prev=PREV)
    assert a.verdict(rotate, NOW) is Verdict.ACCEPT


def test_an_operation_naming_unknown_parents_waits():
    a, b, ann, bob = two_member_circle()
    b.roster = a.roster
    b._ops = dict(a._ops)
    b.max_lamport = a.max_lamport
    first = b.roster_envelope("rotate", b.new_epoch_fields(a.roster.readers), seq=12, now=NOW, prev=PREV)
    b.ingest(first)
    second = b.roster_envelope("rotate", b.new_epoch_fields(a.roster.readers), seq=13, now=NOW, prev=PREV)
    assert a.verdict(second, NOW) is Verdict.DEFER      # its parent (first) has not reached ann yet
    a.ingest(first)
    assert a.verdict(second, NOW) is Verdict.ACCEPT


def test_a_post_accepted_before_its_authors_removal_is_purged_once_the_removal_arrives():
    a, b, ann, bob = two_member_circle()
    b.roster, b._ops, b.max_lamport = a.roster, dict(a._ops), a.max_lamport
    b._refold()                                   # bob opens his epoch key
    late = b.post_envelope("presence", {"status": "available"}, seq=50, now=NOW, prev=PREV)
    # a third node that has not yet heard of the removal accepts bob's post...
    third = Circle(ann, a.secret, a.founder)
    third._ops, third.max_lamport = dict(a._ops), a.max_lamport
    third._refold()
    assert third.verdict(late, NOW) is Verdict.ACCEPT
    third.ingest(late)
    # ...then the removal arrives, cutting bob off at seq 3: the post is purged, not kept
    removal = a.roster_envelope("remove", {"member": bytes(bob.node_id), "last_seq": 3, "last_id": PREV,
                                           **a.new_generation_fields(a.roster.readers - {bytes(bob.node_id)}, ())},
                                seq=20, now=NOW, prev=PREV)
    third.ingest(removal)
    assert third.purge_unacceptable() == [late.id]
    assert third.verdict(late, NOW) is Verdict.REJECT


def test_readmission_does_not_revive_what_was_signed_under_old_keys_while_out():
    a, b, ann, bob = two_member_circle()
    member = bytes(bob.node_id)
    old_epoch = a.roster.current
    a.ingest(a.roster_envelope("remove", {"member": member, "last_seq": 3, "last_id": PREV,
                                          **a.new_generation_fields(a.roster.readers - {member}, ())}, seq=20, now=NOW, prev=PREV))
    assert not a.roster.may_post(member, old_epoch, 4)
    assert a.roster.may_post(member, old_epoch, 3, PREV, {3: (PREV, b"2" * 32)})   # what it said before counts
    seed = new_invite_seed()
    a.ingest(a.roster_envelope("invite", {"invite": sign.public_key(seed), "role": "member",
                                          "expires": NOW + 3600}, seq=21, now=NOW, prev=PREV))
    a.ingest(a.roster_envelope("admit", {"invite": sign.public_key(seed), "member": member, "name": "bob",
                                         "proof": invite_proof(seed, a.topic, member),
                                         **a.new_epoch_fields(a.roster.readers | {member})}, seq=22, now=NOW, prev=PREV))
    assert a.roster.role(member) == "member"
    assert not a.roster.may_post(member, old_epoch, 9, b"9" * 32, {3: (PREV, b"2" * 32)})   # signed while out
    assert a.roster.may_post(member, a.roster.current, 9)     # after coming back, under the new key
