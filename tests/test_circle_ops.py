"""Circle ops between in-process daemons on loopback: what people are told when an op does not apply
(issue 9 items 15-19). Polls a condition with a deadline (tests/helpers.wait_for); no fixed sleeps."""

from __future__ import annotations

import pytest
import trio

from meshcare.errors import BadInput
from tests.helpers import circle_of_three, founded, make_daemon, member_names, wait_for

pytestmark = pytest.mark.timeout(120)


def hexid(d) -> str:
    return bytes(d.identity.node_id).hex()


async def test_call_ops_that_do_not_apply_are_refused_and_a_departed_claimer_lapses(autojump_clock):
    async with trio.open_nursery() as nursery:
        ann, bob, cat = await circle_of_three(nursery)
        call = (await cat.request("call.create", {"circle": "Elm St", "text": "Could someone call me?"}))["call"]["id"]
        for d in (ann, bob):
            await wait_for(lambda d=d: any(c["id"] == call for c in d.perform("calls.list", {})["calls"]))
        with pytest.raises(BadInput, match="not claimed"):
            await ann.request("call.release", {"call": call})
        with pytest.raises(BadInput, match="own call"):
            await cat.request("call.offer", {"call": call, "kind": "call"})
        claimed = await bob.request("call.claim", {"call": call})
        assert claimed["have_it"] is True
        await wait_for(lambda: ann.perform("call.show", {"call": call})["call"]["claimer"] == hexid(bob))
        # bob is removed: his claim lapses, the call is open again for the circle
        await ann.request("circle.remove", {"circle": "Elm St", "member": "bob"})
        for d in (ann, cat):
            await wait_for(lambda d=d: d.perform("call.show", {"call": call})["call"]["status"] == "open")
        # a facilitator can close a call that is not theirs
        done = await ann.request("call.resolve", {"call": call})
        assert done["already_resolved"] is False and done["call"]["resolved_by"] == hexid(ann)
        await wait_for(lambda: cat.perform("call.show", {"call": call})["call"]["status"] == "resolved")
        again = await cat.request("call.resolve", {"call": call})
        assert again["already_resolved"] is True and again["id"] is None
        with pytest.raises(BadInput, match="was resolved by ann; nothing more"):
            await cat.request("call.update", {"call": call, "text": "still here"})
        for op, args in (("call.claim", {}), ("call.offer", {"kind": "call"}), ("call.update", {"text": "x"})):
            with pytest.raises(BadInput, match="was resolved by you"):
                await ann.request(op, {"call": call, **args})
        nursery.cancel_scope.cancel()


async def test_a_member_promoted_to_facilitator_can_send_a_checkin_at_once(autojump_clock):
    """Issue 9 item 15: check-in authority is the epoch's facilitator set; a role change opens no epoch,
    so the newly promoted facilitator's node rotates first and every node reads the check-in."""
    async with trio.open_nursery() as nursery:
        ann, bob, cat = await circle_of_three(nursery)
        await ann.request("circle.role", {"circle": "Elm St", "member": "bob", "role": "facilitator"})
        await wait_for(lambda: all(c.roster.role(bob.node.registry.me) == "facilitator"
                                   for d in (bob, cat) for c in d.node.registry.circles.values()))
        made = (await bob.request("checkin.create", {"circle": "Elm St", "prompt": "How is everyone?"}))["checkin"]
        assert made["author"] == hexid(bob)
        await wait_for(lambda: [c["id"] for c in cat.perform("checkin.list", {})["checkins"]] == [made["id"]])
        replied = await cat.request("checkin.reply", {"checkin": made["id"], "option": 1})
        assert replied["option"] == "doing OK"
        await wait_for(lambda: bob.perform("checkin.show", {"checkin": made["id"]})["checkin"]["answered"] == 1)
        nursery.cancel_scope.cancel()


async def test_a_plan_shared_with_the_circle_shows_in_the_callers_calls_and_old_calls_keep_their_roster(autojump_clock):
    """Issue 9 item 19: a circle-wide plan share shows in the caller's calls; "reached N of M" counts
    the circle as it was when the call was made; a removed member keeps the name they had."""
    async with trio.open_nursery() as nursery:
        ann, bob, cat = await circle_of_three(nursery)
        await cat.request("plan.edit", {"helps": "tea and a quiet room"})
        await cat.request("plan.share", {"circle": "Elm St"})
        call = (await cat.request("call.create", {"circle": "Elm St", "text": "Rough night"}))["call"]["id"]
        for d in (ann, bob):
            await wait_for(lambda d=d: any(c["id"] == call and c["plans"] for c in d.perform("calls.list", {})["calls"]))
            assert d.perform("call.show", {"call": call})["call"]["plans"][0]["plan"]["helps"] == "tea and a quiet room"
        await wait_for(lambda: cat.perform("call.show", {"call": call})["call"]["reached"] == 2)
        await bob.request("call.update", {"call": call, "text": "calling you now"})
        await wait_for(lambda: cat.perform("call.show", {"call": call})["call"]["updates"])
        # dan joins later: the old call still reached 2 of 2, and names nobody who was not there
        dan = make_daemon("dan", [("127.0.0.1", ann.port)])
        await nursery.start(dan.run)
        token = (await ann.request("circle.invite", {"circle": "Elm St"}))["token"]
        await dan.request("circle.join", {"token": token})
        await wait_for(lambda: len(cat.node.registry.find("Elm St").roster.members) == 4)
        shown = cat.perform("call.show", {"call": call})["call"]
        assert (shown["reached"], shown["audience"], shown["waiting_on"]) == (2, 2, [])
        # bob is removed: his update still says bob
        await ann.request("circle.remove", {"circle": "Elm St", "member": "bob"})
        await wait_for(lambda: len(cat.node.registry.find("Elm St").roster.members) == 3)
        shown = cat.perform("call.show", {"call": call})["call"]
        assert shown["names"][hexid(bob)] == "bob"
        nursery.cancel_scope.cancel()


async def test_a_new_member_sees_who_is_available_and_a_removed_member_never_shows(autojump_clock):
    """Issue 9 item 18: members re-announce their availability when someone new can read the circle;
    the roster lists current members only."""
    async with trio.open_nursery() as nursery:
        ann, bob, cat = await circle_of_three(nursery)
        await bob.request("presence.set", {"status": "available", "cap": 2})
        await cat.request("presence.set", {"status": "available"})

        def status(d, who) -> str | None:
            rows = d.perform("roster", {"circle": "Elm St"})["circles"][0]["roster"]
            return next((r["status"] for r in rows if r["member"] == hexid(who)), None)
        await wait_for(lambda: status(ann, bob) == status(ann, cat) == "available")
        await ann.request("circle.remove", {"circle": "Elm St", "member": "cat"})
        await wait_for(lambda: status(ann, cat) is None)
        dan = make_daemon("dan", [("127.0.0.1", ann.port)])
        await nursery.start(dan.run)
        token = (await ann.request("circle.invite", {"circle": "Elm St"}))["token"]
        await dan.request("circle.join", {"token": token})
        await wait_for(lambda: "dan" in member_names(dan, "Elm St"))
        await wait_for(lambda: status(dan, bob) == "available", timeout=30)
        rows = dan.perform("roster", {"circle": "Elm St"})["circles"][0]["roster"]
        assert next(r for r in rows if r["member"] == hexid(bob))["cap"] == 2
        assert status(dan, cat) is None
        nursery.cancel_scope.cancel()


async def test_one_invite_more_than_the_cap_is_refused_with_what_to_do(autojump_clock):
    """Issue 9 item 5: open invites per circle are capped; revoking one makes room."""
    from meshcare.circles.registry import MAX_OPEN_INVITES
    async with trio.open_nursery() as nursery:
        ann = await founded(nursery)
        made = [await ann.request("circle.invite", {"circle": "Elm St"}) for _ in range(MAX_OPEN_INVITES)]
        with pytest.raises(BadInput, match="64 open invites.*revoke one.*or let one expire"):
            await ann.request("circle.invite", {"circle": "Elm St"})
        await ann.request("circle.revoke", {"circle": "Elm St", "invite": made[0]["invite"]})
        await ann.request("circle.invite", {"circle": "Elm St"})
        # the engine knows which topics are lobbies: past a link's tag limit, circles are offered first
        circle = ann.node.registry.find("Elm St").topic
        assert circle not in ann.node.engine._lobbies
        lobbies = ann.node.registry.topics(int(ann.now())) - set(ann.node.registry.circles)
        assert ann.node.engine._lobbies == lobbies and len(lobbies) > MAX_OPEN_INVITES   # + the revoked one's
        nursery.cancel_scope.cancel()


async def test_a_removed_member_is_told_removed_and_a_refused_join_is_told_why(autojump_clock):
    """Issue 9 item 17: "removed", not "left"; a join with a used invite is answered, not left waiting."""
    async with trio.open_nursery() as nursery:
        ann, bob, cat = await circle_of_three(nursery)
        await ann.request("circle.remove", {"circle": "Elm St", "member": "cat"})
        await wait_for(lambda: cat.node.registry.find("Elm St").roster.role(cat.node.registry.me) is None)
        (mine,) = cat.perform("circle.list", {})["circles"]
        assert mine["status"] == "removed"
        await bob.request("circle.leave", {"circle": "Elm St"})
        await wait_for(lambda: bob.node.registry.find("Elm St").roster.role(bob.node.registry.me) is None)
        assert bob.perform("circle.list", {})["circles"][0]["status"] == "left"
        # a second person tries the token cat already used
        token = (await ann.request("circle.invite", {"circle": "Elm St"}))["token"]
        dan = make_daemon("dan", [("127.0.0.1", ann.port)])
        await nursery.start(dan.run)
        await dan.request("circle.join", {"token": token})
        await wait_for(lambda: "dan" in member_names(dan, "Elm St"))
        eve = make_daemon("eve", [("127.0.0.1", ann.port)])
        await nursery.start(eve.run)
        await eve.request("circle.join", {"token": token})

        def eve_joining() -> dict:
            return eve.perform("circle.list", {})["joining"][0]
        await wait_for(lambda: eve_joining()["status"] == "refused")
        assert eve_joining()["refused"] == "used"
        nursery.cancel_scope.cancel()


async def test_a_post_from_a_node_whose_clock_runs_ahead_arrives_once_ours_catches_up(autojump_clock):
    """Issue 9 item 9: created more than FUTURE_SLACK ahead of the receiver's clock is held, not
    rejected, and the daemon's timer releases it when its own clock gets there."""
    from meshcare.circles.circle import FUTURE_SLACK
    async with trio.open_nursery() as nursery:
        ann, bob, cat = await circle_of_three(nursery)
        bob._epoch += 900                                   # bob's clock: 15 minutes fast
        await bob.request("presence.set", {"circle": "Elm St", "status": "available"})
        circle = ann.node.registry.find("Elm St")
        await wait_for(lambda: ann.node.registry.release_at is not None)
        assert not any(p.kind == "presence" and p.author == bob.node.registry.me for p in circle.posts)
        ann._epoch += 900 - FUTURE_SLACK + 1                # ann's clock reaches it
        ann._timers_changed.set()
        await wait_for(lambda: any(p.kind == "presence" and p.author == bob.node.registry.me for p in circle.posts))
        await wait_for(lambda: ann.node.registry.release_at is None)    # the timer ran the release
        nursery.cancel_scope.cancel()


async def test_the_member_who_loses_a_claim_race_is_told_who_has_the_call(autojump_clock):
    """Issue 9 item 16: two claims made apart are both told "you have it" at first; once the claims
    meet, the one that is not first in the circle's order gets a claim_lost notice naming the claimer."""
    async with trio.open_nursery() as nursery:
        ann, bob, cat = await circle_of_three(nursery)
        made = await cat.request("call.create", {"circle": "Elm St", "text": "could someone call me"})
        call = made_id(made)
        await wait_for(lambda: all(any(c.caller == cat.node.registry.me for c in d.node.registry.view(
            d.node.registry.find("Elm St")).calls.values()) for d in (ann, bob)))
        events = {d: d.subscribe() for d in (ann, bob)}
        first = await ann.request("call.claim", {"call": call})      # no await in between: neither has
        second = await bob.request("call.claim", {"call": call})     # seen the other's claim yet
        assert first["have_it"] and second["have_it"]
        circle = ann.node.registry.find("Elm St")
        await wait_for(lambda: len(ann.node.registry.view(circle).calls[bytes.fromhex(call)].also_claimed) == 1)
        winner = ann.node.registry.view(circle).calls[bytes.fromhex(call)].claimer
        loser = bob if winner == ann.node.registry.me else ann

        def notices(d):
            out = []
            while True:
                try:
                    name, data = events[d].receive_nowait()
                except trio.WouldBlock:
                    return out
                if name == "call" and data.get("event") == "claim_lost":
                    out.append(data)

        seen: dict = {ann: [], bob: []}
        await wait_for(lambda: bool(seen[loser].extend(notices(loser)) or seen[loser]))
        assert seen[loser][0]["claimer"] == winner.hex() and seen[loser][0]["call"].startswith(call[:8])
        winner_node = ann if loser is bob else bob
        circle_w = winner_node.node.registry.find("Elm St")
        await wait_for(lambda: loser.node.registry.me in winner_node.node.registry.view(circle_w).calls[
            bytes.fromhex(call)].also_claimed)
        winner_node.node.duties.due(winner_node.now())          # plan now, as the timer would
        assert notices(winner_node) == [] and winner_node.node.duties.take_notices() == []
        nursery.cancel_scope.cancel()


def made_id(made: dict) -> str:
    return made["call"]["id"] if isinstance(made.get("call"), dict) else made["id"]
