"""Actions more than one screen offers: claim a call, offer help on it, answer a check-in, join or start a
circle."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ... import vocab
from ...control import api
from .. import format as fmt
from .. import render
from .dialogs import ChoiceDialog, OfferDialog, ReplyDialog, TextDialog

if TYPE_CHECKING:
    from ..app import MeshcareApp


def claim(app: MeshcareApp, call: api.Call) -> None:
    """Claim ``call`` (``app`` is the MeshcareApp), telling the person what came of it."""
    if call.mine:
        app.notify("This is your own call: the people in your circle can claim it.", title="Claim")
        return
    if call.status == "resolved":
        app.notify("This call is resolved already.", title="Claim")
        return

    def done(result: api.CallClaimResult) -> None:
        if result.have_it:
            app.notify("You have this call now; the circle sees that someone is on it.", title="Claimed")
        else:
            names = app.model.names(result.call.circle, dict(result.call.names))
            app.notify(f"{fmt.name_of(result.call.claimer, names)} has this call: their claim came first. You are "
                       "next in line if they let go, and you can still offer help.", title="Someone has it")
    app.act(api.CallClaim(call=call.id), done)


def offer(app: MeshcareApp, call: api.Call) -> None:
    """Ask what to offer on ``call``, then offer it."""
    if call.mine:
        app.notify("This is your own call: offers come from the others.", title="Offer")
        return
    names = app.model.names(call.circle, dict(call.names))
    about = f"to {fmt.name_of(call.caller, names)} in {fmt.safe(call.circle_name)}"

    def chosen(answer: tuple[str, str] | None) -> None:
        if answer is not None:
            kind, text = answer
            app.act(api.CallOffer(call=call.id, kind=kind, text=text), lambda r: app.notify(
                f"Offered: {fmt.offer_words(kind)}. They see it in the call's thread.", title="Offer sent"))
    app.push_screen(OfferDialog(about), chosen)


def reply(app: MeshcareApp, checkin: api.Checkin) -> None:
    """Open the answer dialog for ``checkin``, then answer it."""

    def chosen(answer: tuple[int, str] | None) -> None:
        if answer is not None:
            app.reply_to(checkin.id, answer[0], answer[1])
    app.push_screen(ReplyDialog(checkin, render.readers_words(app.model, checkin)), chosen)


def create_circle(app: MeshcareApp) -> None:
    """Ask for a name, then start a circle with this person as its first facilitator."""
    def named(name: str | None) -> None:
        if name:
            app.act(api.CircleCreate(name=name), lambda r: app.notify(
                f"{fmt.safe(r.circle.name)} is ready. Invite people from its screen (Enter on it, then i).",
                title="Circle created"))
    app.push_screen(TextDialog("Create a circle", "Its name, as the people in it will see it:",
                               placeholder="e.g. Elm St", ok="Create", max_length=vocab.MAX_NAME), named)


def join_circle(app: MeshcareApp) -> None:
    """Ask for an invite token, then ask to join with it."""
    def pasted(token: str | None) -> None:
        if token:
            app.act(api.CircleJoin(token=token), lambda r: app.notify(
                f"Asked to join {fmt.safe(r.name)}. A member's computer lets you in when it is online.",
                title="Joining"))
    app.push_screen(TextDialog("Join a circle", "Paste the invite you were given (it starts with MC1):",
                               placeholder="MC1...", ok="Ask to join", max_length=vocab.MAX_TOKEN), pasted)


def another_circle(app: MeshcareApp) -> None:
    """Join a circle with an invite, or start one: at any time, not only before the first."""
    def chosen(answer: str | None) -> None:
        if answer == "join":
            join_circle(app)
        elif answer == "create":
            create_circle(app)
    app.push_screen(ChoiceDialog("Another circle", "Your calls go only to the circle you choose for each one.",
                                 [("join", "Join a circle with an invite someone gave you"),
                                  ("create", "Start a new circle and invite people you trust")]), chosen)
