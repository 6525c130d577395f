"""One circle: its members (online, availability, verified, each a word and a mark), its open invites, and
what can be done: invite someone (token and QR code) or a relay, withdraw an open invite, verify a
member's fingerprint in person, change someone's role or remove them (facilitators), leave.

The open invites come from ``circle.invites`` when the screen opens and after each change (the snapshot
has them too, but a new invite raises no event), so the list is the daemon's, not a guess.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import OptionList, Static

from ...control import api
from .. import format as fmt
from .. import render
from ..commands import Command
from ..widgets.lists import KeptList
from .base import MeshScreen
from .dialogs import ConfirmDialog, VerifyDialog
from .invite import InviteDialog

__all__ = ["CircleScreen", "InviteDialog", "ROLE_WORDS"]

#: What each role means, in the words the role dialog and the guide use.
ROLE_WORDS = {
    "facilitator": "A facilitator looks after the circle: invites people, removes someone when that is needed, "
                   "makes others facilitators, sends check-ins and reads the answers meant for the facilitators. "
                   "It is a role of care, not of authority.",
    "member": "A member asks for support, answers calls and check-ins, and says when they are available; "
              "members invite people only if the circle allows it.",
    "relay": "A relay is a computer, not a person: an always-on one (a Raspberry Pi, say) that keeps and passes "
             "on the circle's messages for people who were offline, and cannot read or post anything. A relay "
             "joins with an invite of its own (Ctrl+P, \"invite: a relay\"); a person's role never becomes relay.",
}
#: "for a member": what an invite makes of whoever uses it, in the list of open invites.
INVITE_FOR = {"member": "for a member", "facilitator": "for a facilitator", "relay": "for a relay computer"}


class CircleScreen(MeshScreen):
    """Members and invites of one circle."""

    PURPOSE = ("A circle: who is in it, who is online and available, whom you verified in person, the open "
               "invites. Invite someone (i), verify the highlighted member (v); facilitators also change a "
               "role (Shift+R), withdraw an invite (w) and remove someone; anyone can leave.")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("i", "invite", "Invite", id="invite"),
        Binding("v", "verify", "Verify", id="verify"),
        Binding("R", "role", "Role", id="role"),
        Binding("w", "withdraw", "Withdraw", id="withdraw"),
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
            yield Static("", id="invites-title", classes="section-title")
            yield KeptList(id="invite-list")
            yield Static("", id="invites", classes="muted")
            yield Static("", id="circle-keys", classes="muted")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#members").focus()
        self._ask_invites()

    def _ask_invites(self) -> None:
        self.mc.act(api.CircleInvites(circle=self.circle_id), self._got_invites)

    def _got_invites(self, result: api.CircleInvitesResult) -> None:
        """The daemon's list of invites replaces the model's copy (new invites raise no event)."""
        state = self.mc.model.circles.get(self.circle_id)
        if state is not None:
            state.invites = {i.invite: i for i in result.invites}
            self.model_changed()

    def _facilitates(self) -> bool:
        return self.mc.model.role_in(self.circle_id) == "facilitator"

    def _open_invites(self) -> list[api.Invite]:
        state = self.mc.model.circles.get(self.circle_id)
        if state is None:
            return []
        return sorted((i for i in state.invites.values() if i.open and i.expires > self.mc.now()),
                      key=lambda i: (i.expires, i.invite))

    def refresh_view(self) -> None:
        model, now, g = self.mc.model, self.mc.now(), self.mc.glyphs
        state = model.circles.get(self.circle_id)
        title = self.query_one("#circle-title", Static)
        if state is None or state.circle.status != "member":
            title.update("You are not in this circle (any more). Escape goes back.")
            for ident in ("#members", "#invites-title", "#invite-list", "#invites", "#circle-keys"):
                self.query_one(ident).display = False
            return
        c = state.circle
        sync = "catching up" if state.sync == "catching_up" else "caught up"
        role = f"you are {'a facilitator' if c.role == 'facilitator' else 'a member'}"
        title.update(f"[b]{fmt.safe(c.name)}[/b] {g.sep} {c.members} people {g.sep} {role} {g.sep} {sync}")
        members = render.members_sorted(state)
        self.query_one("#members", KeptList).set_items((m.id, render.member_row(model, m, now, g)) for m in members)
        open_invites = self._open_invites()
        self.query_one("#invites-title", Static).update(
            "[b]Open invites[/b] (w or Enter withdraws the highlighted one)" if open_invites
            else "[b]Open invites[/b]: none")
        self.query_one("#invites-title").display = bool(open_invites) or self._facilitates()
        self.query_one("#invite-list", KeptList).set_items((i.invite, self._invite_row(i)) for i in open_invites)
        self.query_one("#invite-list").display = bool(open_invites)
        used = [i for i in state.invites.values() if i.used_by]
        self.query_one("#invites", Static).update("\n".join(
            f"Invite {fmt.short_id(i.invite)} was used by {fmt.safe(i.used_by_name or 'someone')}" for i in used[-3:]))
        keys = "Enter or v: verify the highlighted person in person. i: invite someone."
        if self._facilitates():
            keys += " Shift+R: change their role. Delete: remove them."
        self.query_one("#circle-keys", Static).update(keys + " Shift+L: leave this circle.")

    def _invite_row(self, invite: api.Invite) -> str:
        model, g = self.mc.model, self.mc.glyphs
        names = model.names(self.circle_id)
        if invite.by_name:
            names.setdefault(invite.by, invite.by_name)
        return (f"invite {fmt.short_id(invite.invite)} {g.sep} {INVITE_FOR.get(invite.role, invite.role)} {g.sep} "
                f"made by {fmt.name_of(invite.by, names, model.node_id)} {g.sep} "
                f"expires {fmt.until(invite.expires, self.mc.now())}")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Keep out of the footer what cannot be done here: roles and removals are for facilitators, and
        withdrawing needs an open invite."""
        if action in ("role", "remove"):
            return self._facilitates()
        if action == "withdraw":
            return bool(self._open_invites())
        return super().check_action(action, parameters)

    def _selected(self) -> api.Member | None:
        ident = self.query_one("#members", KeptList).selected_id
        state = self.mc.model.circles.get(self.circle_id)
        return state.members.get(ident) if state and ident else None

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option_list.id == "invite-list":
            self.action_withdraw()
        else:
            self.action_verify()

    # --- actions ---------------------------------------------------------------------------------

    def action_invite(self, role: str = "member") -> None:
        def made(result: api.CircleInviteResult) -> None:
            self.mc.push_screen(InviteDialog(result, self.mc.now()))
            self._ask_invites()
        self.mc.act(api.CircleInvite(circle=self.circle_id, role=role), made)

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

    def action_role(self) -> None:
        member = self._selected()
        if member is None:
            self.notify("Highlight the person whose role you want to change.", title="Role")
            return
        if not self._facilitates():
            self.notify("Only facilitators change someone's role.", title="Role")
            return
        if member.role == "relay":
            self.notify(ROLE_WORDS["relay"], title="A relay keeps its role")
            return
        new = "member" if member.role == "facilitator" else "facilitator"
        name = "yourself" if member.me else fmt.safe(member.name)
        circle = fmt.safe(self.mc.model.circles[self.circle_id].circle.name)
        question = (f"[b]Make {name} a {new}{' again' if new == 'member' else ''} in {circle}?[/b]\n\n"
                    f"{ROLE_WORDS[new]}\n\nEveryone in the circle sees the change. (A relay is a computer, not a "
                    "person: it joins with an invite of its own, Ctrl+P \"invite: a relay\".)")
        yes = f"Make {'me' if member.me else name} a {new}"

        def confirmed(ok: bool | None) -> None:
            if ok:
                who = "You are" if member.me else f"{name} is"
                self.mc.act(api.CircleRole(circle=self.circle_id, member=member.id, role=new), lambda r: self.notify(
                    f"{who} a {r.role} of {circle} now.", title="Role"))
        self.mc.push_screen(ConfirmDialog(question, yes), confirmed)

    def action_withdraw(self) -> None:
        ident = self.query_one("#invite-list", KeptList).selected_id
        invite = next((i for i in self._open_invites() if i.invite == ident), None)
        if invite is None:
            self.notify("There is no open invite to withdraw.", title="Invites")
            return
        short = fmt.short_id(invite.invite)

        def confirmed(yes: bool | None) -> None:
            if yes:
                def done(_result: api.CircleRevokeResult) -> None:
                    self.notify(f"Invite {short} is withdrawn: nobody can join with it.", title="Invites")
                    self._ask_invites()
                self.mc.act(api.CircleRevoke(circle=self.circle_id, invite=invite.invite), done)
        self.mc.push_screen(ConfirmDialog(f"Withdraw invite {short} ({INVITE_FOR.get(invite.role, invite.role)}, "
                                          f"expires {fmt.until(invite.expires, self.mc.now())})? Nobody can join "
                                          "with it any more; whoever it was for needs a new one.", "Withdraw",
                                          danger=True), confirmed)

    def action_remove(self) -> None:
        member = self._selected()
        if member is None or member.me:
            self.notify("Highlight the person to remove (to go yourself, leave the circle).", title="Remove")
            return
        if not self._facilitates():
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
        out = [Command("invite: make an invite for someone", "A token and a QR code, for one person",
                       self.action_invite),
               Command("verify: compare fingerprints in person", "With the highlighted member", self.action_verify)]
        if self._facilitates():
            out += [Command("invite: a relay (an always-on computer)",
                            "It keeps and passes on the circle's messages; it cannot read them",
                            lambda: self.action_invite("relay")),
                    Command("role: make the highlighted person a facilitator, or a member again",
                            "What each role means is shown before anything changes", self.action_role),
                    Command("remove: remove the highlighted member", "Facilitators", self.action_remove)]
        if self._open_invites():
            out.append(Command("withdraw: withdraw the highlighted open invite", "Nobody can join with it any more",
                               self.action_withdraw))
        out.append(Command("leave: leave this circle", "You would need a new invite to come back", self.action_leave))
        return out
