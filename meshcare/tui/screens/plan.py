"""The person's support plan: sections people recognise, in their own words, kept on this computer until
they share them (all of it, or the sections they tick) with whoever has their call or a circle, and taken
back whenever they want. Beside every section: who can read it now.

The sections and their labels are ``vocab.PLAN_FIELDS`` / ``vocab.PLAN_SECTION_WORDS`` (the CLI says the
same); this screen only groups them so that the screen reads in four steps, top to bottom (it scrolls).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, OptionList, Select, Static, TextArea

from ... import vocab
from ...control import api
from .. import format as fmt
from ..commands import Command
from ..widgets.lists import KeptList
from ..widgets.toggles import Tick
from .base import MeshScreen
from .dialogs import ConfirmDialog

#: The sections in four groups, in plan order (a test checks they are exactly ``vocab.PLAN_FIELDS``).
GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("When I'm well", ("when_well", "helps", "keeps_me_well")),
    ("When things get hard", ("stressors", "early_signs", "when_hard", "avoid")),
    ("Who", ("contact", "who_not_to_involve", "outside_help")),
    ("In a crisis, and after", ("wishes", "practical", "after", "stops_when", "other", "review_by")),
)
#: The Select's value for "whoever has my call" targets: ``call:`` and the call's id (circles: their id).
CALL_TARGET = "call:"


def share_readers(share: api.OwnShare, circle_names: Mapping[str, str]) -> str:
    """Who can read one share, in words (escaped): "shared with Bo (call 3f2a9c1d)", "everyone in Elm St"."""
    if share.to == "call":
        who = ", ".join(fmt.safe(r.name) if r.name else fmt.short_id(r.id) for r in share.readers)
        return vocab.PLAN_READERS_CALL.format(name=who or "whoever had the call", call=fmt.short_id(share.call or ""))
    circle = share.circle_name or circle_names.get(share.circle) or fmt.short_id(share.circle)
    return vocab.PLAN_READERS_CIRCLE.format(circle=fmt.safe(circle, 40))


def section_readers(key: str, shares: Iterable[api.OwnShare], circle_names: Mapping[str, str]) -> str:
    """Who can read one section: every share carrying it, or "only you"."""
    found = dict.fromkeys(share_readers(s, circle_names) for s in shares if key in s.sections)
    return "; ".join(found) or vocab.PLAN_READERS_NONE


class PlanScreen(MeshScreen):
    """Write, save, share (all or chosen sections) and take back the support plan."""

    PURPOSE = ("Support plan: when you're well, what helps, what to avoid, who to involve, your wishes... Every "
               "part is optional. It stays on this computer until you share it; beside each part you see who can "
               "read it; you can take a share back at any time.")
    # not priority: it must come after the keys typed into the plan just before it (see new_call.py)
    BINDINGS: ClassVar[list[BindingType]] = [Binding("ctrl+s", "save", "Save", id="save-plan")]

    def __init__(self) -> None:
        super().__init__()
        self.target_options: list[tuple[str, str]] = []
        self.review_due = False

    def body(self) -> ComposeResult:
        with VerticalScroll(id="plan"):
            yield Static("Your support plan is yours: nobody sees it until you share it. Every part is optional. "
                         "Tick parts to share only those.", classes="muted")
            yield Static(f"[b]{vocab.PLAN_REVIEW_PROMPT}[/b] Change what has changed, then set a new review "
                         "date and save.", id="review")
            yield Static("", id="shares-title")
            yield KeptList(id="shares")
            for title, keys in GROUPS:
                yield Static(f"[b]{title}[/b]", classes="plan-group")
                for key in keys:
                    with Horizontal(classes="plan-head"):
                        yield Tick(vocab.PLAN_SECTION_WORDS[key], id=f"pick-{key}", compact=True)
                        yield Static("", id=f"readers-{key}", classes="muted plan-readers")
                    hint = vocab.PLAN_SECTION_HINTS.get(key, "")
                    if key == vocab.PLAN_REVIEW_FIELD:
                        yield Input(placeholder="YYYY-MM-DD", id=f"part-{key}", max_length=10, compact=True,
                                    classes="plan-date")
                    else:
                        yield TextArea("", id=f"part-{key}", soft_wrap=True, classes="plan-part", placeholder=hint)
        with Horizontal(classes="buttons", id="plan-actions"):      # below the scrolling plan: always in reach
            yield Button("Save (Ctrl+S)", id="save", variant="primary", compact=True)
            yield Select([], prompt="share with...", id="share-circle", compact=True)
            yield Button("Share", id="share", compact=True)

    def on_mount(self) -> None:
        super().on_mount()
        self._fill()
        self.mc.act(api.PlanShow(), self._got_plan)

    def _got_plan(self, result: api.PlanShowResult) -> None:
        """The plan and its shares as the daemon has them now (shares change only through this screen)."""
        self.mc.model.plan, self.mc.model.shares = result.plan, result.shares
        self.review_due = result.review_due
        self.refresh_view()

    def _fill(self) -> None:
        plan = self.mc.model.plan
        if plan is not None:
            for key in vocab.PLAN_FIELDS:
                self._set_text(key, getattr(plan, key))
        self.query_one(f"#part-{vocab.PLAN_FIELDS[0]}", TextArea).focus()

    def _set_text(self, key: str, text: str) -> None:
        widget = self.query_one(f"#part-{key}")
        if isinstance(widget, Input):
            widget.value = text
        elif isinstance(widget, TextArea):
            widget.text = text

    def _text(self, key: str) -> str:
        widget = self.query_one(f"#part-{key}")
        text = widget.value if isinstance(widget, Input) else widget.text if isinstance(widget, TextArea) else ""
        return text.strip() if key == vocab.PLAN_REVIEW_FIELD else text[:vocab.MAX_PLAN_FIELD]

    def _targets(self) -> list[tuple[str, str]]:
        """Where a share can go: whoever has each of this person's open calls, then every circle."""
        model = self.mc.model
        calls = [(f"{fmt.safe(dict(c.names).get(c.claimer or '') or 'someone', 16)}, who has your call "
                  f"{fmt.short_id(c.id)}", CALL_TARGET + c.id)
                 for c in model.calls.values() if c.mine and c.claimer and c.status != "resolved"]
        circles = [(f"everyone in {fmt.safe(s.circle.name, 40)}", s.circle.id) for s in model.circles_in_order()]
        return sorted(calls) + circles

    def refresh_view(self) -> None:
        model = self.mc.model
        targets = self._targets()
        if targets != self.target_options:
            self.target_options = targets
            self.query_one("#share-circle", Select).set_options(targets)
        self.query_one("#review").display = self.review_due
        shares = list(model.shares)
        names = {s.circle.id: s.circle.name for s in model.circles.values()}
        for key in vocab.PLAN_FIELDS:
            self.query_one(f"#readers-{key}", Static).update(f"{self.mc.glyphs.sep} who can read this: "
                                                              + section_readers(key, shares, names))
        self.query_one("#shares-title", Static).update(
            "[b]Where it is shared[/b] (Enter takes the highlighted share back)" if shares
            else "Not shared anywhere.")
        self.query_one("#shares", KeptList).set_items(
            (s.id, f"with {share_readers(s, names)} {self.mc.glyphs.sep} {fmt.ago(s.created, self.mc.now())}"
                   f"\n   {', '.join(vocab.PLAN_SECTION_WORDS.get(k, k) for k in s.sections)}")
            for s in shares)
        self.query_one("#shares").display = bool(shares)

    def action_save(self) -> None:
        values = {key: self._text(key) for key in vocab.PLAN_FIELDS}

        def saved(result: api.PlanEditResult) -> None:
            self.mc.model.plan = result.plan
            self.notify("Saved on this computer.", title="Support plan")
            self.mc.act(api.PlanShow(), self._got_plan)       # the review date may have changed
        self.mc.act(api.PlanEdit(sections=values), saved)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            self.action_save()
        elif event.button.id == "share":
            self._share()

    def _picked(self) -> tuple[str, ...] | None:
        """The ticked sections, in plan order; None when none is ticked (share all of it)."""
        picked = tuple(k for k in vocab.PLAN_FIELDS if self.query_one(f"#pick-{k}", Tick).value)
        return picked or None

    def _share(self) -> None:
        target = self.query_one("#share-circle", Select).value
        if not isinstance(target, str):
            self.notify("Choose whom to share it with.", title="Support plan")
            return
        sections = self._picked()
        if target.startswith(CALL_TARGET):
            call = self.mc.model.calls.get(target[len(CALL_TARGET):])
            who = fmt.name_of(call.claimer, dict(call.names)) if call else "whoever has your call"
            request, whom = api.PlanShare(call=target[len(CALL_TARGET):], sections=sections), f"{who}, who has your call"
        else:
            circles = self.mc.model.circles
            name = fmt.safe(circles[target].circle.name) if target in circles else "it"
            request, whom = api.PlanShare(circle=target, sections=sections), f"everyone in {name}"
        what = ("your saved plan" if sections is None else "these parts of your saved plan ("
                + ", ".join(vocab.PLAN_SECTION_WORDS[k] for k in sections) + ")")

        def confirmed(yes: bool | None) -> None:
            if yes:
                def shared(_result: api.PlanShareResult) -> None:
                    self.notify(f"Shared with {whom}. You can take it back here.", title="Support plan")
                    self.mc.act(api.PlanShow(), self._got_plan)
                self.mc.act(request, shared)
        self.mc.push_screen(ConfirmDialog(f"Share {what} with {whom}?", "Share"), confirmed)

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
                Command("share: share the plan, or the ticked parts", "Choose whom to share it with below the plan",
                        self._share)]
