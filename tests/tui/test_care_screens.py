"""Follow-up and responder care in the terminal UI (issue 13 items 3 and 4), against the fake daemon:
the caller's after-resolve question, the responder's thanks and "off for tonight", the load view, the
safety timer with its countdown, follow-ups done, the care notices, and the second-person offer."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timezone

from meshcare import vocab
from meshcare.control import api
from meshcare.tui.care_model import CareState, countdown_words
from meshcare.tui.screens.call import CallScreen, ResolveDialog
from meshcare.tui.screens.care import CareScreen, FollowupDialog, SafetyDialog
from meshcare.tui.screens.dialogs import OfferDialog

from .fakedaemon import BEN, CHLOE, DAN, ELM, ME, NOW, FakeState, hid, make_call, make_followup, make_timer
from .harness import holds, noted, run, running, screen_text, shows, wait_for


def footer(app) -> str:  # type: ignore[no-untyped-def]
    return screen_text(app).splitlines()[-1]


def asked(daemon, op: str) -> list[dict]:  # type: ignore[no-untyped-def]
    return [args for name, args in daemon.asked if name == op]


def test_the_caller_is_asked_about_a_check_in_after_resolving() -> None:
    async def scenario() -> None:
        state = FakeState()
        mine = make_call("mine", ME, "Could use company", status="claimed", claimer=BEN)
        state.calls[mine.id] = mine
        async with running(state) as (app, pilot, daemon):
            app.open_call(mine.id)
            await wait_for(pilot, lambda: isinstance(app.screen, CallScreen), "the call")
            await shows(pilot, "x Resolve")
            assert "Ask for a check-in" not in footer(app)           # not resolved yet
            await pilot.press("x")
            await wait_for(pilot, lambda: isinstance(app.screen, ResolveDialog), "the resolve dialog")
            await pilot.click("#yes")
            await wait_for(pilot, lambda: isinstance(app.screen, FollowupDialog), "the follow-up question")
            await holds(pilot, vocab.FOLLOWUP_QUESTION)
            await shows(pilot, "1  Yes, Ben Okafor checks in tomorrow")
            await pilot.press("2")                                     # tomorrow and again in 4 days
            await noted(pilot, "Ben Okafor will check in on you")
            (args,) = asked(daemon, "followup.ask")
            due = datetime.fromtimestamp(args["due"], timezone.utc)
            assert due.hour == vocab.TOMORROW_HOUR and args["due"] - NOW >= 6 * 3600
            assert args["again"] - args["due"] == 4 * 86400 and args["who"] is None     # whoever took it
            await wait_for(pilot, lambda: "i Ask for a check-in" in footer(app), "i on the resolved call")
            await pilot.press("i")
            await wait_for(pilot, lambda: isinstance(app.screen, FollowupDialog), "asked again")
            await pilot.press("3")                                     # no, thank you: nothing sent
            await pilot.pause()
            assert len(asked(daemon, "followup.ask")) == 1
    run(scenario)


def test_a_responder_is_thanked_with_their_load_and_one_key_takes_them_off_tonight() -> None:
    async def scenario() -> None:
        state = FakeState()
        state.load = api.LoadResult(days=7, since=NOW - 7 * 86400, took=4, holding=0, last=NOW)
        async with running(state) as (app, pilot, daemon):
            app.open_call(hid("ben-call"))
            await wait_for(pilot, lambda: isinstance(app.screen, CallScreen), "the call")
            await shows(pilot, "x Resolve")
            assert "Off tonight" not in footer(app)
            await pilot.press("x")
            await wait_for(pilot, lambda: isinstance(app.screen, ResolveDialog), "the resolve dialog")
            await pilot.click("#yes")
            await noted(pilot, "Thank you for being there. You took 4 calls in the last 7 days.")
            await noted(pilot, "Press z to take yourself off for tonight (until 08:00)")
            assert isinstance(app.screen, CallScreen)                 # nothing covers the call
            await wait_for(pilot, lambda: "z Off tonight" in footer(app), "z in the footer")
            await pilot.press("z")
            await noted(pilot, "You're off until")
            (args,) = asked(daemon, "presence.set")
            assert args["status"] == "away"
            until = datetime.fromtimestamp(args["until"], timezone.utc)
            assert (until.hour, until.minute) == (vocab.OFF_TONIGHT_HOUR, 0) and 0 < args["until"] - NOW <= 86400
    run(scenario)


def test_the_care_screen_shows_the_load_and_follow_ups_and_marks_one_done() -> None:
    async def scenario() -> None:
        state = FakeState()
        state.load = api.LoadResult(days=7, since=NOW - 7 * 86400, took=4, holding=1, last=NOW)
        todo = make_followup(hid("dan-call"), DAN, ME, due=NOW - 60, todo="first")
        theirs = make_followup(hid("x"), CHLOE, BEN, due=NOW + 3600)
        state.followups = {todo.call: todo, theirs.call: theirs}
        async with running(state) as (app, pilot, daemon):
            await pilot.press("f")
            await wait_for(pilot, lambda: isinstance(app.screen, CareScreen), "the care screen")
            await shows(pilot, "You took 4 calls in the last 7 days; you hold 1 now. Only you see this.")
            await shows(pilot, "Check in on Dan (Elm St): ⚠ due now, d: done")
            await shows(pilot, "Ben Okafor checks in on Chloe Hart (Elm St): due")
            assert "d Check-in done" in footer(app)
            await pilot.press("d")
            await noted(pilot, "Marked your check-in with Dan done")
            await shows(pilot, "Check in on Dan (Elm St): ✓ done")
            assert asked(daemon, "followup.done") == [{"call": todo.call}]
            assert any(c.name.startswith("care:") for c in __import__("meshcare.tui.commands", fromlist=["x"])
                       .app_commands(app))
    run(scenario)


def test_the_safety_timer_starts_counts_down_and_takes_signs() -> None:
    async def scenario() -> None:
        async with running(FakeState()) as (app, pilot, daemon):
            await pilot.press("f")
            await wait_for(pilot, lambda: isinstance(app.screen, CareScreen), "the care screen")
            await shows(pilot, "None running. g starts one")
            await pilot.press("g")
            await wait_for(pilot, lambda: isinstance(app.screen, SafetyDialog), "the timer dialog")
            await holds(pilot, "the circle's facilitators are alerted, nobody else")
            await pilot.click("#note")
            await pilot.press(*"at Sam's")
            await pilot.click("#every-15")
            await noted(pilot, "Timer on: press t when you arrive and o every 15 minutes")
            assert asked(daemon, "safety.start") == [{"circle": ELM, "every": 15, "note": "at Sam's"}]
            await shows(pilot, "Yours (Elm St), every 15 min: next \"I'm OK\" in 15:00. Press t when you arrive.")
            await pilot.press("t")
            await noted(pilot, "Sent \"I'm there\"")
            await shows(pilot, "You said you're there.")
            await pilot.press("o")
            await noted(pilot, "Sent \"I'm OK\"")
            await pilot.press("e")
            await noted(pilot, "Timer ended")
            await shows(pilot, "None running.")
            assert [a["status"] for a in asked(daemon, "safety.ping")] == ["there", "ok", "end"]
    run(scenario)


def test_a_facilitator_is_alerted_when_a_timer_goes_silent() -> None:
    async def scenario() -> None:
        state = FakeState(role="facilitator")
        silent = make_timer("bens", BEN, every=10, note="at Sam's, 4th floor", last=NOW - 1800, overdue=True)
        async with running(state) as (app, pilot, daemon):
            bells = app.bells
            state.timers[silent.id] = silent
            daemon.push(api.NoticeEvent(circle=ELM, circle_name="Elm St", kind="safety_overdue", member=BEN,
                                        name="Ben Okafor", previous=None, about=silent.id))
            await noted(pilot, "Ben Okafor in Elm St is on a safety timer and has not said \"I'm OK\" in time")
            assert app.bells == bells + 1
            await pilot.press("f")
            await wait_for(pilot, lambda: isinstance(app.screen, CareScreen), "the care screen")
            await shows(pilot, "Ben Okafor in Elm St (at Sam's, 4th floor): ⚠ NO \"I'm OK\" since")
            daemon.push(api.NoticeEvent(circle=ELM, circle_name="Elm St", kind="followup_due", member=DAN,
                                        name="Dan", previous=None, about=hid("dan-call")))
            await noted(pilot, "Dan in Elm St asked you to check in on them: it is due now")
    run(scenario)


def test_the_caller_hears_when_someone_else_resolved_their_call() -> None:
    async def scenario() -> None:
        state = FakeState()
        mine = make_call("mine", ME, "Could use company", status="claimed", claimer=BEN)
        state.calls[mine.id] = mine
        async with running(state) as (app, pilot, daemon):
            daemon.set_call(dataclasses.replace(mine, status="resolved", resolved_by=BEN, resolved_at=NOW), "resolved",
                            ("status",))
            await noted(pilot, f"{vocab.FOLLOWUP_QUESTION} Open the call and press i")
    run(scenario)


def test_the_offer_dialog_has_the_second_person_as_its_fifth_kind() -> None:
    async def scenario() -> None:
        async with running() as (app, pilot, daemon):
            app.open_call(hid("ben-call"))
            await wait_for(pilot, lambda: isinstance(app.screen, CallScreen), "the call")
            await pilot.press("o")
            await wait_for(pilot, lambda: isinstance(app.screen, OfferDialog), "the offer dialog")
            await shows(pilot, "5  I can come over with a second person")
            await pilot.press("5")
            await noted(pilot, "Offered: I can come over with a second person")
            assert asked(daemon, "call.offer")[0]["kind"] == "second_person"
    run(scenario)


def test_countdown_words_and_care_state() -> None:
    t = make_timer("t", ME, every=10, last=NOW)
    assert countdown_words(t, NOW + 30) == "next \"I'm OK\" in 9:30"
    assert countdown_words(t, NOW + 720) == "\"I'm OK\" was due 2 min ago: press o"
    care = CareState()
    assert care.take_stale() == {"followups", "safety"} and care.take_stale() == set()
    care.set_timers([t, make_timer("u", BEN, overdue=True)])
    assert care.my_timer() == t and [x.person for x in care.overdue()] == [BEN]
    care.set_followups([make_followup(hid("c"), DAN, ME, todo="first")])
    assert [f.asker for f in care.todo()] == [DAN]
