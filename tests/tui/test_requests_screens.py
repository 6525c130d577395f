"""Messages with facilitators (m), the debrief from a resolved call (d) and the library (e), against the
fake daemon: who will read what is always said, peers' words are escaped, refusals are calm."""

from __future__ import annotations

from meshcare.tui.commands import app_commands
from meshcare.tui.screens.call import CallScreen
from meshcare.tui.screens.dialogs import ConfirmDialog, TextDialog
from meshcare.tui.screens.library import LibraryScreen, NoteDialog
from meshcare.tui.screens.requests import AskDialog, RequestsScreen

from meshcare.control import results_requests as rr

from .fake_requests import make_note, make_request
from .fakedaemon import BEN, CHLOE, DAN, ME, NOW, FakeState, hid, make_call
from .harness import holds, noted, run, running, screen_text, shows, wait_for


def footer(app) -> str:  # type: ignore[no-untyped-def]
    lines = screen_text(app).splitlines()
    return lines[-1] if lines else ""       # nothing drawn yet (a screen just pushed)


def facilitators_state() -> FakeState:
    """Elm St with Chloe and Ben as facilitators (the fake's circle has Chloe only)."""
    import dataclasses

    state = FakeState()
    snap = state.circles[next(iter(state.circles))]
    members = tuple(dataclasses.replace(m, role="facilitator") if m.id == BEN else m for m in snap.members)
    state.circles[snap.circle.id] = dataclasses.replace(snap, members=members)
    return state


def test_m_opens_the_messages_and_a_request_to_two_facilitators_says_who_reads_it() -> None:
    async def scenario() -> None:
        async with running(facilitators_state()) as (app, pilot, daemon):
            await pilot.press("m")
            await wait_for(pilot, lambda: isinstance(app.screen, RequestsScreen), "the messages")
            await holds(pilot, "No messages with facilitators yet")
            await pilot.press("w")
            await wait_for(pilot, lambda: isinstance(app.screen, AskDialog), "the form")
            await holds(pilot, "Ben Okafor will see this, and nobody else.")
            dialog = app.screen
            dialog.query_one("#second").value = CHLOE
            await holds(pilot, "Ben Okafor and Chloe Hart will see this, and nobody else.")
            await pilot.press(*"Could we talk about the meeting?")
            await pilot.press("enter")
            await noted(pilot, "Only you, Ben Okafor and Chloe Hart can read this.")
            await wait_for(pilot, lambda: len(app.model.requests) == 1, "the request re-read after care.changed")
            await holds(pilot, "You asked Ben Okafor and Chloe Hart for a conversation")
            (sent,) = [args for op, args in daemon.asked if op == "request.create"]
            assert sent["to"] == [BEN, CHLOE] and sent["about"] == "conversation"
    run(scenario)


def test_a_thread_replies_and_the_asker_closes_it() -> None:
    async def scenario() -> None:
        async with running(facilitators_state()) as (app, pilot, daemon):
            theirs = make_request("theirs", DAN, (ME,), "[b]after[/b] last night", about="debrief")
            reply = rr.RequestMessage(id=hid("r1"), author=CHLOE, text="Thursday?", created=NOW - 60)
            mine = make_request("mine", ME, (CHLOE,), "A chat?", replies=(reply,), age=7200)
            daemon.care.requests = {theirs.id: theirs, mine.id: mine}
            await pilot.press("m")
            await wait_for(pilot, lambda: isinstance(app.screen, RequestsScreen), "the messages")
            await holds(pilot, "Dan: a debrief, waiting for you")
            await holds(pilot, "Chloe Hart: a conversation, new reply")
            await holds(pilot, "You asked Chloe Hart for a conversation")     # the newest word first
            await holds(pilot, "x to close it (only you can)")
            await pilot.press("x")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the question")
            await pilot.click("#yes")
            await noted(pilot, "Closed. Nothing more can be added to it.")
            await holds(pilot, "Closed by you")
            await pilot.press("down")
            await holds(pilot, "[b]after[/b] last night")          # escaped: shown as written, not as markup
            await holds(pilot, "Only Dan and you can read this.")
            await wait_for(pilot, lambda: "Close" not in footer(app), "no close: not the asker")
            await pilot.press("r")
            await wait_for(pilot, lambda: isinstance(app.screen, TextDialog), "the reply")
            await holds(pilot, "Dan will see this.")
            await pilot.press(*"Of course")
            await pilot.press("enter")
            await noted(pilot, "Only Dan can read it besides you")
    run(scenario)


def test_a_new_request_asked_of_this_person_is_told() -> None:
    async def scenario() -> None:
        async with running(facilitators_state()) as (app, pilot, daemon):
            await wait_for(pilot, lambda: app.model.requests_loaded, "the first read")
            new = make_request("new", DAN, (ME,), "a word?", about="conflict")
            daemon.care.requests[new.id] = new
            from .fake_requests import changed
            daemon.push(changed("requests", new.id, "new"))
            await noted(pilot, "Dan asks you privately for help with a conflict")
    run(scenario)


def test_d_on_a_resolved_call_you_took_part_in_asks_for_a_debrief() -> None:
    async def scenario() -> None:
        state = facilitators_state()
        done = make_call("done", DAN, "Could use someone to listen", status="resolved", claimer=ME)
        other = make_call("other", DAN, "Not mine", status="resolved", claimer=BEN)
        state.calls.update({done.id: done, other.id: other})
        async with running(state) as (app, pilot, daemon):
            app.open_call(other.id)
            await wait_for(pilot, lambda: isinstance(app.screen, CallScreen), "the call")
            await shows(pilot, "esc Back")
            assert "debrief" not in footer(app)                  # Ben had it, not this person
            await pilot.press("escape")
            app.open_call(done.id)
            await wait_for(pilot, lambda: isinstance(app.screen, CallScreen), "the call")
            await wait_for(pilot, lambda: "Ask for a debrief" in footer(app), "the debrief key")
            await pilot.press("d")
            await wait_for(pilot, lambda: isinstance(app.screen, AskDialog), "the form")
            assert app.screen.query_one("#about").pressed_button.name == "debrief"
            await pilot.press(*"That one stayed with me")
            await pilot.press("enter")
            await noted(pilot, "can read this")
            (sent,) = [args for op, args in daemon.asked if op == "request.create"]
            assert sent["about"] == "debrief"
    run(scenario)


def test_members_read_the_library_and_see_versions() -> None:
    async def scenario() -> None:
        async with running() as (app, pilot, daemon):
            daemon.care.notes = {n.id: n for n in (
                make_note("agree", "House agreements", "We listen first.", earlier=("We listen.",)),
                make_note("words", "Words we use", "No labels."))}
            await pilot.press("e")
            await wait_for(pilot, lambda: isinstance(app.screen, LibraryScreen), "the library")
            await holds(pilot, "We listen first.")
            await holds(pilot, "by Chloe Hart")
            assert "New text" not in footer(app) and "Change" not in footer(app)    # a member reads
            await pilot.press("v")
            await holds(pilot, "Earlier versions, newest first")
            await holds(pilot, "We listen.")
            assert any(c.name.startswith("library:") for c in app_commands(app))
    run(scenario)


def test_a_facilitator_writes_changes_removes_and_adds_starters() -> None:
    async def scenario() -> None:
        async with running(FakeState(role="facilitator")) as (app, pilot, daemon):
            daemon.care.can_edit = True
            await pilot.press("e")
            await wait_for(pilot, lambda: isinstance(app.screen, LibraryScreen), "the library")
            await holds(pilot, "Press w to write a text, or S to add")
            await pilot.press("w")
            await wait_for(pilot, lambda: isinstance(app.screen, NoteDialog), "the form")
            await pilot.press(*"Rides")
            app.screen.query_one("#text").text = "Ask on the board."
            await pilot.press("ctrl+s")
            await noted(pilot, "Added \"Rides\"")
            await holds(pilot, "Ask on the board.")
            await pilot.press("u")
            await wait_for(pilot, lambda: isinstance(app.screen, NoteDialog), "the form")
            app.screen.query_one("#text").text = "Ask on the board, or a facilitator."
            await pilot.press("ctrl+s")
            await noted(pilot, "Changed \"Rides\"")
            await holds(pilot, "changed 1 time")
            await pilot.press("S")
            await noted(pilot, "Added: House agreements; How we respond to a call")
            await wait_for(pilot, lambda: len(app.model.library[next(iter(app.model.library))].notes) == 3, "3 texts")
            await pilot.press("delete")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the question")
            await pilot.click("#yes")
            await noted(pilot, "Removed")
    run(scenario)
