"""The meshcare terminal UI: a Textual app in its own process, a client of the daemon's control socket only.

Theory of operation
-------------------
``make_app(connect, ...)`` builds the app around an injected connector (the real socket in ``run``, a
fake daemon in the tests), the person's preferences and a clock, so every test runs it headless with
``App.run_test()`` and a fixed time. One exclusive worker runs ``session.follow``: it posts
``SnapshotArrived`` / ``EventsArrived`` / ``ConnectionLost`` messages, and their handlers apply them to
the pure ``Model`` (under ``batch_update``) and tell the screens to redraw. Requests go through
``Client`` in short workers (``act``), so a slow daemon never freezes a key press; a refusal is a calm
notification with the daemon's own words. Alerts from the model (a new call, "need support now")
become a banner and the terminal bell (unless the bell is off).

Nothing polls the daemon. One timer (``tick``, 30 s) redraws relative times ("3 min ago"); it does no
I/O. ``run(settings)`` is the entry point the launcher calls: it raises ``DaemonNotRunning`` when no
daemon answers for that data directory (the launcher decides what to do then).
"""

from __future__ import annotations

import asyncio
import logging
import logging.handlers
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from textual import work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen

from ..config import Settings
from ..control import api
from ..errors import ConfigError, DaemonUnavailable, ProtocolError, RequestFailed
from . import format as fmt
from . import prefs as prefs_file
from .client import Client, Connector, probe, unix_connector
from .commands import MeshcareCommands
from .model import Alert, Model
from .prefs import Prefs
from .session import Backoff, follow
from .themes import THEMES

log = logging.getLogger("meshcare.tui")
#: The TUI's own log in the data dir: errors a screen could only show briefly, kept for a bug report.
TUI_LOG = "tui.log"
#: Banners raised for one batch of events; more are summed up in one.
MAX_BANNERS = 3

R = TypeVar("R", bound=api.Result)


class SnapshotArrived(Message):
    """The daemon's whole state, after a (re)connect."""

    def __init__(self, snapshot: api.SnapshotResult) -> None:
        super().__init__()
        self.snapshot = snapshot


class EventsArrived(Message):
    """A batch of events, in order."""

    def __init__(self, events: list[api.Event]) -> None:
        super().__init__()
        self.events = events


class CareListArrived(Message):
    """A care list read again after a ``care.changed`` (``session.CARE_LISTS``), e.g. the boards."""

    def __init__(self, result: api.Result) -> None:
        super().__init__()
        self.result = result


class ConnectionLost(Message):
    """The event stream ended; the session is about to try again."""

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason


@dataclass(slots=True)
class CallDraft:
    """A call for support being written: kept by the app, so it survives leaving the screen, a refusal,
    and the daemon going away."""

    circle: str | None = None
    text: str = ""
    urgency: str = "today"
    needs: set[str] = field(default_factory=set)
    consent: set[str] = field(default_factory=set)
    consent_note: str = ""
    reach: str = ""
    ladder: str = "circle"
    chosen: str = ""
    ladder_name: str = ""          # for "my ladder": which of the person's ladders


class MeshcareApp(App[int]):
    """The terminal UI (see the module docstring); build it with ``make_app``."""

    CSS_PATH = Path(__file__).with_name("meshcare.tcss")  # absolute: subclasses elsewhere find it too
    TITLE = "meshcare"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    COMMANDS = App.COMMANDS | {MeshcareCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "new_call", "New call", show=False, id="new-call"),
        Binding("a", "toggle_availability", "Availability", show=False, id="availability"),
        Binding("A", "availability_until", "Available until...", show=False, id="availability-until"),
        Binding("question_mark", "help", "Help", id="help"),
        Binding("q", "quit", "Quit", show=False, id="quit"),
        Binding("k", "checkins", "Check-ins", show=False, id="checkins"),
        Binding("h", "all_calls", "Every call", show=False, id="all-calls"),
        Binding("j", "another_circle", "Join or start a circle", show=False, id="another-circle"),
        Binding("p", "plan", "Support plan", show=False, id="plan"),
        Binding("s", "node_status", "Node status", show=False, id="node-status"),
        Binding("comma", "settings", "Settings", show=False, id="settings"),
        Binding("g", "gatherings", "Gatherings", show=False, id="gatherings"),
        Binding("f", "care", "Follow-ups and care", show=False, id="care"),
        Binding("m", "requests", "Messages with facilitators", show=False, id="requests"),
        Binding("e", "library", "The circle's library", show=False, id="library"),
        Binding("b", "board", "Mutual-aid board", show=False, id="board"),
    ]

    daemon_state: reactive[str] = reactive("connecting", init=False)

    def __init__(self, connect: Connector, *, home_label: str = "", prefs: Prefs | None = None,
                 prefs_home: Path | None = None, clock: Callable[[], float] = time.time,
                 backoff: Backoff = Backoff(), glyphs: fmt.Glyphs = fmt.UNICODE, tick: float | None = 30.0,
                 tz: tzinfo | None = None) -> None:
        super().__init__()
        self.connect = connect
        self.client = Client(connect)
        self.model = Model()
        self.home_label = home_label
        self.prefs = prefs or Prefs()
        self.prefs_home = prefs_home
        self.clock = clock
        self.tz = tz
        self.backoff = backoff
        self.glyphs = glyphs
        self.tick = tick
        self.draft = CallDraft()
        self.lost_reason = ""
        self.bells = 0
        self.animation_level = "none"

    # --- life ------------------------------------------------------------------------------------

    def on_mount(self) -> None:
        from .screens.home import HomeScreen

        for theme in THEMES:
            self.register_theme(theme)
        self.theme = self.prefs.theme
        self.push_screen(HomeScreen())
        self.follow_events()
        if self.tick:
            self.set_interval(self.tick, self.refresh_screens)

    async def on_unmount(self) -> None:
        await self.client.close()

    def now(self) -> float:
        return self.clock()

    @work(exclusive=True, group="events", exit_on_error=False)
    async def follow_events(self) -> None:
        """The one worker that holds the event stream (``session.follow``)."""
        def snapshot(snap: api.SnapshotResult) -> None:
            self.post_message(SnapshotArrived(snap))

        def events(batch: list[api.Event]) -> None:
            self.post_message(EventsArrived(batch))

        def lost(reason: str) -> None:
            self.post_message(ConnectionLost(reason))

        def care(result: api.Result) -> None:
            self.post_message(CareListArrived(result))
        await follow(self.connect, snapshot, events, lost, on_care=care, backoff=self.backoff)

    def on_snapshot_arrived(self, message: SnapshotArrived) -> None:
        alerts = self.model.apply_snapshot(message.snapshot)
        self.daemon_state = "connected"
        self.refresh_screens()
        self.raise_alerts(alerts)
        self.read_stale_care()
        self.reread_care()

    def on_events_arrived(self, message: EventsArrived) -> None:
        from .screens.ladders import ladder_events, refresh_ladders

        before = self.model.version
        alerts = self.model.apply_all(message.events)
        if self.model.version != before:          # a batch of envelope events alone changes nothing shown
            with self.batch_update():
                self.refresh_screens()
        self.raise_alerts(alerts)
        self.ask_care()
        self.read_stale_care()
        if self.model.care_stale:
            self.reread_care()
        changed, new = ladder_events(message.events)
        if changed:                               # ladders are re-read with their ops (no view in the event)
            refresh_ladders(self, new)

    def ask_care(self) -> None:
        """Ask for the care objects ``care.changed`` events named (they carry no view), and redraw."""
        from .screens.gatherings import refresh_gathering

        for what, ident in self.model.take_care_wanted():
            if what == "gatherings":
                refresh_gathering(self, ident)

    def read_stale_care(self) -> None:
        """Follow-ups and safety timers are read with their list ops, not carried by events: read those
        a snapshot or a ``care.changed`` event made stale (screens/care.py)."""
        stale = self.model.care.take_stale()
        if stale:
            from .screens.care import read_care

            read_care(self, stale)
    def on_care_list_arrived(self, message: CareListArrived) -> None:
        alerts = self.model.apply_care(message.result)
        with self.batch_update():
            self.refresh_screens()
        self.raise_alerts(alerts)

    def on_connection_lost(self, message: ConnectionLost) -> None:
        self.lost_reason = message.reason
        self.daemon_state = "reconnecting" if self.model.loaded or self.daemon_state != "connecting" else "connecting"
        self.refresh_screens()

    def refresh_screens(self) -> None:
        """Tell every screen on the stack that can redraw to do so (the one on top shows at once)."""
        for screen in self.screen_stack:
            redraw = getattr(screen, "model_changed", None)
            if callable(redraw):
                redraw()

    def raise_alerts(self, alerts: list[Alert]) -> None:
        """Banners for ``alerts``; more than ``MAX_BANNERS`` at once (a catch-up, a burst) become one that
        counts them, so banners never cover the screen; the bell rings once per batch."""
        if len(alerts) > MAX_BANNERS:
            urgent = [a for a in alerts if a.bell]
            alerts = [Alert(f"{len(alerts)} new things need your attention",
                            f"{len(urgent)} of them new calls or \"need support now\" answers: "
                            "home lists them first." if urgent else "Home lists them.",
                            bell=bool(urgent), severity="warning" if urgent else "information")]
        rang = False
        for alert in alerts:
            self.notify(alert.message, title=alert.title, severity=alert.severity, timeout=12 if alert.bell else 6)
            if alert.bell and self.prefs.bell and not rang:
                self.ring()
                rang = True

    def ring(self) -> None:
        """The terminal bell (counted, so the tests can tell it rang)."""
        self.bells += 1
        self.bell()

    # --- requests --------------------------------------------------------------------------------

    async def ask(self, request: api.Request[R]) -> R | None:
        """Ask the daemon; on refusal or silence, tell the person calmly and return None."""
        try:
            return await self.client.ask(request)
        except RequestFailed as exc:
            self.notify(fmt.safe(exc.message), title="That did not go through", severity="warning", timeout=8)
        except (DaemonUnavailable, ProtocolError) as exc:
            self.notify(fmt.safe(str(exc)) + "\nNothing you wrote is lost: try again when it is back.",
                        title="The meshcare daemon is not answering", severity="error", timeout=8)
        except Exception:  # noqa: BLE001 - a bug here ends this request only, never silently
            log.exception("asking the daemon %r failed", request.OP)
            self.notify(f"An error in meshcare's screen stopped this ({TUI_LOG} in your data folder has the "
                        "details). Nothing you wrote is lost.", title="That did not go through",
                        severity="error", timeout=12)
        return None

    def act(self, request: api.Request[R], done: Callable[[R], Any] | None = None) -> None:
        """``ask`` in a worker (the UI stays responsive), then ``done(result)`` when it went through."""
        async def go() -> None:
            result = await self.ask(request)
            if result is not None and done is not None:
                done(result)
        self.run_worker(go(), group="requests", exit_on_error=False)

    def reread_care(self) -> None:
        """Re-read the care objects ``care.changed`` named (the event says what changed, the list op
        what it is now): private requests and each circle's library (screens/requests.py, library.py)."""
        from .screens.library import reread_library
        from .screens.requests import reread_requests

        reread_requests(self)
        reread_library(self)

    # --- actions ---------------------------------------------------------------------------------

    def action_new_call(self, circle: str | None = None) -> None:
        from .screens.new_call import NewCallScreen

        if not self.model.circles_in_order():
            self.notify("Join or create a circle first: your call goes to the people in it.", title="No circle yet")
            return
        self.push_screen(NewCallScreen(circle))

    def action_toggle_availability(self) -> None:
        if not self.model.circles_in_order():
            self.notify("You are in no circle yet.", title="Availability")
            return
        status = "away" if self.model.available() else "available"
        self.act(api.PresenceSet(status=status), self._presence_said)

    def action_availability_until(self) -> None:
        """Available until a chosen time, with a limit of calls if the person wants one (a dialog)."""
        from .screens.availability import AvailabilityDialog

        if not self.model.circles_in_order():
            self.notify("You are in no circle yet.", title="Availability")
            return

        def chosen(request: api.PresenceSet | None) -> None:
            if request is not None:
                self.act(request, self._presence_said)
        self.push_screen(AvailabilityDialog(self.now(), self.tz), chosen)

    def _presence_said(self, result: api.PresenceSetResult) -> None:
        from .screens.availability import availability_words

        where = ", ".join(fmt.safe(s.circle.name) for s in self.model.circles_in_order()
                          if s.circle.id in result.circles)
        if result.status == "available":
            self.notify(f"Your circle sees you are {availability_words(result, self.now(), self.tz)} ({where}).",
                        title="Available")
        else:
            self.notify(f"Your circle sees you are away ({where}).", title="Away")

    def action_help(self) -> None:
        from .screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def _open(self, kind: type[Screen[Any]]) -> None:
        """Push a fresh ``kind`` screen, unless it is the one on top already (its key pressed again)."""
        if not isinstance(self.screen, kind):
            self.push_screen(kind())

    def action_checkins(self) -> None:
        from .screens.checkins import CheckinsScreen

        self._open(CheckinsScreen)

    def action_gatherings(self) -> None:
        from .screens.gatherings import GatheringsScreen

        self._open(GatheringsScreen)

    def action_new_gathering(self) -> None:
        from .screens.gatherings import NewGatheringScreen

        if not self.model.circles_in_order():
            self.notify("Join or create a circle first: a gathering is for the people in it.", title="No circle yet")
            return
        self._open(NewGatheringScreen)

    def open_gathering(self, gathering: str) -> None:
        from .screens.gatherings import GatheringScreen

        self.push_screen(GatheringScreen(gathering))

    def action_plan(self) -> None:
        from .screens.plan import PlanScreen

        self._open(PlanScreen)

    def action_ladders(self) -> None:
        from .screens.ladders import LaddersScreen

        self._open(LaddersScreen)

    def action_node_status(self) -> None:
        from .screens.node import NodeScreen

        self._open(NodeScreen)

    def action_requests(self) -> None:
        from .screens.requests import RequestsScreen

        self._open(RequestsScreen)

    def action_library(self) -> None:
        from .screens.library import LibraryScreen

        self._open(LibraryScreen)

    def action_settings(self) -> None:
        from .screens.settings import SettingsScreen

        self._open(SettingsScreen)

    def action_care(self) -> None:
        from .screens.care import CareScreen

        self._open(CareScreen)
    def action_board(self) -> None:
        from .screens.board import BoardScreen

        self._open(BoardScreen)

    def open_need(self, need: str) -> None:
        """The board, with ``need`` highlighted."""
        from .screens.board import BoardScreen

        self.push_screen(BoardScreen(need))

    def action_another_circle(self) -> None:
        from .screens.actions import another_circle

        another_circle(self)

    def action_all_calls(self) -> None:
        from .screens.calls import CallsScreen

        if not isinstance(self.screen, CallsScreen):
            self.push_screen(CallsScreen())

    def open_call(self, call: str) -> None:
        from .screens.call import CallScreen

        self.push_screen(CallScreen(call))

    def open_circle(self, circle: str) -> None:
        from .screens.circle import CircleScreen

        self.push_screen(CircleScreen(circle))

    def reply_to(self, checkin: str, option: int, text: str = "") -> None:
        """Answer a check-in; thank the person, and offer to start a call after "need support now"."""
        def done(result: api.CheckinReplyResult) -> None:
            self.notify(f"Thank you, your answer \"{fmt.safe(result.option)}\" is in.", title="Check-in")
            if result.suggest_call:
                self.notify("If you want, you can ask your circle for support now: press n.",
                            title="You are not alone", timeout=15)
        self.act(api.CheckinReply(checkin=checkin, option=option, text=text), done)

    def save_prefs(self, prefs: Prefs) -> None:
        """Apply and keep the person's preferences (tui.toml in the data directory)."""
        self.prefs = prefs
        self.theme = prefs.theme
        if self.prefs_home is not None:
            try:
                prefs_file.save(self.prefs_home, prefs)
            except ConfigError as exc:
                self.notify(fmt.safe(str(exc)), title="Not saved", severity="warning")


def make_app(connect: Connector, *, home_label: str = "", prefs: Prefs | None = None,
             prefs_home: Path | None = None, clock: Callable[[], float] = time.time,
             backoff: Backoff = Backoff(), glyphs: fmt.Glyphs = fmt.UNICODE,
             tick: float | None = 30.0, tz: tzinfo | None = None) -> MeshcareApp:
    """The app, with everything it depends on passed in: ``connect`` opens a control connection,
    ``home_label`` names this node until its name is known, ``prefs`` (and ``prefs_home``, where
    they are saved; None: not saved), ``clock`` for relative times, ``backoff`` between reconnects,
    ``glyphs`` (``format.ASCII`` on the Linux console), ``tick`` seconds between redraws of relative
    times (None: never), ``tz`` for clock times a person picks ("until 23:00"; None: this computer's)."""
    return MeshcareApp(connect, home_label=home_label, prefs=prefs, prefs_home=prefs_home, clock=clock,
                       backoff=backoff, glyphs=glyphs, tick=tick, tz=tz)


def run(settings: Settings) -> int:
    """Open the terminal UI on the daemon of ``settings.home``; return the exit status.

    Raises DaemonNotRunning when no daemon listens on ``settings.control_path`` (the launcher may start
    one and call again), DaemonUnavailable when one is there but does not answer, BadInput when the
    socket path is too long.
    """
    asyncio.run(probe(settings.control_path))
    _log_to(settings.home / TUI_LOG)
    app = make_app(unix_connector(settings.control_path), home_label=str(settings.home),
                   prefs=prefs_file.load(settings.home), prefs_home=settings.home,
                   glyphs=fmt.glyphs_for(os.environ.get("TERM")))
    app.run()
    return app.return_code or 0


def _log_to(path: Path) -> None:
    """Warnings and errors of this TUI to ``path`` (1 MiB, one older file kept; mode 0600): the screen
    shows a calm line, the file keeps what a bug report needs. Text from others reaches it only as
    ``meshcare.text.for_log`` leaves it (the daemon's rule), via the messages the TUI writes."""
    try:
        handler = logging.handlers.RotatingFileHandler(path, maxBytes=1 << 20, backupCount=1, encoding="utf-8")
        os.chmod(path, 0o600)
    except OSError:
        return                    # a read-only data dir: the TUI still works, without its log
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("meshcare")
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
