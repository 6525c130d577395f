"""The mutual-aid board's ops between in-process daemons on loopback: post, take, the reach sent to the
taker only and once, release, done, anonymous posts and the facilitators' setting. Polls with a
deadline on trio's clock (tests/helpers.wait_for); no fixed sleeps."""

from __future__ import annotations

import pytest
import trio

from meshcare.circles.state import LocalState
from meshcare.errors import BadInput, NotFound
from tests.helpers import circle_of_three, wait_for

pytestmark = pytest.mark.timeout(120)


def hexid(d) -> str:
    return bytes(d.identity.node_id).hex()


def item(d, need: str) -> dict | None:
    return next((n for n in d.perform("need.list", {"all": True})["needs"] if n["id"] == need), None)


def reach_posts(d, need_id: bytes) -> list:
    """``need_reach`` posts ``d`` can read for ``need_id``."""
    return [p for c in d.node.registry.circles.values() for p in c.posts
            if p.kind == "need_reach" and p.body["need"] == need_id]


async def test_a_need_is_taken_reached_privately_once_and_done(autojump_clock):
    async with trio.open_nursery() as nursery:
        ann, bob, cat = await circle_of_three(nursery)
        made = await cat.request("need.create", {"circle": "Elm St", "text": "a ride to the clinic", "category": "ride",
                                                 "when": "Tuesday 9:00", "reach": "call 555-0100"})
        need = made["need"]["id"]
        assert made["reach_kept"] is True and made["need"]["reach"] == "call 555-0100"
        assert made["need"]["author"] == hexid(cat) and made["need"]["mine"] is True
        for d in (ann, bob):
            await wait_for(lambda d=d: item(d, need) is not None)
            assert item(d, need)["reach"] is None and item(d, need)["status"] == "open"
        with pytest.raises(BadInput, match="your own"):
            await cat.request("need.take", {"need": need})
        with pytest.raises(BadInput, match="neither its poster nor its taker|only its poster"):
            await ann.request("need.done", {"need": need})
        taken = await bob.request("need.take", {"need": need[:8]})
        assert taken["need"]["status"] == "taken" and taken["need"]["taker"] == hexid(bob)
        assert taken["need"]["names"][hexid(bob)] == "bob"
        await wait_for(lambda: item(ann, need)["taker"] == hexid(bob))
        with pytest.raises(BadInput, match="bob took it already"):
            await ann.request("need.take", {"need": need})
        # cat's node sends how to reach her to bob, sealed to him: bob sees it, ann never does
        await wait_for(lambda: item(bob, need)["reach"] == "call 555-0100")
        assert item(ann, need)["reach"] is None and reach_posts(ann, bytes.fromhex(need)) == []
        await trio.sleep(5)
        assert len(reach_posts(cat, bytes.fromhex(need))) == 1           # once per taker
        # bob gives it back, ann takes it: she gets it too, bob keeps only what he had
        await bob.request("need.release", {"need": need})
        await wait_for(lambda: item(ann, need)["status"] == "open")
        await ann.request("need.take", {"need": need})
        await wait_for(lambda: item(ann, need)["reach"] == "call 555-0100")
        await wait_for(lambda: len(reach_posts(cat, bytes.fromhex(need))) == 2)
        done = await ann.request("need.done", {"need": need})
        assert done["need"]["status"] == "done" and done["need"]["done_by"] == hexid(ann)
        await wait_for(lambda: item(cat, need)["status"] == "done")
        assert all(n["id"] != need for n in cat.perform("need.list", {})["needs"])      # done: only with --all
        await wait_for(lambda: need not in {k.hex() for k in cat.node.state.reach})
        with pytest.raises(BadInput, match="done already"):
            await bob.request("need.take", {"need": need})
        nursery.cancel_scope.cancel()


async def test_anonymous_posts_need_a_facilitators_yes_and_show_no_name(autojump_clock):
    async with trio.open_nursery() as nursery:
        ann, bob, cat = await circle_of_three(nursery)
        args = {"circle": "Elm St", "text": "groceries this week", "category": "food", "anonymous": True}
        with pytest.raises(BadInput, match="does not allow anonymous posts"):
            await cat.request("need.create", args)
        with pytest.raises(BadInput, match="only facilitators"):
            await bob.request("board.set", {"circle": "Elm St", "anonymous": True})
        allowed = await ann.request("board.set", {"circle": "Elm St", "anonymous": True})
        assert allowed["board"]["anonymous"] is True and allowed["board"]["facilitator"] is True
        await wait_for(lambda: cat.perform("need.list", {})["boards"][0]["anonymous"] is True)
        made = (await cat.request("need.create", {**args, "kind": "offer"}))["need"]
        assert made["anonymous"] is True and made["author"] is None and made["mine"] is True
        await wait_for(lambda: item(bob, made["id"]) is not None)
        seen = item(bob, made["id"])
        assert seen["author"] is None and seen["names"] == {} and seen["mine"] is False and seen["kind"] == "offer"
        # turning it off later does not change what was posted
        await ann.request("board.set", {"circle": "Elm St", "anonymous": False})
        await wait_for(lambda: cat.perform("need.list", {})["boards"][0]["anonymous"] is False)
        assert item(bob, made["id"])["anonymous"] is True
        # closing it names nobody either
        await cat.request("need.done", {"need": made["id"]})
        await wait_for(lambda: item(bob, made["id"])["status"] == "done")
        closed = item(bob, made["id"])
        assert closed["done_by"] is None and closed["names"] == {} and closed["author"] is None
        nursery.cancel_scope.cancel()


async def test_unknown_items_and_circles_are_refused(autojump_clock):
    async with trio.open_nursery() as nursery:
        ann, bob, cat = await circle_of_three(nursery)
        with pytest.raises(NotFound, match="no board item"):
            await bob.request("need.take", {"need": "abcdef"})
        with pytest.raises(NotFound, match="no circle"):
            await bob.request("need.list", {"circle": "Oak Rd"})
        with pytest.raises(BadInput, match="category"):
            await bob.request("need.create", {"circle": "Elm St", "text": "x", "category": "pets"})
        with pytest.raises(BadInput, match="nobody has taken it"):
            made = await cat.request("need.create", {"circle": "Elm St", "text": "company on Sunday",
                                                     "category": "company"})
            await cat.request("need.release", {"need": made["need"]["id"]})
        nursery.cancel_scope.cancel()


def test_the_kept_ways_to_be_reached_survive_a_restart_and_old_state_files_load():
    state = LocalState(reach={b"n" * 32: "call 555-0100"})
    assert LocalState.from_obj(state.to_obj()).reach == {b"n" * 32: "call 555-0100"}
    older = [2, *state.to_obj()[1:6]]                     # a file from before the board
    assert LocalState.from_obj(older).reach == {}
