"""Availability with an end and a limit: until when (in an hour, three, tonight, tomorrow morning) and the
most calls at once (``presence.set`` with ``until`` and ``cap``).

Why a dialog next to the ``a`` toggle: ``a`` is one key for the usual case (available for the next 12
hours, or away), and stays that. Someone who can help only until the children's bedtime, or only with
one call tonight, says so here, so nobody counts on them past it. The choices are times a person says
("until 23:00 tonight"), not a clock to type; the times are the computer's local time.
"""

from __future__ import annotations

from datetime import tzinfo
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Label, RadioSet, Static

from ...control import api
from .. import format as fmt
from ..widgets.toggles import Pick
from .dialogs import Dialog

#: The most calls at once a person can pick here (``None``: no limit); the daemon takes up to 20.
CAPS: tuple[int | None, ...] = (None, 1, 2, 3)
#: Which end time is chosen when the dialog opens (the choices' index: for 3 hours).
DEFAULT_UNTIL = 1


def availability_words(result: api.PresenceSetResult, now: float, tz: tzinfo | None = None) -> str:
    """"available until 23:00, at most 1 call at a time" (or "for the next 12 h" without an end time);
    clock times in ``tz`` (None: this computer's)."""
    until = f"until {fmt.clock_words(result.until, now, tz)}" if result.until else "for the next 12 h"
    cap = f", at most {result.cap} call{'s' if result.cap != 1 else ''} at a time" if result.cap else ""
    return f"available {until}{cap}"


class AvailabilityDialog(Dialog[api.PresenceSet]):
    """Available until a chosen time, with an optional limit of calls; answers the ``PresenceSet``."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, now: float, tz: tzinfo | None = None) -> None:
        super().__init__()
        self.now, self.tz = now, tz
        self.choices = fmt.availability_choices(now, tz)

    def compose(self) -> ComposeResult:
        with Vertical(classes="box"):
            yield Static("[b]Say you are available[/b]\nYour circles see it next to your name, and it ends by itself "
                         "at the time you choose, so nobody counts on you past it.")
            yield Label("Until when")
            with RadioSet(id="until", compact=True):
                for i, (words, at) in enumerate(self.choices):
                    shown = f"{words} (until {fmt.clock_words(at, self.now, self.tz)})" if words.startswith("for ") else words
                    yield Pick(shown, value=i == DEFAULT_UNTIL, name=str(i), compact=True)
            yield Label("The most calls you take at once")
            with RadioSet(id="cap", compact=True):
                for i, cap in enumerate(CAPS):
                    yield Pick("no limit" if cap is None else str(cap), value=i == 0, name=str(i), compact=True)
            with Horizontal(classes="buttons"):
                yield Button("Say I am available", id="yes", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#until").focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id != "yes":
            self.dismiss(None)
            return
        until = self.query_one("#until", RadioSet).pressed_index
        cap = self.query_one("#cap", RadioSet).pressed_index
        self.dismiss(api.PresenceSet(status="available", until=self.choices[until if until >= 0 else DEFAULT_UNTIL][1],
                                     cap=CAPS[max(cap, 0)]))
