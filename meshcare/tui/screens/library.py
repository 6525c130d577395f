"""The circle's library: short shared texts every member reads and facilitators write (key ``e``).

The list holds every text of every circle this person is in, by title; beside it, the highlighted text,
who wrote it and how often it changed (``v`` shows the earlier versions). Facilitators write a new text
(``w``), change the highlighted one (``u``: a new version, the earlier ones stay listed), remove it
(Delete, after a question) and add meshcare's starter texts to adapt (``S``).

Each circle's library comes from ``library.list``: read when the screen opens, and again while it is
open when a ``care.changed`` event names a circle's library or a snapshot arrives (``reread_library``).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Input, Label, OptionList, Select, Static, TextArea

from ... import vocab
from ...control.requests_requests import LibraryEdit, LibraryList, LibraryRemove, LibraryStarters
from ...control.results_requests import LibraryNote
from ...errors import DaemonUnavailable, ProtocolError, RequestFailed
from .. import format as fmt
from ..commands import Command
from ..widgets.lists import KeptList
from .base import ListDetailScreen, MeshScreen
from .dialogs import ConfirmDialog, Dialog

if TYPE_CHECKING:
    from ..app import MeshcareApp

log = logging.getLogger("meshcare.tui")


def reread_library(app: MeshcareApp) -> None:
    """Ask ``library.list`` again for each circle whose library a ``care.changed`` named (or all, after
    a snapshot), while the library screen is open (it asks for every circle's when it opens: nothing is
    read for a screen nobody looks at). Quiet when the daemon cannot answer (the next snapshot tries
    again)."""
    if not any(isinstance(screen, LibraryScreen) for screen in app.screen_stack):
        return
    circles = [c for c in app.model.take_stale("library") if c in app.model.circles
               and app.model.circles[c].circle.status == "member"]
    if not circles:
        return

    async def go() -> None:
        changed = False
        for circle in circles:
            try:
                listing = await app.client.ask(LibraryList(circle=circle))
            except (RequestFailed, DaemonUnavailable, ProtocolError) as exc:
                log.warning("could not read a circle's library: %s", exc)
                continue
            changed = app.model.set_library(listing) or changed
        if changed:
            app.refresh_screens()
    app.run_worker(go(), group="care-library", exit_on_error=False)


def note_detail(note: LibraryNote, now: float, *, versions: bool) -> str:
    """A text as the screen shows it (escaped), with its earlier versions when ``versions``."""
    changed = f", changed {note.edits} time{'s' if note.edits != 1 else ''}" if note.edits else ""
    lines = [f"[b]{fmt.safe(note.title)}[/b]", "", fmt.safe(note.text) or "[dim](empty)[/dim]", "",
             f"[dim]{fmt.safe(note.circle_name)}'s library; by {fmt.name_of(note.author, note.names)}, "
             f"{fmt.ago(note.created, now)}{changed}[/dim]"]
    if versions and len(note.versions) > 1:
        lines += ["", "[b]Earlier versions[/b], newest first:"]
        for v in reversed(note.versions[:-1]):
            title = f" (title: {fmt.safe(v.title)})" if v.title != note.title else ""
            lines += ["", f"[dim]{fmt.ago(v.created, now)}, by {fmt.name_of(v.author, note.names)}{title}[/dim]",
                      fmt.safe(v.text)]
    elif note.edits:
        lines.append("[dim]v shows the earlier versions.[/dim]")
    return "\n".join(lines)


class LibraryScreen(ListDetailScreen):
    """Every circle's library, by title."""

    PURPOSE = ("The library: short texts your circle keeps (house agreements, how we respond, words we use). "
               "Everyone reads them; facilitators write (w), change (u) and remove them, and v shows earlier "
               "versions.")
    PARTS = ("library-body", "note-list", "note-detail", "detail")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("w", "write", "New text", id="library-write"),
        Binding("u", "change", "Change", id="library-change"),
        Binding("v", "versions", "Versions", id="library-versions"),
        Binding("S", "starters", "Starter texts", show=False, id="library-starters"),
        Binding("delete", "remove", "Remove", show=False, id="library-remove"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.versions = False

    def on_mount(self) -> None:
        super().on_mount()
        model = self.mc.model
        model.care_stale |= {("library", c) for c in model.circles}
        reread_library(self.mc)

    def _notes(self) -> list[LibraryNote]:
        model = self.mc.model
        listings = [model.library[c] for c in sorted(model.library, key=lambda c: (
            model.library[c].circle_name.casefold(), c)) if c in model.circles]
        return [n for listing in listings for n in listing.notes]

    def _editable(self) -> list[str]:
        """Circles where this person may write the library (a facilitator)."""
        return [s.circle.id for s in self.mc.model.circles_in_order()
                if s.circle.role == "facilitator" and s.circle.status == "member"]

    def refresh_view(self) -> None:
        notes = self._notes()
        several = len({n.circle for n in notes}) > 1
        self.query_one("#note-list", KeptList).set_items(
            (n.id, fmt.safe(n.title, 60) + (f" [dim]({fmt.safe(n.circle_name, 20)})[/dim]" if several else ""))
            for n in notes)
        self._show_detail()

    def _selected(self) -> LibraryNote | None:
        found = next(self.query("#note-list").results(KeptList), None)
        ident = None if found is None else found.selected_id
        return next((n for n in self._notes() if n.id == ident), None) if ident else None

    def _starters_missing(self) -> list[str]:
        model = self.mc.model
        return [c for c in self._editable() if c in model.library and model.library[c].starters]

    def _show_detail(self) -> None:
        note = self._selected()
        detail = self.query_one("#detail", Static)
        if note is None:
            words = "Your circle's library is empty."
            if self._editable():
                words += " Press w to write a text, or S to add meshcare's starter texts and adapt them."
            else:
                words += " Facilitators write its texts: house agreements, how we respond, words we use."
            detail.update(words)
            return
        text = note_detail(note, self.mc.now(), versions=self.versions)
        if note.can_edit:
            text += "\n\n[dim]u changes it (the earlier version stays listed); Delete removes it.[/dim]"
        detail.update(text)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        note = self._selected()
        if action in ("change", "remove"):
            return note is not None and note.can_edit
        if action == "write":
            return bool(self._editable())
        if action == "starters":
            return bool(self._starters_missing())
        if action == "versions":
            return note is not None and note.edits > 0
        return super().check_action(action, parameters)

    def on_option_list_option_highlighted(self, _event: OptionList.OptionHighlighted) -> None:
        self._show_detail()
        self.sync_footer()

    def on_option_list_option_selected(self, _event: OptionList.OptionSelected) -> None:
        self.query_one("#note-detail").focus()

    def action_versions(self) -> None:
        self.versions = not self.versions
        self._show_detail()

    def action_write(self) -> None:
        circles = self._editable()
        if not circles:
            self.notify("Facilitators write the library; you can read it here.", title="Library")
            return
        choices = [(fmt.safe(self.mc.model.circles[c].circle.name, 40), c) for c in circles]
        self.mc.push_screen(NoteDialog(choices), self._save)

    def action_change(self) -> None:
        note = self._selected()
        if note is None or not note.can_edit:
            self.notify("Facilitators change the library's texts.", title="Library")
            return
        self.mc.push_screen(NoteDialog([(fmt.safe(note.circle_name, 40), note.circle)], note), self._save)

    def _save(self, request: LibraryEdit | None) -> None:
        if request is not None:
            self.mc.act(request, lambda r: self.notify(
                ("Added" if r.new else "Changed" if r.changed else "No change to") + f" \"{fmt.safe(r.note.title)}\". "
                "Everyone in the circle can read it.", title="Library"))

    def action_remove(self) -> None:
        note = self._selected()
        if note is None or not note.can_edit:
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.mc.act(LibraryRemove(circle=note.circle, note=note.id),
                            lambda r: self.notify(f"Removed \"{fmt.safe(r.title)}\".", title="Library"))
        self.mc.push_screen(ConfirmDialog(f"Remove \"{fmt.safe(note.title)}\" from the library? Members' "
                                          "computers forget it.", "Remove", danger=True), confirmed)

    def action_starters(self) -> None:
        for circle in self._starters_missing():
            self.mc.act(LibraryStarters(circle=circle), lambda r: self.notify(
                "Added: " + "; ".join(fmt.safe(t) for t in r.added) + ". Change them to fit your circle (u).",
                title="Starter texts"))

    def palette_commands(self) -> list[Command]:
        out = []
        if self._editable():
            out.append(Command("library: write a new text", "Facilitators", self.action_write))
        note = self._selected()
        if note is not None and note.can_edit:
            out.append(Command("library: change the highlighted text", "A new version; the earlier one stays",
                               self.action_change))
        if self._starters_missing():
            out.append(Command("library: add the starter texts", "House agreements, how we respond, ...",
                               self.action_starters))
        return out


class NoteDialog(Dialog[LibraryEdit]):
    """Write a library text, or change one (``note``): its title and its text."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel"),
                                             Binding("ctrl+s", "save", "Save", id="save-note")]

    def __init__(self, circles: list[tuple[str, str]], note: LibraryNote | None = None) -> None:
        super().__init__()
        self.circles, self.note = circles, note

    def compose(self) -> ComposeResult:
        with Vertical(classes="box"):
            yield Static("[b]Change the text[/b]" if self.note else "[b]A new text for the library[/b]")
            if len(self.circles) > 1:
                yield Select(self.circles, value=self.circles[0][1], allow_blank=False, id="circle", compact=True)
            yield Label("Title")
            yield Input(self.note.title if self.note else "", max_length=vocab.MAX_TITLE, id="title", compact=True,
                        placeholder="e.g. House agreements")
            yield Label("Text (everyone in the circle reads it)")
            yield TextArea(self.note.text if self.note else "", id="text", soft_wrap=True, tab_behavior="focus")
            with Horizontal(classes="buttons"):
                yield Button("Save (Ctrl+S)", id="save", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#text" if self.note else "#title").focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            self.action_save()
        else:
            self.dismiss(None)

    def action_save(self) -> None:
        title = self.query_one("#title", Input).value.strip()
        if not title:
            self.notify("Give the text a title.", title="Library")
            return
        text = self.query_one("#text", TextArea).text.rstrip()
        if len(text) > vocab.MAX_LIBRARY_TEXT:
            self.notify(f"That is {len(text)} characters; at most {vocab.MAX_LIBRARY_TEXT} fit.", title="Library")
            return
        found = list(self.query("#circle").results(Select))
        circle = str(found[0].value) if found else self.circles[0][1]
        self.dismiss(LibraryEdit(circle=circle, title=title, text=text,
                                 note=self.note.id if self.note else None))
