"""The support plan's ops between in-process daemons on loopback (issue 13 item 1): edit one section, share a
subset with the circle or with whoever has a call, who can read what, the review date, old plans.
Polls a condition with a deadline (tests/helpers.wait_for); no fixed sleeps."""

from __future__ import annotations

import pytest
import trio

from meshcare import vocab
from meshcare.errors import BadInput
from tests.helpers import circle_of_three, wait_for

pytestmark = pytest.mark.timeout(120)


def hexid(d) -> str:
    return bytes(d.identity.node_id).hex()


async def test_sections_are_edited_shared_on_their_own_and_the_owner_sees_who_can_read_them(autojump_clock):
    async with trio.open_nursery() as nursery:
        ann, bob, cat = await circle_of_three(nursery)
        # edit: the four named parts and any section by key; empty text clears one; the others stay
        plan = (await cat.request("plan.edit", {"helps": "tea", "sections": {
            "when_well": "I cook", "wishes": "no police", "practical": "feed the cat"}}))["plan"]
        assert list(plan) == list(vocab.PLAN_FIELDS)
        assert (plan["when_well"], plan["helps"], plan["wishes"], plan["avoid"]) == ("I cook", "tea", "no police", "")
        plan = (await cat.request("plan.edit", {"sections": {"when_well": ""}}))["plan"]
        assert plan["when_well"] == "" and plan["helps"] == "tea"
        with pytest.raises(BadInput, match="given twice"):
            await cat.request("plan.edit", {"helps": "a", "sections": {"helps": "b"}})
        with pytest.raises(BadInput, match="YYYY-MM-DD"):
            await cat.request("plan.edit", {"sections": {"review_by": "next spring"}})
        with pytest.raises(BadInput, match="must be one of when_well"):
            await cat.request("plan.edit", {"sections": {"mood": "x"}})

        # share the wishes alone with the circle
        wide = (await cat.request("plan.share", {"circle": "Elm St", "sections": ["wishes"]}))["share"]
        with pytest.raises(BadInput, match="nothing is written in 'after'"):
            await cat.request("plan.share", {"circle": "Elm St", "sections": ["after"]})
        shown = cat.perform("plan.show", {})
        (own,) = shown["shares"]
        assert own["id"] == wide and own["sections"] == ["wishes"] and own["readers"] == []
        assert own["circle_name"] == "Elm St" and own["plan"]["helps"] == "" and own["plan"]["wishes"] == "no police"
        assert shown["review_due"] is False

        # a call: bob has it; cat shares what helps and practical things with him only
        call = (await cat.request("call.create", {"circle": "Elm St", "text": "rough night"}))["call"]["id"]
        await wait_for(lambda: any(c["id"] == call for c in bob.perform("calls.list", {})["calls"]))
        await bob.request("call.claim", {"call": call})
        await wait_for(lambda: cat.perform("call.show", {"call": call})["call"]["claimer"] == hexid(bob))
        in_call = (await cat.request("plan.share", {"call": call, "sections": ["helps", "practical"]}))["share"]
        mine = {s["id"]: s for s in cat.perform("plan.show", {})["shares"]}
        assert mine[in_call]["readers"] == [{"id": hexid(bob), "name": "bob"}]
        assert mine[in_call]["sections"] == ["helps", "practical"]

        # bob reads both: the call share and cat's circle-wide wishes; ann reads only the wishes
        def plans_at(d) -> dict[str, dict]:
            return {s["id"]: s for s in d.perform("call.show", {"call": call})["call"]["plans"]}
        await wait_for(lambda: set(plans_at(bob)) == {wide, in_call})
        assert plans_at(bob)[in_call]["plan"]["practical"] == "feed the cat"
        assert plans_at(bob)[in_call]["plan"]["wishes"] == "" and plans_at(bob)[wide]["sections"] == ["wishes"]
        await wait_for(lambda: any(s.author.hex() == hexid(cat) and s.id.hex() == wide
                                   for c in ann.node.registry.circles.values()
                                   for s in ann.node.registry.view(c).shares.values()))
        assert not any(s.id.hex() == in_call for c in ann.node.registry.circles.values()
                       for s in ann.node.registry.view(c).shares.values())

        # retract the circle share: the wishes are cat's alone again
        await cat.request("plan.retract", {"share": wide[:8]})
        assert [s["id"] for s in cat.perform("plan.show", {})["shares"]] == [in_call]
        await wait_for(lambda: set(plans_at(bob)) == {in_call})
        nursery.cancel_scope.cancel()


async def test_an_old_plan_loads_and_the_review_date_prompts_once_passed(autojump_clock):
    async with trio.open_nursery() as nursery:
        ann, _bob, _cat = await circle_of_three(nursery)
        old = {"helps": "a walk", "avoid": "crowds", "contact": "Eva", "other": "the dog"}
        ann.node.state.plan = dict(old)                                # saved by a node with four parts
        shown = ann.perform("plan.show", {})
        assert {k: v for k, v in shown["plan"].items() if v} == old and shown["review_due"] is False
        edited = (await ann.request("plan.edit", {"sections": {"review_by": " 2020-01-01 "}}))["plan"]
        assert {k: v for k, v in edited.items() if v} == {**old, "review_by": "2020-01-01"}
        assert ann.perform("plan.show", {})["review_due"] is True     # 2020 has passed
        await ann.request("plan.edit", {"sections": {"review_by": "9999-12-31"}})
        assert ann.perform("plan.show", {})["review_due"] is False
        shared = (await ann.request("plan.share", {"circle": "Elm St"}))["share"]   # no sections: all written
        (own,) = ann.perform("plan.show", {})["shares"]
        assert own["id"] == shared and own["sections"] == ["helps", "avoid", "contact", "other", "review_by"]
        ann.node.state.plan = {k: "" for k in old}
        with pytest.raises(BadInput, match="your support plan is empty"):
            await ann.request("plan.share", {"circle": "Elm St"})
        nursery.cancel_scope.cancel()
