"""Gatherings in the terminal UI, against the fake daemon: home's section, the list (g), one gathering
(agreements, where, aftercare, y/n/m), names for hosts and counts for others, calling off, the form that
organises one, changes the daemon tells (care.changed) and reminders."""

from __future__ import annotations

import dataclasses
from typing import Any

from meshcare import vocab
from meshcare.control import api
from meshcare.tui.screens.gatherings import GatheringScreen, GatheringsScreen, NewGatheringScreen
from meshcare.tui.screens.home import HomeScreen

from .fake_gatherings import make_gathering
from .fakedaemon import BEN, DAN, ME, FakeDaemon, FakeState, hid
from .harness import holds, noted, run, running, shows, wait_for, widget_text

TUESDAY = hid("tuesday")


def last(daemon: FakeDaemon, op: str) -> dict[str, Any]:
    """The arguments of the last request ``op`` (a ``care.changed`` makes the app ask ``gathering.show`` after)."""
    return [args for name, args in daemon.asked if name == op][-1]


def test_home_lists_gatherings_coming_up_below_the_calls_and_g_opens_them() -> None:
    async def scenario() -> None:
        async with running(size=(120, 40)) as (app, pilot, daemon):
            await holds(pilot, "Gatherings coming up")
            await holds(pilot, "Tuesday support group (group)")
            await holds(pilot, "in 26 h")
            await holds(pilot, "2 coming, 1 maybe")
            text = widget_text(app)
            assert text.index("Calls for support") < text.index("Gatherings coming up") < text.index("Check-ins")
            await pilot.press("g")
            await wait_for(pilot, lambda: isinstance(app.screen, GatheringsScreen), "the gatherings screen")
            await holds(pilot, "Our agreements")
            await pilot.press("y")
            await noted(pilot, "Tuesday support group: you are coming")
            assert last(daemon, "gathering.rsvp") == {"gathering": TUESDAY, "answer": "yes"}
            await holds(pilot, "3 coming, 1 maybe")
            await pilot.press("m")
            await holds(pilot, "You: you might come")
    run(scenario)


def test_a_gathering_shows_agreements_where_and_aftercare_and_counts_to_members() -> None:
    async def scenario() -> None:
        async with running(size=(120, 40)) as (app, pilot, daemon):
            app.open_gathering(TUESDAY)
            await wait_for(pilot, lambda: isinstance(app.screen, GatheringScreen), "the gathering's screen")
            for text in ("Where: the back room of the library (only your circle can read this)",
                         "Hosts: Chloe Hart, Ben Okafor", *vocab.DEFAULT_AGREEMENTS, "1. check-in round",
                         "Coming: 2 coming, 1 maybe", "You: not answered yet",
                         "Afterwards, if something came up for you: Text Chloe tonight or tomorrow morning."):
                await holds(pilot, text)
            assert "You see names" not in widget_text(app)             # a member: counts only
            assert app.screen.check_action("call_off", ()) is False
            await pilot.press("n")
            await holds(pilot, "You: you are not coming")
    run(scenario)


def test_a_host_sees_names_and_calls_it_off_and_aftercare_leads_once_it_started() -> None:
    hosted = make_gathering("mine", "Walk by the river", author=ME, hosts=(ME, BEN), at=3600, sees_names=True,
                            kind="walk", rsvps={BEN: "yes", DAN: "maybe"})
    started = make_gathering("started", "Shared meal", at=-600, kind="meal")
    state = FakeState()
    state.gatherings = {hosted.id: hosted, started.id: started}

    async def scenario() -> None:
        async with running(state, size=(120, 40)) as (app, pilot, daemon):
            app.open_gathering(started.id)
            await holds(pilot, "If something came up for you Text Chloe tonight or tomorrow morning.")
            text = widget_text(app)
            assert text.index("If something came up for you") < text.index("When:")
            await pilot.press("escape")
            app.open_gathering(hosted.id)
            await holds(pilot, "coming: Ben Okafor")
            await holds(pilot, "maybe: Dan")
            await holds(pilot, "You see names because you host it")
            await pilot.press("x")
            await shows(pilot, "Call off Walk by the river?")
            await pilot.click("#yes")
            await noted(pilot, "Everyone in the circle sees it is called off")
            await holds(pilot, "Called off by you.")
            assert last(daemon, "gathering.cancel") == {"gathering": hosted.id}
    run(scenario)


def test_the_daemon_tells_a_change_and_the_screen_follows_and_a_gone_one_leaves() -> None:
    async def scenario() -> None:
        async with running(size=(120, 40)) as (app, pilot, daemon):
            await holds(pilot, "2 coming, 1 maybe")
            g = daemon.state.gatherings[TUESDAY]
            daemon.state.gatherings[TUESDAY] = dataclasses.replace(g, counts={"yes": 5, "maybe": 0, "no": 1})
            daemon.push(api.CareChangedEvent(circle=g.circle, what="gatherings", id=TUESDAY, change="updated"))
            await holds(pilot, "5 coming, 0 maybe")
            assert ("gathering.show", {"gathering": TUESDAY}) in daemon.asked
            new = make_gathering("new", "Emotional literacy workshop", kind="workshop", at=5 * 3600)
            daemon.state.gatherings[new.id] = new
            daemon.push(api.CareChangedEvent(circle=g.circle, what="gatherings", id=new.id, change="new"))
            await holds(pilot, "Emotional literacy workshop (workshop)")
            daemon.push(api.CareChangedEvent(circle=g.circle, what="gatherings", id=TUESDAY, change="gone"))
            await wait_for(pilot, lambda: TUESDAY not in app.model.gatherings, "the gathering to go")
            assert "Tuesday support group" not in widget_text(app)
    run(scenario)


def test_a_reminder_is_a_banner_without_the_bell() -> None:
    async def scenario() -> None:
        async with running() as (app, pilot, daemon):
            g = dataclasses.replace(daemon.state.gatherings[TUESDAY], mine="yes")
            daemon.push(api.GatheringReminderEvent(circle=g.circle, gathering=g.id, when=g.when, view=g))
            await noted(pilot, "Tuesday support group in Elm St starts in 60 min at the back room of the library")
            assert app.bells == 0 and app.model.gatherings[g.id].mine == "yes"
    run(scenario)


def test_organising_a_gathering_from_the_form() -> None:
    async def scenario() -> None:
        async with running(size=(120, 40)) as (app, pilot, daemon):
            await pilot.press("g")
            await wait_for(pilot, lambda: isinstance(app.screen, GatheringsScreen), "the gatherings screen")
            await pilot.press("o")
            await wait_for(pilot, lambda: isinstance(app.screen, NewGatheringScreen), "the form")
            await wait_for(pilot, lambda: any(op == "agreements.show" for op, _ in daemon.asked), "the template")
            await pilot.press("ctrl+s")
            await noted(pilot, "Give it a title first.")
            await pilot.press(*"Walk in the park")
            app.screen.query_one("#g-when").value = "2025-10-10 10:00"
            app.screen.query_one("#g-where").value = "the park gate"
            app.screen.query_one("#g-format").value = "walk; tea"
            await pilot.press("ctrl+s")
            await noted(pilot, "Walk in the park is posted in Elm St")
            args = last(daemon, "gathering.create")
            assert (args["title"], args["where"], args["format"], args["agreements"], args["remind"]) == (
                "Walk in the park", "the park gate", ["walk", "tea"], [], 60)
            await wait_for(pilot, lambda: isinstance(app.screen, GatheringsScreen), "back on the list")
            await holds(pilot, "Walk in the park")
    run(scenario)


def test_a_bad_time_is_told_not_sent() -> None:
    async def scenario() -> None:
        async with running(size=(120, 40)) as (app, pilot, daemon):
            app.action_new_gathering()
            await wait_for(pilot, lambda: isinstance(app.screen, NewGatheringScreen), "the form")
            await pilot.press(*"Meal")
            app.screen.query_one("#g-when").value = "Friday evening"
            await pilot.press("ctrl+s")
            await noted(pilot, "Write when it starts as YYYY-MM-DD HH:MM")
            assert not any(op == "gathering.create" for op, _ in daemon.asked)
    run(scenario)


def test_the_palette_and_home_without_gatherings() -> None:
    state = FakeState()
    state.gatherings = {}

    async def scenario() -> None:
        async with running(state, size=(120, 40)) as (app, pilot, daemon):
            await holds(pilot, "None coming up (g lists gatherings and organises one).")
            await pilot.press("ctrl+p")
            await pilot.press(*"gatherings")
            await shows(pilot, "gatherings: groups, workshops, walks and meals")
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, GatheringsScreen), "the gatherings screen")
            await holds(pilot, "No gatherings coming up in your circles.")
            assert isinstance(app.screen_stack[1], HomeScreen)
    run(scenario)
