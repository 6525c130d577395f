"""One evening in a circle, between real daemons over loopback TCP in one trio run (virtual time).

Issue 13's end-to-end check: the care features work together between real nodes, not only each on
its own. Ann facilitates Elm St; Bob, Cat and Dan are members. Over one evening and the next day:

* Ann organises the Tuesday group with Bob as co-host; Bob and Cat say yes, Dan maybe. Ann (a
  facilitator) sees who is coming, Dan sees only how many.
* Cat asks for bread and milk on the mutual-aid board, with how to reach her; Dan takes it, and only
  Dan learns how to reach her; he marks it done.
* Cat asks Ann privately for a word; Bob and Dan never read it; Ann answers; Cat closes it.
* Cat keeps a consent-based ladder: Bob says yes, Ann has not answered yet, and Cat would rather not
  involve Dan. Her call goes to Bob first, then to the circle, and never to Dan, not even then.
* Bob takes the call, Cat resolves it and asks Bob to check in tomorrow morning; then the check-in is
  due on Bob's node; Ann sees only that a follow-up is due, then done, never what the call said.
"""

from __future__ import annotations

from typing import Any

import trio

from meshcare.transport.daemon import Daemon

from .helpers import circle_of_three, make_daemon, member_names, wait_for

CIRCLE = "Elm St"
HOUR = 3600


async def _join(nursery: trio.Nursery, ann: Daemon, name: str) -> Daemon:
    newcomer = make_daemon(name, [("127.0.0.1", ann.port)])
    await nursery.start(newcomer.run)
    token = (await ann.request("circle.invite", {"circle": CIRCLE}))["token"]
    await newcomer.request("circle.join", {"token": token})
    await wait_for(lambda: newcomer.node.registry.circles and name in member_names(ann, CIRCLE)
                   and member_names(newcomer, CIRCLE) == member_names(ann, CIRCLE))
    return newcomer


def _ids(d: Daemon, op: str, key: str, **args: Any) -> set[str]:
    return {item["id"] for item in d.perform(op, args)[key]}


def _id(d: Daemon) -> str:
    return d.identity.node_id.hex()


async def test_one_evening_in_a_circle(autojump_clock: Any) -> None:
    async with trio.open_nursery() as nursery:
        ann, bob, cat = await circle_of_three(nursery)
        dan = await _join(nursery, ann, "dan")
        everyone = (ann, bob, cat, dan)
        await wait_for(lambda: all(member_names(d, CIRCLE) == {"ann", "bob", "cat", "dan"} for d in everyone))
        start = int(ann.now())

        # --- the Tuesday group: names for the hosts and facilitators, a count for the others ------------
        made = await ann.request("gathering.create", {
            "circle": CIRCLE, "title": "Tuesday group", "when": start + 2 * HOUR, "where": "the community room",
            "hosts": ["bob"], "aftercare": "Ann or Bob, any time this week"})
        gathering = made["gathering"]["id"]
        await wait_for(lambda: all(gathering in _ids(d, "gathering.list", "gatherings") for d in everyone))
        await bob.request("gathering.rsvp", {"gathering": gathering, "answer": "yes"})
        await cat.request("gathering.rsvp", {"gathering": gathering, "answer": "yes"})
        await dan.request("gathering.rsvp", {"gathering": gathering, "answer": "maybe"})

        def counts(d: Daemon) -> dict[str, int]:
            return dict(d.perform("gathering.show", {"gathering": gathering})["gathering"]["counts"])
        await wait_for(lambda: all(counts(d).get("yes") == 2 and counts(d).get("maybe") == 1 for d in everyone))
        as_ann = ann.perform("gathering.show", {"gathering": gathering})["gathering"]
        as_dan = dan.perform("gathering.show", {"gathering": gathering})["gathering"]
        assert as_ann["sees_names"] and {r["member"] for r in as_ann["rsvps"]} == {_id(bob), _id(cat), _id(dan)}
        assert not as_dan["sees_names"] and as_dan["rsvps"] == [] and as_dan["mine"] == "maybe"
        assert as_dan["where"] == "the community room"              # members read where; nobody else can

        # --- the board: Cat asks for bread and milk; only Dan, who takes it, learns how to reach her -----
        need = (await cat.request("need.create", {"circle": CIRCLE, "text": "Could someone bring bread and milk?",
                                                  "category": "food", "when": "this evening",
                                                  "reach": "ring twice, flat 3"}))["need"]["id"]

        def item(d: Daemon) -> dict[str, Any] | None:
            return next((n for n in d.perform("need.list", {"all": True})["needs"] if n["id"] == need), None)
        await wait_for(lambda: all(item(d) is not None for d in everyone))
        await dan.request("need.take", {"need": need})
        await wait_for(lambda: (item(dan) or {}).get("reach") == "ring twice, flat 3")
        await wait_for(lambda: all((item(d) or {}).get("taker") == _id(dan) for d in everyone))
        assert item(bob)["reach"] is None and item(ann)["reach"] is None      # sealed to the taker alone
        await dan.request("need.done", {"need": need})
        await wait_for(lambda: all((item(d) or {}).get("status") == "done" for d in everyone))

        # --- a private word: Cat asks Ann; Bob and Dan never read it ------------------------------------
        asked = (await cat.request("request.create", {"circle": CIRCLE, "to": ["ann"], "about": "conversation",
                                                      "text": "Could we talk about the group on Tuesday?"}))
        request = asked["request"]["id"]
        await wait_for(lambda: request in _ids(ann, "request.list", "requests"))
        await ann.request("request.reply", {"request": request, "text": "Of course: tomorrow at ten?"})
        await wait_for(lambda: len(cat.perform("request.show", {"request": request})["request"]["replies"]) == 1)
        await cat.request("request.close", {"request": request})
        await wait_for(lambda: ann.perform("request.show", {"request": request})["request"]["closed"])
        assert _ids(bob, "request.list", "requests") == _ids(dan, "request.list", "requests") == set()

        # --- Cat's ladder: Bob says yes, Ann has not answered, Dan is not to be involved ----------------
        asked_bob = (await cat.request("ladder.add", {"circle": CIRCLE, "member": "bob", "step": 0}))["request"]["id"]
        await cat.request("ladder.add", {"circle": CIRCLE, "member": "ann", "step": 1})
        await cat.request("avoid.add", {"circle": CIRCLE, "member": "dan"})
        await wait_for(lambda: asked_bob in _ids(bob, "ladder.requests", "requests"))
        assert _ids(dan, "ladder.requests", "requests") == set()          # sealed to the two of them
        await bob.request("ladder.answer", {"request": asked_bob, "answer": "accept"})
        await wait_for(lambda: any(r["state"] == "accepted" for lad in cat.perform("ladder.list", {})["ladders"]
                                   for r in lad["rungs"] if r["member"] == _id(bob)))

        # --- a call along that ladder: Bob first, then the circle, never Dan ----------------------------
        call = (await cat.request("call.create", {"circle": CIRCLE, "text": "Rough evening, could someone come by?",
                                                  "urgency": "now", "ladder_name": "calls", "ladder_every": 10,
                                                  "ladder_then": "circle"}))["call"]["id"]
        await wait_for(lambda: call in _ids(bob, "calls.list", "calls"))
        assert call not in _ids(ann, "calls.list", "calls")              # Ann's rung is pending: skipped
        await trio.sleep(11 * 60)                                         # nobody took it: the circle step
        await wait_for(lambda: call in _ids(ann, "calls.list", "calls"))
        assert call not in _ids(dan, "calls.list", "calls", all=True)    # not even once it reached the circle
        await bob.request("call.claim", {"call": call})
        await wait_for(lambda: cat.perform("call.show", {"call": call})["call"]["claimer"] == _id(bob))
        next_morning = int(cat.now()) + 14 * HOUR          # resolved in the evening: tomorrow morning
        await cat.request("call.resolve", {"call": call, "followup_by": "bob", "followup_due": next_morning})
        await wait_for(lambda: bob.perform("call.show", {"call": call})["call"]["status"] == "resolved")
        assert call not in _ids(dan, "calls.list", "calls", all=True)

        # --- the next day: Bob's check-in is due; Ann sees due, then done, and nothing more ---------------
        def followups(d: Daemon) -> list[dict[str, Any]]:
            return [f for f in d.perform("followup.list", {"all": True})["followups"] if f["call"] == call]
        await wait_for(lambda: followups(bob) and followups(ann))
        assert followups(bob)[0]["mine"] and followups(bob)[0]["todo"] is None     # not due yet
        await trio.sleep(next_morning - int(bob.now()) + 60)     # virtual time: the daemons' clocks move too
        await wait_for(lambda: followups(bob)[0]["todo"] == "first")
        seen_by_ann = followups(ann)[0]
        assert seen_by_ann["who"] == _id(bob) and seen_by_ann["done_at"] is None
        assert "Rough evening" not in repr(seen_by_ann)                    # a follow-up carries no content
        assert followups(dan) == []                                        # sealed to Bob and the facilitators
        await bob.request("followup.done", {"call": call})
        await wait_for(lambda: followups(ann)[0]["done_at"] is not None)
        assert bob.perform("me.load", {})["took"] == 1                    # "you took 1 call in 7 days": Bob only
        nursery.cancel_scope.cancel()
