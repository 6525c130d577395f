"""Home: open calls first, then gatherings coming up, check-ins waiting for this person's answer, then their
circles.

The one thing that matters most (a call that needs someone) is at the top, already highlighted, so
``c`` claims it and Enter opens it without a single arrow key. A node in no circle yet gets a calm
empty state instead: create a circle, or join one with an invite token (the second half of the first
run, after the launcher's setup).
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, OptionList, Static

from ...control import api
from .. import format as fmt
from .. import render
from ..commands import Command
from ..widgets.lists import KeptList
from ..widgets.upcoming import UpcomingGatherings
from .base import MeshScreen
from .actions import claim, create_circle, join_circle, offer, reply
from .board import HomeNeeds

#: Resolved calls home lists (the latest); the rest are on the calls screen (h).
RESOLVED_ON_HOME = 3

EMPTY_TEXT = ("[b]You are not in a circle yet.[/b]\n\n"
              "A circle is a few people who look out for each other: a call for support you make here goes "
              "to them, straight from this computer to theirs, and to nobody else.\n\n"
              "Start one and invite people you trust, or join one with the invite someone gave you.\n\n"
              "meshcare is not an emergency service. If someone is in danger right now, call your local "
              "emergency number.")


class HomeScreen(MeshScreen):
    """Open calls, check-ins waiting for this person, their circles and availability."""

    PURPOSE = ("Home: calls for support (the ones that need someone first), gatherings coming up (g lists "
               "them), open needs and offers (b shows the board), check-ins waiting for your answer, your circles "
               "with who is online, and whether you are available. j joins or starts "
               "another circle at any time.")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("c", "claim", "Claim", id="claim"),
        Binding("o", "offer", "Offer", show=False, id="offer"),
        Binding("r", "reply", "Reply", id="reply"),
        Binding("a", "available", "Available", id="availability-home"),
        Binding("n", "new_call", "New call", id="new-call-home"),
        Binding("L", "app.ladders", "My ladders", show=False, id="ladders-home"),
        Binding("q", "app.quit", "Quit", id="quit-home"),
    ]

    def body(self) -> ComposeResult:
        with VerticalScroll(id="home"):
            yield Static("Connecting to your meshcare daemon...", id="loading")
            with Vertical(id="empty"):
                yield Static(EMPTY_TEXT, id="empty-text")
                with Horizontal(classes="buttons"):
                    yield Button("Create a circle", id="create-circle", variant="primary")
                    yield Button("Join with an invite", id="join-circle")
                yield Static("", id="joining")
            with Vertical(id="main"):
                yield Static("[b]Calls for support[/b]", classes="section-title", id="calls-title")
                yield KeptList(id="calls")
                yield Static("", classes="muted", id="earlier-calls")
                yield Static("No calls for support right now.", id="no-calls", classes="muted")
                yield UpcomingGatherings(id="home-gatherings")
                yield HomeNeeds(id="needs")
                yield Static("[b]Check-ins waiting for your answer[/b]", classes="section-title")
                yield KeptList(id="checkins")
                yield Static("None waiting for you (k lists every check-in).", id="no-checkins", classes="muted")
                yield Static("[b]Your circles[/b]", classes="section-title")
                yield KeptList(id="circles")
                yield Static("", id="availability", classes="muted")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#calls", KeptList).focus()

    def refresh_view(self) -> None:
        model, now, g = self.mc.model, self.mc.now(), self.mc.glyphs
        width = self.size.width or 80
        loading = self.query_one("#loading", Static)
        loading.display = not model.loaded
        if not model.loaded:
            reason = f"\n(last try: {fmt.safe(self.mc.lost_reason)})" if self.mc.lost_reason else ""
            loading.update(f"Connecting to your meshcare daemon...{reason}")
        circles = model.circles_in_order()
        empty = model.loaded and not circles
        self.query_one("#empty").display = empty
        self.query_one("#main").display = model.loaded and not empty
        if empty:
            self._show_joining()
            return
        calls, earlier = model.home_calls(RESOLVED_ON_HOME)
        open_count = sum(1 for c in calls if c.status == "open")
        title = "[b]Calls for support[/b]" + (f" ({open_count} need{'s' if open_count == 1 else ''} someone)"
                                              if open_count else "")
        self.query_one("#calls-title", Static).update(title)
        self.query_one("#calls", KeptList).set_items((c.id, render.call_row(model, c, now, g, width)) for c in calls)
        self.query_one("#calls").display = bool(calls)
        self.query_one("#no-calls").display = not calls
        more = self.query_one("#earlier-calls", Static)
        more.update(f"and {earlier} earlier resolved call{'s' if earlier != 1 else ''}: h shows every call"
                    if earlier else "")
        more.display = bool(earlier)
        self.query_one(UpcomingGatherings).refresh_view()
        self.query_one(HomeNeeds).show(model, now, g, width)
        waiting = model.checkins_for_me()
        self.query_one("#checkins", KeptList).set_items((c.id, render.checkin_row(model, c, now, g)) for c in waiting)
        self.query_one("#checkins").display = bool(waiting)
        self.query_one("#no-checkins").display = not waiting
        self.query_one("#circles", KeptList).set_items((s.circle.id, render.circle_row(model, s, now, g))
                                                       for s in circles)
        available = model.available()
        self.query_one("#availability", Static).update(
            ("You are [b]available[/b] to help" if available else "You are [b]not marked available[/b]")
            + ": press a to change it.")

    def _show_joining(self) -> None:
        joining = list(self.mc.model.joining.values())
        lines = []
        for j in joining:
            name = fmt.safe(j.circle_name)
            if j.status == "waiting":
                lines.append(f"Asked to join {name}: a member's computer lets you in when it is online.")
            else:
                lines.append(f"{name} did not let you in ({j.refused or 'refused'}): ask for a new invite.")
        self.query_one("#joining", Static).update("\n".join(lines))

    # --- the selection ---------------------------------------------------------------------------

    def _selected_in(self, ident: str) -> str | None:
        """The highlighted item's id in the list ``ident`` (None before the lists exist or when it is empty)."""
        lists = self.query(ident).results(KeptList)
        found = next(lists, None)
        return None if found is None else found.selected_id

    def _selected_call(self) -> api.Call | None:
        ident = self._selected_in("#calls")
        return self.mc.model.calls.get(ident) if ident else None

    def _selected_checkin(self) -> api.Checkin | None:
        ident = self._selected_in("#checkins")
        return self.mc.model.checkins.get(ident) if ident else None

    def on_option_list_option_highlighted(self, _event: OptionList.OptionHighlighted) -> None:
        self.sync_footer()  # claim and offer follow the highlighted call

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Keep out of the footer what there is nothing to act on: claim and offer need someone else's
        call that is not resolved, reply a check-in waiting for this person, availability and a new call
        a circle (the empty home offers its two buttons instead)."""
        if action in ("claim", "offer"):
            call = self._selected_call()
            return call is not None and not call.mine and call.status != "resolved"
        if action == "reply":
            return self._selected_checkin() is not None
        if action in ("available", "new_call"):
            return bool(self.mc.model.circles_in_order())
        return super().check_action(action, parameters)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        ident = event.option.id
        if ident is None:
            return
        if event.option_list.id == "calls":
            self.mc.open_call(ident)
        elif event.option_list.id == "checkins":
            self.action_reply()
        elif event.option_list.id == "circles":
            self.mc.open_circle(ident)

    # --- actions ---------------------------------------------------------------------------------

    def action_claim(self) -> None:
        call = self._selected_call()
        if call is None:
            self.notify("There is no call to claim.", title="Claim")
            return
        claim(self.mc, call)

    def action_offer(self) -> None:
        call = self._selected_call()
        if call is None:
            self.notify("There is no call to offer help on.", title="Offer")
            return
        offer(self.mc, call)

    def action_reply(self) -> None:
        checkin = self._selected_checkin()
        if checkin is None:
            self.notify("No check-in is waiting for your answer (k lists every check-in).", title="Check-ins")
            return
        reply(self.mc, checkin)

    def action_available(self) -> None:
        self.mc.action_toggle_availability()

    def action_new_call(self) -> None:
        self.mc.action_new_call()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "create-circle":
            create_circle(self.mc)
        elif event.button.id == "join-circle":
            join_circle(self.mc)

    def palette_commands(self) -> list[Command]:
        out = []
        call = self._selected_call()
        if call is not None:
            out += [Command("claim: I have the selected call", "Tell the circle you are on it", self.action_claim),
                    Command("offer: offer help on the selected call", "I can call, come over, listen, text",
                            self.action_offer),
                    Command("open: the selected call", "Its thread, offers and wishes",
                            lambda: self.mc.open_call(call.id))]
        if self._selected_checkin() is not None:
            out.append(Command("reply: answer the selected check-in", "One key per answer", self.action_reply))
        return out
