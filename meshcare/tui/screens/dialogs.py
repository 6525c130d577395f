"""Small modal dialogs: confirm, one line of text, one of a few choices, offer help, answer a check-in,
compare fingerprints.

Each is a ``ModalScreen`` that dismisses with its answer (None: the person changed their mind, with
Escape or the Cancel button). They hold no state of the app's; the screen that opens one acts on the
answer.
"""

from __future__ import annotations

from typing import ClassVar, Generic, TypeVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from ... import vocab
from ...control.views import Checkin
from .. import format as fmt

T = TypeVar("T")


class Dialog(ModalScreen[T], Generic[T]):
    """Base: a framed box in the middle; Escape cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CLASSES = "dialog"

    def action_cancel(self) -> None:
        self.dismiss(None)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "cancel":
            self.dismiss(None)


class FormDialog(Dialog[T]):
    """A dialog with fields and a button that sends them (``SEND``): Enter in a field sends too, any other
    button cancels. ``send`` checks what was typed and dismisses with the answer (or says what is missing)."""

    SEND: ClassVar[str] = "send"

    def send(self) -> None:
        raise NotImplementedError

    def on_input_submitted(self, _event: Input.Submitted) -> None:
        self.send()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == self.SEND:
            self.send()
        else:
            self.dismiss(None)


class ConfirmDialog(Dialog[bool]):
    """A yes/no question with the consequence spelled out."""

    def __init__(self, question: str, yes: str, *, danger: bool = False) -> None:
        super().__init__()
        self.question, self.yes, self.danger = question, yes, danger

    def compose(self) -> ComposeResult:
        with Vertical(classes="box"):
            yield Static(self.question, classes="question")
            with Horizontal(classes="buttons"):
                yield Button(self.yes, id="yes", variant="error" if self.danger else "primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(True if event.button.id == "yes" else None)


class TextDialog(FormDialog[str]):
    """One line of text (a circle's name, an invite token, a few words)."""

    def __init__(self, title: str, prompt: str, *, placeholder: str = "", value: str = "", ok: str = "OK",
                 max_length: int = 0, allow_empty: bool = False) -> None:
        super().__init__()
        self.title_text, self.prompt = title, prompt
        self.placeholder, self.value, self.ok = placeholder, value, ok
        self.max_length, self.allow_empty = max_length, allow_empty

    def compose(self) -> ComposeResult:
        with Vertical(classes="box"):
            yield Static(f"[b]{self.title_text}[/b]")
            yield Label(self.prompt)
            yield Input(self.value, placeholder=self.placeholder, max_length=self.max_length, id="text", compact=True)
            with Horizontal(classes="buttons"):
                yield Button(self.ok, id=self.SEND, variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def send(self) -> None:
        text = self.query_one("#text", Input).value.strip()
        if text or self.allow_empty:
            self.dismiss(text)


class ChoiceDialog(Dialog[str]):
    """A few choices, one key each (1, 2, ...) or a button; answers the chosen one's name."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        *[Binding(str(i), f"choose({i})", f"Choice {i}", show=False) for i in range(1, 10)],
    ]

    def __init__(self, title: str, text: str, choices: list[tuple[str, str]]) -> None:
        super().__init__()
        self.title_text, self.text, self.choices = title, text, choices

    def compose(self) -> ComposeResult:
        with Vertical(classes="box"):
            yield Static(f"[b]{self.title_text}[/b]\n{self.text}")
            for i, (name, words) in enumerate(self.choices, 1):
                yield Button(f"{i}  {words}", id=f"choice-{name}", classes="choice", compact=True)
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel", compact=True)

    def action_choose(self, number: int) -> None:
        if 1 <= number <= len(self.choices):
            self.dismiss(self.choices[number - 1][0])

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id and event.button.id.startswith("choice-"):
            self.dismiss(event.button.id.removeprefix("choice-"))
        else:
            self.dismiss(None)


class OfferDialog(Dialog[tuple[str, str]]):
    """What this person offers: one key per kind (1 to the number of ``vocab.OFFER_KINDS``: 5, "come over
    with a second person" included), with a few optional words."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        *[Binding(str(i), f"offer({i})", fmt.offer_words(kind), show=False)
          for i, kind in enumerate(vocab.OFFER_KINDS, 1)],
    ]

    def __init__(self, about: str) -> None:
        super().__init__()
        self.about = about

    def compose(self) -> ComposeResult:
        with Vertical(classes="box"):
            yield Static(f"[b]Offer support[/b]\n{self.about}")
            for i, kind in enumerate(vocab.OFFER_KINDS, 1):
                yield Button(f"{i}  {fmt.offer_words(kind)}", id=f"kind-{kind}", classes="choice", compact=True)
            yield Input(placeholder="a few words, e.g. when (optional)", max_length=vocab.MAX_OFFER_TEXT, id="words",
                        compact=True)
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel", compact=True)

    def _words(self) -> str:
        return self.query_one("#words", Input).value.strip()

    def action_offer(self, number: int) -> None:
        if self.focused is not None and isinstance(self.focused, Input):
            return
        self.dismiss((vocab.OFFER_KINDS[number - 1], self._words()))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id and event.button.id.startswith("kind-"):
            self.dismiss((event.button.id.removeprefix("kind-"), self._words()))
        else:
            self.dismiss(None)


class ReplyDialog(Dialog[tuple[int, str]]):
    """Answer a check-in: one key per answer (1-6), a few optional words, and who will read it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        *[Binding(str(i), f"answer({i})", f"Answer {i}", show=False) for i in range(1, vocab.MAX_OPTIONS + 1)],
    ]

    def __init__(self, checkin: Checkin, readers: str) -> None:
        super().__init__()
        self.checkin, self.readers = checkin, readers

    def compose(self) -> ComposeResult:
        c = self.checkin
        with Vertical(classes="box"):
            yield Static(f"[b]{fmt.safe(c.prompt)}[/b]\n{fmt.safe(c.circle_name)}")
            for i, option in enumerate(c.options, 1):
                yield Button(f"{i}  {fmt.safe(option, vocab.MAX_OPTION_TEXT)}", id=f"answer-{i}", classes="choice",
                             compact=True)
            yield Input(placeholder="a few words, if you like (optional)", max_length=vocab.MAX_REPLY_TEXT,
                        id="words", compact=True)
            yield Static(f"Who will read your answer: {self.readers}", classes="muted")
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel", compact=True)

    def action_answer(self, number: int) -> None:
        if isinstance(self.focused, Input) or number > len(self.checkin.options):
            return
        self.dismiss((number, self.query_one("#words", Input).value.strip()))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id and event.button.id.startswith("answer-"):
            self.dismiss((int(event.button.id.removeprefix("answer-")), self.query_one("#words", Input).value.strip()))
        else:
            self.dismiss(None)


class VerifyDialog(Dialog[str]):
    """Compare fingerprints in person; answers "confirm", "unverify", or None. Each fingerprint is two
    lines of six groups, indented alike, so the two are read and compared the same way, group by group
    (twelve groups on one line wrapped after ten, at the margin, and the two looked different)."""

    def __init__(self, who: str, theirs: str, mine: str, verified: bool) -> None:
        super().__init__()
        self.who, self.theirs, self.mine, self.verified = who, theirs, mine, verified

    def compose(self) -> ComposeResult:
        with Vertical(classes="box"):
            yield Static(f"[b]Verify {self.who} in person[/b]\n"
                         "Sit together and compare these numbers, out loud or side by side. If they match, "
                         "you know that messages from this person really come from them.")
            with Vertical(classes="fingerprints"):
                yield Static(f"[b]{self.who}'s fingerprint:[/b]")
                yield Static("\n".join(fmt.fingerprint_lines(self.theirs)), classes="fingerprint", id="theirs")
                yield Static("[b]Yours:[/b]")
                yield Static("\n".join(fmt.fingerprint_lines(self.mine)), classes="fingerprint", id="mine")
            yield Static("They see the same two numbers on their screen, the other way round.", classes="muted")
            with Horizontal(classes="buttons"):
                yield Button("They match", id="confirm", variant="primary", compact=True)
                if self.verified:
                    yield Button("Take the mark away", id="unverify", compact=True)
                yield Button("Not now", id="cancel", compact=True)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id if event.button.id in ("confirm", "unverify") else None)
