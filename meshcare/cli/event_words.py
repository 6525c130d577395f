"""The daemon's events in plain words, one line each, for ``meshcare watch``. Pure (the control API only).

``Names`` remembers who and what the ids are (from the snapshot ``watch`` takes on every connect, then
from the events themselves, which carry names); ``describe(event, names)`` is the line a person reads,
or None for the raw per-envelope events (``envelope``, ``circle``) that only scripts want (``--json``).

Every string another node wrote (circle and member names, call and check-in texts) is flattened to one
line here; the caller escapes the whole line for the terminal (``text.for_terminal``), so nothing a
peer wrote can move the cursor, retitle the window or start a forged line.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .. import vocab
from ..control import events as ev
from ..control import views as v
from ..control.results import SnapshotResult
from .common import short, when

#: Words for why a request to join was refused (``vocab.REFUSAL_REASONS``).
REFUSALS: Mapping[str, str] = {"used": "the invite was already used", "revoked": "the invite was revoked",
                               "expired": "the invite expired", "invalid": "the invite is not valid"}
#: Longest quoted text (a call's, a prompt, an update) in a line.
QUOTE = 80


def flat(text: str, width: int | None = None) -> str:
    """Peer text on one line (every run of whitespace, line breaks included, is one space), optionally cut."""
    one = " ".join(text.split())
    return one if width is None or len(one) <= width else one[:width - 1] + "…"


class Names:
    """Circle and member names by id, as this node knows them (``learn_*`` keep it current)."""

    def __init__(self) -> None:
        self.me = ""
        self.circles: dict[str, str] = {}
        self.people: dict[str, str] = {}

    def learn_snapshot(self, snap: SnapshotResult) -> None:
        self.me = snap.node_id
        for c in snap.circles:
            self.circles[c.circle.id] = c.circle.name
            self.people.update({m.id: m.name for m in c.members})
        for j in snap.joining:
            self.circles.setdefault(j.circle, j.circle_name)
        for call in snap.calls:
            self.people.update(call.names)
        for checkin in snap.checkins:
            self.people.update(checkin.names)

    def learn(self, event: ev.Event) -> None:
        """What ``event`` says about names (call and check-in views carry the names of the people in them)."""
        circle, circle_name = getattr(event, "circle", None), getattr(event, "circle_name", None)
        if isinstance(circle, str) and isinstance(circle_name, str):
            self.circles[circle] = circle_name
        if isinstance(event, ev.MemberEvent):
            self.people[event.member] = event.name
        elif isinstance(event, (ev.InviteEvent, ev.NoticeEvent)) and event.member and event.name:
            self.people[event.member] = event.name
        elif isinstance(event, ev.PresenceEvent) and event.name:
            self.people[event.member] = event.name
        elif isinstance(event, ev.JoinEvent):
            self.circles[event.circle] = event.view.name if event.view is not None else event.name
        elif isinstance(event, (ev.CallChangedEvent, ev.CheckinChangedEvent)) and event.view is not None:
            self.circles[event.circle] = event.view.circle_name
            self.people.update(event.view.names)

    def circle(self, circle: str) -> str:
        return flat(self.circles.get(circle) or f"circle {short(circle)}")

    def person(self, member: str | None, names: Mapping[str, str] | None = None) -> str:
        """A member by name; "you" for this node's person; "someone" for nobody known."""
        if not member:
            return "someone"
        if member == self.me:
            return "you"
        return flat((names or {}).get(member) or self.people.get(member) or short(member))


def describe(event: ev.Event, names: Names) -> str | None:
    """The line for ``event`` (names learned first), or None for an event shown only with ``--json``."""
    names.learn(event)
    show = _WORDS.get(type(event))
    return None if show is None else show(event, names)


# --- one function per event --------------------------------------------------------------------------

def _peer(e: ev.PeerEvent, n: Names) -> str:
    return f"linked to {flat(e.address)}" if e.linked else f"link to {flat(e.address)} ended"


def _claim_lost(e: ev.CallEvent, n: Names) -> str:
    return (f"{n.person(e.claimer)} has the call {short(e.call)} in {n.circle(e.circle)}: their claim came first "
            "(you are next in line if they let it go)")


def _member(e: ev.MemberEvent, n: Names) -> str:
    who, circle = flat(e.name), n.circle(e.circle)
    if e.member == n.me:
        who = "you"
    if e.change == "joined":
        return f"{who} joined {circle}"
    if e.change == "left":
        return f"{who} left {circle}"
    if e.change == "removed":
        return f"{who} {'were' if who == 'you' else 'was'} removed from {circle}"
    if e.change == "role":
        return f"{who} {'are' if who == 'you' else 'is'} now {'a ' + e.role if e.role else 'without a role'} in {circle}"
    if e.change == "renamed":
        before = "you are" if who == "you" else f"{flat(e.previous_name or 'someone')} is"
        return f"{before} now called {flat(e.name)} in {circle}"
    return f"{who} in {circle}: {flat(e.change)}"


def _invite(e: ev.InviteEvent, n: Names) -> str:
    circle = n.circle(e.circle)
    if e.change == "used":
        whose = "your invite" if e.mine else "an invite"
        return f"{flat(e.name or 'someone')} joined {circle} with {whose}"
    return f"{'your invite' if e.mine else 'an invite'} to {circle} was revoked"


def _join(e: ev.JoinEvent, n: Names) -> str:
    circle = n.circle(e.circle)
    if e.outcome == "welcome":
        return f"you are in {circle} now"
    reason = REFUSALS.get(e.reason or "", "no reason given")
    return f"your request to join {circle} was refused: {reason}; ask for a new invite"


def _presence(e: ev.PresenceEvent, n: Names) -> str:
    who, circle = n.person(e.member, {e.member: e.name} if e.name else None), n.circle(e.circle)
    until = f" until {when(e.until)}" if e.until is not None else ""
    if e.status == "available":
        cap = f" (up to {e.cap} calls at a time)" if e.cap else ""
        return f"{who} {'are' if who == 'you' else 'is'} available in {circle}{until}{cap}"
    if e.status == "away":
        return f"{who} {'are' if who == 'you' else 'is'} away in {circle}{until}"
    return f"{'your' if who == 'you' else who + chr(39) + 's'} availability in {circle} ran out"


def _sync(e: ev.SyncEvent, n: Names) -> str:
    return f"{'catching up on' if e.state == 'catching_up' else 'caught up on'} {n.circle(e.circle)}"


def _notice(e: ev.NoticeEvent, n: Names) -> str:
    circle = flat(e.circle_name)
    if e.kind == "removed":
        return f"you were removed from {circle}; what this node held of it is deleted soon"
    if e.kind == "key_changed":
        return (f"{flat(e.name)} in {circle} has a new key (a new device, or someone else): compare "
                f"fingerprints in person with meshcare circle verify")
    return f"{flat(e.kind)} in {circle}: {flat(e.name)}"


def _call(e: ev.CallChangedEvent, n: Names) -> str:
    circle, tag = n.circle(e.circle), f"[call {short(e.call)}]"
    call = e.view
    if call is None:
        return f"a call in {circle} ended (expired) {tag}"
    whose = "your call" if call.mine else "a call"
    words = vocab.URGENCY_WORDS.get(call.urgency, call.urgency)
    if e.change == "new":
        if call.mine:
            return f"your call for support in {circle} ({words}) is on its way {tag}"
        return (f"new call for support in {circle} ({words}) from {n.person(call.caller, call.names)}: "
                f"\"{flat(call.text, QUOTE)}\" {tag}")
    if e.change == "resolved" or call.status == "resolved" and not e.parts:
        return f"{whose} in {circle} was resolved by {n.person(call.resolved_by, call.names)} {tag}"
    parts = [p for p in e.parts if not (p == "status" and "claim" in e.parts)]    # a claim says the status
    said = [s for s in (_part(part, call, whose, circle, n) for part in parts) if s]
    return "; ".join(said or [f"{whose} in {circle} changed"]) + f" {tag}"


def _part(part: str, call: v.Call, whose: str, circle: str, n: Names) -> str | None:
    names = call.names
    if part == "claim":
        if call.claimer:
            return f"{n.person(call.claimer, names)} claimed {whose} in {circle}"
        return f"nobody has {whose} in {circle} now (it was let go)"
    if part == "offers" and call.offers:
        offer = max(call.offers, key=lambda o: o.created)
        return (f"{n.person(offer.author, names)} offered on {whose} in {circle}: "
                f"{vocab.OFFER_WORDS.get(offer.kind, offer.kind)}" + (f" (\"{flat(offer.text, QUOTE)}\")"
                                                                      if offer.text else ""))
    if part == "updates" and call.updates:
        update = call.updates[-1]
        return f"{n.person(update.author, names)} wrote in {whose} in {circle}: \"{flat(update.text, QUOTE)}\""
    if part == "reach":
        return f"{whose} in {circle} reached {call.reached} of {call.audience}"
    if part == "step":
        return f"{whose} in {circle} went further up its ladder (step {call.step + 1})"
    if part == "followup":
        return f"a follow-up for {whose} in {circle} is planned for {when(call.followup_at)}"
    if part == "plans":
        return f"a support plan was shared in {whose} in {circle}, or taken back"
    if part == "status":
        return f"{whose} in {circle} is {call.status} now"
    return None


def _checkin(e: ev.CheckinChangedEvent, n: Names) -> str:
    circle, tag = n.circle(e.circle), f"[check-in {short(e.checkin)}]"
    checkin = e.view
    if checkin is None:
        return f"a check-in in {circle} ended {tag}"
    if e.change == "new":
        return (f"new check-in in {circle} from {n.person(checkin.author, checkin.names)}: "
                f"\"{flat(checkin.prompt, QUOTE)}\" {tag}")
    if e.change == "reply":
        replies = {r.member: r for r in checkin.replies}
        said = []
        for member in e.members or tuple(replies):
            reply = replies.get(member)
            answer = f": {flat(reply.option_text)}" if reply is not None and reply.option_text is not None else ""
            said.append(f"{n.person(member, checkin.names)} answered a check-in in {circle}{answer}")
        return "; ".join(said or [f"a check-in in {circle} got an answer"]) + f" {tag}"
    if e.change == "asked":
        return f"a check-in in {circle} now waits for {len(checkin.not_answered)} answer(s) {tag}"
    return f"the answers to a check-in in {circle} changed ({checkin.answered} so far) {tag}"


def _gathering_soon(e: ev.GatheringReminderEvent, n: Names) -> str:
    g, tag = e.view, f"[gathering {short(e.gathering)}]"
    if g is None:
        return f"a gathering in {n.circle(e.circle)} starts at {when(e.when)} {tag}"
    where = f", at {flat(g.where, QUOTE)}" if g.where else ""
    return f"\"{flat(g.title, QUOTE)}\" in {n.circle(e.circle)} starts at {when(e.when)}{where} {tag}"


_WORDS: Mapping[type[ev.Event], Callable[[Any, Names], str]] = {
    ev.PeerEvent: _peer, ev.CallEvent: _claim_lost, ev.MemberEvent: _member, ev.InviteEvent: _invite,
    ev.JoinEvent: _join, ev.PresenceEvent: _presence, ev.SyncEvent: _sync, ev.NoticeEvent: _notice,
    ev.CallChangedEvent: _call, ev.CheckinChangedEvent: _checkin, ev.GatheringReminderEvent: _gathering_soon,
}
