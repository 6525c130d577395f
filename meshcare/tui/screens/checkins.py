"""Check-ins: the ones waiting for this person's answer first; one key (1-6) answers the highlighted one.

Beside the list, the highlighted check-in: its answers numbered, who will read this person's answer (by
name), and for facilitators (or when the circle sees the answers) the tally and who has not answered.
A facilitator starts a new check-in with ``k``.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Input, Label, OptionList, RadioSet, Select, Static

from ... import vocab
from ...control import api
from .. import format as fmt
from .. import render
from ..commands import Command
from ..widgets.lists import KeptList
from ..widgets.toggles import Pick
from .actions import reply
from .base import ListDetailScreen, MeshScreen
from .dialogs import FormDialog


class CheckinsScreen(ListDetailScreen):
    """Every check-in this node can read."""

    PARTS = ("checkins-body", "checkin-list", "checkin-detail", "detail")

    PURPOSE = ("Check-ins: a facilitator asks how people are doing. Press 1-6 to answer the highlighted one; "
               "you see who will read your answer. Facilitators see the tally and start new ones (k).")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "reply", "Reply", id="reply"),
        Binding("k", "new_checkin", "New check-in", id="new-checkin"),
        *[Binding(str(i), f"answer({i})", f"Answer {i}", show=False) for i in range(1, vocab.MAX_OPTIONS + 1)],
    ]

    def refresh_view(self) -> None:
        model, now, g = self.mc.model, self.mc.now(), self.mc.glyphs
        items = model.checkins_in_order()
        listing = self.query_one("#checkin-list", KeptList)
        listing.set_items((c.id, render.checkin_row(model, c, now, g)) for c in items)
        self.select_first()
        self._show_detail()

    def _selected(self) -> api.Checkin | None:
        found = next(self.query("#checkin-list").results(KeptList), None)  # None before the list exists
        ident = None if found is None else found.selected_id
        return self.mc.model.checkins.get(ident) if ident else None

    def _answerable(self, checkin: api.Checkin | None) -> bool:
        """This person is asked (and has not answered yet), or answered already (and may change it); not a
        facilitator's own check-in, nor one that went out before they joined."""
        model = self.mc.model
        return checkin is not None and (model.node_id in checkin.not_answered or model.my_reply(checkin) is not None)

    def _show_detail(self) -> None:
        checkin = self._selected()
        detail = self.query_one("#detail", Static)
        if checkin is None:
            detail.update("No check-ins yet." + (" Press k to ask your circle how they are doing."
                                                 if self._facilitates() else ""))
            return
        how = "\n\nPress a number to answer, or r to add a few words." if self._answerable(checkin) else ""
        detail.update(render.checkin_detail(self.mc.model, checkin, self.mc.now(), self.mc.glyphs) + how)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Reply and the number keys only on a check-in this person is asked (see ``_answerable``); a new
        check-in only for facilitators."""
        if action in ("reply", "answer"):
            return self._answerable(self._selected())
        if action == "new_checkin":
            return bool(self._facilitates())
        return super().check_action(action, parameters)

    def on_option_list_option_highlighted(self, _event: OptionList.OptionHighlighted) -> None:
        self._show_detail()
        self.sync_footer()

    def on_option_list_option_selected(self, _event: OptionList.OptionSelected) -> None:
        self.action_reply()

    def _facilitates(self) -> list[str]:
        model = self.mc.model
        return [s.circle.id for s in model.circles_in_order() if s.circle.role == "facilitator"]

    def action_answer(self, number: int) -> None:
        checkin = self._selected()
        if checkin is None:
            return
        if number > len(checkin.options):
            self.notify(f"This check-in has {len(checkin.options)} answers.", title="Check-in")
            return
        self.mc.reply_to(checkin.id, number)

    def action_reply(self) -> None:
        checkin = self._selected()
        if checkin is None:
            self.notify("There is no check-in to answer.", title="Check-ins")
            return
        if not self._answerable(checkin):
            self.notify("This check-in does not ask you: you sent it, or it went out before you joined.",
                        title="Check-ins")
            return
        reply(self.mc, checkin)

    def action_new_checkin(self) -> None:
        circles = self._facilitates()
        if not circles:
            self.notify("Facilitators start check-ins; you can answer them here.", title="Check-ins")
            return
        choices = [(fmt.safe(self.mc.model.circles[c].circle.name, 40), c) for c in circles]
        self.mc.push_screen(NewCheckinDialog(choices), self._create)

    def _create(self, request: api.CheckinCreate | None) -> None:
        if request is not None:
            self.mc.act(request, lambda r: self.notify(
                f"Sent to {fmt.safe(r.checkin.circle_name)}; answers are seen by "
                f"{'the facilitators' if r.checkin.visibility == 'facilitators' else 'the whole circle'}.",
                title="Check-in sent"))

    def palette_commands(self) -> list[Command]:
        out = []
        if self._answerable(self._selected()):
            out.append(Command("reply: answer the highlighted check-in", "With a few words if you like",
                               self.action_reply))
        if self._facilitates():
            out.append(Command("check-in: ask your circle how they are doing", "Facilitators",
                               self.action_new_checkin))
        return out


class NewCheckinDialog(FormDialog[api.CheckinCreate]):
    """A facilitator's new check-in: circle, question, answers (default ones when left empty), who sees them."""

    def __init__(self, circles: list[tuple[str, str]]) -> None:
        super().__init__()
        self.circles = circles

    def compose(self) -> ComposeResult:
        with Vertical(classes="box"):
            yield Static("[b]Ask your circle how they are doing[/b]")
            yield Select(self.circles, value=self.circles[0][1], allow_blank=False, id="circle", compact=True)
            yield Input(placeholder="the question, e.g. How is your week going?", max_length=vocab.MAX_PROMPT,
                        id="prompt", compact=True)
            yield Input(placeholder="answers separated by ; (empty: " + "; ".join(vocab.DEFAULT_OPTIONS) + ")",
                        id="options", compact=True)
            yield Label("Who sees the answers")
            with RadioSet(id="visibility", compact=True):
                yield Pick("the facilitators", value=True, name="facilitators", compact=True)
                yield Pick("everyone in the circle", name="circle", compact=True)
            with Horizontal(classes="buttons"):
                yield Button("Send", id="send", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#prompt", Input).focus()

    def send(self) -> None:
        prompt = self.query_one("#prompt", Input).value.strip()
        if not prompt:
            self.notify("Write the question first.", title="Check-in")
            return
        options = tuple(dict.fromkeys(o.strip() for o in self.query_one("#options", Input).value.split(";")
                                      if o.strip()))
        if options and not vocab.MIN_OPTIONS <= len(options) <= vocab.MAX_OPTIONS:
            self.notify(f"Give {vocab.MIN_OPTIONS} to {vocab.MAX_OPTIONS} answers, or none for the default ones.",
                        title="Check-in")
            return
        pressed = self.query_one("#visibility", RadioSet).pressed_button
        circle = self.query_one("#circle", Select).value
        self.dismiss(api.CheckinCreate(circle=str(circle), prompt=prompt, options=options,
                                       visibility=(pressed.name if pressed and pressed.name else "facilitators")))
