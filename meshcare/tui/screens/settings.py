"""Settings: the name your circles see (``node.rename``: the daemon tells every circle), the theme (a
high-contrast and a colour-blind-safe one among them) and the bell, saved in ``tui.toml`` in the data
directory as soon as they change."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Input, Label, RadioSet, Static

from ...control import api
from .. import format as fmt

from ..prefs import THEMES
from ..widgets.toggles import Pick, Tick
from .base import MeshScreen

THEME_WORDS = {"meshcare": "Calm (dark)", "meshcare-light": "Calm (light)",
               "high-contrast": "High contrast (black, white, yellow)",
               "colour-blind-safe": "Colour-blind safe (Okabe-Ito colours)"}


class SettingsScreen(MeshScreen):
    """Name, theme and bell."""

    PURPOSE = ("Settings: the name your circles see, the colours (high contrast and colour-blind safe among "
               "them) and whether a new call rings the terminal bell.")

    def body(self) -> ComposeResult:
        prefs = self.mc.prefs
        with VerticalScroll(id="settings"):
            yield Label("Your name, as your circles see it (Enter changes it everywhere)")
            yield Input(self.mc.model.name, max_length=64, id="name", compact=True)
            yield Label("Colours")
            with RadioSet(id="theme", compact=True):
                for name in THEMES:
                    yield Pick(THEME_WORDS.get(name, name), value=name == prefs.theme, name=name, compact=True)
            yield Label("Sound")
            yield Tick("Ring the terminal bell for a new call or \"need support now\"", prefs.bell, id="bell",
                       compact=True)
            yield Static("Every state also has a word, so no colour is needed to read the screen.", classes="muted")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#theme").focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        name = event.value.strip()
        if event.input.id != "name" or not name or name == self.mc.model.name:
            return

        def done(result: api.RenameResult) -> None:
            self.mc.model.name = result.name
            self.mc.refresh_screens()
            told = len(result.circles)
            where = f"told {told} circle{'s' if told != 1 else ''}" if told else "your circles had it already"
            self.notify(f"Your name is now {fmt.safe(result.name)}; {where}.", title="Name")
        self.mc.act(api.Rename(name=name), done)

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        name = event.pressed.name
        if name and name != self.mc.prefs.theme:
            self.mc.save_prefs(self.mc.prefs.with_(theme=name))

    def on_checkbox_changed(self, event: Tick.Changed) -> None:
        if event.value != self.mc.prefs.bell:
            self.mc.save_prefs(self.mc.prefs.with_(bell=event.value))
