"""Every call this computer holds, resolved ones too (h): home lists only the latest resolved ones,
so that it stays short and quick however long the circle's history is."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import OptionList, Static

from .. import render
from ..widgets.lists import KeptList
from .base import MeshScreen


class CallsScreen(MeshScreen):
    """All calls, in home's order; Enter opens one."""

    PURPOSE = ("Every call: all the calls this computer holds, in home's order, resolved ones too (they are "
               "kept as long as the circle keeps messages). Enter opens one.")

    def body(self) -> ComposeResult:
        yield Static("", classes="section-title", id="all-calls-title")
        yield KeptList(id="all-calls")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#all-calls").focus()

    def refresh_view(self) -> None:
        model, now, g = self.mc.model, self.mc.clock(), self.mc.glyphs
        calls = model.calls_in_order()
        resolved = sum(1 for c in calls if c.status == "resolved")
        self.query_one("#all-calls-title", Static).update(
            f"[b]Every call[/b] ({len(calls)}, {resolved} resolved)" if calls else "[b]Every call[/b]: none yet")
        width = self.size.width or 100
        self.query_one("#all-calls", KeptList).set_items(
            (c.id, render.call_row(model, c, now, g, width)) for c in calls)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id is not None:
            self.mc.open_call(event.option.id)
