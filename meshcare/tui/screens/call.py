"""One call for support: the caller's wishes at the top, then who, how soon, where it stands, their words,
offers (the caller accepts one with Enter), the thread of updates, and shared support plans.

The screen follows the model: a claim, an offer or an update from anyone shows up as it arrives. When the
call is gone (it expired) the screen says so instead of closing under the person's eyes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Input, OptionList, RadioSet, Static

from ... import vocab
from ...control import api
from .. import format as fmt
from .. import render
from ..commands import Command
from ..widgets.lists import KeptList
from ..widgets.toggles import Pick
from .actions import claim, offer
from .care import after_resolve, ask_followup, off_tonight, start_safety
from .base import MeshScreen
from .dialogs import ConfirmDialog, Dialog


class CallScreen(MeshScreen):
    """A call's thread and everything that can be done with it."""

    PURPOSE = ("A call: the caller's wishes first, then where it stands, their words, offers, updates and any "
               "support plan they shared. Claim it, offer help, write an update, let go, or resolve it; on your "
               "own call, share your support plan with whoever has it (Shift+P), and once it is resolved ask "
               "for a check-in (i). Going in person for a call you have: a safety timer (g). Once it is "
               "resolved, d asks a facilitator for a debrief.")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("c", "claim", "Claim", id="claim"),
        Binding("o", "offer", "Offer", id="offer"),
        Binding("u", "update", "Update", id="update"),
        Binding("x", "resolve", "Resolve", id="resolve"),
        Binding("l", "release", "Let go", show=False, id="release"),
        Binding("P", "share_plan", "Share plan", id="share-plan"),
        Binding("i", "followup", "Ask for a check-in", id="ask-followup"),
        Binding("g", "safety", "Safety timer", show=False, id="call-safety"),
        Binding("z", "off_tonight", "Off tonight", id="call-off-tonight"),
        Binding("d", "debrief", "Ask for a debrief", id="debrief"),
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
        names = self.mc.model.names(call.circle, dict(call.names))
        whom = "you" if call.mine else fmt.name_of(call.caller, names, self.mc.model.node_id)

        def chosen(answer: ResolveAnswer | None) -> None:
            if answer is None:
                return
            followup_at = None if answer.followup is None else int(self.mc.now()) + answer.followup

            def done(result: api.CallResolveResult) -> None:
                if result.already_resolved:
                    self.notify("It was resolved already.", title="Resolved")
                    return
                if followup_at is not None:
                    self.notify(f"Marked resolved. meshcare asks {whom} \"how are you doing now?\" "
                                f"{fmt.until(followup_at, self.mc.now())}, in this call's thread.", title="Resolved")
                else:
                    self.notify("Marked resolved.", title="Resolved")
                after_resolve(self.mc, result.call)     # the caller: a check-in? a responder: off tonight?
            self.mc.act(api.CallResolve(call=self.call_id, followup_at=followup_at), done)
        self.mc.push_screen(ResolveDialog(whom), chosen)

    def action_share_plan(self) -> None:
        """Share this person's plan with whoever has their call (``plan.share`` with ``call``): only that
        one person reads it, in the call."""
        call = self._live()
        if call is None:
            return
        if not call.mine or call.claimer is None or call.status != "claimed":
            self.notify("You can share your support plan with whoever has one of your calls, once someone has "
                        "it." if not call.mine else "Nobody has this call yet: once someone has it, you can share "
                        "your plan with them.", title="Support plan")
            return
        if self.mc.model.plan is None:
            self.notify("You have no support plan saved yet: p opens it; write it, save it, then share it here.",
                        title="Support plan")
            return
        names = self.mc.model.names(call.circle, dict(call.names))
        who = fmt.name_of(call.claimer, names, self.mc.model.node_id)

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.mc.act(api.PlanShare(call=self.call_id), lambda r: self.notify(
                    f"Shared with {who}: it shows at the end of this call. You can take it back on your plan's "
                    "screen (p).", title="Support plan"))
        self.mc.push_screen(ConfirmDialog(f"Share your saved support plan with {who}, who has this call? Only they "
                                          "can read it, in this call. You can take it back later (p).",
                                          "Share my plan"), confirmed)

    def action_followup(self) -> None:
        """The caller, once their call is resolved: "would you like someone to check in tomorrow?"."""
        call = self._live()
        if call is None:
            return
        if not call.mine or call.status != "resolved":
            self.notify("Once your own call is resolved, you can ask someone to check in on you.", title="Follow-up")
            return
        ask_followup(self.mc, call)

    def action_off_tonight(self) -> None:
        """"Take me off for tonight", one key after resolving someone's call."""
        off_tonight(self.mc)

    def action_safety(self) -> None:
        """Going in person for a call this person has: a safety timer with this call's circle."""
        call = self._live()
        if call is not None:
            start_safety(self.mc, call.circle)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The footer offers what can be done with this call now: no claim or offer on your own call or a
        resolved one, no update or resolve once it is resolved, letting go only for whoever has it, and
        sharing a plan only on your own call once someone has it; a check-in asked for on your own
        resolved call; a safety timer for a call you have."""
        call = self.call
        if call is None:
            return super().check_action(action, parameters) if action == "back" else False
        if action in ("claim", "offer"):
            return not call.mine and call.status != "resolved"
        if action in ("update", "resolve"):
            return call.status != "resolved"
        if action == "release":
            return call.claimer == self.mc.model.node_id and call.status == "claimed"
        if action == "share_plan":
            return call.mine and call.status == "claimed" and call.claimer is not None
        if action == "followup":
            return call.mine and call.status == "resolved"
        if action == "safety":
            return call.claimer == self.mc.model.node_id and call.status == "claimed"
        if action == "off_tonight":
            return call.status == "resolved" and not call.mine and call.resolved_by == self.mc.model.node_id
        if action == "debrief":
            return call.status == "resolved" and took_part(call, self.mc.model.node_id)
        return super().check_action(action, parameters)

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

    def action_debrief(self) -> None:
        """After a call this person took part in: ask a facilitator of their choice for a debrief (a
        private request, not a report: screens/requests.py)."""
        from .requests import open_ask

        call = self._live()
        if call is None:
            return
        if call.status != "resolved" or not took_part(call, self.mc.model.node_id):
            self.notify("Once a call you took part in is resolved, you can ask a facilitator for a debrief here.",
                        title="Debrief")
            return
        open_ask(self.mc, circle=call.circle, about="debrief")

    def palette_commands(self) -> list[Command]:
        return [Command("claim: I have this call", "Tell the circle you are on it", self.action_claim),
                Command("offer: offer help on this call", "I can call, come over, listen, text", self.action_offer),
                Command("update: write in this call's thread", "Everyone who can read the call sees it",
                        self.action_update),
                Command("let go: release this call", "It is open for others again", self.action_release),
                Command("resolve: mark this call resolved", "It is over; a follow-up later if you like",
                        self.action_resolve),
                Command("share plan: show my support plan to whoever has this call",
                        "Only they read it, in this call (your own calls)", self.action_share_plan),
                Command("check-in: ask someone to check in on me tomorrow", "Your own resolved call; only you "
                        "decide", self.action_followup),
                Command("safety: start a safety timer for going in person", "The facilitators are alerted if you "
                        "go silent", self.action_safety),
                Command("debrief: ask a facilitator for a debrief", "After a call you took part in; only you and "
                        "them read it", self.action_debrief)]


def took_part(call: api.Call, me: str) -> bool:
    """This person asked, had, resolved, offered or wrote in ``call``."""
    return (call.caller == me or call.claimer == me or call.resolved_by == me
            or any(o.author == me for o in call.offers) or any(u.author == me for u in call.updates))


@dataclass(frozen=True, slots=True)
class ResolveAnswer:
    """Resolve, and ask "how are you doing now?" ``followup`` seconds later (None: no follow-up)."""

    followup: int | None


class ResolveDialog(Dialog[ResolveAnswer]):
    """Mark a call resolved, optionally with a follow-up check-in in its thread later (``call.resolve``
    ``followup_at``)."""

    def __init__(self, whom: str) -> None:
        super().__init__()
        self.whom = whom

    def compose(self) -> ComposeResult:
        with Vertical(classes="box"):
            yield Static("[b]Mark this call resolved?[/b] Everyone in the circle sees it is over.\n\n"
                         f"Check in with {self.whom} again later? meshcare asks \"how are you doing now?\" in the "
                         "call's thread:")
            with RadioSet(id="followup", compact=True):
                for i, (words, _) in enumerate(fmt.FOLLOWUPS):
                    yield Pick(words, value=i == 0, name=str(i), compact=True)
            with Horizontal(classes="buttons"):
                yield Button("Mark resolved", id="yes", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#followup").focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id != "yes":
            self.dismiss(None)
            return
        pressed = self.query_one("#followup", RadioSet).pressed_index
        self.dismiss(ResolveAnswer(fmt.FOLLOWUPS[max(pressed, 0)][1]))

