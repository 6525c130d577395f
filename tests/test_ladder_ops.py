"""Ladder and "who not to involve" ops between in-process daemons on loopback (issue 13, item 2): a
request asks, the person asked answers, only accepted rungs are used by a call built from the ladder,
and a member on the caller's avoid list never reads the call, even one that goes to the whole circle
and travels through their own node. Polls with a deadline (tests/helpers.wait_for); no fixed sleeps
except to let gossip settle before asserting that something did NOT arrive."""

from __future__ import annotations

import pytest
import trio

from meshcare.errors import BadInput, NotFound
from tests.helpers import circle_of_three, wait_for

pytestmark = pytest.mark.timeout(120)


def hexid(d) -> str:
    return bytes(d.identity.node_id).hex()


def _requests(d) -> list[dict]:
    return d.perform("ladder.requests", {})["requests"]


async def test_ladder_requests_are_answered_and_only_accepted_rungs_are_used(autojump_clock):
    async with trio.open_nursery() as nursery:
        ann, bob, cat = await circle_of_three(nursery)
        to_ann = (await cat.request("ladder.add", {"circle": "Elm St", "member": "ann", "note": "you know me"}))
        assert to_ann["request"]["state"] == "pending" and to_ann["request"]["mine"] is True
        to_bob = await cat.request("ladder.add", {"circle": "Elm St", "member": "bob", "step": 1})
        await cat.request("ladder.add", {"circle": "Elm St", "member": "bob", "ladder": "practical"})
        await wait_for(lambda: len(_requests(ann)) == 1 and len(_requests(bob)) == 2)
        (asked,) = _requests(ann)
        assert asked["requester_name"] == "cat" and asked["text"] == "you know me" and asked["ladder"] == "calls"
        assert ann.perform("ladder.list", {})["ladders"] == []          # nobody else sees cat's ladders
        answered = await ann.request("ladder.answer", {"request": asked["id"][:8], "answer": "accept"})
        assert answered["request"]["state"] == "accepted"
        await bob.request("ladder.answer", {"request": to_bob["request"]["id"], "answer": "decline"})

        def states() -> dict[str, list[tuple[str, str]]]:
            return {lad["name"]: [(r["name"], r["state"]) for r in lad["rungs"]]
                    for lad in cat.perform("ladder.list", {})["ladders"]}
        await wait_for(lambda: states() == {"calls": [("ann", "accepted"), ("bob", "declined")],
                                            "practical": [("bob", "pending")]})
        # only bob answers bob's request; the requester cannot
        with pytest.raises(BadInput, match="not made to you"):
            await cat.request("ladder.answer", {"request": to_bob["request"]["id"], "answer": "accept"})
        # a call built from "calls": ann (accepted) only; bob declined and is never used
        call = (await cat.request("call.create", {"circle": "Elm St", "text": "Could someone be with me",
                                                  "ladder_name": "calls", "ladder_then": "circle",
                                                  "ladder_every": 15}))["call"]
        assert [(s["to"], s["members"], s["after"]) for s in call["ladder"]] == [
            ("chosen", [hexid(ann)], 0), ("circle", [], 15)]
        # "practical" has nobody who accepted: refused unless it says where the call goes then
        with pytest.raises(BadInput, match="nobody on your ladder 'practical'"):
            await cat.request("call.create", {"circle": "Elm St", "text": "help moving", "ladder_name": "practical"})
        with pytest.raises(BadInput, match="not both"):
            await cat.request("call.create", {"circle": "Elm St", "text": "x", "ladder_name": "calls",
                                              "ladder": [{"after": 0, "to": "circle"}]})
        # ann changes her mind: declined, and the next call from "calls" does not use her
        await ann.request("ladder.answer", {"request": asked["id"], "answer": "decline"})
        await wait_for(lambda: states()["calls"] == [("ann", "declined"), ("bob", "declined")])
        with pytest.raises(BadInput, match="has accepted yet"):
            await cat.request("call.create", {"circle": "Elm St", "text": "again", "ladder_name": "calls"})
        # cat takes bob off "practical": withdrawn, and bob no longer sees the request
        removed = await cat.request("ladder.remove", {"request": [r for r in _requests(bob)
                                                                  if r["ladder"] == "practical"][0]["id"]})
        assert removed["request"]["state"] == "withdrawn"
        await wait_for(lambda: [r["ladder"] for r in _requests(bob)] == ["calls"])
        with pytest.raises(BadInput, match="someone else's"):
            await bob.request("ladder.remove", {"request": to_bob["request"]["id"]})
        with pytest.raises(NotFound):
            await bob.request("ladder.answer", {"request": "abcdef01", "answer": "accept"})
        with pytest.raises(BadInput, match="yourself"):
            await cat.request("ladder.add", {"circle": "Elm St", "member": "cat"})
        nursery.cancel_scope.cancel()


async def test_a_member_on_the_avoid_list_never_reads_the_call_even_one_to_the_whole_circle(autojump_clock):
    async with trio.open_nursery() as nursery:
        ann, bob, cat = await circle_of_three(nursery)
        added = await cat.request("avoid.add", {"circle": "Elm St", "member": "bob"})
        assert added["added"] is True and added["entry"]["name"] == "bob"
        assert (await cat.request("avoid.add", {"circle": "Elm St", "member": "bob"}))["added"] is False
        assert [e["name"] for e in cat.perform("avoid.list", {})["avoid"]] == ["bob"]
        with pytest.raises(BadInput, match="on your \"who not to involve\" list"):
            await cat.request("ladder.add", {"circle": "Elm St", "member": "bob"})
        with pytest.raises(BadInput, match="on your \"who not to involve\" list"):
            await cat.request("call.create", {"circle": "Elm St", "text": "x",
                                              "ladder": [{"after": 0, "to": "chosen", "members": ["bob"]}]})
        call = (await cat.request("call.create", {"circle": "Elm St", "text": "Rough night"}))["call"]
        assert call["narrowed"] is True and call["audience"] == 1          # ann; bob left out
        await wait_for(lambda: any(c["id"] == call["id"] for c in ann.perform("calls.list", {})["calls"]))
        seen = ann.perform("call.show", {"call": call["id"]})["call"]
        assert seen["narrowed"] is True and hexid(bob) not in seen["waiting_on"]
        await ann.request("call.update", {"call": call["id"], "text": "I'm here"})
        await wait_for(lambda: cat.perform("call.show", {"call": call["id"]})["call"]["updates"])
        await trio.sleep(30)                    # gossip has long settled (autojump clock)
        assert not any(c["id"] == call["id"] for c in bob.perform("calls.list", {"all": True})["calls"])
        assert nothing_of(bob, bytes.fromhex(call["id"]))
        # nobody else ever learns who: the list stays on cat's node
        assert ann.perform("avoid.list", {})["avoid"] == []
        removed = await cat.request("avoid.remove", {"circle": "Elm St", "member": "bob"})
        assert removed["removed"] is True and cat.perform("avoid.list", {})["avoid"] == []
        later = (await cat.request("call.create", {"circle": "Elm St", "text": "Better now, a walk?"}))["call"]
        assert later["narrowed"] is False
        await wait_for(lambda: any(c["id"] == later["id"] for c in bob.perform("calls.list", {})["calls"]))
        nursery.cancel_scope.cancel()


def nothing_of(d, call_id: bytes) -> bool:
    """Neither the call nor any post of its thread is readable on ``d``'s node, nor its key held."""
    circle = next(iter(d.node.registry.circles.values()))
    return (call_id not in circle.keys.calls
            and not any(p.id == call_id or p.body.get("call") == call_id for p in circle.posts))


async def test_a_member_at_their_cap_is_skipped_by_a_chosen_step_and_not_pinged_by_the_circle(autojump_clock):
    async with trio.open_nursery() as nursery:
        ann, bob, cat = await circle_of_three(nursery)
        await bob.request("presence.set", {"status": "available", "cap": 1})
        first = (await ann.request("call.create", {"circle": "Elm St", "text": "a lift to the clinic"}))["call"]
        await wait_for(lambda: any(c["id"] == first["id"] for c in bob.perform("calls.list", {})["calls"]))
        await bob.request("call.claim", {"call": first["id"]})
        await wait_for(lambda: cat.perform("roster", {})["circles"][0]["roster"] and any(
            r["full"] for r in cat.perform("roster", {})["circles"][0]["roster"]))
        only_bob = (await cat.request("call.create", {"circle": "Elm St", "text": "could you come?",
                                                      "ladder": [{"after": 0, "to": "chosen",
                                                                  "members": ["bob", "ann"]}]}))["call"]
        # bob is at his cap: the chosen step skips him (he never gets it: checked below), ann gets it
        await wait_for(lambda: any(c["id"] == only_bob["id"] for c in ann.perform("calls.list", {})["calls"]))
        to_all = (await cat.request("call.create", {"circle": "Elm St", "text": "anyone around?"}))["call"]
        await wait_for(lambda: any(c["id"] == to_all["id"] for c in bob.perform("calls.list", {})["calls"]))
        assert bob.perform("call.show", {"call": to_all["id"]})["call"]["busy"] is True
        assert ann.perform("call.show", {"call": first["id"]})["call"]["busy"] is False
        await trio.sleep(30)
        assert all(c["id"] != only_bob["id"] for c in bob.perform("calls.list", {})["calls"])
        nursery.cancel_scope.cancel()
