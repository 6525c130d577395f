"""One call for support: the caller's wishes at the top, then who, how soon, where it stands, their words,
offers (the caller accepts one with Enter), the thread of updates, and shared support plans.

The screen follows the model: a claim, an offer or an update from anyone shows up as it arrives. When the
call is gone (it expired) the screen says so instead of closing under the person's eyes.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Input, OptionList, Static

from ... import vocab
from ...control import api
from .. import render
from ..commands import Command
from ..widgets.lists import KeptList
from .actions import claim, offer
from .base import MeshScreen
from .dialogs import ConfirmDialog


class CallScreen(MeshScreen):
    """A call's thread and everything that can be done with it."""

    PURPOSE = ("A call: the caller's wishes first, then where it stands, their words, offers, updates and any "
               "support plan they shared. Claim it, offer help, write an update, let go, or resolve it.")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("c", "claim", "Claim", id="claim"),
        Binding("o", "offer", "Offer", id="offer"),
        Binding("u", "update", "Update", id="update"),
        Binding("x", "resolve", "Resolve", id="resolve"),
        Binding("l", "release", "Let go", show=False, id="release"),
    ]

    def __init__(self, call: str) -> None:
        super().__init__()
        self.call_id = call

    def body(self) -> ComposeResult:
        with VerticalScroll(id="call"):
            yield Static("", id="wishes")
            yield Static("", id="header")
            yield Static("[b]Offers[/b]", classes="section-title", id="offers-title")
            yield KeptList(id="offers")
            yield Static("[b]Updates[/b]", classes="section-title", id="thread-title")
            yield Static("", id="thread")
            yield Static("", id="plans")
        yield Input(placeholder="write an update for the thread, then Enter (u)", max_length=vocab.MAX_UPDATE_TEXT,
                    id="update", compact=True)

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#call").focus()

    def action_back(self) -> None:
        """Escape in the update field leaves the field (what was typed stays); elsewhere it goes back."""
        if isinstance(self.focused, Input):
            self.query_one("#call").focus()
        else:
            super().action_back()

    @property
    def call(self) -> api.Call | None:
        return self.mc.model.calls.get(self.call_id)

    def refresh_view(self) -> None:
        model, now, g = self.mc.model, self.mc.now(), self.mc.glyphs
        call = self.call
        header = self.query_one("#header", Static)
        if call is None:
            self.query_one("#wishes").display = False
            header.update("This call is no longer here: it was resolved long enough ago to be deleted, or it "
                          "expired. Escape goes back." if model.loaded else "Loading...")
            for ident in ("#offers-title", "#offers", "#thread-title", "#thread", "#plans", "#update"):
                self.query_one(ident).display = False
            return
        wishes = render.wishes_block(call)
        self.query_one("#wishes", Static).update(wishes)
        self.query_one("#wishes").display = bool(wishes)
        header.update(render.call_header(model, call, now, g))
        offers = self.query_one("#offers", KeptList)
        offers.set_items((o.id, render.offer_row(model, call, i, now)) for i, o in enumerate(call.offers))
        self.query_one("#offers-title", Static).update(
            "[b]Offers[/b]" + (" (Enter accepts the highlighted one)" if call.mine and call.status != "resolved"
                               else "") if call.offers else "[b]Offers[/b]: none yet")
        self.query_one("#offers-title").display = True
        offers.display = bool(call.offers)
        thread = render.thread(model, call, now)
        self.query_one("#thread-title").display = True
        self.query_one("#thread-title", Static).update("[b]Updates[/b]" if thread else "[b]Updates[/b]: none yet")
        self.query_one("#thread", Static).update(thread)
        self.query_one("#thread").display = bool(thread)
        names = model.names(call.circle, dict(call.names))
        plans = "\n\n".join(render.plan_block(model, share, names) for share in call.plans)
        self.query_one("#plans", Static).update(plans)
        self.query_one("#plans").display = bool(plans)
        self.query_one("#update").display = call.status != "resolved"

    # --- actions ---------------------------------------------------------------------------------

    def _live(self) -> api.Call | None:
        call = self.call
        if call is None:
            self.notify("This call is no longer here.", title="Call")
        return call

    def action_claim(self) -> None:
        call = self._live()
        if call is not None:
            claim(self.mc, call)

    def action_offer(self) -> None:
        call = self._live()
        if call is not None:
            offer(self.mc, call)

    def action_update(self) -> None:
        if self.call is not None and self.call.status != "resolved":
            self.query_one("#update", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if not text or self.call is None:
            return
        field = event.input

        def done(_result: api.CallUpdateResult) -> None:
            field.value = ""
            self.notify("Posted to the call's thread.", title="Update")
        self.mc.act(api.CallUpdate(call=self.call_id, text=text), done)

    def action_release(self) -> None:
        call = self._live()
        if call is None:
            return
        if call.claimer != self.mc.model.node_id:
            self.notify("You do not have this call, so there is nothing to let go of.", title="Let go")
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.mc.act(api.CallRelease(call=self.call_id), lambda r: self.notify(
                    "You let go of this call; it is open for others again.", title="Let go"))
        self.mc.push_screen(ConfirmDialog("Let go of this call? The circle sees it needs someone again.", "Let go"),
                            confirmed)

    def action_resolve(self) -> None:
        call = self._live()
        if call is None:
            return
        if call.status == "resolved":
            self.notify("This call is resolved already.", title="Resolve")
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.mc.act(api.CallResolve(call=self.call_id), lambda r: self.notify(
                    "Marked resolved." if not r.already_resolved else "It was resolved already.", title="Resolved"))
        self.mc.push_screen(ConfirmDialog("Mark this call resolved? Everyone in the circle sees it is over.",
                                          "Mark resolved"), confirmed)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        call = self.call
        if event.option_list.id != "offers" or call is None or event.option.id is None:
            return
        if not call.mine:
            self.notify("Only the caller accepts offers.", title="Offer")
            return
        offer_id = event.option.id
        self.mc.act(api.CallAccept(call=self.call_id, offer=offer_id), lambda r: self.notify(
            "You accepted the offer; they see it in the thread.", title="Accepted"))

    def palette_commands(self) -> list[Command]:
        return [Command("claim: I have this call", "Tell the circle you are on it", self.action_claim),
                Command("offer: offer help on this call", "I can call, come over, listen, text", self.action_offer),
                Command("update: write in this call's thread", "Everyone who can read the call sees it",
                        self.action_update),
                Command("let go: release this call", "It is open for others again", self.action_release),
                Command("resolve: mark this call resolved", "It is over", self.action_resolve)]

