"""My ladders (L on home): a request to Sam raises a banner in plain words and is answered with y / n;
Sam asks someone for a place on a ladder (picker), sees it pending, takes it off; the "who not to
involve" list is added to and taken from; every peer string is escaped."""

from __future__ import annotations

import dataclasses

from meshcare.tui.commands import app_commands
from meshcare.tui.screens import help as help_screen
from meshcare.tui.screens.dialogs import ConfirmDialog
from meshcare.tui.screens.ladders import LaddersScreen, PersonDialog
from meshcare.tui.widgets.lists import KeptList

from .fake_ladders import ask_sam
from .fakedaemon import BEN, CHLOE, DAN, ELM, FakeState, NAMES
from .harness import holds, noted, run, running, screen_text, wait_for


def test_a_request_raises_a_banner_and_y_accepts_n_declines() -> None:
    async def scenario() -> None:
        async with running() as (app, pilot, daemon):
            asked = ask_sam(daemon, BEN, text="you always know what to say")
            await noted(pilot, "Ben Okafor would like you as a first contact for calls. Accept?")
            await pilot.press("L")
            await wait_for(pilot, lambda: isinstance(app.screen, LaddersScreen), "the ladders screen")
            await holds(pilot, "Ben Okafor would like you as a first contact for calls.")
            await holds(pilot, "not answered yet")
            await pilot.press("y")
            await noted(pilot, "You said yes to Ben Okafor.")
            await holds(pilot, "you said yes")
            assert ("ladder.answer", {"request": asked.id, "answer": "accept"}) in daemon.asked
            await pilot.press("n")
            await holds(pilot, "you said no")
            assert daemon.ladders.incoming[asked.id].state == "declined"
    run(scenario)


def test_asking_someone_and_taking_them_off() -> None:
    async def scenario() -> None:
        async with running() as (app, pilot, daemon):
            app.action_ladders()
            await wait_for(pilot, lambda: isinstance(app.screen, LaddersScreen), "the ladders screen")
            await holds(pilot, "You have no ladders yet")
            await pilot.press("plus")
            await wait_for(pilot, lambda: isinstance(app.screen, PersonDialog), "the picker")
            dialog = app.screen
            from textual.widgets import Input, Select
            dialog.query_one("#member", Select).value = DAN
            dialog.query_one("#ladder", Input).value = "practical"
            dialog.query_one("#step", Select).value = 1
            await pilot.click("#yes")
            await noted(pilot, "Asked Dan: pending until they answer.")
            await holds(pilot, "practical")
            await holds(pilot, "second contact")
            await holds(pilot, "asked, no answer yet")
            (request,) = daemon.ladders.mine.values()
            assert (request.member, request.ladder, request.step) == (DAN, "practical", 1)
            app.screen.query_one("#rungs", KeptList).focus()
            await pilot.press("d")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the confirmation")
            await pilot.click("#yes")
            await wait_for(pilot, lambda: "You have no ladders yet" in screen_text(app), "the rung to go")
            assert daemon.ladders.mine[request.id].state == "withdrawn"
    run(scenario)


def test_who_not_to_involve_is_added_and_taken_off() -> None:
    async def scenario() -> None:
        async with running() as (app, pilot, daemon):
            app.action_ladders()
            await wait_for(pilot, lambda: isinstance(app.screen, LaddersScreen), "the ladders screen")
            await holds(pilot, "Nobody: your calls may reach everyone in your circles.")
            await pilot.press("x")
            await wait_for(pilot, lambda: isinstance(app.screen, PersonDialog), "the picker")
            from textual.widgets import Select
            app.screen.query_one("#member", Select).value = CHLOE
            await pilot.click("#yes")
            await noted(pilot, "Chloe Hart will not receive your calls in Elm St.")
            assert (ELM, CHLOE) in daemon.ladders.avoid
            await holds(pilot, "Chloe Hart")
            app.screen.query_one("#avoid", KeptList).focus()
            await pilot.press("d")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the confirmation")
            await pilot.click("#yes")
            await holds(pilot, "Nobody: your calls may reach everyone in your circles.")
            assert daemon.ladders.avoid == {}
    run(scenario)


def test_peer_strings_are_escaped_and_the_screen_is_in_the_palette_and_help() -> None:
    async def scenario() -> None:
        state = FakeState()
        hostile = "[b]Mo[/b]\x1b"
        snap = state.circles[ELM]
        members = tuple(dataclasses.replace(m, name=hostile) if m.id == BEN else m for m in snap.members)
        state.circles[ELM] = dataclasses.replace(snap, members=members)
        async with running(state) as (app, pilot, daemon):
            NAMES_BEFORE = dict(NAMES)
            NAMES[BEN] = hostile
            try:
                ask_sam(daemon, BEN, ladder="[red]x")
                app.action_ladders()
                await wait_for(pilot, lambda: isinstance(app.screen, LaddersScreen), "the ladders screen")
                await holds(pilot, "[b]Mo[/b]")                  # shown as written, never as markup
                await holds(pilot, "for [red]x.")
                assert "\x1b" not in screen_text(app)
            finally:
                NAMES.clear()
                NAMES.update(NAMES_BEFORE)
            assert any(c.name.startswith("ladders:") for c in app_commands(app))
    run(scenario)
    assert any(title == "My ladders" for title, _ in help_screen.KEYS)


def test_a_new_call_can_use_my_ladder() -> None:
    async def scenario() -> None:
        async with running() as (app, pilot, daemon):
            app.draft.text, app.draft.ladder, app.draft.urgency = "Could someone be with me?", "my-ladder", "now"
            await pilot.press("n")
            await wait_for(pilot, lambda: type(app.screen).__name__ == "NewCallScreen", "the new call screen")
            assert app.screen.query_one("#ladder-name").display and not app.screen.query_one("#chosen").display
            await pilot.press("ctrl+s")
            await noted(pilot, "Your call for support went out")
            (args,) = [a for op, a in daemon.asked if op == "call.create"]
            assert (args["ladder_name"], args["ladder_then"], args["ladder_every"], args["ladder"]) == (
                "calls", "circle", 5, [])
    run(scenario)
