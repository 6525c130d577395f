"""One circle: its members (online, availability, verified, each a word and a mark), its invites, and
what can be done: invite someone (token and QR code), verify a member's fingerprint in person, remove a
member (facilitators), leave."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, OptionList, Static

from ...control import api
from .. import format as fmt
from .. import render
from ..commands import Command
from ..widgets.lists import KeptList
from ..widgets.qr import QRCode
from .base import MeshScreen
from .dialogs import ConfirmDialog, Dialog, VerifyDialog


class CircleScreen(MeshScreen):
    """Members and invites of one circle."""

    PURPOSE = ("A circle: who is in it, who is online and available, whom you verified in person. Invite "
               "someone (i), verify the highlighted member (v), remove them (facilitators), or leave.")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("i", "invite", "Invite", id="invite"),
        Binding("v", "verify", "Verify", id="verify"),
        Binding("delete", "remove", "Remove", show=False, id="remove"),
        Binding("L", "leave", "Leave circle", show=False, id="leave"),
    ]

    def __init__(self, circle: str) -> None:
        super().__init__()
        self.circle_id = circle

    def body(self) -> ComposeResult:
        with VerticalScroll(id="circle"):
            yield Static("", id="circle-title")
            yield KeptList(id="members")
            yield Static("", id="invites", classes="muted")
            yield Static("Enter or v: verify the highlighted person in person. i: invite someone. "
                         "Delete: remove them (facilitators). Shift+L: leave this circle.", classes="muted")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#members").focus()

    def refresh_view(self) -> None:
        model, now, g = self.mc.model, self.mc.now(), self.mc.glyphs
        state = model.circles.get(self.circle_id)
        title = self.query_one("#circle-title", Static)
        if state is None or state.circle.status != "member":
            title.update("You are not in this circle (any more). Escape goes back.")
            self.query_one("#members").display = False
            return
        c = state.circle
        sync = "catching up" if state.sync == "catching_up" else "caught up"
        role = f"you are {'a facilitator' if c.role == 'facilitator' else 'a member'}"
        title.update(f"[b]{fmt.safe(c.name)}[/b] {g.sep} {c.members} people {g.sep} {role} {g.sep} {sync}")
        members = render.members_sorted(state)
        self.query_one("#members", KeptList).set_items((m.id, render.member_row(model, m, now, g)) for m in members)
        open_invites = [i for i in state.invites.values() if i.open]
        used = [i for i in state.invites.values() if i.used_by]
        lines = []
        if open_invites:
            first = fmt.until(min(i.expires for i in open_invites), now)
            lines.append(f"Open invites: {len(open_invites)} (the next one expires {first})")
        for invite in used[-3:]:
            who = fmt.safe(invite.used_by_name or "someone")
            lines.append(f"Invite {fmt.short_id(invite.invite)} was used by {who}")
        self.query_one("#invites", Static).update("\n".join(lines))

    def _selected(self) -> api.Member | None:
        ident = self.query_one("#members", KeptList).selected_id
        state = self.mc.model.circles.get(self.circle_id)
        return state.members.get(ident) if state and ident else None

    def on_option_list_option_selected(self, _event: OptionList.OptionSelected) -> None:
        self.action_verify()

    # --- actions ---------------------------------------------------------------------------------

    def action_invite(self) -> None:
        def made(result: api.CircleInviteResult) -> None:
            self.mc.push_screen(InviteDialog(result, self.mc.now()))
        self.mc.act(api.CircleInvite(circle=self.circle_id), made)

    def action_verify(self) -> None:
        member = self._selected()
        if member is None or member.me:
            self.notify("Highlight someone else to compare fingerprints with them.", title="Verify")
            return
        name = fmt.safe(member.name)

        def shown(result: api.CircleVerifyResult) -> None:
            def chosen(answer: str | None) -> None:
                if answer is None:
                    return
                confirm = answer == "confirm"
                self.mc.act(api.CircleVerify(circle=self.circle_id, member=member.id, confirm=confirm,
                                             unverify=not confirm), lambda r: self.notify(
                    f"{name} is marked verified on this computer." if r.verified
                    else f"{name} is no longer marked verified.", title="Verify"))
            self.mc.push_screen(VerifyDialog(name, result.their_fingerprint, result.my_fingerprint, result.verified),
                                chosen)
        self.mc.act(api.CircleVerify(circle=self.circle_id, member=member.id), shown)

    def action_remove(self) -> None:
        member = self._selected()
        if member is None or member.me:
            self.notify("Highlight the person to remove (to go yourself, leave the circle).", title="Remove")
            return
        if self.mc.model.role_in(self.circle_id) != "facilitator":
            self.notify("Only facilitators remove people from a circle.", title="Remove")
            return
        name = fmt.safe(member.name)

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.mc.act(api.CircleRemove(circle=self.circle_id, member=member.id), lambda r: self.notify(
                    f"{name} is removed; the circle moved to keys they do not have.", title="Removed"))
        self.mc.push_screen(ConfirmDialog(f"Remove {name} from this circle? They will not see anything new from "
                                          "it.", "Remove", danger=True), confirmed)

    def action_leave(self) -> None:
        state = self.mc.model.circles.get(self.circle_id)
        if state is None:
            return
        name = fmt.safe(state.circle.name)

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.mc.act(api.CircleLeave(circle=self.circle_id), lambda r: self.notify(
                    f"You left {name}.", title="Left"))
        self.mc.push_screen(ConfirmDialog(f"Leave {name}? You will not see its calls any more; to come back you "
                                          "need a new invite.", "Leave", danger=True), confirmed)

    def palette_commands(self) -> list[Command]:
        return [Command("invite: make an invite for someone", "A token and a QR code, for one person",
                        self.action_invite),
                Command("verify: compare fingerprints in person", "With the highlighted member", self.action_verify),
                Command("remove: remove the highlighted member", "Facilitators", self.action_remove),
                Command("leave: leave this circle", "You would need a new invite to come back", self.action_leave)]


class InviteDialog(Dialog[None]):
    """A new invite: the token, a QR code of it, and how long it works."""

    def __init__(self, invite: api.CircleInviteResult, now: float) -> None:
        super().__init__()
        self.invite, self.now = invite, now

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="box wide"):
            yield Static(f"[b]An invite for one person[/b] (it works once, {fmt.until(self.invite.expires, self.now)} "
                         "at the latest)\nGive it in person if you can: they scan the code or type the token with "
                         "\"Join with an invite\", and you can verify each other at the same time.")
            yield Static(fmt.safe(self.invite.token), id="token")
            with Vertical(id="qr-box"):
                yield QRCode(self.invite.token, id="qr")
            with Horizontal(classes="buttons"):
                yield Button("Done", id="cancel", variant="primary", compact=True)
