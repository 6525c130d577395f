"""What every full screen shares: the status line on top, the footer below, Escape to go back, and a
``refresh_view`` the app calls whenever the model changed."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.css.query import NoMatches
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from ..widgets.lists import KeptList
from ..widgets.status import StatusLine

if TYPE_CHECKING:
    from ..app import MeshcareApp


class MeshScreen(Screen[None]):
    """Base of the full screens. Subclasses compose their body in ``body`` and redraw it in
    ``refresh_view`` (from ``self.mc.model``); both run again when the screen comes back on top."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "back", "Back", id="back")]
    #: What the screen is for, one sentence (the help screen lists them).
    PURPOSE: ClassVar[str] = ""

    @property
    def mc(self) -> MeshcareApp:
        return cast("MeshcareApp", self.app)

    def compose(self) -> ComposeResult:
        yield StatusLine()
        yield from self.body()
        yield Footer()

    def body(self) -> ComposeResult:
        yield from ()

    #: what ``check_action`` answered for this screen's bindings when the footer last refreshed
    _footer_state: tuple[bool | None, ...] = ()

    def on_mount(self) -> None:
        self.model_changed()

    def on_screen_resume(self) -> None:
        self.model_changed()

    def model_changed(self) -> None:
        """Redraw from the model (the app calls this for the screen on top after every change)."""
        if not self.is_mounted:
            return
        app = self.mc
        for line in self.query(StatusLine):
            line.show(app.model, app.daemon_state, app.home_label, app.glyphs)
        try:
            self.refresh_view()
        except NoMatches:
            return  # the screen is being taken down (the app is closing): nothing left to redraw
        self.sync_footer()

    def sync_footer(self) -> None:
        """Let the footer follow what ``check_action`` allows now (the model or the highlight changed);
        only when that changed, because each refresh rebuilds the footer."""
        actions = [b.action.partition("(")[0] for cls in type(self).__mro__
                   for b in vars(cls).get("BINDINGS", ()) if isinstance(b, Binding)]
        state = tuple(self.check_action(action, ()) for action in actions)
        if state != self._footer_state:
            self._footer_state = state
            self.refresh_bindings()

    def refresh_view(self) -> None:
        """Redraw the body; the screens override it."""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Escape has nowhere to go back to from the first screen: keep it out of the footer there."""
        if action == "back" and len(self.app.screen_stack) <= 2:
            return False
        return True

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 2:
            self.app.pop_screen()


class ListDetailScreen(MeshScreen):
    """A list beside the highlighted item's detail: check-ins, gatherings, the board, private requests,
    the library. The list has the focus; ``first`` names the item to highlight once it is listed (a
    banner or a command opened the screen on it).

    ``PARTS`` are the ids the stylesheet and the subclass use: the row that holds both, the list, the
    scrolling side and the text in it."""

    PARTS: ClassVar[tuple[str, str, str, str]] = ("list-body", "list", "list-side", "detail")

    def __init__(self, first: str | None = None) -> None:
        super().__init__()
        self.first = first

    def body(self) -> ComposeResult:
        row, listing, side, detail = self.PARTS
        with Horizontal(id=row):
            yield KeptList(id=listing)
            with VerticalScroll(id=side):
                yield Static("", id=detail)

    def on_mount(self) -> None:
        super().on_mount()
        self.listing.focus()

    @property
    def listing(self) -> KeptList:
        return self.query_one(f"#{self.PARTS[1]}", KeptList)

    def select_first(self) -> None:
        """Highlight ``first`` if it is listed now (once: later redraws keep the person's own choice)."""
        if self.first is not None and self.listing.select_id(self.first):
            self.first = None
