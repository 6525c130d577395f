"""The first-run setup: a small Textual app of its own, run before any daemon exists (``meshcare`` alone,
when the data directory has no identity yet).

Three calm steps, keyboard first, that fit 80x24:

1. **Your name**: what meshcare is and where its data lives, in two sentences (people mistrust an app
   that does not say so on its first screen), then the name the person's circles will see. It is
   required and is never taken from ``$USER`` behind their back.
2. **A passphrase, if they want one** (typed twice): it protects the key at rest; they type it each time
   the node starts. Both fields empty skips it.
3. **What meshcare is not**: it is not an emergency service and never contacts anyone outside the
   circle; then a place for the person's own outside contacts (free lines, kept on this computer only:
   ``meshcare.outside_contacts``).

Finishing creates the identity through the ``create`` function the launcher passes in (it holds the
keystore; this module imports nothing of the core) and returns a ``SetupResult``; leaving (Ctrl+Q)
returns None and creates nothing. Creating a circle or joining one with an invite comes next, inside
the main terminal UI.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, ContentSwitcher, Footer, Input, Label, Static, TextArea

from .. import outside_contacts
from ..config import Settings
from ..errors import MeshcareError
from ..vocab import MAX_NAME

#: Creates the identity (name, passphrase or None) and returns its fingerprint; raises a MeshcareError.
CreateIdentity = Callable[[str, "bytes | None"], str]

STEPS = ("step-name", "step-passphrase", "step-safety")

WELCOME = ("meshcare lets a small circle of neighbours ask each other for support and answer, computer to "
           "computer, with no server in between. What you and your circle write stays on your computers, "
           "encrypted; this computer keeps yours in {home}.")
NAME_HINT = ("The name your circles see next to your calls and answers, e.g. \"Ana\" or \"Ana (3rd floor)\". "
             "You can change it later.")
NAME_MISSING = "Please type a name: your circles see it next to your calls and answers."
PASSPHRASE_TEXT = ("A passphrase protects your key if this computer is lost or shared. You type it each time "
                   "your node starts, and nobody can recover it for you. Leave both fields empty to go without.")
PASSPHRASE_DIFFERS = "The two passphrases differ; please type them again."
NOT_EMERGENCY = "meshcare is not an emergency service."
SAFETY_TEXT = ("It never contacts anyone outside your circle, and nobody is guaranteed to answer. If a life is "
               "in danger, call your local emergency number.")
CONTACTS_TEXT = ("People and numbers you can reach outside meshcare, one per line (a crisis line, a friend, a "
                 "neighbour). Optional; kept only on this computer, never sent to anyone.")


@dataclass(frozen=True, slots=True)
class SetupResult:
    """What the setup made: the name, the passphrase (None: none), the fingerprint, the contacts kept."""

    name: str
    passphrase: bytes | None
    fingerprint: str
    contacts: tuple[str, ...]


def check_name(text: str) -> str | None:
    """The name as it will be kept, or None with no usable name (empty, too long, control characters)."""
    name = text.strip()
    if not 1 <= len(name) <= MAX_NAME or not name.isprintable():
        return None
    return name


class SetupApp(App[SetupResult]):
    """The first-run setup (see the module doc). ``create`` makes the identity; ``home`` is the data dir."""

    TITLE = "meshcare: first run"
    ENABLE_COMMAND_PALETTE = False
    CSS = """
    Screen { align: center top; }
    #frame { width: 78; max-width: 100%; height: 1fr; padding: 0 1; overflow-x: hidden; }
    #title { text-style: bold; }
    #step { color: $text-muted; }
    .text { margin: 1 0 0 0; }
    .label { margin: 1 0 0 0; text-style: bold; }
    .hint { color: $text-muted; }
    .error { margin: 1 0 0 0; text-style: bold; color: $error; height: auto; }
    #contacts { height: 6; }
    .buttons { height: auto; margin: 1 0 0 0; align: right middle; }
    .buttons Button { margin: 0 0 0 2; min-width: 10; }
    ContentSwitcher, ContentSwitcher > Vertical { height: auto; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "step_back", "Back"),
        Binding("ctrl+q", "leave", "Leave setup", priority=True),
    ]

    def __init__(self, home: Path, create: CreateIdentity, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.home = home
        self.create = create
        self._person = ""
        self._passphrase: bytes | None = None
        self._fingerprint: str | None = None  # set once the identity exists (a retry does not make another)
        self._busy = False

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="frame"):
            yield Static("Welcome to meshcare", id="title")
            yield Static("", id="step")
            with ContentSwitcher(initial=STEPS[0]):
                with Vertical(id="step-name"):
                    yield Static(WELCOME.format(home=self.home), classes="text", markup=False)
                    yield Label("Your name", classes="label")
                    yield Input(placeholder="your name", max_length=MAX_NAME, id="name")
                    yield Static(NAME_HINT, classes="hint", markup=False)
                    yield Static("", classes="error", markup=False)
                    with Horizontal(classes="buttons"):
                        yield Button("Next", id="next-name", variant="primary", compact=True)
                with Vertical(id="step-passphrase"):
                    yield Static(PASSPHRASE_TEXT, classes="text")
                    yield Label("Passphrase", classes="label")
                    yield Input(password=True, id="passphrase")
                    yield Label("The same passphrase again", classes="label")
                    yield Input(password=True, id="passphrase2")
                    yield Static("", classes="error", markup=False)
                    with Horizontal(classes="buttons"):
                        yield Button("Back", id="back-passphrase", compact=True)
                        yield Button("Next", id="next-passphrase", variant="primary", compact=True)
                with Vertical(id="step-safety"):
                    yield Static(NOT_EMERGENCY, classes="label", id="not-emergency")
                    yield Static(SAFETY_TEXT, markup=False)
                    yield Static(CONTACTS_TEXT, classes="text", markup=False)
                    yield TextArea(id="contacts", soft_wrap=True, tab_behavior="focus")
                    yield Static("", classes="error", markup=False)
                    with Horizontal(classes="buttons"):
                        yield Button("Back", id="back-safety", compact=True)
                        yield Button("Finish", id="finish", variant="primary", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        self._show(STEPS[0])

    # --- moving between steps ---------------------------------------------------------------------------

    @property
    def step(self) -> str:
        return self.query_one(ContentSwitcher).current or STEPS[0]

    def _show(self, step: str) -> None:
        self.query_one(ContentSwitcher).current = step
        self.query_one("#step", Static).update(f"Step {STEPS.index(step) + 1} of {len(STEPS)}")
        self._error("")
        first = {"step-name": "#name", "step-passphrase": "#passphrase", "step-safety": "#contacts"}[step]
        self.query_one(first).focus()

    def _error(self, text: str) -> None:
        """Show ``text`` (or nothing) above the buttons of the step on screen."""
        error = self.query_one(f"#{self.step} .error", Static)
        error.update(text)
        error.display = bool(text)

    def action_step_back(self) -> None:
        index = STEPS.index(self.step)
        if index > 0 and not self._busy and self._fingerprint is None:
            self._show(STEPS[index - 1])

    def action_leave(self) -> None:
        if not self._busy:
            self.exit(None)

    @on(Input.Submitted, "#name")
    @on(Button.Pressed, "#next-name")
    def _name_done(self) -> None:
        name = check_name(self.query_one("#name", Input).value)
        if name is None:
            self._error(NAME_MISSING)
            self.query_one("#name", Input).focus()
            return
        self._person = name
        self._show("step-passphrase")

    @on(Input.Submitted, "#passphrase")
    def _to_second(self) -> None:
        self.query_one("#passphrase2", Input).focus()

    @on(Input.Submitted, "#passphrase2")
    @on(Button.Pressed, "#next-passphrase")
    def _passphrase_done(self) -> None:
        first, second = self.query_one("#passphrase", Input), self.query_one("#passphrase2", Input)
        if first.value != second.value:
            first.value = second.value = ""
            self._error(PASSPHRASE_DIFFERS)
            first.focus()
            return
        self._passphrase = first.value.encode() if first.value else None
        self._show("step-safety")

    @on(Button.Pressed, "#back-passphrase")
    @on(Button.Pressed, "#back-safety")
    def _back_pressed(self) -> None:
        self.action_step_back()

    # --- finishing --------------------------------------------------------------------------------------

    @on(Button.Pressed, "#finish")
    def _finish(self) -> None:
        if self._busy:
            return
        try:
            contacts = outside_contacts.clean(self.query_one("#contacts", TextArea).text.splitlines())
        except MeshcareError as exc:
            self._error(str(exc))
            return
        self._busy = True
        self._error("")
        self.query_one("#step", Static).update("Creating your key...")
        self._create(tuple(contacts))

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _create(self, contacts: tuple[str, ...]) -> None:
        """Make the identity (Argon2 takes a moment with a passphrase), then keep the contacts."""
        try:
            fingerprint = self._fingerprint or self.create(self._person, self._passphrase)
            self._fingerprint = fingerprint
            outside_contacts.write(self.home, contacts)
        except MeshcareError as exc:
            self.call_from_thread(self._failed, str(exc))
            return
        self.call_from_thread(self.exit, SetupResult(self._person, self._passphrase, fingerprint, contacts))

    def _failed(self, message: str) -> None:
        self._busy = False
        self.query_one("#step", Static).update(f"Step {len(STEPS)} of {len(STEPS)}")
        self._error(message)


def run_setup(settings: Settings, create: CreateIdentity) -> SetupResult | None:
    """Run the setup in this terminal for the data dir ``settings.home``; None when the person left it."""
    return SetupApp(settings.home, create).run()
