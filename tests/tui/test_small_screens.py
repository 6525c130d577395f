"""What the user guide found cut, wrapped or misleading on a small terminal: the invite's QR code, the "who
hears first" choices, a fingerprint that wrapped, and footers and hints offering what cannot be done."""

from __future__ import annotations

import dataclasses

from meshcare.control import api
from meshcare.tui.screens.checkins import CheckinsScreen
from meshcare.tui.screens.circle import CircleScreen, InviteDialog
from meshcare.tui.screens.dialogs import VerifyDialog
from meshcare.tui.screens.invite import QRScreen
from meshcare.tui.screens.new_call import LADDERS, NewCallScreen
from meshcare.tui.widgets.qr import qr_lines

from .fakedaemon import BEN, DAN, ELM, ME, NOW, FakeState, hid, make_checkin
from .harness import holds, noted, run, running, screen_text, shows, wait_for

#: An invite as long as a real one with a couple of addresses in it (200 characters).
LONG_TOKEN = "MC1" + ("ABCDEFGHJKMNPQRSTVWXYZ234567" * 8)[:197]


def footer(app) -> str:  # type: ignore[no-untyped-def]
    return screen_text(app).splitlines()[-1]


def test_the_whole_invite_code_is_on_an_80_by_24_screen() -> None:
    async def scenario() -> None:
        async with running(FakeState(role="facilitator"), size=(80, 24)) as (app, pilot, daemon):
            async def long_invite(r: api.CircleInvite) -> tuple[api.Result, list[api.Event]]:
                return api.CircleInviteResult(circle=ELM, token=LONG_TOKEN, invite=hid("long"), role=r.role,
                                              expires=NOW + 86400), []
            daemon.ops["circle.invite"] = long_invite
            app.open_circle(ELM)
            await wait_for(pilot, lambda: isinstance(app.screen, CircleScreen), "the circle")
            await pilot.press("i")
            await wait_for(pilot, lambda: isinstance(app.screen, InviteDialog), "the invite")
            await holds(pilot, "f shows only the code")
            await pilot.press("f")
            await wait_for(pilot, lambda: isinstance(app.screen, QRScreen), "the code alone")
            await pilot.pause()
            code = qr_lines(LONG_TOKEN)
            assert len(code) <= 24                      # error level "l", border 1: it fits at all
            lines = screen_text(app).splitlines()
            top = next(i for i, line in enumerate(lines) if code[0] in line)
            assert all(code[k] in lines[top + k] for k in range(len(code))), "the code is cut"
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, InviteDialog), "back to the invite")
            app.push_screen(QRScreen("MC1" + "Q" * 600))           # taller than any window here: it says so
            await shows(pilot, "This window is 24 lines high and the code needs")
    run(scenario)


def test_at_80_columns_every_who_hears_first_choice_is_whole_and_send_goes_once_sent() -> None:
    async def scenario() -> None:
        async with running(size=(80, 24)) as (app, pilot, _daemon):
            await pilot.press("n")
            await wait_for(pilot, lambda: isinstance(app.screen, NewCallScreen), "the new call screen")
            await shows(pilot, "^s Send")
            ladder = app.screen.query_one("#ladder")
            ladder.focus()
            ladder.scroll_visible(animate=False)
            await pilot.pause()
            text = screen_text(app)
            missing = [words for _, words in LADDERS if words not in text]
            assert missing == [], f"cut at 80 columns: {missing}"
            app.screen.query_one("#text").text = "Could someone call me?"
            await pilot.press("ctrl+s")
            await noted(pilot, "Your call for support went out")
            await wait_for(pilot, lambda: "Send" not in footer(app), "Send gone from the footer once sent")
    run(scenario)


def test_a_fingerprint_is_two_lines_of_six_groups_the_same_for_both() -> None:
    theirs = " ".join(f"{10000 + 1111 * i}" for i in range(12))
    mine = " ".join(f"{20000 + 2222 * i}" for i in range(12))

    async def scenario() -> None:
        async with running(size=(80, 24)) as (app, pilot, _daemon):
            app.push_screen(VerifyDialog("Ben Okafor", theirs, mine, False))
            await wait_for(pilot, lambda: isinstance(app.screen, VerifyDialog), "the verify dialog")
            await pilot.pause()
            lines = screen_text(app).splitlines()
            starts = []
            for fingerprint in (theirs, mine):
                groups = fingerprint.split()
                for half in (groups[:6], groups[6:]):
                    row = " ".join(half)
                    line = next((line for line in lines if row in line), None)
                    assert line is not None, f"{row!r} is not one line"
                    starts.append(line.index(row))
            assert len(set(starts)) == 1, f"the four lines start in different columns: {starts}"
    run(scenario)


def test_the_empty_home_offers_no_claim_reply_availability_or_new_call() -> None:
    async def scenario() -> None:
        async with running(FakeState(circles=False), size=(80, 24)) as (app, pilot, daemon):
            await shows(pilot, "You are not in a circle yet.")
            await shows(pilot, "? Help")
            for words in ("Claim", "Reply", "Available", "New call"):
                assert words not in footer(app)
            await pilot.press("c")                           # nothing to claim: nothing happens
            await pilot.pause()
            assert not [op for op, _ in daemon.asked if op == "call.claim"]
    run(scenario)


def test_home_hides_claim_on_your_own_call_and_reply_with_nothing_waiting() -> None:
    async def scenario() -> None:
        state = FakeState()
        state.checkins = {}
        async with running(state, size=(100, 30)) as (app, pilot, _daemon):
            await shows(pilot, "c Claim")
            assert "Reply" not in footer(app)
            await pilot.press("down", "down")                # Dan's resolved call
            await wait_for(pilot, lambda: "Claim" not in footer(app), "claim gone for a resolved call")
    run(scenario)


def test_press_a_number_shows_only_on_a_check_in_that_asks_or_asked_you() -> None:
    async def scenario() -> None:
        state = FakeState(role="facilitator")
        own = dataclasses.replace(make_checkin("own", "Sleeping OK?", author=ME), created=NOW)
        [chloes] = state.checkins.values()
        answered = api.Reply(id=hid("mine"), member=ME, option=0, option_text="doing OK", text="", created=NOW,
                             late=False, suggest_call=False)
        state.checkins = {own.id: own, chloes.id: dataclasses.replace(chloes, replies=(answered,), answered=1,
                                                                       not_answered=(BEN, DAN))}
        async with running(state) as (app, pilot, daemon):
            app.push_screen(CheckinsScreen(own.id))
            await wait_for(pilot, lambda: isinstance(app.screen, CheckinsScreen), "check-ins")
            await holds(pilot, "Not answered yet: Ben Okafor, Chloe Hart and Dan")
            await wait_for(pilot, lambda: "Reply" not in footer(app), "no reply on your own check-in")
            assert "Press a number" not in screen_text(app)
            await pilot.press("1")                           # answers nothing: it does not ask you
            await pilot.pause()
            assert not [op for op, _ in daemon.asked if op == "checkin.reply"]
            await pilot.press("down")                        # Chloe's: you answered, and may change it
            await holds(pilot, 'Your answer: "doing OK" (you can change it)')
            await holds(pilot, "Press a number to answer, or r to add a few words.")
            await shows(pilot, "r Reply")
    run(scenario)
