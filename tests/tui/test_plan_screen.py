"""The support plan's screen (p): every section, grouped, with who can read it beside each; sharing the
ticked sections with whoever has your call or a circle; the review prompt; what a responder sees first."""

from __future__ import annotations

import dataclasses
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Button, Static, TextArea

from meshcare import vocab
from meshcare.control import api
from meshcare.tui import render
from meshcare.tui.screens.call import CallScreen
from meshcare.tui.screens.plan import GROUPS, PlanScreen, section_readers
from meshcare.tui.widgets.toggles import Tick

from .fakedaemon import BEN, ELM, ME, NOW, FakeState, hid, make_call
from .harness import holds, noted, run, running, screen_text, shows, wait_for, widget_text

PLAN = api.PlanParts(helps="Tea and a walk", avoid="Crowds", contact="My sister", other="",
                     wishes="No police. No hospital unless I ask.", practical="Feed the cat (key under the pot)")


async def readable(pilot: Pilot[Any], key: str, who: str) -> None:
    """Wait until the screen says, beside section ``key``, that ``who`` can read it."""
    def says() -> str:
        return str(pilot.app.screen.query_one(f"#readers-{key}", Static).content)
    await wait_for(pilot, lambda: says() == f"· who can read this: {who}", f"{key!r} readable by {who!r}: {says()!r}")


def test_the_groups_hold_every_section_once_in_plan_order() -> None:
    assert tuple(k for _, keys in GROUPS for k in keys) == vocab.PLAN_FIELDS


def _share(to: str, sections: tuple[str, ...], **more: object) -> api.OwnShare:
    fields: dict[str, object] = {"id": hid(f"s{to}{sections}"), "author": ME, "name": "Sam", "to": to,
                                 "call": None, "plan": PLAN, "created": NOW, "circle": ELM, "sections": sections,
                                 "circle_name": "Elm St"}
    return api.OwnShare(**{**fields, **more})  # type: ignore[arg-type]  # the test's own fields, all given


def test_who_can_read_a_section_in_words() -> None:
    call = hid("mine")
    in_call = _share("call", ("helps", "wishes"), call=call, readers=(api.Reader(id=BEN, name="Ben [b]O[/b]"),))
    circle = _share("circle", ("wishes",))
    shares = [in_call, circle]
    assert section_readers("avoid", shares, {}) == "only you"
    assert section_readers("helps", shares, {}) == f"shared with Ben \\[b]O\\[/b] (call {call[:8]})"
    assert section_readers("wishes", shares, {}) == (f"shared with Ben \\[b]O\\[/b] (call {call[:8]}); "
                                                      "everyone in Elm St")


def test_every_section_is_written_saved_and_shared_on_its_own() -> None:
    async def scenario() -> None:
        async with running(size=(80, 24)) as (app, pilot, daemon):
            await pilot.press("p")
            await wait_for(pilot, lambda: isinstance(app.screen, PlanScreen), "the plan")
            await shows(pilot, "When I'm well")
            assert "Save (Ctrl+S)" in screen_text(app) and "Share" in screen_text(app)   # fits 80x24
            await pilot.press(*"I cook and walk")                   # the first section has the focus
            app.screen.query_one("#part-wishes").focus()
            await pilot.pause()
            await pilot.press(*"No police")
            app.screen.query_one("#part-review_by").focus()
            await pilot.pause()
            await pilot.press(*"2020-01-01")
            await pilot.press("ctrl+s")
            await noted(pilot, "Saved on this computer")
            plan = daemon.state.plan
            assert plan is not None and (plan.when_well, plan.wishes, plan.review_by) == (
                "I cook and walk", "No police", "2020-01-01")
            await holds(pilot, vocab.PLAN_REVIEW_PROMPT)            # 2020 has passed
            await readable(pilot, "wishes", "only you")
            app.screen.query_one("#pick-wishes", Tick).value = True
            app.screen.query_one("#share-circle").value = ELM
            await pilot.click("#share")
            await holds(pilot, "Share these parts of your saved plan (Wishes) with everyone in Elm St?")
            await shows(pilot, "Cancel")                                # the dialog is drawn: its buttons
            await pilot.click("#yes")
            await noted(pilot, "Shared with everyone in Elm St")
            await readable(pilot, "wishes", "everyone in Elm St")
            await readable(pilot, "when_well", "only you")
            await holds(pilot, "with everyone in Elm St · just now Wishes")
            assert [a for op, a in daemon.asked if op == "plan.share"] == [
                {"call": None, "circle": ELM, "sections": ["wishes"]}]
            shared = daemon.state.shares[0]
            assert shared.plan.wishes == "No police" and shared.plan.when_well == ""
    run(scenario)


def test_a_share_with_whoever_has_my_call_names_them() -> None:
    async def scenario() -> None:
        state = FakeState()
        mine = make_call("mine", ME, "Could use company", status="claimed", claimer=BEN)
        state.calls[mine.id] = mine
        state.plan = PLAN
        async with running(state, size=(100, 40)) as (app, pilot, daemon):
            await pilot.press("p")
            await wait_for(pilot, lambda: isinstance(app.screen, PlanScreen), "the plan")
            await wait_for(pilot, lambda: app.screen.query_one("#part-helps", TextArea).text == "Tea and a walk",
                           "the saved plan in its sections")
            app.screen.query_one("#pick-wishes", Tick).value = True
            app.screen.query_one("#pick-practical", Tick).value = True
            app.screen.query_one("#share-circle").value = "call:" + mine.id
            app.screen.query_one("#share", Button).press()
            await holds(pilot, "(Wishes, Practical things) with Ben Okafor, who has your call?")
            await shows(pilot, "Cancel")
            await pilot.click("#yes")
            await noted(pilot, "Shared with Ben Okafor, who has your call")
            await readable(pilot, "wishes", f"shared with Ben Okafor (call {mine.id[:8]})")
            await readable(pilot, "helps", "only you")
            assert "review date" not in widget_text(app)                  # no review date: no prompt
    run(scenario)


def test_a_responder_reads_the_callers_wishes_first() -> None:
    async def scenario() -> None:
        state = FakeState()
        theirs = make_call("theirs", BEN, "Rough night", status="claimed", claimer=ME)
        share = api.Share(id=hid("share"), author=BEN, name="Ben Okafor", to="call", call=theirs.id,
                          plan=dataclasses.replace(PLAN, helps=""), created=NOW, sections=("wishes",))
        state.calls[theirs.id] = dataclasses.replace(theirs, plans=(share,))
        async with running(state, size=(80, 24)) as (app, pilot, _daemon):
            app.open_call(theirs.id)
            await wait_for(pilot, lambda: isinstance(app.screen, CallScreen), "the call")
            await shows(pilot, "Wishes from their support plan: No police. No hospital unless I ask.")
            text = screen_text(app)
            assert text.index("Wishes from their support plan") < text.index("Call for support from Ben")
            await holds(pilot, "Ben Okafor's support plan (shared with this call) Please avoid: Crowds "
                               "Who to involve: My sister Wishes: No police.")
    run(scenario)


def test_wishes_block_puts_plan_wishes_after_the_calls_own() -> None:
    call = make_call("c", BEN, "hi")
    share = api.Share(id=hid("s"), author=BEN, name=None, to="circle", call=None,
                      plan=api.PlanParts(helps="", avoid="", contact="", other="", wishes="no [b]police[/b]"),
                      created=NOW)
    other = dataclasses.replace(share, id=hid("t"), author=ME)         # not the caller's: not their wishes
    with_both = dataclasses.replace(call, consent=("no_police",), plans=(share, share, other))
    block = render.wishes_block(with_both)
    assert block.splitlines()[0].startswith("[b]Their wishes:[/b]")
    assert block.splitlines()[1] == "[b]Wishes from their support plan:[/b] no \\[b]police\\[/b]"
    assert render.wishes_block(call) == ""
