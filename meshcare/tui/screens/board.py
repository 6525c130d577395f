"""The mutual-aid board (``b``): needs and offers by category, open, taken or done; and the part of home
that lists the open ones (``HomeNeeds``, below the calls).

On the board screen ``t`` says "I'll take this" for the highlighted item, ``d`` marks it done (its
poster, or whoever took it), ``l`` lets go of it (the taker gives it back, the poster reopens it), and
``w`` posts a need or an offer (a form; ``n`` is still a new call for support, as everywhere). Beside the list, the highlighted item: what, when, who posted
it (no name for an anonymous one), who took it, and how to reach the poster (only for whoever took it,
once the poster's computer sent it). Every word someone else wrote is escaped (``format.safe``); a
state is always a word, never only a colour.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, ClassVar, cast

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Input, Label, OptionList, RadioSet, Select, Static

from ... import vocab
from ...control import api
from ...control.views_board import Need
from .. import format as fmt
from ..commands import Command
from ..model import Model
from ..widgets.lists import KeptList
from ..widgets.toggles import Pick, Tick
from .base import ListDetailScreen, MeshScreen
from .dialogs import FormDialog

if TYPE_CHECKING:
    from ..app import MeshcareApp

#: Open items home lists (the newest); the board (b) shows every one.
NEEDS_ON_HOME = 3

STATUS_STYLE = {"open": "bold $call-open", "taken": "", "done": "italic", "withheld": "italic"}


# --- words -------------------------------------------------------------------------------------------


def poster_words(model: Model, need: Need) -> str:
    """Who posted it, as the board says it: "you", their name, or "someone (no name shown)"."""
    if need.mine:
        return "you" + (" (no name shown to others)" if need.anonymous else "")
    if need.anonymous or need.author is None:
        return "someone (no name shown)"
    return fmt.name_of(need.author, model.names(need.circle, dict(need.names)), model.node_id)


def status_words(model: Model, need: Need) -> str:
    """"open", "taken by Ben Okafor", "done (by you)", or why a withheld post is not on the board."""
    names = model.names(need.circle, dict(need.names))
    if need.status == "taken":
        return f"taken by {fmt.name_of(need.taker, names, model.node_id)}"
    if need.status == "done":
        return "done" if need.done_by is None else f"done (by {fmt.name_of(need.done_by, names, model.node_id)})"
    return vocab.NEED_STATE_WORDS.get(need.status, need.status)


def need_row(model: Model, need: Need, now: float, g: fmt.Glyphs, *, column: bool = False) -> str:
    """What it is and where it stands, from whom and when, then the start of their words: two lines, or
    three in a ``column`` (the board's list beside the detail, on a wide screen)."""
    kind = "Offer" if need.kind == "offer" else "Need"
    about = vocab.NEED_CATEGORY_WORDS.get(need.category, need.category)
    style = STATUS_STYLE.get(need.status, "")
    status = f"[{style}]{status_words(model, need)}[/]" if style else status_words(model, need)
    when = f" {g.sep} {fmt.safe(need.when, 24)}" if need.when else ""
    origin = f"from {poster_words(model, need)}, {fmt.safe(need.circle_name, 24)} {g.sep} {fmt.ago(need.created, now)}"
    if column:
        return f"{kind}: {about} {g.sep} {status}\n   [italic]{fmt.one_line(need.text, 40)}[/]\n   {origin}{when}"
    return f"{kind}: {about} {g.sep} {status} {g.sep} {origin}\n   [italic]{fmt.one_line(need.text, 60)}[/]{when}"


def need_line(model: Model, need: Need, now: float, g: fmt.Glyphs, width: int = 80) -> str:
    """One line for home: what it is, from whom, how long ago, and the start of their words."""
    kind = "Offer" if need.kind == "offer" else "Need"
    about = vocab.NEED_CATEGORY_WORDS.get(need.category, need.category)
    head = f"{kind}: {about} {g.sep} {poster_words(model, need)} {g.sep} {fmt.ago(need.created, now)} {g.sep} "
    room = max(width - len(head) - 4, 16)          # the head's escapes make it a little longer than it shows
    return head + f"[italic]{fmt.one_line(need.text, room)}[/]"


def need_detail(model: Model, need: Need, now: float) -> str:
    """The highlighted item in full, and what this person can do with it."""
    kind = "An offer" if need.kind == "offer" else "A need"
    about = vocab.NEED_CATEGORY_WORDS.get(need.category, need.category)
    lines = [f"[b]{kind}: {about}[/b]", fmt.safe(need.text), ""]
    if need.when:
        lines.append(f"When: {fmt.safe(need.when)}")
    lines += [f"From {poster_words(model, need)} in {fmt.safe(need.circle_name)}, {fmt.ago(need.created, now)}",
              f"Now: {status_words(model, need)}"]
    if need.reach and need.mine:
        lines.append(f"How to reach you (sent only to whoever takes it): {fmt.safe(need.reach)}")
    elif need.reach:
        lines.append(f"[b]How to reach them[/b] (only you see this): {fmt.safe(need.reach)}")
    elif need.taker == model.node_id and not need.mine:
        lines.append("Their computer sends you how to reach them, if they left a way, as soon as it can.")
    hints = [hint for hint, ok in (("t: I'll take this", can_take(model, need)), ("d: done", can_finish(model, need)),
                                   ("l: let go of it", can_release(model, need))) if ok]
    if hints:
        lines += ["", "   ".join(hints)]
    return "\n".join(lines)


def can_take(model: Model, need: Need | None) -> bool:
    return need is not None and not need.mine and need.status == "open"


def can_finish(model: Model, need: Need | None) -> bool:
    return need is not None and need.status in ("open", "taken") and (
        need.mine or (need.status == "taken" and need.taker == model.node_id))


def can_release(model: Model, need: Need | None) -> bool:
    return need is not None and need.status == "taken" and (need.mine or need.taker == model.node_id)


# --- home's part -------------------------------------------------------------------------------------


class HomeNeeds(Vertical):
    """Home's list of open needs and offers, below the calls: the newest few, Enter opens the board."""

    def compose(self) -> ComposeResult:
        yield Static("[b]Needs and offers[/b]", classes="section-title", id="needs-title")
        yield KeptList(id="home-needs")
        yield Static("", id="no-needs", classes="muted")

    def show(self, model: Model, now: float, g: fmt.Glyphs, width: int = 80) -> None:
        """Redraw from ``model`` (home's ``refresh_view`` calls it): one line per item, so home stays short."""
        needs = model.open_needs()
        shown = needs[:NEEDS_ON_HOME]
        listing = self.query_one("#home-needs", KeptList)
        listing.set_items((n.id, need_line(model, n, now, g, width)) for n in shown)
        listing.display = bool(shown)
        more = len(needs) - len(shown)
        note = self.query_one("#no-needs", Static)
        note.update(f"and {more} more: b shows the board" if more else
                    "" if shown else "Nothing open on the board (b to see it, or to post a need or an offer).")
        note.display = bool(more) or not shown

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        ident = event.option.id
        if ident is not None:
            cast("MeshcareApp", self.app).open_need(ident)


# --- the board ---------------------------------------------------------------------------------------


class BoardScreen(ListDetailScreen):
    """Every circle's board: needs and offers by category."""

    PARTS = ("board-body", "need-list", "need-detail", "board-detail")

    PURPOSE = ("The board (b): needs and offers for the practical things (food, housing, a ride, childcare, "
               "money, company). t says \"I'll take this\", d marks one done, l lets go of it, w posts yours.")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("t", "take", "I'll take this", id="take"),
        Binding("d", "done", "Done", id="done"),
        Binding("l", "release", "Let go", id="release"),
        Binding("w", "new_need", "Post a need or offer", id="new-need"),      # n stays "a new call", everywhere
    ]

    def refresh_view(self) -> None:
        model, now, g = self.mc.model, self.mc.now(), self.mc.glyphs
        listing = self.query_one("#need-list", KeptList)
        column = (self.size.width or 80) >= 100          # a wide screen: the list is a column beside the detail
        listing.set_items((n.id, need_row(model, n, now, g, column=column)) for n in model.needs_in_order())
        self.select_first()
        self._show_detail()

    def _selected(self) -> Need | None:
        found = next(self.query("#need-list").results(KeptList), None)      # None before the list exists
        ident = None if found is None else found.selected_id
        return self.mc.model.needs.get(ident) if ident else None

    def _show_detail(self) -> None:
        need = self._selected()
        detail = self.query_one("#board-detail", Static)
        if need is None:
            detail.update("Nothing on the board yet. Press w to post a need (something you could use help "
                          "with) or an offer (something you can give).")
            return
        detail.update(need_detail(self.mc.model, need, self.mc.now()))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Each key only where it applies to the highlighted item (the fold's rules, as the daemon judges)."""
        model, need = self.mc.model, self._selected()
        if action == "take":
            return can_take(model, need)
        if action == "done":
            return can_finish(model, need)
        if action == "release":
            return can_release(model, need)
        if action == "new_need":
            return bool(model.circles_in_order())
        return super().check_action(action, parameters)

    def on_option_list_option_highlighted(self, _event: OptionList.OptionHighlighted) -> None:
        self._show_detail()
        self.sync_footer()

    # --- actions ---------------------------------------------------------------------------------

    def _target(self, applies: Callable[[Model, Need | None], bool]) -> Need | None:
        """The highlighted item, if ``applies`` to it; else say so and None."""
        need = self._selected()
        if need is None or not applies(self.mc.model, need):
            self.notify("That does not apply to the highlighted item.", title="The board")
            return None
        return need

    def _after(self, need: Need, said: str) -> None:
        """The daemon's answer shows at once (the board's event brings the same a moment later)."""
        self.mc.model.needs[need.id] = need
        self.mc.refresh_screens()
        self.notify(said, title="The board")

    def action_take(self) -> None:
        need = self._target(can_take)
        if need is not None:
            self.mc.act(api.NeedTake(need=need.id), lambda r: self._after(
                r.need, "You'll take this: the circle sees it. Their computer sends you how to reach them, if "
                        "they left a way."))

    def action_done(self) -> None:
        need = self._target(can_finish)
        if need is not None:
            self.mc.act(api.NeedDone(need=need.id), lambda r: self._after(r.need, "Marked done."))

    def action_release(self) -> None:
        need = self._target(can_release)
        if need is not None:
            self.mc.act(api.NeedRelease(need=need.id), lambda r: self._after(r.need, "It is open for others again."))

    def action_new_need(self) -> None:
        circles = self.mc.model.circles_in_order()
        if not circles:
            self.notify("Join or create a circle first: the board belongs to a circle.", title="The board")
            return
        choices = [(fmt.safe(s.circle.name, 40), s.circle.id) for s in circles]
        allowed = {b.circle for b in self.mc.model.boards.values() if b.anonymous}
        self.mc.push_screen(NewNeedDialog(choices, allowed), self._post)

    def _post(self, request: api.NeedCreate | None) -> None:
        if request is not None:
            self.mc.act(request, lambda r: self._after(r.need, "It is on the board of "
                                                       f"{fmt.safe(r.need.circle_name)}."
                                                       + (" Whoever takes it is sent how to reach you; nobody "
                                                          "else sees it." if r.reach_kept else "")))

    def _set_anonymous(self, circle: str, allow: bool) -> None:
        def done(result: api.BoardSetResult) -> None:
            self.mc.model.boards[result.board.circle] = result.board
            self.notify(f"{fmt.safe(result.board.circle_name)}'s board "
                        f"{'allows' if allow else 'no longer allows'} anonymous posts.", title="The board")
        self.mc.act(api.BoardSet(circle=circle, anonymous=allow), done)

    def palette_commands(self) -> list[Command]:
        out = [Command("board: post a need or an offer", "Food, housing, a ride, childcare, money, company",
                       self.action_new_need)]
        need = self._selected()
        if can_take(self.mc.model, need):
            out.append(Command("board: I'll take the highlighted item", "The circle sees you took it", self.action_take))
        for board in self.mc.model.boards.values():
            if board.facilitator:
                allow = not board.anonymous
                words = "allow" if allow else "stop"
                out.append(Command(f"board: {words} anonymous posts in {board.circle_name[:40]}",
                                   "Facilitators; what was posted stays as it was",
                                   partial(self._set_anonymous, board.circle, allow)))
        return out


class NewNeedDialog(FormDialog[api.NeedCreate]):
    """A need or an offer: circle, which, what about, the words, when, how to be reached, no name."""

    def __init__(self, circles: list[tuple[str, str]], anonymous_allowed: set[str]) -> None:
        super().__init__()
        self.circles, self.allowed = circles, anonymous_allowed

    def compose(self) -> ComposeResult:
        with Vertical(classes="box"):
            yield Static("[b]Post on the board[/b]")
            yield Select(self.circles, value=self.circles[0][1], allow_blank=False, id="circle", compact=True)
            with RadioSet(id="kind", compact=True):
                yield Pick("I need something", value=True, name="need", compact=True)
                yield Pick("I can offer something", name="offer", compact=True)
            yield Select([(vocab.NEED_CATEGORY_WORDS[c], c) for c in vocab.NEED_CATEGORIES], value="other",
                         allow_blank=False, id="category", compact=True)
            yield Input(placeholder="what, in a few words (e.g. a ride to the clinic)", max_length=vocab.MAX_NEED_TEXT,
                        id="text", compact=True)
            yield Input(placeholder="when (optional, e.g. Tuesday morning)", max_length=vocab.MAX_NOTE, id="when",
                        compact=True)
            yield Label("How can whoever takes it reach you? Only they will see it.")
            yield Input(placeholder="optional, e.g. call or text 555-0100", max_length=vocab.MAX_NOTE, id="reach",
                        compact=True)
            yield Tick("Show no name on the board", id="anonymous", compact=True)
            yield Static("", id="anonymous-note", classes="muted")
            with Horizontal(classes="buttons"):
                yield Button("Post", id="send", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def on_mount(self) -> None:
        self._anonymous_note()
        self.query_one("#text", Input).focus()

    def on_select_changed(self, _event: Select.Changed) -> None:
        self._anonymous_note()

    def _circle(self) -> str:
        return str(self.query_one("#circle", Select).value)

    def _anonymous_note(self) -> None:
        allowed = self._circle() in self.allowed
        box = self.query_one("#anonymous", Tick)
        box.disabled = not allowed
        if not allowed:
            box.value = False
        self.query_one("#anonymous-note", Static).update(
            "Your computer still signs the post: the board hides your name, a modified app could see it."
            if allowed else "This circle does not allow posts without a name (a facilitator can allow them).")

    def send(self) -> None:
        text = self.query_one("#text", Input).value.strip()
        if not text:
            self.notify("Write what you need or offer first.", title="The board")
            return
        pressed = self.query_one("#kind", RadioSet).pressed_button
        self.dismiss(api.NeedCreate(
            circle=self._circle(), text=text, category=str(self.query_one("#category", Select).value),
            kind=pressed.name if pressed is not None and pressed.name else "need",
            when=self.query_one("#when", Input).value.strip(), reach=self.query_one("#reach", Input).value.strip(),
            anonymous=self.query_one("#anonymous", Tick).value))
