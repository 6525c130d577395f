"""Help (``?``): the keys, and what each screen is for, in plain words."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from ... import outside_contacts
from ...errors import BadInput
from .. import format as fmt

KEYS = (
    ("Everywhere", (("n", "write a new call for support"), ("a", "say you are available (12 h), or away"),
                    ("Shift+A", "available until a time you choose, with a limit of calls"),
                    ("k", "check-ins"), ("g", "gatherings: groups, workshops, walks, meals"),
                    ("b", "the mutual-aid board: needs and offers"),
                    ("h", "every call, resolved ones too"), ("p", "your support plan"), ("s", "node status: links, catching up"),
                    ("j", "join another circle with an invite, or start one"),
                    ("m", "messages with facilitators: ask one privately for a conversation, a debrief, help"),
                    ("e", "the circle's library: house agreements and other shared texts"),
                    (",", "settings: your name, colours, bell"), ("Ctrl+P", "every command, by name"),
                    ("?", "this help"), ("q", "quit (the daemon keeps running)"),
                    ("Enter", "open the highlighted item"), ("Escape", "go back"),
                    ("Tab", "move between lists and fields"))),
    ("Home and a call", (("c", "claim the highlighted call: tell the circle you are on it"),
                         ("o", "offer help: I can call, come over, listen, text"),
                         ("r", "answer the highlighted check-in"),
                         ("u", "write an update in the call's thread (on the call)"),
                         ("l", "let go of a call you claimed (on the call)"),
                         ("x", "mark the call resolved, with a follow-up later if you like (on the call)"),
                         ("Shift+P", "share your support plan with whoever has your call (on your call)"))),
    ("Check-ins", (("1 to 6", "answer the highlighted check-in with that answer"),
                   ("k", "facilitators: ask the circle how they are doing"))),
    ("Messages and the library", (("w", "write to a facilitator (messages), or a new text (library, facilitators)"),
                                  ("r", "answer in the highlighted thread (messages)"),
                                  ("x", "close your own request (messages)"),
                                  ("d", "ask a facilitator for a debrief (on a resolved call you took part in)"),
                                  ("u", "change the highlighted text (library, facilitators)"),
                                  ("v", "show a text's earlier versions (library)"),
                                  ("Shift+S", "add meshcare's starter texts to adapt (library, facilitators)"))),
    ("Gatherings", (("y", "I am coming to the highlighted gathering"), ("n", "I am not coming (on a gathering)"),
                    ("m", "maybe"), ("o", "organise a gathering (on the list)"),
                    ("t", "show past and called-off ones too (on the list)"),
                    ("x", "call it off (on a gathering; its hosts and facilitators)"))),
    ("Care", (("f", "follow-ups, your safety timer and your own load (elsewhere than an invite)"),
              ("i", "on your own resolved call: ask someone to check in on you tomorrow"),
              ("z", "take yourself off for tonight (on a call you resolved, or the care screen)"),
              ("g", "start a safety timer before going in person (care screen, or a call you have)"),
              ("t", "safety timer: I'm there (care screen)"), ("o", "safety timer: I'm OK (care screen)"),
              ("e", "end your safety timer (care screen)"),
              ("d", "mark the highlighted check-in you did as done (care screen)"))),
    ("The board", (("t", "I'll take this: the highlighted need or offer"),
                   ("d", "mark it done (its poster, or whoever took it)"),
                   ("l", "let go of it (whoever took it gives it back; the poster reopens it)"),
                   ("w", "post a need or an offer"))),
    ("A circle", (("i", "invite someone: a token and a QR code"), ("v", "verify the highlighted person in person"),
                  ("Shift+R", "make them a facilitator, or a member again (facilitators)"),
                  ("w", "withdraw the highlighted open invite"),
                  ("Delete", "remove them (facilitators)"), ("Shift+L", "leave the circle"))),
    ("An invite", (("f", "show only the QR code, full screen, for a phone to scan"),)),
    ("My ladders", (("Shift+L", "my ladders (on the home screen): who you would like to hear from first"),
                    ("y", "say yes to the highlighted request to be on someone's ladder"),
                    ("n", "say no to it (you can change your mind later)"),
                    ("+", "ask someone to be on your ladder: they say yes or no"),
                    ("x", "who not to involve: your calls never reach them (only this computer knows)"),
                    ("d", "take the highlighted person off your ladder or your list"))),
    ("Writing", (("Ctrl+S", "send the call, save the plan, or post a gathering"),)),
)


class HelpScreen(ModalScreen[None]):
    """The keys and the screens."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,question_mark,q", "close", "Close")]
    DEFAULT_CLASSES = "dialog"

    def compose(self) -> ComposeResult:
        from .board import BoardScreen
        from .call import CallScreen
        from .calls import CallsScreen
        from .checkins import CheckinsScreen
        from .circle import CircleScreen
        from .gatherings import GatheringScreen, GatheringsScreen, NewGatheringScreen
        from .home import HomeScreen
        from .library import LibraryScreen
        from .requests import RequestsScreen
        from .new_call import NewCallScreen
        from .node import NodeScreen
        from .ladders import LaddersScreen
        from .plan import PlanScreen
        from .settings import SettingsScreen

        lines = ["[b]meshcare: a circle of people who look out for each other[/b]",
                 "A call for support goes from this computer to the people in your circle, and to nobody else. "
                 "meshcare is not an emergency service.", ""]
        lines += self._outside_contacts()
        for title, keys in KEYS:
            lines.append(f"[b]{title}[/b]")
            lines += [f"  [b]{key:<8}[/b] {what}" for key, what in keys]
            lines.append("")
        lines.append("[b]The screens[/b]")
        for screen in (HomeScreen, CallScreen, CallsScreen, NewCallScreen, CheckinsScreen, GatheringsScreen,
                       GatheringScreen, NewGatheringScreen, BoardScreen, CircleScreen, PlanScreen, LaddersScreen,
                       NodeScreen, SettingsScreen, RequestsScreen, LibraryScreen):
            lines.append(f"  {screen.PURPOSE}")
        lines += ["", "The line at the top always says whether this computer is linked to neighbours, whether it "
                      "is catching up, and whether it is connected to its daemon.", "",
                  "Escape, q or ? closes this help."]
        with VerticalScroll(classes="box wide", id="help"):
            yield Static("\n".join(lines))

    def _outside_contacts(self) -> list[str]:
        """The person's own contacts outside meshcare (written at first run; kept on this computer only),
        first, because whoever opens help in a hard moment may need them more than the keys."""
        home = getattr(self.app, "prefs_home", None)
        if home is None:
            return []
        try:
            contacts = outside_contacts.read(home)
        except BadInput as exc:
            return [f"(your outside contacts could not be read: {fmt.safe(str(exc))})", ""]
        if not contacts:
            return [f"You can keep your own contacts outside meshcare (a crisis line, a friend) in "
                    f"{fmt.safe(str(outside_contacts.path(home)))}, one per line; they stay on this computer.", ""]
        return ["[b]Your own contacts outside meshcare[/b] (kept on this computer only)",
                *(f"  {fmt.safe(line)}" for line in contacts), ""]

    def action_close(self) -> None:
        self.dismiss(None)
