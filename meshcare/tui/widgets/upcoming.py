"""Home's "Gatherings coming up" section: one widget, so home composes it below the calls (and beside
whatever else home lists) without knowing more than its name. Enter opens the highlighted gathering.

The rows are drawn by ``gathering_row``, which the gatherings screen uses too: title, circle, when (in
words relative to now, so it reads the same in every time zone), how many are coming, and this person's
answer. Everything a peer wrote is escaped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import OptionList, Static

from ...control.views_gatherings import Gathering
from .. import format as fmt
from .lists import KeptList

if TYPE_CHECKING:
    from ..app import MeshcareApp

#: Gatherings home lists at most (the gatherings screen, g, has them all).
ON_HOME = 3
ANSWER_WORDS = {"yes": "you are coming", "maybe": "you might come", "no": "you are not coming"}


def coming_words(g: Gathering) -> str:
    """"3 coming, 1 maybe"."""
    return f"{g.counts.get('yes', 0)} coming, {g.counts.get('maybe', 0)} maybe"


def when_words(g: Gathering, now: float) -> str:
    """"in 3 h", "under way", "over", "called off"."""
    if g.cancelled:
        return "called off"
    if now >= g.over_at:
        return "over"
    if now >= g.when:
        return "under way"
    return fmt.until(g.when, now)


def gathering_row(g: Gathering, now: float, glyphs: fmt.Glyphs) -> str:
    """One line of title, one of where and when: for home and the gatherings screen."""
    answer = ANSWER_WORDS.get(g.mine or "", "not answered yet")
    host = f" {glyphs.sep} you host it" if g.hosting else ""
    return (f"{fmt.one_line(g.title, 60)} ({g.kind})\n   {fmt.safe(g.circle_name, 30)} {glyphs.sep} "
            f"{when_words(g, now)} {glyphs.sep} {coming_words(g)} {glyphs.sep} {answer}{host}")


class UpcomingGatherings(Vertical):
    """The section: a title, the next few gatherings, or a quiet line when none are coming up."""

    DEFAULT_CSS = """
    UpcomingGatherings { height: auto; }
    """

    def compose(self) -> ComposeResult:
        yield Static("[b]Gatherings coming up[/b]", classes="section-title", id="gatherings-title")
        yield KeptList(id="gatherings")
        yield Static("None coming up (g lists gatherings and organises one).", id="no-gatherings", classes="muted")

    @property
    def mc(self) -> MeshcareApp:
        return cast("MeshcareApp", self.app)

    def refresh_view(self) -> None:
        """Redraw from the model (home calls this from its own ``refresh_view``)."""
        model, now = self.mc.model, self.mc.now()
        coming = model.upcoming_gatherings(now)
        shown = coming[:ON_HOME]
        more = len(coming) - len(shown)
        self.query_one("#gatherings-title", Static).update(
            "[b]Gatherings coming up[/b]" + (f" (and {more} more: g)" if more else ""))
        listing = self.query_one("#gatherings", KeptList)
        listing.set_items((g.id, gathering_row(g, now, self.mc.glyphs)) for g in shown)
        listing.display = bool(shown)
        self.query_one("#no-gatherings").display = not shown

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option_list.id == "gatherings" and event.option.id is not None:
            event.stop()
            self.mc.open_gathering(event.option.id)
