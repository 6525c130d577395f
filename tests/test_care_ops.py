"""Follow-up and responder-care ops between in-process daemons on loopback (issue 13 items 3 and 4):
the caller's follow-up and who sees what of it, the check-in done, safety-timer alerts to facilitators
only, the private load view. trio's autojump clock: minutes and days pass in no real time."""

from __future__ import annotations

import pytest
import trio

from meshcare.control.requests_care import Load
from meshcare.errors import BadInput, NotFound
from meshcare.ops.care import me_load
from meshcare.vocab import SAFETY_GRACE_S
from tests.helpers import circle_of_three, wait_for

pytestmark = pytest.mark.timeout(120)
DAY = 86_400


def hexid(d) -> str:
    return bytes(d.identity.node_id).hex()


def notices(channel, kind: str) -> list[dict]:
    out = []
    while True:
        try:
            name, data = channel.receive_nowait()
        except trio.WouldBlock:
            return out
        if name == "notice" and data.get("kind") == kind:
            out.append(data)


async def _resolved_call(ann, bob, cat) -> str:
    """cat's call, taken by bob and resolved by cat; every node has seen it resolved."""
    call = (await cat.request("call.create", {"circle": "Elm St", "text": "rough night"}))["call"]["id"]
    await wait_for(lambda: any(c["id"] == call for c in bob.perform("calls.list", {})["calls"]))
    await bob.request("call.claim", {"call": call})
    await wait_for(lambda: cat.perform("call.show", {"call": call})["call"]["claimer"] == hexid(bob))
    return call


async def test_the_caller_asks_for_a_follow_up_and_facilitators_see_only_who_and_when(autojump_clock):
    async with trio.open_nursery() as nursery:
        ann, bob, cat = await circle_of_three(nursery)          # ann facilitates; bob and cat are members
        call = await _resolved_call(ann, bob, cat)
        with pytest.raises(BadInput, match="only the person who made the call"):
            await bob.request("call.resolve", {"call": call, "followup_by": "cat"})
        events = {d: d.subscribe() for d in (ann, bob, cat)}
        now = int(cat.now())
        done = await cat.request("call.resolve", {"call": call, "followup_by": "bob", "followup_due": now + 120,
                                                  "followup_again": now + 4 * DAY})
        f = done["followup"]
        assert (f["who"], f["asker"], f["due"], f["again"], f["todo"], f["asked"]) == (
            hexid(bob), hexid(cat), now + 120, now + 4 * DAY, None, True)
        await wait_for(lambda: bob.perform("followup.list", {})["followups"])
        await wait_for(lambda: ann.perform("followup.list", {})["followups"])
        seen = ann.perform("followup.list", {})["followups"][0]
        assert set(seen) == set(f) and (seen["mine"], seen["asked"]) == (False, False)   # no content key at all
        assert "text" not in seen
        with pytest.raises(BadInput, match="only the person asked"):
            await ann.request("followup.done", {"call": call})
        # when it is due bob is told, and only bob
        await trio.sleep(180)
        got: dict = {d: [] for d in events}
        await wait_for(lambda: bool(got[bob].extend(notices(events[bob], "followup_due")) or got[bob]))
        assert got[bob][0]["about"] == call and got[bob][0]["member"] == hexid(cat)
        assert notices(events[ann], "followup_due") == [] and notices(events[cat], "followup_due") == []
        assert bob.perform("followup.list", {})["followups"][0]["todo"] == "first"
        first = await bob.request("followup.done", {"call": call})
        assert first["which"] == "first" and first["followup"]["done_at"] is not None
        await wait_for(lambda: ann.perform("followup.list", {"all": True})["followups"][0]["done_at"] is not None)
        second = await bob.request("followup.done", {"call": call})
        assert second["which"] == "again"
        with pytest.raises(BadInput, match="done already"):
            await bob.request("followup.done", {"call": call})
        await wait_for(lambda: cat.perform("followup.list", {})["followups"] == [])
        assert cat.perform("followup.list", {"all": True})["followups"][0]["again_done_at"] is not None
        nursery.cancel_scope.cancel()


async def test_a_follow_up_asked_after_someone_else_resolved(autojump_clock):
    async with trio.open_nursery() as nursery:
        ann, bob, cat = await circle_of_three(nursery)
        call = await _resolved_call(ann, bob, cat)
        await bob.request("call.resolve", {"call": call})
        await wait_for(lambda: cat.perform("call.show", {"call": call})["call"]["status"] == "resolved")
        with pytest.raises(BadInput, match="someone else"):
            await cat.request("followup.ask", {"call": call, "who": "cat"})
        asked = await cat.request("followup.ask", {"call": call})           # default: whoever took it
        assert asked["followup"]["who"] == hexid(bob)
        with pytest.raises(BadInput, match="within a week"):
            await cat.request("followup.ask", {"call": call, "due": int(cat.now()) + 9 * DAY})
        with pytest.raises(NotFound):
            await bob.request("followup.done", {"call": "ffff"})
        nursery.cancel_scope.cancel()


async def test_safety_timer_alerts_go_to_facilitators_only(autojump_clock):
    """Issue 13's required property: bob goes in person with a timer; he falls silent; ann (the
    facilitator) is alerted; cat (a member) never holds the timer nor hears of it."""
    async with trio.open_nursery() as nursery:
        ann, bob, cat = await circle_of_three(nursery)
        events = {d: d.subscribe() for d in (ann, bob, cat)}
        started = await bob.request("safety.start", {"circle": "Elm St", "every": 10, "note": "at Sam's, 4th floor"})
        assert started["facilitators"] == 1 and started["timer"]["mine"] is True
        with pytest.raises(BadInput, match="already running"):
            await bob.request("safety.start", {"circle": "Elm St", "every": 10})
        with pytest.raises(BadInput, match="no facilitator besides you"):
            await ann.request("safety.start", {"circle": "Elm St", "every": 10})
        await wait_for(lambda: ann.perform("safety.list", {})["timers"])
        assert ann.perform("safety.list", {})["timers"][0]["note"] == "at Sam's, 4th floor"
        await bob.request("safety.ping", {"status": "there"})
        await trio.sleep(9 * 60)
        await bob.request("safety.ping", {"status": "ok"})
        await trio.sleep(10 * 60 + SAFETY_GRACE_S - 30)
        assert notices(events[ann], "safety_overdue") == []          # not yet: the grace holds
        await trio.sleep(60)
        got: list = []
        await wait_for(lambda: bool(got.extend(notices(events[ann], "safety_overdue")) or got))
        assert got[0]["member"] == hexid(bob) and got[0]["name"] == "bob"
        assert ann.perform("safety.list", {})["timers"][0]["overdue"] is True
        await trio.sleep(3600)
        assert notices(events[ann], "safety_overdue") == []          # told once per silence
        for d in (bob, cat):
            assert notices(events[d], "safety_overdue") == []
        assert cat.perform("safety.list", {"all": True})["timers"] == []
        cat_circle = cat.node.registry.find("Elm St")
        assert dict(cat.node.registry.view(cat_circle).safety) == {}
        ended = await bob.request("safety.ping", {"status": "end"})
        assert ended["timer"]["ended_at"] is not None
        with pytest.raises(NotFound, match="no safety timer running"):
            await bob.request("safety.ping", {"status": "ok"})
        await wait_for(lambda: ann.perform("safety.list", {})["timers"] == [])
        nursery.cancel_scope.cancel()


async def test_the_load_view_counts_this_persons_calls_only(autojump_clock):
    async with trio.open_nursery() as nursery:
        ann, bob, cat = await circle_of_three(nursery)
        call = await _resolved_call(ann, bob, cat)
        load = bob.perform("me.load", {})
        assert (load["took"], load["holding"], load["days"]) == (1, 1, 7)
        await bob.request("call.resolve", {"call": call})
        assert bob.perform("me.load", {})["holding"] == 0 and bob.perform("me.load", {})["took"] == 1
        assert cat.perform("me.load", {})["took"] == 0 and ann.perform("me.load", {})["took"] == 0
        later, _ = me_load(bob.node, Load(), bob.now() + 8 * DAY)      # a week on: nothing in the window
        assert (later.took, later.holding) == (0, 0)
        nursery.cancel_scope.cancel()
