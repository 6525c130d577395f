"""Every screen: a call's thread and its actions, a new call (and its draft), check-ins for facilitators,
a circle (invite, verify, remove, leave), the support plan, node status, settings, the command palette."""

from __future__ import annotations

import dataclasses

from textual.binding import Binding

from meshcare.control import api
from meshcare.tui import prefs
from meshcare.tui.screens.call import CallScreen
from meshcare.tui.screens.checkins import CheckinsScreen
from meshcare.tui.screens.circle import CircleScreen, InviteDialog
from meshcare.tui.screens.home import RESOLVED_ON_HOME, HomeScreen
from meshcare.tui.screens.new_call import NewCallScreen
from meshcare.tui.screens.node import NodeScreen
from meshcare.tui.screens.plan import PlanScreen
from meshcare.tui.screens.settings import SettingsScreen
from meshcare.tui.widgets.lists import KeptList
from meshcare.tui.widgets.qr import qr_lines

from .fakedaemon import BEN, CHLOE, DAN, ME, NOW, FakeState, hid, make_call, make_checkin
from .harness import holds, noted, run, running, screen_text, shows, wait_for


async def open_call(app, pilot, call: str) -> None:  # type: ignore[no-untyped-def]
    app.open_call(call)
    await wait_for(pilot, lambda: isinstance(app.screen, CallScreen), "the call's screen")


def test_the_call_screen_follows_the_thread_live() -> None:
    async def scenario() -> None:
        async with running() as (app, pilot, daemon):
            await open_call(app, pilot, hid("ben-call"))
            await shows(pilot, "Offers: none yet")
            call = daemon.state.calls[hid("ben-call")]
            offer = api.Offer(id=hid("o1"), author=DAN, kind="listening", text="free after 9", created=NOW - 60,
                              accepted=False)
            update = api.Update(id=hid("u1"), author=BEN, text="Thank you all", created=NOW)
            daemon.set_call(dataclasses.replace(call, offers=(offer,), updates=(update,)), "updated", ("offers",))
            await shows(pilot, 'Dan: I can listen: "free after 9" (1 min ago)')
            await shows(pilot, "Ben Okafor (just now): Thank you all")
    run(scenario)


def test_update_release_and_resolve_from_the_call_screen() -> None:
    async def scenario() -> None:
        async with running() as (app, pilot, daemon):
            await open_call(app, pilot, hid("ben-call"))
            await pilot.press("c")
            await shows(pilot, "Status: you have it")
            await pilot.press("u")
            await pilot.press(*"On my way", "enter")
            await noted(pilot, "Posted to the call's thread")
            await shows(pilot, "you (just now): On my way")
            await pilot.press("escape")                   # out of the update field first
            await pilot.press("l")
            await shows(pilot, "Let go of this call?")
            await pilot.click("#yes")
            await noted(pilot, "You let go of this call")
            await shows(pilot, "Status: needs someone")
            await pilot.press("x")
            await shows(pilot, "Mark this call resolved?")
            await pilot.click("#yes")
            await noted(pilot, "Marked resolved")
            await shows(pilot, "Status: resolved by you")
            assert [op for op, _ in daemon.asked if op.startswith("call.")] == [
                "call.claim", "call.update", "call.release", "call.resolve"]
    run(scenario)


def test_the_caller_accepts_an_offer_with_enter() -> None:
    async def scenario() -> None:
        state = FakeState()
        offer = api.Offer(id=hid("o1"), author=BEN, kind="come_over", text="", created=NOW - 60, accepted=False)
        mine = make_call("mine", ME, "Could use company", offers=(offer,))
        state.calls[mine.id] = mine
        async with running(state) as (app, pilot, daemon):
            await open_call(app, pilot, mine.id)
            await shows(pilot, "Ben Okafor: I can come over")
            app.screen.query_one("#offers").focus()
            await pilot.press("enter")
            await noted(pilot, "You accepted the offer")
            await shows(pilot, "(accepted)")
            assert daemon.asked[-1] == ("call.accept", {"call": mine.id, "offer": offer.id})
    run(scenario)


def test_a_new_call_goes_out_and_tells_how_far_it_got() -> None:
    async def scenario() -> None:
        state = FakeState()
        state.peers = {}                                       # no neighbour at all
        async with running(state) as (app, pilot, daemon):
            await pilot.press("n")
            await wait_for(pilot, lambda: isinstance(app.screen, NewCallScreen), "the new call screen")
            await pilot.press(*"Panicky, could someone sit with me")
            await pilot.press("ctrl+s")
            await noted(pilot, "Your call for support went out")
            await holds(pilot, "Where it is: not linked to anyone yet: it will go when a neighbour is reachable")
            [(op, args)] = [(op, args) for op, args in daemon.asked if op == "call.create"]
            assert args["text"] == "Panicky, could someone sit with me" and args["urgency"] == "today"
            assert args["ladder"] == [] and args["circle"] == app.model.circles_in_order()[0].circle.id
            sent = app.screen.sent
            assert sent is not None
            daemon.set_call(dataclasses.replace(app.model.calls[sent.id], reached=2), "updated", ("reach",))
            await holds(pilot, "Where it is: reached 2 of 3")
            assert app.draft.text == ""
    run(scenario)


def test_a_send_right_after_typing_sends_what_the_field_shows() -> None:
    """Found by the real terminal test: keys typed fast and Ctrl+S at once, the TextArea's Changed
    message still queued, and the call was refused as empty. Sending reads the fields themselves."""
    async def scenario() -> None:
        async with running() as (app, pilot, daemon):
            await pilot.press("n")
            await wait_for(pilot, lambda: isinstance(app.screen, NewCallScreen), "the new call screen")
            app.screen.query_one("#text").text = "Could someone come by?"
            app.screen.query_one("#reach").value = "flat 2"
            app.screen.action_send()                       # before any Changed message was handled
            await noted(pilot, "Your call for support went out")
            [(_, args)] = [(op, args) for op, args in daemon.asked if op == "call.create"]
            assert args["text"] == "Could someone come by?" and args["reach"] == "flat 2"
    run(scenario)


def test_the_draft_survives_the_daemon_dropping_and_choosing_who_hears_first_by_name() -> None:
    async def scenario() -> None:
        async with running() as (app, pilot, daemon):
            await pilot.press("n")
            await wait_for(pilot, lambda: isinstance(app.screen, NewCallScreen), "the new call screen")
            await pilot.press(*"Bad day")
            app.screen.query_one("#ladder").focus()
            await pilot.press("down", "down", "enter")            # "People I choose first"
            app.screen.query_one("#chosen").focus()
            await pilot.press(*"ben, chlo")
            await daemon.stop()
            await shows(pilot, "daemon: reconnecting...")
            await pilot.press("ctrl+s")
            await noted(pilot, "Nothing you wrote is lost")
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, HomeScreen), "home")
            await daemon.start(restart_seq=True)
            await shows(pilot, "daemon: connected")
            await pilot.press("n")
            await wait_for(pilot, lambda: isinstance(app.screen, NewCallScreen), "the new call screen again")
            assert app.screen.query_one("#text").text == "Bad day"
            await pilot.press("ctrl+s")
            await noted(pilot, "Your call for support went out")
            [(_, args)] = [(op, args) for op, args in daemon.asked if op == "call.create"]
            assert args["ladder"] == [{"after": 0, "to": "chosen", "members": [BEN, CHLOE]},
                                      {"after": 30, "to": "circle", "members": []}]
    run(scenario)


def test_an_ambiguous_name_is_not_sent() -> None:
    async def scenario() -> None:
        async with running() as (app, pilot, daemon):
            app.draft.text, app.draft.ladder, app.draft.chosen = "help", "chosen", "zed"
            await pilot.press("n")
            await wait_for(pilot, lambda: isinstance(app.screen, NewCallScreen), "the new call screen")
            await pilot.press("ctrl+s")
            await noted(pilot, "no person called 'zed' here")
            assert not [op for op, _ in daemon.asked if op == "call.create"]
    run(scenario)


def test_a_facilitator_sees_the_tally_and_who_has_not_answered_and_asks_a_new_check_in() -> None:
    async def scenario() -> None:
        state = FakeState(role="facilitator")
        asked = make_checkin("mine", "Sleeping OK?", author=ME)
        reply = api.Reply(id=hid("r"), member=BEN, option=0, option_text="doing OK", text="better", created=NOW,
                          late=False, suggest_call=False)
        asked = dataclasses.replace(asked, created=NOW, replies=(reply,), answered=1, not_answered=(CHLOE, DAN),
                                    tally={"doing OK": 1, "could use a chat": 0, "need support now": 0})
        state.checkins[asked.id] = asked
        async with running(state) as (app, pilot, daemon):
            app.push_screen(CheckinsScreen(asked.id))
            await wait_for(pilot, lambda: isinstance(app.screen, CheckinsScreen), "check-ins")
            await holds(pilot, "1 doing OK (1)")
            await holds(pilot, 'Ben Okafor: doing OK, "better"')
            await holds(pilot, "Not answered yet: Chloe Hart and Dan")
            await pilot.press("k")
            await shows(pilot, "Ask your circle how they are doing")
            await pilot.press(*"How was the gathering?")
            await pilot.click("#send")
            await noted(pilot, "Sent to Elm St; answers are seen by the facilitators")
            assert ("checkin.create", {"circle": app.model.circles_in_order()[0].circle.id,
                                       "prompt": "How was the gathering?", "options": [],
                                       "visibility": "facilitators"}) in daemon.asked
    run(scenario)


def test_the_circle_screen_marks_invites_verifies_removes_and_leaves() -> None:
    async def scenario() -> None:
        async with running(FakeState(role="facilitator"), size=(110, 40)) as (app, pilot, daemon):
            circle = app.model.circles_in_order()[0].circle.id
            app.open_circle(circle)
            await wait_for(pilot, lambda: isinstance(app.screen, CircleScreen), "the circle")
            await shows(pilot, "Elm St · 4 people · you are a facilitator · caught up")
            text = screen_text(app)
            assert "● online  Ben Okafor · member · available for 2 h more · ✓ verified" in text
            assert "○ offline Dan · member · away · ? not verified yet" in text
            await pilot.press("i")
            await wait_for(pilot, lambda: isinstance(app.screen, InviteDialog), "the invite")
            await holds(pilot, "An invite for one person (it works once, in 24 h at the latest)")
            assert "▀" in screen_text(app) or "▄" in screen_text(app)
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, CircleScreen), "the circle again")
            await pilot.press("down", "down", "down")                  # you, Ben, Chloe, Dan
            await pilot.press("v")
            await shows(pilot, "Verify Dan in person")
            await pilot.click("#confirm")
            await noted(pilot, "Dan is marked verified on this computer")
            await shows(pilot, "Dan · member · away · ✓ verified")
            await pilot.press("delete")
            await shows(pilot, "Remove Dan from this circle?")
            await pilot.click("#yes")
            await noted(pilot, "Dan is removed")
            await wait_for(pilot, lambda: "Dan ·" not in screen_text(app), "Dan gone from the list")
            await pilot.press("L")
            await shows(pilot, "Leave Elm St?")
            await pilot.click("#yes")
            await noted(pilot, "You left Elm St")
            await shows(pilot, "You are not in this circle (any more)")
    run(scenario)


def test_the_plan_is_saved_shared_and_taken_back() -> None:
    async def scenario() -> None:
        async with running(size=(100, 50)) as (app, pilot, daemon):
            await pilot.press("p")
            await wait_for(pilot, lambda: isinstance(app.screen, PlanScreen), "the plan")
            app.screen.query_one("#part-helps").focus()           # the first section is "When I'm well"
            await pilot.pause()
            await pilot.press(*"Tea and a walk")
            await pilot.press("ctrl+s")
            await noted(pilot, "Saved on this computer")
            assert daemon.state.plan is not None and daemon.state.plan.helps == "Tea and a walk"
            select = app.screen.query_one("#share-circle")
            select.value = app.model.circles_in_order()[0].circle.id
            await pilot.click("#share")
            await shows(pilot, "Share your saved plan with everyone in Elm St?")
            await pilot.click("#yes")
            await noted(pilot, "Shared with everyone in Elm St")
            await holds(pilot, "with everyone in Elm St · just now")
            app.screen.query_one("#shares").focus()
            await pilot.press("enter")
            await shows(pilot, "Take this share back?")
            await pilot.click("#yes")
            await noted(pilot, "Taken back")
            await holds(pilot, "Not shared anywhere.")
    run(scenario)


def test_node_status_shows_links_sync_and_counters() -> None:
    async def scenario() -> None:
        async with running() as (app, pilot, _daemon):
            await pilot.press("s")
            await wait_for(pilot, lambda: isinstance(app.screen, NodeScreen), "node status")
            await holds(pilot, "Neighbours: linked to 1 neighbour ● linked · 127.0.0.1:7448 · Ben Okafor")
            await holds(pilot, "Elm St: caught up")
            await holds(pilot, "up for 1 h · 1 links · 42 envelopes stored")
            await holds(pilot, "envelopes_in: 40")
    run(scenario)


def test_settings_change_the_theme_and_the_bell_and_keep_them(tmp_path) -> None:  # type: ignore[no-untyped-def]
    async def scenario() -> None:
        async with running(prefs_home=tmp_path) as (app, pilot, _daemon):
            await pilot.press("comma")
            await wait_for(pilot, lambda: isinstance(app.screen, SettingsScreen), "settings")
            app.screen.query_one("#theme").focus()
            await pilot.press("down", "down", "enter")
            await wait_for(pilot, lambda: app.theme == "high-contrast", "the high-contrast theme")
            await pilot.click("#bell")
            await wait_for(pilot, lambda: not app.prefs.bell, "the bell off")
        assert prefs.load(tmp_path) == prefs.Prefs(theme="high-contrast", bell=False)
    run(scenario)
    (tmp_path / prefs.PREFS_FILE).write_text("theme = 3\nbell = 'loud'\n[broken")
    assert prefs.load(tmp_path) == prefs.Prefs()


def test_settings_change_the_name_your_circles_see() -> None:
    async def scenario() -> None:
        async with running() as (app, pilot, daemon):
            await pilot.press("comma")
            await wait_for(pilot, lambda: isinstance(app.screen, SettingsScreen), "settings")
            field = app.screen.query_one("#name")
            assert field.value == "Sam"
            field.focus()
            field.value = "Ben Okafor"                         # someone else's name: refused, nothing changes
            await pilot.press("enter")
            await noted(pilot, "has or had that name")
            assert app.model.name == "Sam"
            field.value = "Sam (no. 4)"
            await pilot.press("enter")
            await noted(pilot, "Your name is now Sam (no. 4); told 1 circle")
            assert daemon.asked[-1] == ("node.rename", {"name": "Sam (no. 4)"})
            await shows(pilot, "Sam (no. 4) ·")                # the status line names you
    run(scenario)


def test_the_command_palette_offers_what_can_be_done_here() -> None:
    async def scenario() -> None:
        async with running() as (app, pilot, daemon):
            await pilot.press("ctrl+p")
            await pilot.press(*"claim")
            await shows(pilot, "claim: I have the selected call")
            await pilot.press("enter")
            await noted(pilot, "You have this call now")
            assert daemon.asked[-1][0] == "call.claim"
    run(scenario)


def test_the_qr_code_is_half_blocks_and_the_ascii_console_gets_words() -> None:
    lines = qr_lines("MC1TESTTOKEN")
    assert len({len(line) for line in lines}) == 1 and set("".join(lines)) <= set(" ▀▄█")


def test_80_by_24_shows_the_first_call_and_the_footer() -> None:
    async def scenario() -> None:
        state = FakeState()
        for i in range(8):
            call = make_call(f"many{i}", DAN, f"call number {i}", age=60 * (i + 1))
            state.calls[call.id] = call
        async with running(state, size=(80, 24)) as (app, pilot, _daemon):
            await shows(pilot, "c Claim")                      # the footer follows the model one frame later
            text = screen_text(app).splitlines()
            assert len(text) == 24 and all(len(line) <= 80 for line in text)
            assert "! NOW · needs someone" in text[3] and "c Claim" in text[-1]
            assert app.screen.has_class("-narrow")
    run(scenario)


def test_keys_that_act_on_what_was_typed_come_in_order_after_it() -> None:
    """A priority binding runs when the app reads the key, before the focused field has taken the keys
    typed just before it: a fast Ctrl+S sent an empty call (found by tests/test_tui_terminal.py in a real
    terminal). Send and save must be ordinary bindings."""
    from meshcare.tui.screens.plan import PlanScreen

    for screen, action in ((NewCallScreen, "send"), (PlanScreen, "save")):
        [binding] = [b for b in screen.BINDINGS if isinstance(b, Binding) and b.action == action]
        assert binding.key == "ctrl+s" and not binding.priority, screen.__name__


def test_home_keeps_to_the_latest_resolved_calls_and_h_shows_every_call() -> None:
    from meshcare.tui.screens.calls import CallsScreen

    state = FakeState()
    for i in range(5):
        call = dataclasses.replace(make_call(f"old{i}", DAN, f"Long ago, number {i}", status="resolved", claimer=BEN),
                                   resolved_at=NOW - 1000 * (i + 1))
        state.calls[call.id] = call

    async def scenario() -> None:
        async with running(state) as (app, pilot, _daemon):
            await shows(pilot, "earlier resolved calls: h shows every call")
            shown = app.screen.query_one("#calls", KeptList).option_count
            assert shown == len(app.model.home_calls(RESOLVED_ON_HOME)[0]) < len(app.model.calls)
            await pilot.press("h")
            await wait_for(pilot, lambda: isinstance(app.screen, CallsScreen), "the calls screen")
            assert app.screen.query_one("#all-calls", KeptList).option_count == len(app.model.calls)
            await shows(pilot, f"Every call ({len(app.model.calls)},")
            await pilot.press("end", "enter")
            await wait_for(pilot, lambda: isinstance(app.screen, CallScreen), "a call opened from the list")
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, CallsScreen), "back to every call")
    run(scenario)
