"""The command palette (ctrl+p): what can be done from here, by name, the current screen's actions first.

A screen offers its own commands through ``palette_commands()`` (a list of ``Command``); the app adds
the ones that work everywhere and one "open circle" per circle. Names are plain words that say what
happens ("claim: I have this call"), so typing part of the intent finds them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content

from .screens.actions import create_circle, join_circle


@dataclass(frozen=True, slots=True)
class Command:
    """One palette entry: its name, a sentence of help, and what runs."""

    name: str
    help: str
    run: Callable[[], Any]


def app_commands(app: Any) -> list[Command]:
    """The commands that work from every screen (``app`` is the MeshcareApp)."""
    commands = [
        Command("call: ask your circle for support (new call)", "Write a call for support", app.action_new_call),
        Command("availability: say whether you are available", "Toggle available / away in your circles",
                app.action_toggle_availability),
        Command("availability: available until a time, with a limit of calls",
                "In an hour, three, tonight, tomorrow morning; at most 1, 2 or 3 calls", app.action_availability_until),
        Command("circle: join another circle with an invite", "Paste the invite someone gave you",
                partial(join_circle, app)),
        Command("circle: start a new circle", "You are its first facilitator", partial(create_circle, app)),
        Command("calls: every call, resolved ones too", "Home lists only the latest resolved calls",
                app.action_all_calls),
        Command("check-ins: see and answer check-ins", "The circle's check-ins and your answers",
                app.action_checkins),
        Command("gatherings: groups, workshops, walks and meals", "Coming up in your circles; say if you are "
                "coming", app.action_gatherings),
        Command("gathering: organise a gathering", "A support group, a workshop, a walk, a shared meal",
                app.action_new_gathering),
        Command("board: needs and offers (mutual aid)", "Food, housing, rides, childcare, money, company",
                app.action_board),
        Command("plan: write or share your support plan", "Your support plan, kept on this computer until shared",
                app.action_plan),
        Command("ladders: my ladders, requests to me, who not to involve",
                "People you would like to hear from first (they say yes or no); L on the home screen",
                app.action_ladders),
        Command("care: follow-ups, safety timer, your load", "Check-ins to do, I'm there / I'm OK, off tonight",
                app.action_care),
        Command("messages: write privately to a facilitator", "A conversation, a debrief, help with a conflict: "
                "only you and the facilitators you choose read it", app.action_requests),
        Command("library: the circle's shared texts", "House agreements, how we respond, words we use",
                app.action_library),
        Command("status: links and catching up", "Neighbours, sync and counters of this node", app.action_node_status),
        Command("settings: theme and bell", "Colours, high contrast, the bell", app.action_settings),
        Command("help: keys and screens", "What each key does and what each screen is for", app.action_help),
    ]
    for state in app.model.circles_in_order():
        commands.append(Command(f"circle: open {state.circle.name}", "Members, invites, verification",
                                partial(app.open_circle, state.circle.id)))
    return commands


class MeshcareCommands(Provider):
    """The palette's provider: the screen's commands, then the app's."""

    def _commands(self) -> list[Command]:
        own = getattr(self.screen, "palette_commands", None)
        first: list[Command] = own() if callable(own) else []
        return first + app_commands(self.app)

    async def discover(self) -> Hits:
        for command in self._commands():
            yield DiscoveryHit(Content(command.name), command.run, text=command.name, help=command.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in self._commands():
            score = matcher.match(command.name)
            if score > 0:
                yield Hit(score, matcher.highlight(command.name), command.run, text=command.name, help=command.help)
