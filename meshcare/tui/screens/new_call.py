"""A new call for support: the circle, the person's own words, how soon, what would help, their wishes,
how to reach them, and who hears first, with defaults that need no decision (today; everyone at once).

What is typed is the app's draft (``CallDraft``): it survives Escape, a refusal and the daemon going
away, and is cleared only once the call went out. After sending, the screen tells the honest state of
the call and keeps it current: "on its way", "reached 2 of 5", or "not linked to anyone yet: it will go
when a neighbour is reachable".
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Checkbox, Input, Label, RadioSet, Select, Static, TextArea

from ... import vocab
from ...control import api
from ...errors import BadInput
from .. import format as fmt
from .. import render
from ..app import CallDraft
from ..commands import Command
from ..widgets.toggles import Pick, Tick
from .base import MeshScreen

#: Who hears first; for the first three the rest of the circle hears after the minutes ``FALLBACK`` gives
#: for the urgency. The "only" ones never widen: a call meant for a few people stays with them.
LADDERS = (("circle", "Everyone in the circle at once"),
           ("facilitators", "The facilitators first, then everyone"),
           ("chosen", "People I choose first, then everyone"),
           ("only-chosen", "Only the people I choose (never everyone)"),
           ("only-facilitators", "Only the facilitators (never everyone)"),
           ("my-ladder", "My ladder: those who said yes first, then everyone"))
#: The choices that need names typed.
CHOOSING = ("chosen", "only-chosen")
FALLBACK = {"now": 5, "today": 30, "whenever": 120}


class NewCallScreen(MeshScreen):
    """Write and send a call for support."""

    PURPOSE = ("New call: ask your circle for support in your own words. Only the words are needed; "
               "everything else has a default. Ctrl+S sends it.")
    # not a priority binding: those run before the focused field has taken the keys typed just before
    # (a fast Ctrl+S then sent an empty call); this one comes in order, after them
    BINDINGS: ClassVar[list[BindingType]] = [Binding("ctrl+s", "send", "Send", id="send")]

    def __init__(self, circle: str | None = None) -> None:
        super().__init__()
        self.preset_circle = circle
        self.sent: api.Call | None = None

    def body(self) -> ComposeResult:
        d = self.mc.draft
        circles = [(fmt.safe(s.circle.name, 40), s.circle.id) for s in self.mc.model.circles_in_order()]
        ids = [c for _, c in circles]
        chosen_circle = self.preset_circle or d.circle
        with VerticalScroll(id="new-call"):
            yield Static("", id="sent")
            yield Label("Which circle")
            yield Select(circles, value=chosen_circle if chosen_circle in ids else ids[0], allow_blank=False,
                         id="circle", compact=True)
            yield Label("What is going on, in your own words")
            yield TextArea(d.text, id="text", soft_wrap=True, show_line_numbers=False)
            yield Label("How soon")
            with RadioSet(id="urgency", compact=True):
                for u in vocab.URGENCIES:
                    yield Pick(fmt.urgency_words(u), value=u == d.urgency, name=u, compact=True)
            yield Label("What would help (any, or none)")
            with Horizontal(classes="checks"):
                for n in vocab.NEEDS:
                    yield Tick(vocab.NEED_WORDS[n], n in d.needs, name=n, classes="need", compact=True)
            yield Label("Your wishes for how others act")
            for c in vocab.CONSENTS:
                yield Tick(vocab.CONSENT_WORDS[c], c in d.consent, name=c, classes="wish", compact=True)
            yield Input(d.consent_note, placeholder="anything else about your wishes (optional)",
                        max_length=vocab.MAX_CONSENT_NOTE, id="note", compact=True)
            yield Label("How to reach you (optional)")
            yield Input(d.reach, placeholder="e.g. text me at ...", max_length=vocab.MAX_REACH, id="reach",
                        compact=True)
            yield Label("Who may see it, and who hears first")
            with RadioSet(id="ladder", compact=True):
                for value, words in LADDERS:
                    yield Pick(words, value=value == d.ladder, name=value, compact=True)
            yield Input(d.chosen, placeholder="the people you choose: names, separated by commas", id="chosen",
                        compact=True)
            yield Input(d.ladder_name,
                        placeholder=f"which of your ladders (L on home lists them; {vocab.DEFAULT_LADDER})",
                        max_length=vocab.MAX_LADDER_NAME, id="ladder-name", compact=True)
            yield Button("Send my call for support (Ctrl+S)", id="send", variant="primary")
            yield Static("meshcare is not an emergency service. If someone is in danger right now, call your "
                         "local emergency number.", classes="muted")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#text", TextArea).focus()
        self._show_chosen()

    def _show_chosen(self) -> None:
        self.query_one("#chosen").display = self.mc.draft.ladder in CHOOSING
        self.query_one("#ladder-name").display = self.mc.draft.ladder == "my-ladder"

    # --- the draft follows every change ------------------------------------------------------------

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        self.mc.draft.text = event.text_area.text

    def on_input_changed(self, event: Input.Changed) -> None:
        attr = {"note": "consent_note", "reach": "reach", "chosen": "chosen",
                "ladder-name": "ladder_name"}.get(event.input.id or "")
        if attr is not None:
            setattr(self.mc.draft, attr, event.value)

    def on_select_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, str):
            self.mc.draft.circle = event.value

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        name = event.pressed.name
        if name is None:
            return
        if event.radio_set.id == "urgency":
            self.mc.draft.urgency = name
        elif event.radio_set.id == "ladder":
            self.mc.draft.ladder = name
            self._show_chosen()

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        name = event.checkbox.name
        if name is None:
            return
        group = self.mc.draft.needs if event.checkbox.has_class("need") else self.mc.draft.consent
        if event.value:
            group.add(name)
        else:
            group.discard(name)

    # --- sending -----------------------------------------------------------------------------------

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "send":
            self.action_send()
        elif event.button.id == "open-sent" and self.sent is not None:
            self.mc.open_call(self.sent.id)

    def _ladder(self, circle: str) -> tuple[api.LadderStepArg, ...]:
        d = self.mc.draft
        if d.ladder not in {value for value, _ in LADDERS} or d.ladder in ("circle", "my-ladder"):
            return ()
        only = d.ladder.startswith("only-")
        later = () if only else (api.LadderStepArg(after=FALLBACK.get(d.urgency, 30), to="circle"),)
        if d.ladder.endswith("facilitators"):
            return (api.LadderStepArg(after=0, to="facilitators"), *later)
        state = self.mc.model.circles.get(circle)
        people = {m.id: m.name for m in state.members.values() if not m.me} if state else {}
        wanted = [w for w in (part.strip() for part in d.chosen.split(",")) if w]
        if not wanted:
            raise BadInput("name the people it goes to" + ("" if only else " first") + " (or choose everyone at once)")
        chosen = tuple(dict.fromkeys(fmt.match_one(w, people) for w in wanted))
        return (api.LadderStepArg(after=0, to="chosen", members=chosen), *later)

    def action_send(self) -> None:
        if self.sent is not None:
            self.notify("This call went out already. Escape goes back; n starts another one.", title="Sent")
            return
        d = self.mc.draft
        # the widgets are the truth: their Changed messages may still be queued behind a fast Ctrl+S
        d.text = self.query_one("#text", TextArea).text
        for field, attr in (("#note", "consent_note"), ("#reach", "reach"), ("#chosen", "chosen"),
                            ("#ladder-name", "ladder_name")):
            setattr(d, attr, self.query_one(field, Input).value)
        circle = self.query_one("#circle", Select).value
        if not isinstance(circle, str):
            self.notify("Choose the circle it goes to.", title="Not sent yet")
            return
        if not d.text.strip():
            self.notify("Write a few words about what is going on: that is the only thing needed.",
                        title="Not sent yet")
            self.query_one("#text", TextArea).focus()
            return
        try:
            ladder = self._ladder(circle)
        except BadInput as exc:
            self.notify(fmt.safe(str(exc)), title="Not sent yet", severity="warning")
            return
        request = api.CallCreate(circle=circle, text=d.text.strip(), urgency=d.urgency,
                                 needs=tuple(n for n in vocab.NEEDS if n in d.needs),
                                 consent=tuple(c for c in vocab.CONSENTS if c in d.consent),
                                 consent_note=d.consent_note.strip() or None, reach=d.reach.strip() or None,
                                 ladder=ladder)
        if d.ladder == "my-ladder":
            # built by the daemon from the people who said yes on it (accepted rungs only), a step every
            # few minutes (as quickly as the urgency asks), then everyone in the circle
            request = dataclasses.replace(request, ladder_name=d.ladder_name.strip() or vocab.DEFAULT_LADDER,
                                          ladder_then="circle", ladder_every=FALLBACK.get(d.urgency, 30))
        button = self.query_one("#send", Button)
        button.disabled = True

        def done(result: api.CallCreateResult) -> None:
            self.sent = result.call
            self.mc.draft = CallDraft()
            self.model_changed()
            self.notify("Your call for support went out.", title="Sent")

        async def go() -> None:
            result = await self.mc.ask(request)
            if result is None:
                button.disabled = False  # the draft stays as it is: nothing the person wrote is lost
            else:
                done(result)
        self.run_worker(go(), group="requests", exit_on_error=False)

    def refresh_view(self) -> None:
        if self.sent is None:
            return
        call = self.mc.model.calls.get(self.sent.id, self.sent)
        reach = render.call_reach(self.mc.model, call)
        status = render.call_status_words(self.mc.model, call)
        self.query_one("#sent", Static).update(
            f"[b]Your call for support went to {fmt.safe(call.circle_name)}.[/b]\n"
            f"Who can read it: {render.who_hears(self.mc.model, call)}\n"
            f"Where it is: [b]{reach}[/b] {self.mc.glyphs.sep} {status}\n"
            "This stays up to date. Escape goes back; Enter on the button below opens the call.")
        self.query_one("#sent").add_class("-shown")
        if not self.query("#open-sent"):
            self.query_one("#new-call", VerticalScroll).mount(Button("Open the call", id="open-sent"),
                                                              after=self.query_one("#sent"))
        for widget in self.query("#new-call > *"):
            if widget.id not in ("sent", "open-sent"):
                widget.display = False

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Once the call went out, Ctrl+S has nothing left to send: keep it out of the footer."""
        if action == "send" and self.sent is not None:
            return False
        return super().check_action(action, parameters)

    def palette_commands(self) -> list[Command]:
        if self.sent is not None:
            return []
        return [Command("send: send this call for support", "It goes to the circle you chose", self.action_send)]

