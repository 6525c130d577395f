"""The mutual-aid board in the terminal UI: home's open needs, the board screen (take, done, let go, post),
how to reach the poster arriving for the taker only, escaped words, the facilitators' setting; against the
fake daemon (its care.changed events make the session read need.list again, as with the real daemon)."""

from __future__ import annotations

import dataclasses

from textual.pilot import Pilot
from textual.widgets import Input

from meshcare.control import api
from meshcare.tui.app import MeshcareApp
from meshcare.tui.model import Model
from meshcare.tui.screens.board import BoardScreen, HomeNeeds, NewNeedDialog
from meshcare.tui.widgets.lists import KeptList
from meshcare.tui.widgets.toggles import Tick

from .fakedaemon import BEN, CHLOE, DAN, ELM, ME, FakeState, hid, make_need
from .harness import holds, noted, run, running, wait_for


async def open_board(app: MeshcareApp, pilot: Pilot[int], need: str | None = None) -> None:
    if need is None:
        await pilot.press("b")
    else:
        app.open_need(need)
    await wait_for(pilot, lambda: isinstance(app.screen, BoardScreen) and app.screen.is_mounted
                   and (need is None or _selected(app) == need), "the board, with the item highlighted")


def _selected(app: MeshcareApp) -> str | None:
    found = next(app.screen.query("#need-list").results(KeptList), None)
    return None if found is None else found.selected_id


def test_home_lists_open_needs_below_the_calls_and_enter_opens_the_board() -> None:
    async def scenario() -> None:
        async with running() as (app, pilot, daemon):
            await holds(pilot, "Needs and offers")
            await holds(pilot, "Need: a ride · Ben Okafor · 30 min ago · A ride to the food bank")
            await holds(pilot, "Offer: food · Chloe Hart · 2 h ago")
            listing = app.screen.query_one(HomeNeeds).query_one(KeptList)
            assert [o.id for o in listing.options] == [hid("ben-ride"), hid("soup")]     # taken ones: on the board
            listing.focus()
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, BoardScreen), "the board")
            board = app.screen.query_one("#need-list", KeptList)
            await wait_for(pilot, lambda: board.selected_id == hid("ben-ride"), "Ben's need highlighted")
            await holds(pilot, "Need: something else · taken by Ben Okafor")
    run(scenario)


def test_take_then_how_to_reach_them_arrives_then_done() -> None:
    async def scenario() -> None:
        async with running() as (app, pilot, daemon):
            await open_board(app, pilot, hid("ben-ride"))
            await holds(pilot, "t: I'll take this")
            await pilot.press("t")
            await noted(pilot, "You'll take this")
            await holds(pilot, "Now: taken by you")
            assert ("need.take", {"need": hid("ben-ride")}) in daemon.asked
            # Ben's node sends how to reach him: a care.changed, and the session reads the board again
            need = daemon.state.needs[hid("ben-ride")]
            daemon.state.needs[need.id] = dataclasses.replace(need, reach="text me on 555-0100")
            daemon.push(api.CareChangedEvent(circle=ELM, what="needs", id=need.id, change="updated"))
            await noted(pilot, "reach Ben Okafor this way: text me on 555-0100")
            await holds(pilot, "How to reach them (only you see this): text me on 555-0100")
            assert any(op == "need.list" for op, _ in daemon.asked)
            await pilot.press("d")
            await holds(pilot, "Now: done (by you)")
            assert not app.screen.check_action("take", ()) and not app.screen.check_action("done", ())
    run(scenario)


def test_keys_follow_what_applies_to_the_highlighted_item() -> None:
    async def scenario() -> None:
        state = FakeState()
        mine = make_need("mine", ME, "Someone to sit with on Sunday", category="company", status="taken", taker=DAN,
                         reach="call 555-0199", age=60)
        state.needs[mine.id] = mine
        async with running(state) as (app, pilot, daemon):
            await open_board(app, pilot, mine.id)
            screen = app.screen
            assert screen.check_action("take", ()) is False           # my own
            assert screen.check_action("done", ()) and screen.check_action("release", ())
            await holds(pilot, "How to reach you (sent only to whoever takes it): call 555-0199")
            await pilot.press("l")
            await holds(pilot, "Now: open")
            listing = screen.query_one("#need-list", KeptList)
            assert listing.select_id(hid("dan-sofa"))               # taken by Ben: nothing for me
            await holds(pilot, "Now: taken by Ben Okafor")
            assert not any(screen.check_action(a, ()) for a in ("take", "done", "release"))
    run(scenario)


def test_posting_a_need_with_a_way_to_be_reached() -> None:
    async def scenario() -> None:
        async with running() as (app, pilot, daemon):
            await open_board(app, pilot)
            await pilot.press("w")
            await wait_for(pilot, lambda: isinstance(app.screen, NewNeedDialog), "the form")
            assert app.screen.query_one("#anonymous", Tick).disabled          # the circle does not allow it
            await holds(pilot, "does not allow posts without a name")
            await pilot.press(*"Help with the rent forms")
            app.screen.query_one("#reach", Input).value = "call 555-0142"
            app.screen.query_one("#text", Input).focus()
            await pilot.press("enter")
            await noted(pilot, "Whoever takes it is sent how to reach you")
            op, args = next((o, a) for o, a in daemon.asked if o == "need.create")
            assert args["text"] == "Help with the rent forms" and args["reach"] == "call 555-0142"
            assert args["kind"] == "need" and args["anonymous"] is False
            await holds(pilot, "Help with the rent forms")
    run(scenario)


def test_anonymous_posts_where_a_facilitator_allowed_them() -> None:
    async def scenario() -> None:
        async with running(FakeState(role="facilitator")) as (app, pilot, daemon):
            await open_board(app, pilot)
            commands = {c.name: c for c in app.screen.palette_commands()}
            commands["board: allow anonymous posts in Elm St"].run()
            await noted(pilot, "Elm St's board allows anonymous posts")
            await pilot.press("w")
            await wait_for(pilot, lambda: isinstance(app.screen, NewNeedDialog), "the form")
            assert not app.screen.query_one("#anonymous", Tick).disabled
            await holds(pilot, "the board hides your name, a modified app could see it")
    run(scenario)


def test_words_from_others_are_escaped_and_anonymous_items_name_nobody() -> None:
    async def scenario() -> None:
        state = FakeState()
        odd = make_need("odd", CHLOE, "[b]free[/b] \x1b]0;pwned\x07 stuff", anonymous=True, when="[red]now[/]")
        state.needs[odd.id] = odd
        async with running(state) as (app, pilot, daemon):
            await open_board(app, pilot, odd.id)
            await holds(pilot, "[b]free[/b]")
            await holds(pilot, "From someone (no name shown)")
            await holds(pilot, "When: [red]now[/]")
            assert "Chloe" not in app.screen.query_one("#board-detail").content
    run(scenario)


def test_an_item_that_is_gone_leaves_the_board() -> None:
    async def scenario() -> None:
        async with running() as (app, pilot, daemon):
            await holds(pilot, "I made too much soup")
            del daemon.state.needs[hid("soup")]
            daemon.push(api.CareChangedEvent(circle=ELM, what="needs", id=hid("soup"), change="gone"))
            await wait_for(pilot, lambda: hid("soup") not in app.model.needs, "the soup gone")
    run(scenario)


def test_the_model_keeps_the_board_from_the_snapshot_and_the_list() -> None:
    state = FakeState()
    model = Model()
    model.apply_snapshot(state.snapshot(0))
    assert set(model.needs) == set(state.needs) and model.to_snapshot().needs == tuple(
        state.needs[k] for k in sorted(state.needs))
    assert [n.category for n in model.needs_in_order()] == ["food", "ride", "other"]
    taken = dataclasses.replace(state.needs[hid("ben-ride")], status="taken", taker=ME, reach="call me")
    alerts = model.apply_care(api.NeedListResult(needs=(taken,), boards=()))
    assert [a.title for a in alerts] == ["How to reach them"] and list(model.needs) == [taken.id]
    assert model.apply_care(api.NeedListResult(needs=(taken,), boards=())) == []      # told once
    assert BEN in taken.names


def test_the_session_reads_the_board_again_once_per_batch() -> None:
    from meshcare.tui.session import care_to_read

    def told(what: str, ident: str) -> api.CareChangedEvent:
        return api.CareChangedEvent(circle=ELM, what=what, id=ident, change="updated")
    assert care_to_read([told("needs", hid("a")), told("needs", hid("b")), told("library", hid("c"))]) == ["needs"]
    assert care_to_read([]) == []
