"""What only the command line could do before, now in the terminal UI: share the plan with whoever has your
call, join or start another circle at any time, change someone's role, withdraw an invite, be available
until a time with a limit of calls, a call that never widens to everyone, and a follow-up when resolving."""

from __future__ import annotations

import dataclasses
from datetime import timezone

from meshcare.control import api
from meshcare.tui import format as fmt
from meshcare.tui.commands import app_commands
from meshcare.tui.screens import help as help_screen
from meshcare.tui.screens.availability import AvailabilityDialog
from meshcare.tui.screens.call import CallScreen, ResolveDialog
from meshcare.tui.screens.circle import CircleScreen, InviteDialog
from meshcare.tui.screens.dialogs import ChoiceDialog, ConfirmDialog
from meshcare.tui.screens.new_call import NewCallScreen

from .fakedaemon import BEN, DAN, ELM, ME, NOW, FakeState, hid, make_call
from .harness import holds, noted, run, running, screen_text, shows, wait_for

PLAN = api.PlanParts(helps="Tea and a walk", avoid="Crowds", contact="My sister", other="")


def footer(app) -> str:  # type: ignore[no-untyped-def]
    return screen_text(app).splitlines()[-1]


async def open_circle(app, pilot) -> None:  # type: ignore[no-untyped-def]
    app.open_circle(ELM)
    await wait_for(pilot, lambda: isinstance(app.screen, CircleScreen), "the circle")


def test_the_caller_shares_their_plan_with_whoever_has_the_call() -> None:
    async def scenario() -> None:
        state = FakeState()
        mine = make_call("mine", ME, "Could use company", status="claimed", claimer=BEN)
        waiting = make_call("waiting", ME, "Anyone around?")
        state.calls.update({mine.id: mine, waiting.id: waiting})
        async with running(state) as (app, pilot, daemon):
            app.open_call(waiting.id)
            await wait_for(pilot, lambda: isinstance(app.screen, CallScreen), "the call")
            await shows(pilot, "x Resolve")
            assert "Share plan" not in footer(app)           # nobody has it yet: nobody to share with
            assert "Claim" not in footer(app) and "Offer" not in footer(app)    # your own call
            await pilot.press("escape")
            app.open_call(mine.id)
            await wait_for(pilot, lambda: isinstance(app.screen, CallScreen), "the call")
            await shows(pilot, "P Share plan")
            assert any(c.name.startswith("share plan:") for c in app.screen.palette_commands())
            await pilot.press("P")
            await noted(pilot, "You have no support plan saved yet")
            daemon.state.plan = app.model.plan = PLAN
            await pilot.press("P")
            await shows(pilot, "Share your saved support plan with Ben Okafor, who has this call?")
            await pilot.click("#yes")
            await noted(pilot, "Shared with Ben Okafor: it shows at the end of this call")
            await holds(pilot, "Your support plan (shared with this call) What helps: Tea and a walk")
            assert [args for op, args in daemon.asked if op == "plan.share"] == [
                {"call": mine.id, "circle": None, "sections": None}]
    run(scenario)


def test_j_joins_or_starts_another_circle_from_a_full_home() -> None:
    async def scenario() -> None:
        async with running() as (app, pilot, daemon):
            await pilot.press("j")
            await wait_for(pilot, lambda: isinstance(app.screen, ChoiceDialog), "the choice")
            await pilot.press("1")
            await shows(pilot, "Paste the invite you were given")
            await pilot.press(*"MC1X", "enter")
            await noted(pilot, "Asked to join Oak Lane")
            names = [c.name for c in app_commands(app)]
            assert "circle: start a new circle" in names and "circle: join another circle with an invite" in names
            await pilot.press("j", "2")
            await shows(pilot, "Its name, as the people in it will see it")
            await pilot.press(*"Ash", "enter")
            await noted(pilot, "Ash is ready")
            await holds(pilot, "Ash · 1 people")
            await holds(pilot, "Elm St · 4 people")
            assert [args["token"] for op, args in daemon.asked if op == "circle.join"] == ["MC1X"]
    run(scenario)


def test_a_facilitator_changes_a_role_after_reading_what_it_means() -> None:
    async def scenario() -> None:
        async with running(FakeState(role="facilitator"), size=(110, 40)) as (app, pilot, daemon):
            await open_circle(app, pilot)
            await shows(pilot, "R Role")
            await pilot.press("down", "down", "down")        # you, Ben, Chloe, Dan
            await pilot.press("R")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the role dialog")
            await holds(pilot, "Make Dan a facilitator in Elm St?")
            await holds(pilot, "It is a role of care, not of authority.")
            await pilot.click("#yes")
            await noted(pilot, "Dan is a facilitator of Elm St now")
            await shows(pilot, "Dan · facilitator")
            assert ("circle.role", {"circle": ELM, "member": DAN, "role": "facilitator"}) in daemon.asked
            await pilot.press("R")                           # and back
            await holds(pilot, "Make Dan a member again in Elm St?")
            await pilot.click("#yes")
            await shows(pilot, "Dan · member")
    run(scenario)


def test_being_made_a_member_again_changes_what_this_person_is_offered() -> None:
    async def scenario() -> None:
        async with running(FakeState(role="facilitator"), size=(110, 40)) as (app, pilot, daemon):
            await open_circle(app, pilot)
            await shows(pilot, "you are a facilitator")
            me = next(m for m in daemon.state.circles[ELM].members if m.id == ME)
            daemon.push(api.MemberEvent(circle=ELM, change="role", member=ME, name="Sam", role="member",
                                        was="facilitator", circle_name="Elm St",
                                        view=dataclasses.replace(me, role="member")))
            await shows(pilot, "you are a member")
            await wait_for(pilot, lambda: "Role" not in footer(app), "no role key for a member")
            await pilot.press("R")
            await pilot.pause()
            assert not isinstance(app.screen, ConfirmDialog)
            assert not [op for op, _ in daemon.asked if op == "circle.role"]
    run(scenario)


def test_open_invites_are_listed_one_is_withdrawn_and_a_relay_is_invited() -> None:
    async def scenario() -> None:
        async with running(FakeState(role="facilitator"), size=(110, 40)) as (app, pilot, daemon):
            await open_circle(app, pilot)
            await holds(pilot, "Open invites: none")
            assert "Withdraw" not in footer(app)
            await pilot.press("i")
            await wait_for(pilot, lambda: isinstance(app.screen, InviteDialog), "the invite")
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, CircleScreen), "the circle again")
            invite = hid("invite0")
            await holds(pilot, f"invite {invite[:8]} · for a member · made by you · expires in 24 h")
            await shows(pilot, "w Withdraw")
            await pilot.press("w")
            await holds(pilot, f"Withdraw invite {invite[:8]} (for a member, expires in 24 h)?")
            await pilot.click("#yes")
            await noted(pilot, f"Invite {invite[:8]} is withdrawn: nobody can join with it.")
            await holds(pilot, "Open invites: none")
            assert ("circle.revoke", {"circle": ELM, "invite": invite}) in daemon.asked
            [relay] = [c for c in app.screen.palette_commands() if c.name.startswith("invite: a relay")]
            relay.run()
            await wait_for(pilot, lambda: isinstance(app.screen, InviteDialog), "the relay's invite")
            await holds(pilot, "An invite for a relay: an always-on computer")
            assert ("circle.invite", {"circle": ELM, "role": "relay", "valid_hours": 24}) in daemon.asked
    run(scenario)


def test_shift_a_says_available_until_a_time_with_a_limit() -> None:
    async def scenario() -> None:
        async with running(size=(100, 34)) as (app, pilot, daemon):
            await pilot.press("A")
            await wait_for(pilot, lambda: isinstance(app.screen, AvailabilityDialog), "the availability dialog")
            await shows(pilot, "for 3 hours (until")
            app.screen.query_one("#cap").focus()
            await pilot.press("down", "enter")               # at most 1 call
            await pilot.click("#yes")
            until = NOW + 3 * 3600
            await noted(pilot, f"available until {fmt.clock_words(until, NOW, timezone.utc)}, at most 1 call at a time "
                               "(Elm St)")
            assert daemon.asked[-1] == ("presence.set", {"status": "available", "until": until, "cap": 1,
                                                         "circle": None})
            await pilot.press("a")                           # the one key keeps toggling, for 12 hours
            await noted(pilot, "Your circle sees you are away")
            assert daemon.asked[-1][1]["until"] is None
    run(scenario)


def test_a_call_only_for_the_people_chosen_never_widens_and_says_so() -> None:
    async def scenario() -> None:
        async with running() as (app, pilot, daemon):
            await pilot.press("n")
            await wait_for(pilot, lambda: isinstance(app.screen, NewCallScreen), "the new call screen")
            app.screen.query_one("#text").text = "Just between us"
            app.screen.query_one("#ladder").focus()
            await pilot.press("down", "down", "down", "enter")      # "Only the people I choose"
            app.screen.query_one("#chosen").focus()
            await pilot.press(*"ben")
            await pilot.press("ctrl+s")
            await noted(pilot, "Your call for support went out")
            [(_, args)] = [(op, args) for op, args in daemon.asked if op == "call.create"]
            assert args["ladder"] == [{"after": 0, "to": "chosen", "members": [BEN]}]
            await holds(pilot, "Who can read it: only Ben Okafor: it never goes to the whole circle")
    run(scenario)


def test_a_call_only_for_the_facilitators_that_reaches_nobody_says_so() -> None:
    async def scenario() -> None:
        state = FakeState()
        alone = dataclasses.replace(make_call("alone", ME, "Facilitators only, please", reached=0),
                                    audience=0, waiting_on=(),
                                    ladder=(api.LadderStep(after=0, to="facilitators", members=()),))
        state.calls[alone.id] = alone
        async with running(state) as (app, pilot, _daemon):
            app.open_call(alone.id)
            await wait_for(pilot, lambda: isinstance(app.screen, CallScreen), "the call")
            await holds(pilot, "Who it goes to: only the facilitators: it never goes to the whole circle")
            await holds(pilot, fmt.NOBODY_TO_READ)
            assert "nobody else is in the circle yet" not in screen_text(app)
    run(scenario)


def test_resolving_can_ask_how_they_are_doing_a_day_later() -> None:
    async def scenario() -> None:
        async with running() as (app, pilot, daemon):
            app.open_call(hid("ben-call"))
            await wait_for(pilot, lambda: isinstance(app.screen, CallScreen), "the call")
            await shows(pilot, "c Claim")                    # someone else's call: claim and offer
            assert "o Offer" in footer(app) and "Share plan" not in footer(app)
            await pilot.press("x")
            await wait_for(pilot, lambda: isinstance(app.screen, ResolveDialog), "the resolve dialog")
            await holds(pilot, "Check in with Ben Okafor again later?")
            await pilot.press("down", "enter")                   # tomorrow (in 24 hours)
            await pilot.click("#yes")
            await noted(pilot, 'Marked resolved. meshcare asks Ben Okafor "how are you doing now?" in 24 h')
            await holds(pilot, "A follow-up check-in is planned in 24 h.")
            assert ("call.resolve", {"call": hid("ben-call"), "followup_at": NOW + 86400}) in daemon.asked
            await wait_for(pilot, lambda: "Resolve" not in footer(app) and "Claim" not in footer(app),
                           "nothing left to resolve or claim")
    run(scenario)


def test_help_lists_the_new_keys() -> None:
    listed = {key: words for _, keys in help_screen.KEYS for key, words in keys}
    for key, words in (("Shift+A", "available until a time"), ("j", "join another circle"),
                       ("Shift+P", "share your support plan"), ("Shift+R", "make them a facilitator"),
                       ("w", "withdraw the highlighted open invite"), ("f", "show only the QR code")):
        assert words in listed[key]
