"""Pilot tests of the app against the fake daemon: home, the contract keys, live updates, the daemon
dropping and coming back, a slow daemon, refusals."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import pytest

from meshcare import outside_contacts, vocab
from meshcare.control import api
from meshcare.tui.screens.call import CallScreen
from meshcare.tui.screens.checkins import CheckinsScreen
from meshcare.tui.screens.help import HelpScreen
from meshcare.tui.screens.home import HomeScreen
from meshcare.tui.model import Alert
from meshcare.tui.screens.new_call import NewCallScreen
from meshcare.tui.widgets.lists import KeptList

from .fakedaemon import BEN, DAN, ELM, ME, NOW, FakeState, hid, make_call, make_checkin
from .harness import holds, noted, notes, run, running, screen_text, shows, wait_for, widget_text


def test_home_puts_the_call_that_needs_someone_first_and_says_everything_in_words() -> None:
    async def scenario() -> None:
        async with running(size=(80, 24)) as (app, pilot, _daemon):
            await shows(pilot, "Calls for support (1 needs someone)")
            await shows(pilot, "c Claim")                      # the footer follows the model one frame later
            text = screen_text(app)
            lines = text.splitlines()
            assert "Sam · ● linked to 1 neighbour · caught up · daemon: connected" in lines[0]
            first = next(i for i, line in enumerate(lines) if "NOW" in line)
            assert "needs someone · from Ben Okafor, Elm St · 3 min ago" in lines[first]
            assert "reached 2 of 3" in lines[first + 1]
            assert text.index("needs someone") < text.index("Dan has it") < text.index("resolved by Ben Okafor")
            assert "How is your week going?" in text and "waiting for your answer" in text
            # below the gatherings and the board's open needs: at 80x24 the circles are one scroll down
            assert "Elm St · 4 people · online: Ben Okafor · you: available for 3 h more" in widget_text(app)
            footer = lines[-1]
            for words in ("c Claim", "r Reply", "a Available", "n New call", "? Help"):
                assert words in footer
            assert "Back" not in footer
    run(scenario)


def test_enter_opens_the_selected_call_and_escape_goes_back() -> None:
    async def scenario() -> None:
        async with running() as (app, pilot, _daemon):
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, CallScreen), "the call's screen")
            await shows(pilot, "Their wishes: please do not involve the police; no phone calls, please")
            text = screen_text(app)
            assert text.index("Their wishes") < text.index("Call for support from Ben Okafor")
            assert "How soon: now · Would help: company" in text
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, HomeScreen), "home again")
            await pilot.press("escape")                       # nowhere further back: stays home
            await pilot.pause()
            assert isinstance(app.screen, HomeScreen)
    run(scenario)


def test_c_claims_the_selected_call_and_the_screen_follows() -> None:
    async def scenario() -> None:
        async with running() as (app, pilot, daemon):
            await pilot.press("c")
            await noted(pilot, "You have this call now")
            await shows(pilot, "! NOW · you have it")
            assert daemon.asked[-1] == ("call.claim", {"call": hid("ben-call")})
    run(scenario)


def test_a_claim_that_came_second_says_who_has_it() -> None:
    async def scenario() -> None:
        async with running() as (_app, pilot, daemon):
            call = hid("ben-call")
            daemon.state.calls[call] = dataclasses.replace(daemon.state.calls[call], claimer=DAN, status="claimed")
            await pilot.press("c")
            await noted(pilot, "Dan has this call: their claim came first")
    run(scenario)


def test_o_offers_help_with_one_key() -> None:
    async def scenario() -> None:
        async with running() as (_app, pilot, daemon):
            await pilot.press("o")
            await shows(pilot, "Offer support")
            await pilot.press("2")
            await noted(pilot, "Offered: I can come over")
            assert daemon.asked[-1] == ("call.offer", {"call": hid("ben-call"), "kind": "come_over", "text": ""})
    run(scenario)


def test_r_answers_the_selected_check_in_and_need_support_now_offers_a_call() -> None:
    async def scenario() -> None:
        async with running() as (app, pilot, daemon):
            await pilot.press("r")
            await shows(pilot, "Who will read your answer: Chloe Hart (the facilitators)")
            await pilot.press("3")
            await noted(pilot, 'your answer "need support now" is in')
            await noted(pilot, "you can ask your circle for support now: press n")
            assert daemon.asked[-1][0] == "checkin.reply" and daemon.asked[-1][1]["option"] == 3
            await shows(pilot, "None waiting for you")
            await pilot.press("n")
            await wait_for(pilot, lambda: isinstance(app.screen, NewCallScreen), "the new call screen")
    run(scenario)


def test_a_toggles_availability() -> None:
    async def scenario() -> None:
        async with running() as (app, pilot, daemon):
            await shows(pilot, "You are available to help")
            await pilot.press("a")
            await noted(pilot, "Your circle sees you are away (Elm St)")
            await shows(pilot, "You are not marked available")
            assert daemon.asked[-1] == ("presence.set", {"status": "away", "until": None, "cap": None, "circle": None})
            await pilot.press("a")
            await noted(pilot, "Your circle sees you are available for the next 12 h (Elm St)")
            await shows(pilot, "You are available to help")
            assert daemon.asked[-1][1]["status"] == "available" and app.model.available()
    run(scenario)


def test_question_mark_shows_help_and_q_quits() -> None:
    async def scenario() -> None:
        async with running() as (app, pilot, _daemon):
            await pilot.press("question_mark")
            await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), "help")
            for words in ("claim the highlighted call", "1 to 6", "Home: calls for support", "not an emergency"):
                await holds(pilot, words)
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, HomeScreen), "home")
            await pilot.press("q")
            await wait_for(pilot, lambda: app.return_code is not None or not app.is_running, "the app to quit")
    run(scenario)


def test_help_shows_the_persons_own_outside_contacts_first_escaped(tmp_path: Path) -> None:
    outside_contacts.write(tmp_path, ["Crisis line 116 123", "my sister [b]Mia[/b] 0170 555"])

    async def scenario() -> None:
        async with running(prefs_home=tmp_path) as (app, pilot, _daemon):
            await pilot.press("question_mark")
            await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), "help")
            await holds(pilot, "Your own contacts outside meshcare")
            await holds(pilot, "my sister [b]Mia[/b] 0170 555")         # shown as written, not as markup
            text = widget_text(app)
            assert text.index("Crisis line 116 123") < text.index("claim the highlighted call")
    run(scenario)


def test_help_without_outside_contacts_says_where_they_can_be_kept(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running(prefs_home=tmp_path) as (app, pilot, _daemon):
            await pilot.press("question_mark")
            await holds(pilot, "outside-contacts.txt")
    run(scenario)


def test_a_new_call_from_someone_else_appears_with_a_banner_and_the_bell() -> None:
    async def scenario() -> None:
        async with running() as (app, pilot, daemon):
            call = make_call("fresh", DAN, "Could someone call me?", urgency="now", age=30, reached=1)
            daemon.set_call(call, "new")
            await shows(pilot, "from Dan, Elm St · just now")
            await noted(pilot, "Dan asks for support in Elm St (now)")
            assert app.bells == 1
            assert screen_text(app).index("from Dan") < screen_text(app).index("Dan has it")
    run(scenario)


def test_a_burst_of_alerts_is_one_banner_and_one_bell() -> None:
    """A catch-up can bring many calls at once: banners summed up, so they never cover the screen."""
    async def scenario() -> None:
        async with running() as (app, pilot, _daemon):
            before = len(notes(app))
            app.raise_alerts([Alert("New call for support", f"call {i}", bell=True) for i in range(5)])
            await pilot.pause()
            assert notes(app)[before:] == ["5 new things need your attention: 5 of them new calls or "
                                           "\"need support now\" answers: home lists them first."]
            assert app.bells == 1
            app.raise_alerts([Alert("New call for support", "just one", bell=True)])
            await noted(pilot, "just one")
            assert app.bells == 2
    run(scenario)


def test_events_that_change_nothing_shown_redraw_nothing() -> None:
    """Every envelope comes with an ``envelope`` and a ``circle`` event; redrawing every screen for
    them was most of a call's way to the screen (docs/benchmarks.md section 12)."""
    async def scenario() -> None:
        async with running() as (app, pilot, daemon):
            await shows(pilot, "Calls for support")
            redraws = []
            app.refresh_screens = lambda: redraws.append(1)          # type: ignore[method-assign]
            last = daemon.push(api.EnvelopeEvent(id=hid("e"), topic=ELM, author=DAN, lane=0))
            await wait_for(pilot, lambda: app.model.seq == last.seq, "the envelope event")
            assert redraws == []
            call = make_call("fresh", DAN, "Could someone call me?", urgency="now", age=30, reached=1)
            daemon.set_call(call, "new")
            await wait_for(pilot, lambda: redraws, "a redraw for a new call")
    run(scenario)


def test_a_list_given_the_rows_it_shows_is_left_alone() -> None:
    async def scenario() -> None:
        async with running() as (app, pilot, _daemon):
            await shows(pilot, "Calls for support")
            calls = app.screen.query_one("#calls", KeptList)
            rows = [(calls.get_option_at_index(i).id or "", str(calls.get_option_at_index(i).prompt))
                    for i in range(calls.option_count)]
            calls.set_items(rows)                                    # what it shows now: remembered
            cleared, clear = [], calls.clear_options
            calls.clear_options = lambda: (cleared.append(1), clear())[1]  # type: ignore[method-assign]
            calls.set_items(rows)
            assert cleared == []
            calls.set_items(rows[:1])
            assert cleared == [1]
    run(scenario)


def test_the_bell_stays_quiet_when_turned_off() -> None:
    from meshcare.tui.prefs import Prefs

    async def scenario() -> None:
        async with running(prefs=Prefs(bell=False)) as (app, pilot, daemon):
            daemon.set_call(make_call("fresh", DAN, "x", urgency="now"), "new")
            await noted(pilot, "Dan asks for support")
            assert app.bells == 0
    run(scenario)


def test_need_support_now_from_someone_else_rings() -> None:
    async def scenario() -> None:
        async with running(FakeState(role="facilitator")) as (app, pilot, daemon):
            checkin = make_checkin("mine", "Checking in", author=ME)
            reply = api.Reply(id=hid("r"), member=BEN, option=2, option_text=vocab.SUGGEST_CALL_OPTION, text="",
                              created=NOW, late=False, suggest_call=True)
            daemon.set_checkin(dataclasses.replace(checkin, replies=(reply,), answered=1), "reply", (BEN,))
            await noted(pilot, 'Ben Okafor answered "need support now" in Elm St')
            assert app.bells == 1
    run(scenario)


def test_the_daemon_dropping_and_coming_back_misses_nothing() -> None:
    async def scenario() -> None:
        async with running() as (app, pilot, daemon):
            await daemon.stop()
            await shows(pilot, "daemon: reconnecting...")
            assert app.daemon_state == "reconnecting"
            daemon.set_call(make_call("while-away", DAN, "sent while the UI was away", urgency="now", age=10), "new")
            await daemon.start(restart_seq=True)
            await shows(pilot, "daemon: connected")
            await shows(pilot, "from Dan, Elm St · just now")
            await noted(pilot, "Dan asks for support in Elm St (now)")
            daemon.push(api.SyncEvent(circle=ELM, state="catching_up"))   # seq 2 after the restart: applied
            await shows(pilot, "· catching up ·")
    run(scenario)


def test_a_slow_daemon_never_freezes_the_keys() -> None:
    async def scenario() -> None:
        async with running() as (app, pilot, daemon):
            daemon.delay = 1.0
            await pilot.press("c")
            await pilot.press("question_mark")
            await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), "help while the claim waits", 0.5)
            assert not any("You have this call" in n for n in notes(app))
            await pilot.press("escape")
            await noted(pilot, "You have this call now", timeout=5)
    run(scenario)


def test_a_refusal_is_a_calm_notification_with_the_daemon_s_words() -> None:
    async def scenario() -> None:
        async with running() as (_app, pilot, daemon):
            daemon.fail["call.claim"] = ("bad-request", "the call is resolved: nothing more can be added ([b]Ben)")
            await pilot.press("c")
            await noted(pilot, "That did not go through: the call is resolved: nothing more can be added (\\[b]Ben)")
    run(scenario)


def test_a_bug_while_asking_is_logged_and_said_not_swallowed(caplog: pytest.LogCaptureFixture) -> None:
    """A request worker that raised anything but the daemon's own errors used to end silently (the
    worker does not exit the app), leaving a send button disabled and the person waiting."""
    async def scenario() -> None:
        async with running() as (app, pilot, _daemon):
            async def broken(request: object, timeout: float | None = None) -> object:
                raise TypeError("a bug in the screen")
            app.client.ask = broken
            await pilot.press("c")
            await noted(pilot, "An error in meshcare's screen stopped this")
            assert app.is_running
    with caplog.at_level(logging.WARNING, logger="meshcare.tui"):
        run(scenario)
    assert any("'call.claim' failed" in r.getMessage() and r.exc_info for r in caplog.records)


def test_the_empty_state_creates_a_circle_or_joins_one() -> None:
    async def scenario() -> None:
        async with running(FakeState(circles=False), size=(80, 24)) as (app, pilot, daemon):
            await shows(pilot, "You are not in a circle yet.")
            assert "not an emergency service" in screen_text(app)
            await pilot.click("#join-circle")
            await shows(pilot, "Paste the invite you were given")
            await pilot.press(*"MC1ABCDEF", "enter")
            await noted(pilot, "Asked to join Oak Lane")
            await pilot.click("#create-circle")
            await shows(pilot, "Its name, as the people in it will see it")
            await pilot.press(*"Birch Rd", "enter")
            await noted(pilot, "Birch Rd is ready")
            await shows(pilot, "Birch Rd · 1 people")
            assert ("circle.create", {"name": "Birch Rd", "member_name": None, "retention_days": 30, "rotate_days": 7,
                                      "share_history": False, "members_invite": False}) in daemon.asked
    run(scenario)


def test_r_on_the_check_ins_screen_and_number_keys_answer() -> None:
    async def scenario() -> None:
        async with running() as (app, pilot, daemon):
            await pilot.press("k")
            await wait_for(pilot, lambda: isinstance(app.screen, CheckinsScreen), "check-ins")
            await holds(pilot, "Who will read your answer: Chloe Hart (the facilitators)")
            await pilot.press("1")
            await noted(pilot, 'your answer "doing OK" is in')
            await holds(pilot, 'Your answer: "doing OK"')
            assert daemon.asked[-1][1]["option"] == 1
    run(scenario)
