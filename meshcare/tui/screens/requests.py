"""Messages with facilitators: private requests and their threads (key ``m``).

A member asks one or two facilitators of their choice for a conversation, a debrief or help with a
conflict; only those people can read the request and its thread, and the screen always says who they
are ("Chloe and Ben will see this"). The list shows open threads first, the ones waiting for this
person marked in words; beside it, the highlighted thread. ``w`` writes a new request, ``r`` (or Enter)
replies, ``x`` closes a request this person made. The call screen opens the same form with "a debrief"
chosen (``open_ask``).

The requests come from ``request.list``: the app re-reads it when a ``care.changed`` event names a
request (``reread_requests``), and after every snapshot.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Input, Label, OptionList, RadioSet, Select, Static

from ... import vocab
from ...control.requests_requests import RequestClose, RequestCreate, RequestList, RequestReply
from ...control.results_requests import PrivateRequest
from ...errors import DaemonUnavailable, ProtocolError, RequestFailed
from .. import format as fmt
from ..commands import Command
from ..widgets.lists import KeptList
from ..widgets.toggles import Pick
from .base import ListDetailScreen, MeshScreen
from .dialogs import ConfirmDialog, Dialog, FormDialog, TextDialog

if TYPE_CHECKING:
    from ..app import MeshcareApp

log = logging.getLogger("meshcare.tui")

#: What a request is about, in words (the form's choices and the list).
ABOUT_WORDS = {"conversation": "a conversation", "debrief": "a debrief", "conflict": "help with a conflict"}
NOBODY_ELSE = "-"


# --- keeping the model up to date ---------------------------------------------------------------------

def reread_requests(app: MeshcareApp) -> None:
    """Ask ``request.list`` again when a ``care.changed`` named a request (or after a snapshot); tell the
    person about a request asked of them that was not there before. Quiet when the daemon cannot answer
    (an older daemon, a lost connection: the next snapshot tries again)."""
    if not app.model.take_stale("requests"):
        return
    known = set(app.model.requests)
    first = not app.model.requests_loaded

    async def go() -> None:
        try:
            result = await app.client.ask(RequestList())
        except (RequestFailed, DaemonUnavailable, ProtocolError) as exc:
            log.warning("could not read the private requests: %s", exc)
            return
        if not app.model.set_requests(result.requests):
            return
        app.refresh_screens()
        if first:
            return
        for r in result.requests:
            if r.id not in known and not r.mine:
                app.notify(f"{fmt.name_of(r.asker, r.names)} asks you privately for "
                           f"{ABOUT_WORDS.get(r.about, r.about)} ({fmt.safe(r.circle_name)}). m opens your messages.",
                           title="A private request", timeout=10)
    app.run_worker(go(), group="care-requests", exit_on_error=False)


# --- words ----------------------------------------------------------------------------------------------

def readers_words(request: PrivateRequest) -> str:
    """"Only you, Chloe and Ben can read this." (names escaped)."""
    return f"Only {fmt.names_list(request.people, request.names, request.me)} can read this."


def last_time(request: PrivateRequest) -> int:
    return max([request.created, *(m.created for m in request.replies)])


def status_words(request: PrivateRequest) -> str:
    if request.closed:
        return "closed"
    if request.waiting:
        return "new reply" if request.replies else "waiting for you"
    return "open"


def request_row(request: PrivateRequest, now: float) -> str:
    """One line of the list: with whom, about what, where it stands (in words), when."""
    others = [m for m in request.people if m != request.me]
    who = fmt.names_list(others, request.names, request.me)
    mark = "[b]" if request.waiting else ""
    end = "[/b]" if request.waiting else ""
    return (f"{mark}{who}: {ABOUT_WORDS.get(request.about, request.about)}, {status_words(request)}{end} "
            f"[dim]{fmt.ago(last_time(request), now)}[/dim]")


def _first(words: str) -> str:
    """``you`` -> ``You`` at the start of a line (a name keeps its own capitals)."""
    return words[:1].upper() + words[1:]


def request_detail(request: PrivateRequest, now: float) -> str:
    """The thread: who asked whom, who can read it, every message in order."""
    me, names = request.me, request.names
    asked = fmt.names_list(request.to, names, me)
    lines = [f"[b]{_first(fmt.name_of(request.asker, names, me))} asked {asked} for "
             f"{ABOUT_WORDS.get(request.about, request.about)}[/b] ({fmt.safe(request.circle_name)})",
             readers_words(request), "",
             f"[b]{_first(fmt.name_of(request.asker, names, me))}[/b], {fmt.ago(request.created, now)}:",
             fmt.safe(request.text)]
    for message in request.replies:
        lines += ["", f"[b]{_first(fmt.name_of(message.author, names, me))}[/b], {fmt.ago(message.created, now)}:",
                  fmt.safe(message.text)]
    lines.append("")
    if request.closed:
        lines.append(f"Closed by {fmt.name_of(request.asker, names, me)} "
                     f"{fmt.ago(request.closed_at, now) if request.closed_at else ''}. It is deleted everywhere "
                     "when the circle's retention ends.")
    else:
        lines.append("Press r to answer" + (", x to close it (only you can)." if request.mine else "."))
    return "\n".join(lines)


# --- the screen -----------------------------------------------------------------------------------------

class RequestsScreen(ListDetailScreen):
    """Private requests to facilitators and their threads."""

    PARTS = ("requests-body", "request-list", "request-detail", "detail")

    PURPOSE = ("Messages with facilitators: ask one or two facilitators, privately, for a conversation, a "
               "debrief or help with a conflict (w). Only you and them read it; r answers, x closes yours.")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("w", "write", "Write to a facilitator", id="write-request"),
        Binding("r", "reply", "Reply", id="reply-request"),
        Binding("x", "close_request", "Close", id="close-request"),
    ]

    def _in_order(self) -> list[PrivateRequest]:
        return sorted(self.mc.model.requests.values(), key=lambda r: (r.closed, not r.waiting, -last_time(r), r.id))

    def refresh_view(self) -> None:
        now = self.mc.now()
        listing = self.query_one("#request-list", KeptList)
        listing.set_items((r.id, request_row(r, now)) for r in self._in_order())
        self.select_first()
        self._show_detail()

    def _selected(self) -> PrivateRequest | None:
        found = next(self.query("#request-list").results(KeptList), None)
        ident = None if found is None else found.selected_id
        return self.mc.model.requests.get(ident) if ident else None

    def _show_detail(self) -> None:
        request = self._selected()
        detail = self.query_one("#detail", Static)
        if request is None:
            detail.update("No messages with facilitators yet.\n\nPress w to ask a facilitator, privately, for a "
                          "conversation, a debrief or help with a conflict. Only you and the facilitators you "
                          "choose can read it.")
            return
        detail.update(request_detail(request, self.mc.now()))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        request = self._selected()
        if action == "reply":
            return request is not None and not request.closed
        if action == "close_request":
            return request is not None and request.mine and not request.closed
        return super().check_action(action, parameters)

    def on_option_list_option_highlighted(self, _event: OptionList.OptionHighlighted) -> None:
        self._show_detail()
        self.sync_footer()

    def on_option_list_option_selected(self, _event: OptionList.OptionSelected) -> None:
        self.action_reply()

    def action_write(self) -> None:
        open_ask(self.mc)

    def action_reply(self) -> None:
        request = self._selected()
        if request is None or request.closed:
            self.notify("There is no open request to answer here.", title="Messages")
            return
        others = fmt.names_list([m for m in request.people if m != request.me], request.names, request.me)

        def written(text: str | None) -> None:
            if text:
                self.mc.act(RequestReply(request=request.id, text=text),
                            lambda r: self.notify(f"Sent. Only {others} can read it besides you.", title="Reply"))
        self.mc.push_screen(TextDialog("Reply", f"{others} will see this.", placeholder="your answer",
                                       ok="Send", max_length=vocab.MAX_REQUEST_TEXT), written)

    def action_close_request(self) -> None:
        request = self._selected()
        if request is None or not request.mine or request.closed:
            self.notify("Only the person who asked can close a request.", title="Messages")
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.mc.act(RequestClose(request=request.id),
                            lambda r: self.notify("Closed. Nothing more can be added to it.", title="Closed"))
        asked = fmt.names_list(request.to, request.names, request.me)
        self.mc.push_screen(ConfirmDialog(f"Close this request? {asked} will see it is closed, and nobody can add "
                                          "to it any more.", "Close it"), confirmed)

    def palette_commands(self) -> list[Command]:
        out = [Command("messages: write to a facilitator", "Only you and them read it", self.action_write)]
        request = self._selected()
        if request is not None and not request.closed:
            out.append(Command("reply: answer the highlighted request", "Its people only", self.action_reply))
            if request.mine:
                out.append(Command("close: close your request", "Nothing more can be added",
                                   self.action_close_request))
        return out


# --- asking ----------------------------------------------------------------------------------------------

def facilitators_of(app: MeshcareApp, circle: str) -> list[tuple[str, str]]:
    """(name, id) of the facilitators of ``circle`` this person can ask (not themselves), by name."""
    state = app.model.circles.get(circle)
    if state is None:
        return []
    return sorted(((m.name, m.id) for m in state.members.values()
                   if m.role == "facilitator" and m.id != app.model.node_id), key=lambda p: (p[0].casefold(), p[1]))


def open_ask(app: MeshcareApp, *, circle: str | None = None, about: str = "conversation") -> None:
    """The form that asks a facilitator (``about``: "debrief" from a resolved call); sends what it answers."""
    choices = {s.circle.id: facilitators_of(app, s.circle.id) for s in app.model.circles_in_order()
               if s.circle.status == "member"}
    choices = {c: f for c, f in choices.items() if f}
    if not choices:
        app.notify("There is no facilitator you can ask in your circles yet.", title="Messages")
        return
    circles = [(fmt.safe(app.model.circles[c].circle.name, 40), c) for c in choices]
    start = circle if circle in choices else circles[0][1]

    def chosen(request: RequestCreate | None) -> None:
        if request is not None:
            app.act(request, lambda r: app.notify(
                f"Sent. {readers_words(r.request)}", title="Your request is on its way"))
    app.push_screen(AskDialog(circles, choices, start, about), chosen)


class AskDialog(FormDialog[RequestCreate]):
    """Ask one or two facilitators: the circle, whom (a second one if the person likes), about what, the
    words; it says who will see it as the choice changes."""

    def __init__(self, circles: list[tuple[str, str]], facilitators: dict[str, list[tuple[str, str]]],
                 circle: str, about: str) -> None:
        super().__init__()
        self.circles, self.facilitators, self.circle, self.about = circles, facilitators, circle, about

    def _people(self, circle: str) -> list[tuple[str, str]]:
        return [(fmt.safe(name, vocab.MAX_NAME), ident) for name, ident in self.facilitators.get(circle, [])]

    def compose(self) -> ComposeResult:
        people = self._people(self.circle)
        with Vertical(classes="box"):
            yield Static("[b]Write to a facilitator, privately[/b]")
            if len(self.circles) > 1:
                yield Select(self.circles, value=self.circle, allow_blank=False, id="circle", compact=True)
            yield Label("Who")
            yield Select(people, value=people[0][1], allow_blank=False, id="first", compact=True)
            yield Select([("nobody else", NOBODY_ELSE), *people], value=NOBODY_ELSE, allow_blank=False,
                         id="second", compact=True)
            yield Label("About")
            with RadioSet(id="about", compact=True):
                for key in vocab.REQUEST_ABOUT:
                    yield Pick(ABOUT_WORDS[key], value=key == self.about, name=key, compact=True)
            yield Input(placeholder="what you would like, in your words", max_length=vocab.MAX_REQUEST_TEXT,
                        id="text", compact=True)
            yield Static("", id="readers", classes="muted")
            with Horizontal(classes="buttons"):
                yield Button("Send", id="send", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def on_mount(self) -> None:
        self._say_readers()
        self.query_one("#text", Input).focus()

    def _chosen(self) -> list[str]:
        first = str(self.query_one("#first", Select).value)
        second = str(self.query_one("#second", Select).value)
        return [first] + ([second] if second not in (NOBODY_ELSE, first) else [])

    def _say_readers(self) -> None:
        names = dict((ident, name) for name, ident in self.facilitators.get(self.circle, []))
        self.query_one("#readers", Static).update(f"{fmt.names_list(self._chosen(), names)} will see this, "
                                                  "and nobody else.")

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "circle" and event.value != self.circle:
            self.circle = str(event.value)
            people = self._people(self.circle)
            self.query_one("#first", Select).set_options(people)
            self.query_one("#first", Select).value = people[0][1]
            self.query_one("#second", Select).set_options([("nobody else", NOBODY_ELSE), *people])
            self.query_one("#second", Select).value = NOBODY_ELSE
        self._say_readers()

    def send(self) -> None:
        text = self.query_one("#text", Input).value.strip()
        if not text:
            self.notify("Write a few words first: what you would like.", title="Messages")
            return
        pressed = self.query_one("#about", RadioSet).pressed_button
        about = pressed.name if pressed is not None and pressed.name else self.about
        self.dismiss(RequestCreate(circle=self.circle, to=tuple(self._chosen()), about=about, text=text))
