"""A checkbox and a radio button whose state is a mark, not only a colour.

Textual draws an unticked box and a ticked one with the same glyph in two colours; a person who cannot
tell the colours apart, or a monochrome console, could not see which wishes are ticked on a call for
support. These show the mark only when on, and a blank when off.
"""

from __future__ import annotations

from textual.widgets import Checkbox, RadioButton


class Tick(Checkbox):
    """A checkbox: ``X`` when ticked, blank when not."""

    BUTTON_INNER = " "

    def watch_value(self) -> None:
        self.BUTTON_INNER = "X" if self.value else " "
        super().watch_value()


class Pick(RadioButton):
    """A radio button: ``●`` when chosen, blank when not."""

    BUTTON_INNER = " "

    def watch_value(self) -> None:
        self.BUTTON_INNER = "●" if self.value else " "
        super().watch_value()
