"""My ladders: who this person would like to hear from first when they call, who asked them, and who
not to involve.

Why a screen of its own: a ladder is a consent-based pod map. Putting someone on it asks them; they
say yes or no (y / n here, on the requests made to this person); only people who said yes are ever
used when a call is built from a ladder. The "who not to involve" list is kept on this computer only:
none of this person's calls reaches those people, at any step. Everything shown comes from the
``ladder.*`` and ``avoid.*`` ops, read when the screen opens and again when a ``care.changed`` event
about ladders arrives (``refresh_ladders``, which also raises a banner for a new request to this person).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, cast

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Input, Label, Select, Static

from ... import vocab
from ...control import api
from .. import format as fmt
from ..commands import Command
from ..model import Alert
from ..widgets.lists import KeptList
from .base import MeshScreen
from .dialogs import ConfirmDialog, Dialog

if TYPE_CHECKING:
    from ..app import MeshcareApp


def refresh_ladders(app: MeshcareApp, announce: frozenset[str] = frozenset()) -> None:
    """Read this person's ladders, the requests made to them and their avoid list into the model, then
    redraw; a banner for each request in ``announce`` (ids from ``care.changed`` "new") made to them."""
    model = app.model

    def got_requests(result: api.LadderRequestsResult) -> None:
        model.ladder_requests = result.requests
        alerts = [Alert("Ladder request", f"{fmt.safe(api.asked_words(r), 200)} Accept? Press L for your ladders, "
                                          "then y or n.")
                  for r in result.requests if r.id in announce and not r.mine and r.state == "pending"]
        app.refresh_screens()
        app.raise_alerts(alerts)

    def got_ladders(result: api.LadderListResult) -> None:
        model.ladders = result.ladders
        app.refresh_screens()

    def got_avoid(result: api.AvoidListResult) -> None:
        model.avoid = result.avoid
        app.refresh_screens()
    app.act(api.LadderRequests(), got_requests)
    app.act(api.LadderList(), got_ladders)
    app.act(api.AvoidList(), got_avoid)


def ladder_events(events: list[api.Event]) -> tuple[bool, frozenset[str]]:
    """Whether a batch of events changes ladders, and the ids of new ladder requests or answers in it."""
    mine = [e for e in events if isinstance(e, api.CareChangedEvent) and e.what == "ladders"]
    return bool(mine), frozenset(e.id for e in mine if e.change == "new")


def _members(app: MeshcareApp, circle: str) -> list[tuple[str, str]]:
    state = app.model.circles.get(circle)
    if state is None:
        return []
    return sorted(((fmt.safe(m.name, 40), m.id) for m in state.members.values() if not m.me and m.role != "relay"),
                  key=lambda pair: pair[0].casefold())


class PersonDialog(Dialog[api.Request[Any]]):
    """Pick a circle and a person: for a place on a ladder (with its name, step and a note) or for the
    "who not to involve" list. Answers the request to send."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, circles: list[tuple[str, str]], avoid: bool = False) -> None:
        super().__init__()
        self.circles, self.avoid = circles, avoid

    @property
    def mc(self) -> MeshcareApp:
        return cast("MeshcareApp", self.app)

    def compose(self) -> ComposeResult:
        first = self.circles[0][1]
        with Vertical(classes="box wide"):
            if self.avoid:
                yield Static("[b]Who not to involve[/b]\nNone of your calls in that circle will reach them, at any "
                             "step, the whole circle included. Only this computer knows; nobody is told.")
            else:
                yield Static("[b]Ask someone to be on your ladder[/b]\nThey get a request and say yes or no. Only "
                             "people who said yes are used when you call.")
            yield Label("Circle")
            yield Select(self.circles, value=first, allow_blank=False, id="circle", compact=True)
            yield Label("Who")
            yield Select(_members(self.mc, first), id="member", compact=True, prompt="choose someone...")
            if not self.avoid:
                yield Label("Which ladder (e.g. calls, practical)")
                yield Input(vocab.DEFAULT_LADDER, id="ladder", max_length=vocab.MAX_LADDER_NAME)
                yield Label("Their step")
                yield Select([(f"{api.ORDINALS[i]} contact", i) for i in range(vocab.MAX_LADDER_STEPS)], value=0,
                             allow_blank=False, id="step", compact=True)
                yield Label("A few words to them (optional)")
                yield Input("", id="note", max_length=vocab.MAX_NOTE)
            with Horizontal(classes="buttons"):
                yield Button("Do not involve them" if self.avoid else "Ask them", id="yes", variant="primary",
                             compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "circle" and isinstance(event.value, str):
            self.query_one("#member", Select).set_options(_members(self.mc, event.value))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id != "yes":
            self.dismiss(None)
            return
        circle, member = self.query_one("#circle", Select).value, self.query_one("#member", Select).value
        if not isinstance(circle, str) or not isinstance(member, str):
            self.notify("Choose someone first.", title="Ladders")
            return
        if self.avoid:
            self.dismiss(api.AvoidAdd(circle=circle, member=member))
            return
        step = self.query_one("#step", Select).value
        self.dismiss(api.LadderAdd(circle=circle, member=member,
                                   ladder=self.query_one("#ladder", Input).value.strip() or vocab.DEFAULT_LADDER,
                                   step=step if isinstance(step, int) else 0,
                                   note=self.query_one("#note", Input).value))


class LaddersScreen(MeshScreen):
    """Requests to this person (y / n), their ladders (+ to ask someone, d to take them off) and the
    "who not to involve" list (x to add someone, d to take them off)."""

    PURPOSE = ("My ladders: who you would like to hear from first when you call (they say yes or no first), "
               "requests others made to you (y / n), and who not to involve (kept on this computer only).")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer('accept')", "Yes", id="ladder-yes"),
        Binding("n", "answer('decline')", "No", id="ladder-no"),
        Binding("plus", "add", "Ask someone", id="ladder-add"),
        Binding("x", "avoid", "Do not involve...", id="ladder-avoid"),
        Binding("d", "remove", "Take off", id="ladder-remove"),
    ]

    def body(self) -> ComposeResult:
        with VerticalScroll(id="ladders"):
            yield Static("[b]Requests to you[/b]", classes="section-title")
            yield KeptList(id="requests")
            yield Static("Nobody has asked you to be on their ladder.", id="no-requests", classes="muted")
            yield Static("[b]Your ladders[/b]", classes="section-title")
            yield KeptList(id="rungs")
            yield Static("You have no ladders yet: + asks someone to be on one.", id="no-rungs", classes="muted")
            yield Static("[b]Who not to involve[/b] (only this computer knows)", classes="section-title")
            yield KeptList(id="avoid")
            yield Static("Nobody: your calls may reach everyone in your circles.", id="no-avoid", classes="muted")
            with Horizontal(classes="buttons"):
                yield Button("Ask someone (+)", id="add", variant="primary")
                yield Button("Do not involve... (x)", id="avoid-add")

    def on_mount(self) -> None:
        super().on_mount()
        refresh_ladders(self.mc)
        self.query_one("#requests", KeptList).focus()

    def refresh_view(self) -> None:
        model, sep = self.mc.model, self.mc.glyphs.sep
        requests = self.query_one("#requests", KeptList)
        requests.set_items((r.id, f"{fmt.safe(api.asked_words(r), 120)} {sep} {fmt.safe(r.circle_name, 40)}"
                                  + (f" {sep} \"{fmt.safe(r.text, 80)}\"" if r.text else "")
                                  + f" {sep} {vocab.LADDER_ANSWER_WORDS.get(r.state, r.state)}")
                           for r in model.ladder_requests)
        rows = [(rung.request, f"{fmt.safe(ladder.name, 40)} {sep} {api.ORDINALS[rung.step]} contact {sep} "
                               f"{fmt.safe(rung.name, 40) or 'someone'} {sep} "
                               f"{vocab.LADDER_STATE_WORDS.get(rung.state, rung.state)}"
                               + (f" {sep} {fmt.safe(ladder.circle_name, 40)}" if len(model.circles) > 1 else ""))
                for ladder in model.ladders for rung in ladder.rungs]
        self.query_one("#rungs", KeptList).set_items(rows)
        self.query_one("#avoid", KeptList).set_items(
            (f"{e.circle}:{e.member}",
             f"{fmt.safe(e.name, 40) or 'someone who left'} {sep} {fmt.safe(e.circle_name, 40)}") for e in model.avoid)
        for list_id, empty_id, shown in (("#requests", "#no-requests", bool(model.ladder_requests)),
                                         ("#rungs", "#no-rungs", bool(rows)),
                                         ("#avoid", "#no-avoid", bool(model.avoid))):
            self.query_one(list_id).display = shown
            self.query_one(empty_id).display = not shown

    # --- actions ---------------------------------------------------------------------------------

    def _focused_list(self) -> str | None:
        focused = self.focused
        return focused.id if isinstance(focused, KeptList) else None

    def action_answer(self, answer: str) -> None:
        ident = self.query_one("#requests", KeptList).selected_id
        if ident is None:
            self.notify("There is no request to answer.", title="Ladders")
            return
        request = next((r for r in self.mc.model.ladder_requests if r.id == ident), None)
        who = fmt.safe(request.requester_name if request else None, 40) or "them"

        def done(_result: api.LadderAnswerResult) -> None:
            self.notify(f"You said yes to {who}." if answer == "accept" else
                        f"You said no to {who}; you can change your mind later.", title="Ladders")
            refresh_ladders(self.mc)
        self.mc.act(api.LadderAnswer(request=ident, answer=answer), done)

    def _circles(self) -> list[tuple[str, str]]:
        return [(fmt.safe(s.circle.name, 40), s.circle.id) for s in self.mc.model.circles_in_order()]

    def _ask(self, avoid: bool) -> None:
        circles = self._circles()
        if not circles:
            self.notify("Join or start a circle first.", title="Ladders")
            return

        def asked(result: api.LadderAddResult) -> None:
            who = fmt.safe(result.request.member_name, 40) or "them"
            self.notify(f"Asked {who}: pending until they answer.", title="Ladders")
            refresh_ladders(self.mc)

        def avoided(result: api.AvoidAddResult) -> None:
            who = fmt.safe(result.entry.name, 40) or "They"
            self.notify(f"{who} will not receive your calls in {fmt.safe(result.entry.circle_name, 40)}.",
                        title="Who not to involve")
            refresh_ladders(self.mc)

        def chosen(request: api.Request[Any] | None) -> None:
            if isinstance(request, api.LadderAdd):
                self.mc.act(request, asked)
            elif isinstance(request, api.AvoidAdd):
                self.mc.act(request, avoided)
        self.mc.push_screen(PersonDialog(circles, avoid=avoid), chosen)

    def action_add(self) -> None:
        self._ask(False)

    def action_avoid(self) -> None:
        self._ask(True)

    def action_remove(self) -> None:
        which = self._focused_list()
        if which == "avoid":
            ident = self.query_one("#avoid", KeptList).selected_id
            if ident is None:
                return
            circle, member = ident.split(":", 1)

            def removed(yes: bool | None) -> None:
                if yes:
                    self.mc.act(api.AvoidRemove(circle=circle, member=member), lambda _r: refresh_ladders(self.mc))
            self.mc.push_screen(ConfirmDialog("Take them off your \"who not to involve\" list? Your later calls "
                                              "may reach them again.", "Take off"), removed)
            return
        ident = self.query_one("#rungs", KeptList).selected_id
        if which != "rungs" or ident is None:
            self.notify("Highlight someone on your ladders or on your list first (Tab moves between lists).",
                        title="Ladders")
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.mc.act(api.LadderRemove(request=ident), lambda _r: refresh_ladders(self.mc))
        self.mc.push_screen(ConfirmDialog("Take them off this ladder? They are told.", "Take off"), confirmed)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "add":
            self.action_add()
        elif event.button.id == "avoid-add":
            self.action_avoid()

    def palette_commands(self) -> list[Command]:
        return [Command("ladder: ask someone to be on your ladder", "They say yes or no", self.action_add),
                Command("ladder: who not to involve", "Your calls never reach them; only this computer knows",
                        self.action_avoid)]
