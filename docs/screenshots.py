"""Render the user guide's screenshots (docs/screenshots/*.svg) from the real terminal UI.

    .venv/bin/python docs/screenshots.py                 # all of them, into docs/screenshots/
    .venv/bin/python docs/screenshots.py home call       # only these
    .venv/bin/python docs/screenshots.py --list          # what there is

Why the pictures are rendered, not drawn: a guide whose pictures were made by hand drifts from the app
the first time a word on a screen changes. Here every picture is the app itself (``make_app``, the same
screens, themes and words), run headless with ``App.run_test()`` and saved with Textual's
``export_screenshot`` as SVG, against the tests' fake control daemon (``tests/tui/fakedaemon.py``: the
real control protocol, canned state built from the typed records) with a richer state built here, and
the tests' fixed clock (clock times in UTC, whatever this computer's zone). Nothing is random and no timer runs, so the same code gives the same files byte
for byte: re-run it after changing a screen, and the diff shows what the guide's reader will see.

Why in docs/ and not in benchmarks/: it measures nothing. It builds documentation, next to what it
builds (``docs/user-guide.md`` links ``screenshots/NAME.svg``), and ``tests/test_user_guide.py`` runs
it. It uses the fake daemon from ``tests/``, so it runs from a checkout of the repository (which is where
documentation is built); it opens one Unix socket per picture in a temporary directory, and nothing else.

The size is 100x30 by default: wide enough to read in a web page, short enough to be what a Raspberry
Pi's console or a small terminal window shows (``--size 80x24`` renders the classic terminal).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import shutil
import sys
import tempfile
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run as a file from anywhere: meshcare and tests/ are found in this checkout

from textual.pilot import Pilot  # noqa: E402  (after the path above)
from textual.widgets import Input, TextArea  # noqa: E402

from meshcare import outside_contacts  # noqa: E402
from meshcare.circles.invites import Token  # noqa: E402
from meshcare.control import api  # noqa: E402
from meshcare.crypto.keys import fingerprint  # noqa: E402
from meshcare.errors import BadInput  # noqa: E402
from meshcare.tui.app import MeshcareApp, make_app  # noqa: E402
from meshcare.tui.prefs import Prefs  # noqa: E402
from meshcare.tui.session import Backoff  # noqa: E402
from meshcare.tui.screens.availability import AvailabilityDialog  # noqa: E402
from meshcare.tui.screens.board import BoardScreen  # noqa: E402
from meshcare.tui.screens.call import CallScreen, ResolveDialog  # noqa: E402
from meshcare.tui.screens.checkins import CheckinsScreen  # noqa: E402
from meshcare.tui.screens.circle import CircleScreen, InviteDialog  # noqa: E402
from meshcare.tui.screens.dialogs import ConfirmDialog, OfferDialog, ReplyDialog, VerifyDialog  # noqa: E402
from meshcare.tui.screens.help import HelpScreen  # noqa: E402
from meshcare.tui.screens.invite import QRScreen  # noqa: E402
from meshcare.tui.screens.new_call import NewCallScreen  # noqa: E402
from meshcare.tui.screens.node import NodeScreen  # noqa: E402
from meshcare.tui.screens.plan import PlanScreen  # noqa: E402
from meshcare.tui.setup import SetupApp  # noqa: E402
from meshcare.tui.widgets.lists import KeptList  # noqa: E402
from meshcare.tui.widgets.toggles import Pick, Tick  # noqa: E402
from tests.tui.fakedaemon import (BEN, CHLOE, DAN, ELM, ME, NOW, FakeDaemon, FakeState, hid,  # noqa: E402
                                  make_call, make_checkin)
from tests.tui.harness import wait_for  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
DEFAULT_SIZE = (100, 30)
#: What the first-run setup shows as the data directory (it only shows it; nothing is written there).
SETUP_HOME = Path("/home/sam/.local/share/meshcare")
#: The person's own outside contacts, as the first run keeps them and help shows them.
#: (Numbers from the ranges set aside for fiction: nobody is called by mistake.)
CONTACTS = ("Night helpline: 01632 960 111", "My sister Eva: 07700 900 123")

Step = Callable[[MeshcareApp, Pilot[Any], FakeDaemon], Awaitable[None]]


# --- the state the pictures show ------------------------------------------------------------------
#
# Sam's node in one circle, Elm St, with Ben Okafor, Chloe Hart (a facilitator) and Dan: the fake
# daemon's cast, with more going on than its canned state (offers, a thread, a shared plan, answers).


def _offer(tag: str, author: str, kind: str, text: str, age: int, accepted: bool = False) -> api.Offer:
    return api.Offer(id=hid(tag), author=author, kind=kind, text=text, created=NOW - age, accepted=accepted)


def _update(tag: str, author: str, text: str, age: int) -> api.Update:
    return api.Update(id=hid(tag), author=author, text=text, created=NOW - age)


BENS_PLAN = api.PlanParts(helps="Tea, a short walk, someone sitting with me without many questions.",
                          avoid="Crowds. Being told to calm down.", contact="My sister Eva (text her first).",
                          other="")
SAMS_PLAN = api.PlanParts(when_well="I cook for friends, I walk a lot, I sleep before midnight.",
                          helps="Music, a walk by the canal, being asked what I need.",
                          avoid="Phone calls late at night.", contact="My sister Eva: 07700 900 123.",
                          wishes="No police. No hospital unless I ask.",
                          other="If I don't answer, knock twice; I may be asleep.", review_by="2027-06-01")


def guide_state(*, role: str = "member") -> FakeState:
    """Sam's node as the guide shows it, linked to two neighbours; ``role``: Sam's role in Elm St."""
    state = FakeState(role=role)
    bens = make_call("ben-call", BEN, "Rough night, could someone come by? I would rather not talk on the phone.",
                     urgency="now", consent=("no_police", "no_calls"), needs=("company",), age=180,
                     offers=(_offer("dan-offer", DAN, "listening", "free after 9, by text", 60),))
    chloes = make_call("chloe-call", CHLOE, "Need a ride to the clinic on Thursday morning.", urgency="whenever",
                       status="claimed", claimer=DAN, needs=("ride",), age=5400, reached=3,
                       offers=(_offer("dan-ride", DAN, "come_over", "I can drive you, 9:30", 4000, True),))
    dans = make_call("dan-call", DAN, "Could use someone to listen tonight.", status="resolved", claimer=BEN,
                     age=86400, reached=3)
    state.calls = {c.id: c for c in (bens, chloes, dans)}
    state.peers = {
        "192.0.2.21:7447": api.Peer(node_id=BEN, address="192.0.2.21:7447", linked=True),
        "192.0.2.23:7447": api.Peer(node_id=CHLOE, address="192.0.2.23:7447", linked=True),
        "192.0.2.24:7447": api.Peer(node_id=None, address="192.0.2.24:7447", linked=False, source="mdns"),
    }
    return state


def claimed_call_state() -> FakeState:
    """Ben's call after Sam claimed it: Dan offered, Sam wrote an update, Ben shared his plan in the call."""
    state = guide_state()
    call = state.calls[hid("ben-call")]
    share = api.Share(id=hid("ben-share"), author=BEN, name="Ben Okafor", to="call", call=call.id, plan=BENS_PLAN,
                      created=NOW - 30)
    state.calls[call.id] = dataclasses.replace(
        call, status="claimed", claimer=ME, claimed_at=NOW - 120,
        updates=(_update("sam-update", ME, "On my way, about 10 minutes. I'll knock twice.", 100),
                 _update("ben-update", BEN, "Thank you. Door is open.", 40)),
        plans=(share,))
    return state


def facilitator_state() -> FakeState:
    """Sam as a facilitator of Elm St, with a check-in Sam sent: Ben and Dan answered, Chloe not yet."""
    state = guide_state(role="facilitator")
    checkin = make_checkin("sam-week", "How is everyone doing this week?", author=ME)
    options = checkin.options
    replies = (api.Reply(id=hid("r-ben"), member=BEN, option=0, option_text=options[0], text="Busy, but fine.",
                         created=NOW - 3000, late=False, suggest_call=False),
               api.Reply(id=hid("r-dan"), member=DAN, option=1, option_text=options[1], text="",
                         created=NOW - 1200, late=False, suggest_call=False))
    tally = {o: sum(1 for r in replies if r.option_text == o) for o in options}
    mine = dataclasses.replace(checkin, replies=replies, tally=tally, answered=len(replies),
                               not_answered=(CHLOE,), created=NOW - 6 * 3600)
    state.checkins = {mine.id: mine}
    return state


def plan_state() -> FakeState:
    state = guide_state()
    state.plan = SAMS_PLAN
    shared = api.PlanParts(helps=SAMS_PLAN.helps, avoid="", contact="", other="", wishes=SAMS_PLAN.wishes)
    state.shares = (api.OwnShare(id=hid("sam-share"), author=ME, name="Sam", to="circle", call=None, plan=shared,
                                 created=NOW - 2 * 86400, circle=ELM, circle_name="Elm St",
                                 sections=("helps", "wishes")),)
    return state


def invite_token() -> str:
    """A token of realistic length for a circle that does not exist (fixed bytes, so the QR code is
    the same each time)."""
    return Token(topic=bytes(range(16)), founder=bytes(32), seed=bytes(range(32, 64)), expires=NOW + 86400,
                 circle_name="Elm St", hints=("192.0.2.20:7447",)).encode()


# --- moving around in the app -----------------------------------------------------------------------


async def settle(pilot: Pilot[Any]) -> None:
    """Let pending work finish and stop every cursor blinking, so the picture is the same each time."""
    await pilot.pause()
    for widget in pilot.app.screen.query(Input):
        widget.cursor_blink = False
    for area in pilot.app.screen.query(TextArea):
        area.cursor_blink = False
    await pilot.pause()


async def on_screen(pilot: Pilot[Any], kind: type, what: str) -> None:
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, kind), what)


async def nothing(_app: MeshcareApp, _pilot: Pilot[Any], _daemon: FakeDaemon) -> None:
    """Home as it comes up."""


async def open_first_call(app: MeshcareApp, pilot: Pilot[Any], _daemon: FakeDaemon) -> None:

    await pilot.press("enter")
    await on_screen(pilot, CallScreen, "the call's screen")


async def offer_dialog(app: MeshcareApp, pilot: Pilot[Any], _daemon: FakeDaemon) -> None:

    await pilot.press("o")
    await on_screen(pilot, OfferDialog, "the offer dialog")


def new_call_screen(app: MeshcareApp) -> NewCallScreen:
    screen = app.screen
    if not isinstance(screen, NewCallScreen):
        raise AssertionError(f"expected the new call screen, not {type(screen).__name__}")
    return screen


def choose(screen: NewCallScreen, where: str, *names: str) -> None:
    """Tick or pick the choices called ``names`` among the toggles ``where`` selects ("Tick.need")."""
    for toggle in screen.query(where):
        if isinstance(toggle, (Tick, Pick)) and toggle.name in names:
            toggle.value = True


async def write_call(app: MeshcareApp, pilot: Pilot[Any], _daemon: FakeDaemon) -> None:
    await pilot.press("n")
    await on_screen(pilot, NewCallScreen, "the new call screen")
    await pilot.press(*"Hard evening. Could someone come by for an hour?")
    screen = new_call_screen(app)
    choose(screen, "#urgency Pick", "now")
    choose(screen, "Tick.need", "company")
    choose(screen, "Tick.wish", "no_police")
    await pilot.pause()
    screen.query_one("#text").focus()


async def choose_who_hears_first(app: MeshcareApp, pilot: Pilot[Any], daemon: FakeDaemon) -> None:
    await write_call(app, pilot, daemon)
    screen = new_call_screen(app)
    choose(screen, "#ladder Pick", "chosen")
    await pilot.pause()
    screen.query_one("#chosen", Input).focus()
    await pilot.press(*"Ben, Chloe")
    screen.query_one("#new-call").scroll_end(animate=False)


async def send_call(app: MeshcareApp, pilot: Pilot[Any], daemon: FakeDaemon) -> None:
    await write_call(app, pilot, daemon)
    screen = new_call_screen(app)
    await pilot.press("ctrl+s")
    await wait_for(pilot, lambda: screen.sent is not None, "the call to go out")
    assert screen.sent is not None
    # Two of the three others' nodes confirm it arrived: the screen follows, as it does with a real daemon.
    call = daemon.state.calls[screen.sent.id]
    daemon.set_call(dataclasses.replace(call, reached=2, received_by=(BEN, CHLOE), waiting_on=(DAN,)),
                    "updated", ("reach",))
    await wait_for(pilot, lambda: "reached 2 of 3" in str(screen.query_one("#sent").render()), "the receipts")


async def checkins(app: MeshcareApp, pilot: Pilot[Any], _daemon: FakeDaemon) -> None:

    await pilot.press("k")
    await on_screen(pilot, CheckinsScreen, "the check-ins screen")


async def reply_dialog(app: MeshcareApp, pilot: Pilot[Any], _daemon: FakeDaemon) -> None:

    app.screen.query_one("#checkins").focus()
    await pilot.press("r")
    await on_screen(pilot, ReplyDialog, "the answer dialog")


async def open_circle(app: MeshcareApp, pilot: Pilot[Any], _daemon: FakeDaemon) -> None:

    app.screen.query_one("#circles").focus()
    await pilot.press("enter")
    await on_screen(pilot, CircleScreen, "the circle's screen")


async def invite(app: MeshcareApp, pilot: Pilot[Any], daemon: FakeDaemon) -> None:

    async def circle_invite(r: api.CircleInvite) -> tuple[api.Result, list[api.Event]]:
        return api.CircleInviteResult(circle=ELM, token=invite_token(), invite=hid("invite"), role=r.role,
                                      expires=NOW + 86400), []
    daemon.ops["circle.invite"] = circle_invite
    await open_circle(app, pilot, daemon)
    await pilot.press("i")
    await on_screen(pilot, InviteDialog, "the invite")


async def invite_code(app: MeshcareApp, pilot: Pilot[Any], daemon: FakeDaemon) -> None:
    """The invite's code alone (``f``), as a phone sees it on an 80x24 terminal."""
    await invite(app, pilot, daemon)
    await pilot.press("f")
    await on_screen(pilot, QRScreen, "the code alone")


async def circle_as_facilitator(app: MeshcareApp, pilot: Pilot[Any], daemon: FakeDaemon) -> None:
    """A facilitator's circle screen with two open invites (one for a relay), Dan highlighted."""
    await open_circle(app, pilot, daemon)
    await pilot.press("i")
    await on_screen(pilot, InviteDialog, "the invite")
    await pilot.press("escape")
    await on_screen(pilot, CircleScreen, "the circle again")
    screen = app.screen
    assert isinstance(screen, CircleScreen)
    screen.action_invite("relay")
    await on_screen(pilot, InviteDialog, "the relay's invite")
    await pilot.press("escape")
    await on_screen(pilot, CircleScreen, "the circle, with its invites")
    await wait_for(pilot, lambda: len(screen.query_one("#invite-list", KeptList).options) == 2, "both invites")
    await pilot.press("down", "down", "down")          # Sam, Ben Okafor, Chloe Hart, Dan


async def role(app: MeshcareApp, pilot: Pilot[Any], daemon: FakeDaemon) -> None:
    await open_circle(app, pilot, daemon)
    await pilot.press("down", "down", "down")          # Dan
    await pilot.press("R")
    await on_screen(pilot, ConfirmDialog, "the role dialog")


async def availability(app: MeshcareApp, pilot: Pilot[Any], _daemon: FakeDaemon) -> None:
    await pilot.press("A")
    await on_screen(pilot, AvailabilityDialog, "the availability dialog")
    await pilot.press("down", "enter")                 # until 23:00 tonight (the fixed clock is morning)
    app.screen.query_one("#cap").focus()
    await pilot.press("down", "enter")                 # at most 1 call


async def resolve(app: MeshcareApp, pilot: Pilot[Any], daemon: FakeDaemon) -> None:
    await open_first_call(app, pilot, daemon)
    await pilot.press("x")
    await on_screen(pilot, ResolveDialog, "the resolve dialog")
    await pilot.press("down", "enter")                 # tomorrow


def fingerprint_of(who: str) -> str:
    """A fingerprint shaped like a real one (``meshcare.crypto.keys.fingerprint``: 12 groups of 5 digits)."""
    return fingerprint(bytes.fromhex(hid(f"fingerprint {who}")))


async def verify(app: MeshcareApp, pilot: Pilot[Any], daemon: FakeDaemon) -> None:

    async def circle_verify(r: api.CircleVerify) -> tuple[api.Result, list[api.Event]]:
        return api.CircleVerifyResult(member=r.member, name="Chloe Hart", their_fingerprint=fingerprint_of(CHLOE),
                                      my_fingerprint=fingerprint_of(ME), verified=False), []
    daemon.ops["circle.verify"] = circle_verify
    await open_circle(app, pilot, daemon)
    await pilot.press("down", "down")          # Sam first, then by name: Ben Okafor, Chloe Hart
    await pilot.press("v")
    await on_screen(pilot, VerifyDialog, "the verify dialog")


async def plan(app: MeshcareApp, pilot: Pilot[Any], _daemon: FakeDaemon) -> None:

    await pilot.press("p")
    await on_screen(pilot, PlanScreen, "the plan")
    await wait_for(pilot, lambda: "Where it is shared" in str(app.screen.query_one("#shares-title").render()),
                   "the plan from the daemon")


async def board(app: MeshcareApp, pilot: Pilot[Any], _daemon: FakeDaemon) -> None:

    await pilot.press("b")
    await on_screen(pilot, BoardScreen, "the board")


async def node(app: MeshcareApp, pilot: Pilot[Any], _daemon: FakeDaemon) -> None:

    await pilot.press("s")
    await on_screen(pilot, NodeScreen, "node status")
    screen = app.screen
    assert isinstance(screen, NodeScreen)
    await wait_for(pilot, lambda: screen.status is not None, "the daemon's status")


async def help_screen(app: MeshcareApp, pilot: Pilot[Any], _daemon: FakeDaemon) -> None:

    await pilot.press("question_mark")
    await on_screen(pilot, HelpScreen, "help")


async def gathering(app: MeshcareApp, pilot: Pilot[Any], _daemon: FakeDaemon) -> None:
    """The gatherings screen (g), the Tuesday group highlighted: agreements, how it goes, who is coming."""
    from meshcare.tui.screens.gatherings import GatheringsScreen

    await pilot.press("g")
    await on_screen(pilot, GatheringsScreen, "the gatherings")


async def new_call_arrives(app: MeshcareApp, pilot: Pilot[Any], daemon: FakeDaemon) -> None:
    """A call arrives while the screen is open: the banner (and the bell)."""
    call = make_call("dan-now", DAN, "Can't sleep, could someone text with me for a bit?", urgency="now",
                     needs=("listen",), age=10, reached=1)
    daemon.set_call(call, "new")
    await wait_for(pilot, lambda: bool(app.screen.query("Toast")), "the banner")


# --- the pictures ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shot:
    """One picture: its file name (without .svg), what it shows, the state and the steps to get there."""

    name: str
    title: str
    state: Callable[[], FakeState] | None = None
    steps: Step = nothing
    #: show the notifications (banners) raised on the way; most pictures leave them out
    banners: bool = False
    #: for the first-run setup (no daemon yet): which step, and what was typed
    setup_step: int = 0
    #: a size of its own, whatever ``--size`` says: a picture that is about one terminal size
    size: tuple[int, int] | None = None


SHOTS: tuple[Shot, ...] = (
    Shot("setup-name", "First run: your name", setup_step=1),
    Shot("setup-safety", "First run: not an emergency service, your outside contacts", setup_step=3),
    Shot("no-circle", "Home before you are in a circle", lambda: FakeState(circles=False)),
    Shot("home", "Home", guide_state),
    Shot("new-call-banner", "A new call arrives", guide_state, new_call_arrives, banners=True),
    Shot("call", "A call you claimed", claimed_call_state, open_first_call),
    Shot("offer", "Offering help", guide_state, offer_dialog),
    Shot("new-call", "Writing a call for support", guide_state, write_call),
    Shot("new-call-ladder", "Choosing who hears first", guide_state, choose_who_hears_first),
    Shot("new-call-sent", "After sending: where the call is", guide_state, send_call),
    Shot("checkin-reply", "Answering a check-in", guide_state, reply_dialog),
    Shot("checkins", "Check-ins, as a member", guide_state, checkins),
    Shot("checkins-facilitator", "Check-ins, as a facilitator: the tally", facilitator_state, checkins),
    Shot("circle", "A circle and its members", guide_state, open_circle),
    Shot("circle-facilitator", "A circle, as a facilitator: open invites", lambda: guide_state(role="facilitator"),
         circle_as_facilitator),
    Shot("role", "Making someone a facilitator", lambda: guide_state(role="facilitator"), role),
    Shot("verify", "Verifying someone in person", guide_state, verify),
    Shot("invite", "An invite with its QR code", lambda: guide_state(role="facilitator"), invite),
    Shot("invite-code", "The invite's code alone, at 80x24", lambda: guide_state(role="facilitator"), invite_code,
         size=(80, 24)),
    Shot("availability", "Available until a time, with a limit", guide_state, availability),
    Shot("resolve", "Resolving a call, with a follow-up", guide_state, resolve),
    Shot("plan", "Your support plan", plan_state, plan),
    Shot("board", "The mutual-aid board: needs and offers", guide_state, board),
    Shot("node", "Node status", guide_state, node),
    Shot("help", "Help", guide_state, help_screen),
    Shot("gatherings", "Gatherings: a support group coming up", guide_state, gathering),
)


async def _shoot_setup(shot: Shot, size: tuple[int, int]) -> str:
    def create(_name: str, _passphrase: bytes | None) -> str:
        raise BadInput("the screenshots never create an identity")
    app = SetupApp(SETUP_HOME, create)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        await pilot.press(*"Sam")
        if shot.setup_step >= 2:
            await pilot.press("enter")                 # the name
            await pilot.press("enter", "enter")        # no passphrase (both fields empty)
            await wait_for(pilot, lambda: app.step == "step-safety", "the last step")
            app.query_one("#contacts", TextArea).text = "\n".join(CONTACTS)
        await settle(pilot)
        return app.export_screenshot(title=f"meshcare: {shot.title}")


async def _shoot_app(shot: Shot, size: tuple[int, int], where: Path) -> str:
    assert shot.state is not None
    outside_contacts.write(where, CONTACTS)  # help shows them first, as it does for a real person
    daemon = FakeDaemon(where / "control.sock", shot.state())
    app = make_app(daemon.connect, home_label="Sam", prefs=Prefs(), prefs_home=where, clock=lambda: NOW,
                   backoff=Backoff(first=0.05, most=0.2), tick=None, tz=timezone.utc)
    try:
        async with app.run_test(size=size, notifications=shot.banners) as pilot:
            await wait_for(pilot, lambda: app.model.loaded, "the first snapshot")
            await settle(pilot)
            await shot.steps(app, pilot, daemon)
            await settle(pilot)
            return app.export_screenshot(title=f"meshcare: {shot.title}")
    finally:
        await daemon.stop()


async def shoot(shot: Shot, size: tuple[int, int] = DEFAULT_SIZE) -> str:
    """The SVG of one picture."""
    if shot.state is None:
        return await _shoot_setup(shot, size)
    where = Path(tempfile.mkdtemp(prefix="mc-shots-", dir="/tmp"))  # short: a Unix socket path has a limit
    try:
        return await _shoot_app(shot, size, where)
    finally:
        shutil.rmtree(where, ignore_errors=True)


def render(names: Sequence[str] = (), out: Path = OUT, size: tuple[int, int] = DEFAULT_SIZE) -> list[Path]:
    """Render the pictures ``names`` (all when empty) into ``out`` as NAME.svg; return the files written.
    Raises BadInput for a name that is not a picture."""
    known = {s.name: s for s in SHOTS}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise BadInput(f"no picture called {', '.join(unknown)} (--list shows them)")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for shot in (known[n] for n in names) if names else SHOTS:
        svg = asyncio.run(shoot(shot, shot.size or size))
        path = out / f"{shot.name}.svg"
        path.write_text(svg, encoding="utf-8")
        written.append(path)
    return written


def parse_size(text: str) -> tuple[int, int]:
    """"100x30" -> (100, 30); at least 80x24, the smallest terminal the app is made for."""
    cols, sep, rows = text.lower().partition("x")
    if not sep or not cols.isdigit() or not rows.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not COLUMNSxROWS, e.g. 100x30")
    size = (int(cols), int(rows))
    if size[0] < 80 or size[1] < 24 or size[0] > 400 or size[1] > 200:
        raise argparse.ArgumentTypeError(f"{text}: the app is made for 80x24 and more (at most 400x200 here)")
    return size


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Render the user guide's screenshots from the real terminal UI, headless, against a fake "
                    "daemon with a fixed clock: the same code gives the same files.",
        epilog="Run it after changing a screen, then look at the pictures (git diff shows which changed).")
    parser.add_argument("names", nargs="*", metavar="NAME", help="pictures to render (default: all; see --list)")
    parser.add_argument("--out", type=Path, default=OUT, help=f"where the .svg files go (default: {OUT})")
    parser.add_argument("--size", type=parse_size, default=DEFAULT_SIZE,
                        help="terminal size, COLUMNSxROWS (default: 100x30)")
    parser.add_argument("--list", action="store_true", help="list the pictures and what each shows, then exit")
    args = parser.parse_args(argv)
    if args.list:
        for shot in SHOTS:
            print(f"{shot.name:<22} {shot.title}")
        return 0
    try:
        for path in render(args.names, args.out, args.size):
            print(path)
    except BadInput as exc:
        print(f"screenshots.py: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
