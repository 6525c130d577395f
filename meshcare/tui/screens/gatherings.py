"""Gatherings: the list (coming up first), one gathering, and the form that organises one.

A gathering shows what a person needs before and after: when and where (members only), the group's
agreements, how it goes, who hosts it, who is coming, and the aftercare ("if something came up for you"),
which moves to the top once it has started. y, n and m answer yes, no and maybe. Who answered what is
shown to the gathering's hosts and the circle's facilitators; everyone else sees how many (the daemon
decides, ``sees_names``: the interface shows it so, it is not a secret from members' nodes).

The model keeps the gatherings (the snapshot's, then each one a ``care.changed`` names, asked for with
``refresh_gathering``); the past and called-off ones come with ``t`` on the list.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, Label, OptionList, Select, Static

from ... import vocab
from ...control import api
from ...control.views_gatherings import Gathering
from ...errors import DaemonUnavailable, ProtocolError, RequestFailed
from .. import format as fmt
from ..commands import Command
from ..widgets.lists import KeptList
from ..widgets.upcoming import ANSWER_WORDS, coming_words, gathering_row, when_words
from .base import ListDetailScreen, MeshScreen
from .dialogs import ConfirmDialog

if TYPE_CHECKING:
    from ..app import MeshcareApp

#: How long before a gathering its people may be reminded, as the form offers it (minutes).
REMINDERS = (("an hour before", 60), ("30 minutes before", 30), ("3 hours before", 180), ("a day before", 1440),
             ("no reminder", 0))
TIME_FORMAT = "%Y-%m-%d %H:%M"
RSVP_KEYS = (("y", "yes", "Coming"), ("n", "no", "Not coming"), ("m", "maybe", "Maybe"))


def refresh_gathering(app: MeshcareApp, ident: str) -> None:
    """Ask for one gathering a ``care.changed`` named and put it in the model; quietly, since it may be
    gone again by the time the answer comes (the next event says so)."""
    async def go() -> None:
        try:
            result = await app.client.ask(api.GatheringShow(gathering=ident))
        except (RequestFailed, DaemonUnavailable, ProtocolError):
            return
        app.model.put_gathering(result.gathering)
        app.refresh_screens()
    app.run_worker(go(), group="requests", exit_on_error=False)


def gathering_detail(model: Any, g: Gathering, now: float, tz: Any = None) -> str:
    """Everything about one gathering, in the order a person looks for it (markup, every peer text escaped)."""
    names = model.names(g.circle, dict(g.names))
    me = model.node_id
    hosts = ", ".join(fmt.name_of(h, names, me) for h in g.hosts) or "nobody"
    ends = f" to {fmt.clock_words(g.ends, now, tz)}" if g.ends is not None else ""
    lines = [f"[b]{fmt.safe(g.title)}[/b] ({g.kind}) in {fmt.safe(g.circle_name)}"]
    if g.started and g.aftercare and not g.cancelled:
        lines += ["", "[b]If something came up for you[/b]", fmt.safe(g.aftercare)]
    if g.cancelled:
        lines += ["", f"[b]Called off[/b] by {fmt.name_of(g.cancelled_by, names, me)}."]
    lines += ["", f"When: {fmt.clock_words(g.when, now, tz)}{ends} ({when_words(g, now)})",
              f"Where: {fmt.safe(g.where) if g.where else 'not said'} (only your circle can read this)",
              f"Hosts: {hosts}"]
    if g.about:
        lines += ["", fmt.safe(g.about)]
    if g.agreements:
        lines += ["", "[b]Our agreements[/b]", *(f" - {fmt.safe(a)}" for a in g.agreements)]
    if g.format:
        lines += ["", "[b]How it goes[/b]", *(f" {i}. {fmt.safe(r)}" for i, r in enumerate(g.format, 1))]
    lines += ["", f"[b]Coming[/b]: {coming_words(g)}" + (f", {g.counts.get('no', 0)} not coming"
                                                          if g.counts.get("no") else "")]
    if g.sees_names:
        for answer, words in (("yes", "coming"), ("maybe", "maybe"), ("no", "not coming")):
            who = [fmt.name_of(r.member, names, me) for r in g.rsvps if r.answer == answer]
            if who:
                lines.append(f" {words}: {', '.join(who)}")
        lines.append("(You see names because you host it or facilitate the circle; others see how many.)")
    lines.append(f"You: {ANSWER_WORDS.get(g.mine or '', 'not answered yet')}")
    if not g.cancelled and not g.over:
        lines.append("Press y (coming), n (not coming) or m (maybe).")
    if g.aftercare and not g.started:
        lines += ["", f"Afterwards, if something came up for you: {fmt.safe(g.aftercare)}"]
    return "\n".join(lines)


class _Answering(MeshScreen):
    """What the list and the one-gathering screen share: y/n/m answer the gathering shown."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *[Binding(key, f"rsvp('{answer}')", words, id=f"rsvp-{answer}") for key, answer, words in RSVP_KEYS]]

    def shown(self) -> Gathering | None:
        raise NotImplementedError

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "rsvp":
            g = self.shown()
            return g is not None and not g.cancelled and not g.over
        return super().check_action(action, parameters)

    def action_rsvp(self, answer: str) -> None:
        g = self.shown()
        if g is None or g.cancelled or g.over:
            self.notify("There is no gathering to answer here.", title="Gatherings")
            return

        def done(result: api.GatheringRsvpResult) -> None:
            self.mc.model.put_gathering(result.gathering)
            self.mc.refresh_screens()
            self.notify(f"{fmt.safe(result.gathering.title)}: {ANSWER_WORDS[answer]}.", title="Answer sent")
        self.mc.act(api.GatheringRsvp(gathering=g.id, answer=answer), done)


class GatheringsScreen(_Answering, ListDetailScreen):
    """Every gathering this node knows: coming up first."""

    PURPOSE = ("Gatherings: support groups, workshops, walks and meals of your circles. y, n or m says whether "
               "you are coming; Enter shows everything about one; o organises one; t shows past ones too.")
    PARTS = ("gatherings-body", "gathering-list", "gathering-side", "gathering-brief")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("o", "organise", "Organise", id="organise"),
        Binding("t", "past", "Past ones", id="past-gatherings"),
    ]

    def refresh_view(self) -> None:
        model, now = self.mc.model, self.mc.now()
        listing = self.query_one("#gathering-list", KeptList)
        listing.set_items((g.id, gathering_row(g, now, self.mc.glyphs)) for g in model.gatherings_in_order(now))
        self._show_brief()

    def shown(self) -> Gathering | None:
        found = next(self.query("#gathering-list").results(KeptList), None)
        ident = None if found is None else found.selected_id
        return self.mc.model.gatherings.get(ident) if ident else None

    def _show_brief(self) -> None:
        g = self.shown()
        brief = self.query_one("#gathering-brief", Static)
        if g is None:
            brief.update("No gatherings coming up in your circles. Press o to organise one: a support group, "
                         "a workshop, a walk or a shared meal.")
            return
        brief.update(gathering_detail(self.mc.model, g, self.mc.now(), self.mc.tz))

    def on_option_list_option_highlighted(self, _event: OptionList.OptionHighlighted) -> None:
        self._show_brief()
        self.sync_footer()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id is not None:
            self.mc.open_gathering(event.option.id)

    def action_organise(self) -> None:
        self.mc.action_new_gathering()

    def action_past(self) -> None:
        def done(result: api.GatheringListResult) -> None:
            for g in result.gatherings:
                self.mc.model.put_gathering(g)
            self.mc.refresh_screens()
            if not result.gatherings:
                self.notify("No gatherings in your circles yet.", title="Gatherings")
        self.mc.act(api.GatheringList(all=True), done)

    def palette_commands(self) -> list[Command]:
        out = [Command("gathering: organise a gathering", "A support group, a workshop, a walk, a shared meal",
                       self.action_organise),
               Command("gatherings: show past and called-off ones too", "They stay until the circle's retention",
                       self.action_past)]
        if self.shown() is not None:
            out += [Command(f"rsvp: {words.lower()} to the highlighted gathering", f"Press {key}",
                            partial(self.action_rsvp, answer)) for key, answer, words in RSVP_KEYS]
        return out


class GatheringScreen(_Answering):
    """One gathering, all of it."""

    PURPOSE = ("A gathering: when, where, the group's agreements, how it goes, who is coming, and who to "
               "contact afterwards. y, n or m answers; x calls it off (its hosts and facilitators).")
    BINDINGS: ClassVar[list[BindingType]] = [Binding("x", "call_off", "Call off", id="call-off")]

    def __init__(self, gathering: str) -> None:
        super().__init__()
        self.gathering = gathering

    def body(self) -> ComposeResult:
        with VerticalScroll(id="gathering"):
            yield Static("", id="gathering-detail")

    def shown(self) -> Gathering | None:
        return self.mc.model.gatherings.get(self.gathering)

    def refresh_view(self) -> None:
        g = self.shown()
        detail = self.query_one("#gathering-detail", Static)
        detail.update("This gathering is gone: the circle no longer keeps it." if g is None else
                      gathering_detail(self.mc.model, g, self.mc.now(), self.mc.tz))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "call_off":
            g = self.shown()
            return g is not None and g.may_cancel and not g.cancelled and not g.over
        return super().check_action(action, parameters)

    def action_call_off(self) -> None:
        g = self.shown()
        if g is None or not g.may_cancel or g.cancelled:
            self.notify("Its organiser, its hosts and the circle's facilitators can call it off.", title="Call off")
            return

        def done(result: api.GatheringCancelResult) -> None:
            self.mc.model.put_gathering(result.gathering)
            self.mc.refresh_screens()
            self.notify("Everyone in the circle sees it is called off.", title="Called off")

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.mc.act(api.GatheringCancel(gathering=g.id), done)
        self.mc.push_screen(ConfirmDialog(f"Call off {fmt.safe(g.title)}? Everyone in "
                                          f"{fmt.safe(g.circle_name)} will see it is called off.", "Call it off",
                                          danger=True), confirmed)


class NewGatheringScreen(MeshScreen):
    """Organise a gathering: what, when, where, with whom, the agreements and how it goes."""

    PURPOSE = ("Organise a gathering: a title and a time are all it needs; the circle's agreements and the "
               "usual rounds are filled in. Ctrl+S posts it.")
    BINDINGS: ClassVar[list[BindingType]] = [Binding("ctrl+s", "send", "Post", id="post-gathering")]

    def body(self) -> ComposeResult:
        model = self.mc.model
        circles = [(fmt.safe(s.circle.name, 40), s.circle.id) for s in model.circles_in_order()]
        start = datetime.fromtimestamp(self.mc.now(), self.mc.tz).replace(minute=0, second=0, microsecond=0)
        start = (start + timedelta(days=1)).replace(hour=18)
        with VerticalScroll(id="new-gathering"):
            yield Label("Which circle")
            yield Select(circles, value=circles[0][1], allow_blank=False, id="g-circle", compact=True)
            yield Label("What is it called")
            yield Input(placeholder="e.g. Tuesday support group", max_length=vocab.MAX_TITLE, id="g-title",
                        compact=True)
            yield Label("What kind")
            yield Select([(k, k) for k in vocab.GATHERING_KINDS], value="group", allow_blank=False, id="g-kind",
                         compact=True)
            yield Label("When it starts (YYYY-MM-DD HH:MM), and when it ends (optional)")
            with Horizontal(classes="g-times"):
                yield Input(start.strftime(TIME_FORMAT), id="g-when", compact=True)
                yield Input(placeholder="ends (optional)", id="g-ends", compact=True)
            yield Label("Where (only your circle can read it)")
            yield Input(placeholder="e.g. the back room of the library", max_length=vocab.MAX_NOTE, id="g-where",
                        compact=True)
            yield Label("Who hosts it with you (optional)")
            yield Select([], prompt="nobody else", id="g-host", compact=True)
            yield Label("What it is about (optional)")
            yield Input(max_length=vocab.MAX_GATHERING_TEXT, id="g-about", compact=True)
            yield Label("The group's agreements, separated by ; (empty: the circle's)")
            yield Input(placeholder="; ".join(vocab.DEFAULT_AGREEMENTS), id="g-agreements", compact=True)
            yield Label("How it goes, separated by ; (empty: " + "; ".join(vocab.DEFAULT_FORMAT) + ")")
            yield Input(placeholder="; ".join(vocab.DEFAULT_FORMAT), id="g-format", compact=True)
            yield Label("Who to contact if something came up for someone (aftercare)")
            yield Input(placeholder="e.g. text Sam tonight or tomorrow", max_length=vocab.MAX_GATHERING_TEXT,
                        id="g-aftercare", compact=True)
            yield Label("Remind the people coming")
            yield Select(list(REMINDERS), value=60, allow_blank=False, id="g-remind", compact=True)
            yield Button("Post the gathering (Ctrl+S)", id="g-post", variant="primary")

    def on_mount(self) -> None:
        super().on_mount()
        self._circle_chosen()
        self.query_one("#g-title", Input).focus()

    def _circle_chosen(self) -> None:
        """The hosts to choose from, and the circle's agreements as the placeholder (asked for)."""
        circle = str(self.query_one("#g-circle", Select).value)
        state = self.mc.model.circles.get(circle)
        people = [] if state is None else sorted(
            ((fmt.safe(m.name, 40), m.id) for m in state.members.values()
             if m.role in vocab.PERSON_ROLES and m.id != self.mc.model.node_id), key=lambda p: p[0].casefold())
        self.query_one("#g-host", Select).set_options(people)

        def template(result: api.AgreementsShowResult) -> None:
            if self.is_mounted:
                self.query_one("#g-agreements", Input).placeholder = "; ".join(result.agreements.items)
        self.mc.act(api.AgreementsShow(circle=circle), template)

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "g-circle":
            self._circle_chosen()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "g-post":
            self.action_send()

    def _time(self, ident: str, what: str) -> int | None:
        text = self.query_one(ident, Input).value.strip()
        if not text:
            return None
        try:
            return int(datetime.strptime(text, TIME_FORMAT).replace(tzinfo=self.mc.tz).timestamp()
                       if self.mc.tz is not None else datetime.strptime(text, TIME_FORMAT).timestamp())
        except ValueError:
            raise ValueError(f"Write {what} as YYYY-MM-DD HH:MM, e.g. 2027-01-19 18:30.") from None

    def action_send(self) -> None:
        title = self.query_one("#g-title", Input).value.strip()
        if not title:
            self.notify("Give it a title first.", title="Gathering")
            return
        try:
            when = self._time("#g-when", "when it starts")
            ends = self._time("#g-ends", "when it ends")
        except ValueError as exc:
            self.notify(str(exc), title="Gathering")
            return
        if when is None:
            self.notify("Say when it starts.", title="Gathering")
            return

        def items(ident: str) -> tuple[str, ...]:
            return tuple(dict.fromkeys(x.strip() for x in self.query_one(ident, Input).value.split(";") if x.strip()))
        host = self.query_one("#g-host", Select).value
        remind = self.query_one("#g-remind", Select).value
        request = api.GatheringCreate(
            circle=str(self.query_one("#g-circle", Select).value), title=title, when=when, ends=ends,
            where=self.query_one("#g-where", Input).value.strip(), kind=str(self.query_one("#g-kind", Select).value),
            about=self.query_one("#g-about", Input).value.strip(), hosts=(str(host),) if isinstance(host, str) else (),
            agreements=items("#g-agreements"), format=items("#g-format"),
            aftercare=self.query_one("#g-aftercare", Input).value.strip(),
            remind=remind if isinstance(remind, int) else 60)

        def done(result: api.GatheringCreateResult) -> None:
            self.mc.model.put_gathering(result.gathering)
            self.mc.refresh_screens()
            self.notify(f"{fmt.safe(result.gathering.title)} is posted in {fmt.safe(result.gathering.circle_name)}.",
                        title="Gathering posted")
            if self.mc.screen is self:
                self.mc.pop_screen()
        self.mc.act(request, done)
