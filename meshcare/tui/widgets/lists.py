"""An OptionList that keeps its highlighted item across refreshes, by id."""

from __future__ import annotations

from collections.abc import Iterable

from textual.widgets import OptionList
from textual.widgets.option_list import Option


class KeptList(OptionList):
    """Options identified by id; ``set_items`` replaces them and keeps the highlight on the same id
    (or the same place, when that item went), so a live update never moves the person's selection."""

    _shown: tuple[tuple[str, str], ...] | None = None

    def set_items(self, items: Iterable[tuple[str, str]]) -> None:
        """Replace the options with ``(id, markup)`` pairs; nothing at all when they are what the list
        shows already (every event batch redraws every screen: rebuilding an unchanged list cost a
        layout and a repaint each time, most of a call's way to the screen, docs/benchmarks.md s. 12)."""
        rows = tuple(items)
        if rows == self._shown and self.option_count == len(rows):
            return
        self._shown = rows
        keep = self.selected_id
        index = self.highlighted
        self.clear_options()
        options = [Option(prompt, id=ident) for ident, prompt in rows]
        self.add_options(options)
        if not options:
            return
        ids = [o.id for o in options]
        if keep in ids:
            self.highlighted = ids.index(keep)
        else:
            self.highlighted = min(index or 0, len(options) - 1)

    @property
    def selected_id(self) -> str | None:
        """The id of the highlighted option, or None."""
        if self.highlighted is None or self.option_count == 0:
            return None
        return self.get_option_at_index(self.highlighted).id

    def select_id(self, ident: str) -> bool:
        """Highlight the option ``ident``; False when there is none."""
        for index in range(self.option_count):
            if self.get_option_at_index(index).id == ident:
                self.highlighted = index
                return True
        return False
