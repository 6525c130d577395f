"""Care for the people who respond, and continuity for the people who called: the care screen (f), the
dialogs it and the call screen open, and the actions behind them.

* **Your load**, for your eyes only ("You took 4 calls in 7 days"), and "take me off for tonight" (z):
  away until tomorrow 08:00, the words say so.
* **Safety timer** when going in person: start it (g: every 10, 15, 20 or 30 minutes, a note for the
  facilitators), "I'm there" (t), "I'm OK" (o), end it (e); a countdown redrawn every second. Facilitators
  see others' timers, a silent one marked in words ("⚠ NO "I'm OK" since 21:40").
* **Follow-ups**: check-ins you were asked to do (d marks the highlighted one done), those you asked for,
  and, for facilitators, who does which and whether it is done (never what the call said).

After resolving a call, the call screen asks the caller "Would you like someone to check in tomorrow?"
(``FollowupDialog``) and thanks whoever else resolved it, with their load and one key (z) to take them
off for tonight. Every peer string is escaped (``fmt.safe``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Input, OptionList, Static

from ... import vocab
from ...control import api
from ...control.when import next_hour, tomorrow_morning
from .. import format as fmt
from ..care_model import countdown_words
from ..commands import Command
from ..widgets.lists import KeptList
from .base import MeshScreen
from .dialogs import ChoiceDialog, Dialog

if TYPE_CHECKING:
    from ..app import MeshcareApp

DAY = 86_400
#: The minutes a safety timer offers (one key each).
SAFETY_CHOICES = (10, 15, 20, 30)
#: The second check-in the follow-up dialog offers, in days.
AGAIN_DAYS = 4


# --- actions -----------------------------------------------------------------------------------------

def read_care(app: MeshcareApp, what: set[str]) -> None:
    """Read the care lists named in ``what`` again (after a snapshot, a ``care.changed``, a notice)."""
    if "followups" in what:
        app.act(api.FollowupList(all=True), lambda r: _set(app, followups=r.followups))
    if "safety" in what:
        app.act(api.SafetyList(all=False), lambda r: _set(app, timers=r.timers))


def _set(app: MeshcareApp, *, followups: tuple[api.Followup, ...] | None = None,
         timers: tuple[api.Timer, ...] | None = None) -> None:
    care = app.model.care
    before = (care.followups, care.timers)
    if followups is not None:
        care.set_followups(followups)
    if timers is not None:
        care.set_timers(timers)
    if (care.followups, care.timers) != before:       # an unchanged list redraws nothing
        app.model.version += 1
        app.refresh_screens()


def read_load(app: MeshcareApp) -> None:
    def done(result: api.LoadResult) -> None:
        app.model.care.load = result
        app.refresh_screens()
    app.act(api.Load(), done)


def load_words(load: api.LoadResult | None) -> str:
    """"You took 4 calls in the last 7 days; you hold 1 now." (only this person ever sees it)."""
    if load is None:
        return "Counting..."
    calls = "call" if load.took == 1 else "calls"
    text = f"You took {load.took} {calls} in the last {load.days} days"
    return text + (f"; you hold {load.holding} now." if load.holding else ".")


def off_tonight(app: MeshcareApp) -> None:
    """"Take me off for tonight": away until the next 08:00, in every circle."""
    until = next_hour(app.now(), vocab.OFF_TONIGHT_HOUR, app.tz)

    def done(_result: api.PresenceSetResult) -> None:
        app.notify(f"You're off until {fmt.clock_words(until, app.now(), app.tz)}: no calls will be asked of "
                   "you tonight. Rest well.", title="Off for tonight")
    app.act(api.PresenceSet(status="away", until=until), done)


def ask_followup(app: MeshcareApp, call: api.Call) -> None:
    """The caller's "would you like someone to check in tomorrow?" (default: whoever took the call)."""
    names = app.model.names(call.circle, dict(call.names))
    who = fmt.name_of(call.claimer, names) if call.claimer else None

    def chosen(answer: str | None) -> None:
        if answer in (None, "no"):
            return
        due = tomorrow_morning(app.now(), vocab.TOMORROW_HOUR, tz=app.tz)
        again = due + AGAIN_DAYS * DAY if answer == "again" else None

        def done(result: api.FollowupAskResult) -> None:
            f = result.followup
            app.model.care.followups[f.call] = f
            more = f" and again {fmt.clock_words(again, app.now(), app.tz)}" if again else ""
            app.notify(f"{fmt.safe(f.who_name or 'They')} will check in on you "
                       f"{fmt.clock_words(f.due, app.now(), app.tz)}{more}. The facilitators see only who and "
                       "when.", title="Follow-up")
        app.act(api.FollowupAsk(call=call.id, due=due, again=again), done)
    if who is None:
        app.notify("Nobody took this call, so there is nobody to ask by default; `meshcare followup ask --who` "
                   "names someone.", title="Follow-up")
        return
    app.push_screen(FollowupDialog(who), chosen)


def after_resolve(app: MeshcareApp, call: api.Call) -> None:
    """Right after this person resolved ``call``: ask the caller about a check-in; thank a responder,
    with their own load, and point at the one key that takes them off for tonight (z, on the call's
    screen and on the care screen), without covering the call."""
    if call.mine:
        ask_followup(app, call)
        return

    def loaded(load: api.LoadResult) -> None:
        app.model.care.load = load
        app.notify(f"Thank you for being there. {load_words(load)} Only you see this. Press z to take yourself "
                   f"off for tonight (until {vocab.OFF_TONIGHT_HOUR:02d}:00).", title="Take care of yourself",
                   timeout=15)
        app.refresh_screens()
    app.act(api.Load(), loaded)


def start_safety(app: MeshcareApp, circle: str | None = None) -> None:
    """Start a safety timer in ``circle`` (None: this person's only circle, or ask which)."""
    if app.model.care.my_timer() is not None:
        app.notify("Your safety timer is running already: f shows it.", title="Safety timer")
        return
    circles = app.model.circles_in_order()
    if circle is None:
        if not circles:
            app.notify("You are in no circle yet.", title="Safety timer")
            return
        if len(circles) > 1:
            app.push_screen(ChoiceDialog("Safety timer", "Whose facilitators keep an eye on it?",
                                         [(s.circle.id, fmt.safe(s.circle.name)) for s in circles]),
                            lambda chosen: start_safety(app, chosen) if chosen else None)
            return
        circle = circles[0].circle.id

    def chosen(answer: tuple[int, str] | None) -> None:
        if answer is None or circle is None:
            return
        every, note = answer

        def done(result: api.SafetyStartResult) -> None:
            app.model.care.timers[result.timer.id] = result.timer
            app.refresh_screens()
            app.notify(f"Timer on: press t when you arrive and o every {every} minutes (f shows the countdown). "
                       f"If nothing comes, the {result.facilitators} facilitator(s) of the circle are alerted, "
                       "nobody else.", title="Safety timer")
        app.act(api.SafetyStart(circle=circle, every=every, note=note), done)
    app.push_screen(SafetyDialog(), chosen)


def safety_sign(app: MeshcareApp, status: str) -> None:
    """"I'm there", "I'm OK" or "end" on this person's running timer."""
    timer = app.model.care.my_timer()
    if timer is None:
        app.notify("You have no safety timer running; g starts one.", title="Safety timer")
        return

    def done(result: api.SafetyPingResult) -> None:
        app.model.care.timers[result.timer.id] = result.timer
        app.refresh_screens()
        words = ("Timer ended. Thank you for letting them know you're OK." if status == "end"
                 else f"Sent \"{vocab.SAFETY_WORDS[status]}\".")
        app.notify(words, title="Safety timer")
    app.act(api.SafetyPing(status=status, timer=timer.id), done)


# --- dialogs -----------------------------------------------------------------------------------------

class FollowupDialog(ChoiceDialog):
    """"Would you like someone to check in tomorrow?" with whoever took the call named."""

    def __init__(self, who: str) -> None:
        super().__init__("Follow-up", f"{vocab.FOLLOWUP_QUESTION} {who} took your call; only you decide.",
                         [("yes", f"Yes, {who} checks in tomorrow"),
                          ("again", f"Yes, tomorrow and again in {AGAIN_DAYS} days"),
                          ("no", "No, thank you")])


class SafetyDialog(Dialog[tuple[int, str]]):
    """How often to say "I'm OK" (one key each), and a note for the facilitators."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        *[Binding(str(i), f"every({i})", f"Every {m} min", show=False) for i, m in enumerate(SAFETY_CHOICES, 1)],
    ]

    def compose(self) -> ComposeResult:
        with Vertical(classes="box"):
            yield Static("[b]Safety timer[/b]\nGoing to someone in person? Say \"I'm there\" when you arrive and "
                         "\"I'm OK\" every few minutes. If nothing comes, the circle's facilitators are alerted, "
                         "nobody else.")
            for i, minutes in enumerate(SAFETY_CHOICES, 1):
                yield Button(f"{i}  every {minutes} minutes", id=f"every-{minutes}", classes="choice", compact=True)
            yield Input(placeholder="for the facilitators: where, with whom (optional)", max_length=vocab.MAX_NOTE,
                        id="note", compact=True)
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel", compact=True)

    def action_every(self, number: int) -> None:
        if isinstance(self.focused, Input):
            return
        self.dismiss((SAFETY_CHOICES[number - 1], self.query_one("#note", Input).value.strip()))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id and event.button.id.startswith("every-"):
            self.dismiss((int(event.button.id.removeprefix("every-")), self.query_one("#note", Input).value.strip()))
        else:
            self.dismiss(None)


# --- the screen --------------------------------------------------------------------------------------

class CareScreen(MeshScreen):
    """Load, safety timer and follow-ups (the module docstring)."""

    PURPOSE = ("Care: your own load (only you see it), off for tonight (z), a safety timer when you go in "
               "person (g, then t \"I'm there\", o \"I'm OK\", e end), and follow-up check-ins (d: done).")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("g", "safety_start", "Safety timer", id="safety-start"),
        Binding("t", "safety('there')", "I'm there", id="safety-there"),
        Binding("o", "safety('ok')", "I'm OK", id="safety-ok"),
        Binding("e", "safety('end')", "End timer", show=False, id="safety-end"),
        Binding("d", "done", "Check-in done", id="followup-done"),
        Binding("z", "off_tonight", "Off tonight", id="off-tonight"),
    ]

    def body(self) -> ComposeResult:
        with VerticalScroll(id="care"):
            yield Static("", id="load")
            yield Static("[b]Safety timer[/b]", classes="section-title")
            yield Static("", id="timers")
            yield Static("[b]Follow-up check-ins[/b]", classes="section-title")
            yield KeptList(id="followups")

    def on_mount(self) -> None:
        super().on_mount()
        read_load(self.mc)
        read_care(self.mc, {"followups", "safety"})
        self.set_interval(1.0, self._tick)
        self.query_one("#followups", KeptList).focus()

    def _tick(self) -> None:
        if self.mc.model.care.timers:
            self.refresh_view()

    def refresh_view(self) -> None:
        care, now = self.mc.model.care, self.mc.now()
        self.query_one("#load", Static).update(f"[b]Your load[/b]\n{fmt.escape(load_words(care.load))} "
                                               "Only you see this. z takes you off for tonight.")
        self.query_one("#timers", Static).update(self._timers_text(now))
        rows = [(f.call, self._followup_row(f, now)) for f in
                sorted(care.followups.values(), key=lambda f: (f.todo is None, not f.mine, f.due))]
        listing = self.query_one("#followups", KeptList)
        listing.set_items(rows or [("none", "No follow-up check-ins.")])

    def _timers_text(self, now: float) -> str:
        care = self.mc.model.care
        lines = []
        mine = care.my_timer()
        if mine is not None:
            there = " You said you're there." if mine.there_at is not None else " Press t when you arrive."
            lines.append(f"Yours ({fmt.safe(mine.circle_name)}), every {mine.every} min: "
                         f"{countdown_words(mine, now)}.{there} o: I'm OK, e: end.")
        for t in care.timers.values():
            if t.mine or t.ended_at is not None:
                continue
            who = fmt.safe(t.name or fmt.short_id(t.person))
            state = (f"⚠ NO \"I'm OK\" since {fmt.clock_words(t.last, now, self.mc.tz)}: try to reach them"
                     if t.overdue else f"fine, {countdown_words(t, now)}")
            note = f" ({fmt.safe(t.note)})" if t.note else ""
            lines.append(f"{who} in {fmt.safe(t.circle_name)}{note}: {state}")
        return "\n".join(lines) or "None running. g starts one before you go to someone in person."

    def _followup_row(self, f: api.Followup, now: float) -> str:
        asker, who = fmt.safe(f.asker_name or fmt.short_id(f.asker)), fmt.safe(f.who_name or fmt.short_id(f.who))
        head = (f"Check in on {asker}" if f.mine else f"{who} checks in on you" if f.asked
                else f"{who} checks in on {asker}")
        if f.todo is not None:
            state = "⚠ due now" + (" (the second one)" if f.todo == "again" else "") + (", d: done" if f.mine else "")
        elif f.done_at is None:
            state = f"due {fmt.clock_words(f.due, now, self.mc.tz)}"
        elif f.again is not None and f.again_done_at is None:
            state = f"✓ done; again {fmt.clock_words(f.again, now, self.mc.tz)}"
        else:
            state = "✓ done"
        return f"{head} ({fmt.safe(f.circle_name)}): {state}"

    def _selected(self) -> api.Followup | None:
        found = next(self.query("#followups").results(KeptList), None)
        ident = None if found is None else found.selected_id
        return self.mc.model.care.followups.get(ident) if ident else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        care = self.mc.model.care
        if action == "safety_start":
            return care.my_timer() is None
        if action == "safety":
            return care.my_timer() is not None
        if action == "done":
            f = self._selected()
            return f is not None and f.mine and (f.done_at is None or (f.again is not None and f.again_done_at is None))
        return super().check_action(action, parameters)

    def on_option_list_option_highlighted(self, _event: OptionList.OptionHighlighted) -> None:
        self.sync_footer()

    def action_safety_start(self) -> None:
        start_safety(self.mc)

    def action_safety(self, status: str) -> None:
        safety_sign(self.mc, status)

    def action_off_tonight(self) -> None:
        off_tonight(self.mc)

    def action_done(self) -> None:
        f = self._selected()
        if f is None or not f.mine:
            self.notify("Highlight a check-in you were asked to do.", title="Follow-up")
            return
        name = fmt.safe(f.asker_name or "them")

        def done(result: api.FollowupDoneResult) -> None:
            self.mc.model.care.followups[result.followup.call] = result.followup
            self.mc.refresh_screens()
            self.notify(f"Marked your check-in with {name} done. Thank you.", title="Follow-up")
        self.mc.act(api.FollowupDone(call=f.call), done)

    def palette_commands(self) -> list[Command]:
        return [Command("safety: start a safety timer before going in person", "The facilitators are alerted "
                        "if you go silent", self.action_safety_start),
                Command("safety: I'm there", "You arrived", lambda: self.action_safety("there")),
                Command("safety: I'm OK", "Resets your timer", lambda: self.action_safety("ok")),
                Command("safety: end my timer", "You are done and fine", lambda: self.action_safety("end")),
                Command("off tonight: take me off for tonight", f"Away until {vocab.OFF_TONIGHT_HOUR:02d}:00",
                        self.action_off_tonight)]
