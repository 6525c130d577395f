"""The person's support plan: four parts in their own words, kept on this computer until they share it
with a circle, and taken back whenever they want."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Label, OptionList, Select, Static, TextArea

from ... import vocab
from ...control import api
from .. import format as fmt
from ..commands import Command
from ..widgets.lists import KeptList
from .base import MeshScreen
from .dialogs import ConfirmDialog

PARTS = (("helps", "What helps me"), ("avoid", "What to avoid"), ("contact", "Who to contact, and how"),
         ("other", "Anything else"))


class PlanScreen(MeshScreen):
    """Write, save, share and take back the support plan."""

    PURPOSE = ("Support plan: what helps you, what to avoid, whom to contact. It stays on this computer until "
               "you share it; you can take a share back at any time.")
    # not priority: it must come after the keys typed into the plan just before it (see new_call.py)
    BINDINGS: ClassVar[list[BindingType]] = [Binding("ctrl+s", "save", "Save", id="save-plan")]

    def __init__(self) -> None:
        super().__init__()
        self.circle_options: list[tuple[str, str]] = []

    def body(self) -> ComposeResult:
        with VerticalScroll(id="plan"):
            yield Static("Your support plan is yours: nobody sees it until you share it.", classes="muted")
            for key, label in PARTS:
                yield Label(label)
                yield TextArea("", id=f"part-{key}", soft_wrap=True, classes="plan-part")
            with Horizontal(classes="buttons"):
                yield Button("Save (Ctrl+S)", id="save", variant="primary")
                yield Select([], prompt="share with a circle...", id="share-circle", compact=True)
                yield Button("Share", id="share")
            yield Static("", id="shares-title")
            yield KeptList(id="shares")

    def on_mount(self) -> None:
        super().on_mount()
        self._fill()
        self.mc.act(api.PlanShow(), self._got_plan)

    def _got_plan(self, result: api.PlanShowResult) -> None:
        """The plan and its shares as the daemon has them now (shares change only through this screen)."""
        self.mc.model.plan, self.mc.model.shares = result.plan, result.shares
        self.refresh_view()

    def _fill(self) -> None:
        plan = self.mc.model.plan
        if plan is not None:
            for key, _ in PARTS:
                self.query_one(f"#part-{key}", TextArea).text = getattr(plan, key)
        self.query_one(f"#part-{PARTS[0][0]}", TextArea).focus()

    def refresh_view(self) -> None:
        model = self.mc.model
        circles = [(fmt.safe(s.circle.name, 40), s.circle.id) for s in model.circles_in_order()]
        if circles != self.circle_options:
            self.circle_options = circles
            self.query_one("#share-circle", Select).set_options(circles)
        shares = list(model.shares)
        names = {s.circle.id: s.circle.name for s in model.circles.values()}
        self.query_one("#shares-title", Static).update(
            "[b]Where it is shared[/b] (Enter takes the highlighted share back)" if shares
            else "Not shared anywhere.")
        self.query_one("#shares", KeptList).set_items(
            (s.id, f"with {'whoever has your call' if s.to == 'call' else 'everyone in'} "
                   f"{fmt.safe(names.get(s.circle, 'a circle'))} {self.mc.glyphs.sep} "
                   f"{fmt.ago(s.created, self.mc.now())}")
            for s in shares)
        self.query_one("#shares").display = bool(shares)

    def action_save(self) -> None:
        values = {key: self.query_one(f"#part-{key}", TextArea).text[:vocab.MAX_PLAN_FIELD] for key, _ in PARTS}
        def saved(result: api.PlanEditResult) -> None:
            self.mc.model.plan = result.plan
            self.notify("Saved on this computer.", title="Support plan")
        self.mc.act(api.PlanEdit(**values), saved)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            self.action_save()
        elif event.button.id == "share":
            self._share()

    def _share(self) -> None:
        circle = self.query_one("#share-circle", Select).value
        if not isinstance(circle, str):
            self.notify("Choose the circle to share it with.", title="Support plan")
            return
        name = fmt.safe(self.mc.model.circles[circle].circle.name) if circle in self.mc.model.circles else "it"

        def confirmed(yes: bool | None) -> None:
            if yes:
                def shared(_result: api.PlanShareResult) -> None:
                    self.notify(f"Shared with everyone in {name}. You can take it back here.", title="Support plan")
                    self.mc.act(api.PlanShow(), self._got_plan)
                self.mc.act(api.PlanShare(circle=circle), shared)
        self.mc.push_screen(ConfirmDialog(f"Share your saved plan with everyone in {name}?", "Share"), confirmed)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        share = event.option.id
        if share is None:
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                def retracted(_result: api.PlanRetractResult) -> None:
                    self.notify("Taken back: their computers forget it.", title="Support plan")
                    self.mc.act(api.PlanShow(), self._got_plan)
                self.mc.act(api.PlanRetract(share=share), retracted)
        self.mc.push_screen(ConfirmDialog("Take this share back? The people it went to will no longer see it.",
                                          "Take back"), confirmed)

    def palette_commands(self) -> list[Command]:
        return [Command("save: save the support plan", "On this computer only", self.action_save),
                Command("share: share the plan with a circle", "Choose the circle below the plan", self._share)]
