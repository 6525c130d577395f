"""A new invite: the dialog with its token and QR code, and the code alone on a light screen for a phone.

Why a screen with nothing but the code: a phone's camera needs the whole code at once, and on an 80x24
terminal the dialog's words and the token leave no room for it (a 200-character invite is 24 lines of
code). ``f`` shows the code alone, centred on a light background that is its quiet zone; any key that
closes things (Escape, ``f``, ``q``) goes back to the dialog.
"""

from __future__ import annotations

from typing import ClassVar

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from ...control import api
from .. import format as fmt
from ..widgets.qr import QRCode, qr_lines
from .dialogs import Dialog

#: What each invite makes of the person (or computer) who uses it, in the dialog's title.
FOR_WHOM = {"member": "one person", "facilitator": "one person, as a facilitator",
            "relay": "a relay: an always-on computer that passes the circle's messages on (it cannot read them)"}


class InviteDialog(Dialog[None]):
    """A new invite: the token, a QR code of it, and how long it works; ``f`` shows the code alone."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("f", "full_screen", "Code only", id="qr-full"),
    ]

    def __init__(self, invite: api.CircleInviteResult, now: float) -> None:
        super().__init__()
        self.invite, self.now = invite, now

    def compose(self) -> ComposeResult:
        whom = FOR_WHOM.get(self.invite.role, "one person")
        with VerticalScroll(classes="box wide"):
            yield Static(f"[b]An invite for {whom}[/b] (it works once, {fmt.until(self.invite.expires, self.now)} "
                         "at the latest)\nGive it in person if you can: they scan the code or type the token with "
                         "\"Join with an invite\", and you can verify each other at the same time.\n"
                         "[b]f[/b] shows only the code, as large as the screen allows, for a phone to scan.")
            yield Static(fmt.safe(self.invite.token), id="token")
            with Vertical(id="qr-box"):
                yield QRCode(self.invite.token, id="qr")
            with Horizontal(classes="buttons"):
                yield Button("Code only (f)", id="full", compact=True)
                yield Button("Done", id="cancel", variant="primary", compact=True)

    def action_full_screen(self) -> None:
        self.app.push_screen(QRScreen(self.invite.token))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "full":
            self.action_full_screen()
        else:
            self.dismiss(None)


class QRScreen(ModalScreen[None]):
    """The code of an invite token and nothing else, centred on a light screen."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,f,q", "close", "Back", id="qr-close")]
    DEFAULT_CSS = """
    QRScreen { align: center middle; background: #ffffff; color: #000000; }
    QRScreen Static.qr-words { width: auto; height: auto; background: #ffffff; color: #000000; }
    """

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token
        self.rows = len(qr_lines(token))

    def compose(self) -> ComposeResult:
        yield Static("", id="qr-too-tall", classes="qr-words", markup=False)
        yield QRCode(self.token, id="qr-full")
        yield Static("Escape goes back.", id="qr-hint", classes="qr-words", markup=False)

    def on_resize(self, event: events.Resize) -> None:
        """Words only where there is a line to spare (the code comes first); when the code is taller than
        the window, say so above it instead of letting a phone read half a code."""
        room = event.size.height - self.rows
        too_tall = self.query_one("#qr-too-tall", Static)
        too_tall.update(f"This window is {event.size.height} lines high and the code needs {self.rows}: make it "
                        "taller, or give the token as text. Escape goes back.")
        too_tall.display = room < 0
        self.query_one("#qr-hint").display = room >= 1

    def action_close(self) -> None:
        self.dismiss(None)
