"""What the terminal UI knows about its node, kept up to date from a snapshot and the event stream. Pure.

Theory of operation
-------------------
The daemon is the source of truth; this model is a copy of what it shows, built the way docs/control.md
prescribes: after every (re)connect the client subscribes, takes a ``snapshot`` (``apply_snapshot``),
and applies each event whose ``seq`` is greater than the snapshot's (``apply``). An event with a
``seq`` at or below the last one applied was already in the snapshot and is skipped. Every event sets
the state of the thing it names (a call's or check-in's event carries its whole view, a member's event
its row), so the model never merges: it replaces. ``to_snapshot`` writes the model back as the snapshot
the daemon would answer now, which is what makes "applying the events after any snapshot point gives
the same state" a testable property.

``apply`` also returns ``Alert``s: what deserves a banner and the bell (a new call from someone else,
a check-in answer "need support now" this person can read, a lost claim, a notice). The screens read the
derived lists (``calls_in_order``, ``checkins_for_me``, ``circles_in_order``, ...), never the event
stream. No Textual, no I/O, no clock: ``now`` is an argument where time matters.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from .. import vocab
from ..control import api
from ..control import reachability as reach
from ..control.results_requests import LibraryListResult, PrivateRequest
from ..control.views import (Call, Checkin, Circle, CircleSnapshot, Invite, Joining, Member, OwnShare, Peer,
                             PlanParts, RosterRow)
from ..control.views_board import Board, Need
from ..control.views_gatherings import Gathering
from . import format as fmt
from .care_model import CareState

#: Open calls first (someone is needed), then claimed, then resolved.
STATUS_ORDER: Final = {"open": 0, "claimed": 1, "resolved": 2}
URGENCY_ORDER: Final = {u: i for i, u in enumerate(vocab.URGENCIES)}
#: How loud a banner is (the three levels Textual's notifications have).
Severity = Literal["information", "warning", "error"]


@dataclass(frozen=True, slots=True)
class Alert:
    """Something to raise as a banner; ``bell``: ring the terminal bell too (unless the person turned it
    off). ``call``/``checkin``: what Enter on the banner's subject would open."""

    title: str
    message: str
    bell: bool = False
    severity: Severity = "information"
    call: str | None = None
    checkin: str | None = None
    gathering: str | None = None


@dataclass(slots=True)
class CircleState:
    """One circle as the model keeps it: the parts of a ``CircleSnapshot``, keyed for replacement."""

    circle: Circle
    members: dict[str, Member] = field(default_factory=dict)
    roster: dict[str, RosterRow] = field(default_factory=dict)
    invites: dict[str, Invite] = field(default_factory=dict)
    sync: str = "caught_up"

    @classmethod
    def of(cls, snap: CircleSnapshot) -> CircleState:
        return cls(snap.circle, {m.id: m for m in snap.members}, {r.member: r for r in snap.roster},
                   {i.invite: i for i in snap.invites}, snap.sync)

    def to_snapshot(self) -> CircleSnapshot:
        members = tuple(sorted(self.members.values(), key=lambda m: (m.name.casefold(), m.id)))
        roster = tuple(sorted(self.roster.values(), key=lambda r: ((r.name or "").casefold(), r.member)))
        invites = tuple(sorted(self.invites.values(), key=lambda i: i.invite))
        return CircleSnapshot(circle=self.circle, members=members, roster=roster, invites=invites, sync=self.sync)


class Model:
    """The client's copy of the daemon's state (see the module docstring)."""

    def __init__(self) -> None:
        self.loaded = False
        self.seq = 0
        #: +1 whenever something a screen shows may have changed (a snapshot, an event with a handler):
        #: the app redraws only then (``envelope``/``circle`` events change nothing shown)
        self.version = 0
        self.node_id = ""
        self.name = ""
        self.circles: dict[str, CircleState] = {}
        self.joining: dict[str, Joining] = {}
        self.calls: dict[str, Call] = {}
        self.checkins: dict[str, Checkin] = {}
        self.plan: PlanParts | None = None
        self.shares: tuple[OwnShare, ...] = ()
        self.peers: dict[str, Peer] = {}
        #: the mutual-aid boards (``need.list`` with ``all``): items by id, each circle's settings by circle
        self.needs: dict[str, Need] = {}
        self.boards: dict[str, Board] = {}
        #: set by a ``join`` welcome: what the circle held before this node joined comes only in a snapshot
        self.wants_snapshot = False
        #: gatherings by id: those coming up (the snapshot), and any other a screen or an event showed
        self.gatherings: dict[str, Gathering] = {}
        #: (what, id) of care objects a ``care.changed`` said are new or changed: the app asks for them
        #: (the event names them without their view) and hands the answer to ``put_gathering``
        self.care_wanted: dict[tuple[str, str], None] = {}
        #: this person's ladders, the requests made to them and their "who not to involve" list: read with
        #: the ladder.* and avoid.* ops when the ladders screen opens and on ``care.changed`` (ladders)
        self.ladders: tuple[api.MyLadder, ...] = ()
        self.ladder_requests: tuple[api.LadderRequest, ...] = ()
        self.avoid: tuple[api.AvoidEntry, ...] = ()
        #: follow-ups, safety timers, load: read with their list ops (care_model.py)
        self.care = CareState()
        #: private requests this person can read (``request.list``) and each circle's library
        #: (``library.list``), re-read by the app when ``care.changed`` names them (``care_stale``)
        self.requests: dict[str, PrivateRequest] = {}
        self.requests_loaded = False          # read once: later new ones asked of this person are told
        self.library: dict[str, LibraryListResult] = {}
        #: (what, circle) of care objects a ``care.changed`` event named since the app last re-read them
        self.care_stale: set[tuple[str, str]] = set()

    # --- input -----------------------------------------------------------------------------------

    def apply_snapshot(self, snap: api.SnapshotResult) -> list[Alert]:
        """Replace everything with ``snap``. After a reconnect, returns an alert for each open call from
        someone else that this model had not seen (it arrived while the connection was down)."""
        before = set(self.calls) if self.loaded else None
        self.seq = snap.seq
        self.node_id, self.name = snap.node_id, snap.name
        self.circles = {c.circle.id: CircleState.of(c) for c in snap.circles}
        self.joining = {j.circle: j for j in snap.joining}
        self.calls = {c.id: c for c in snap.calls}
        self.checkins = {c.id: c for c in snap.checkins}
        self.plan, self.shares = snap.plan, snap.shares
        self.peers = {p.address: p for p in snap.peers}
        self.needs, self.boards = {n.id: n for n in snap.needs}, {b.circle: b for b in snap.boards}
        self.gatherings = {g.id: g for g in snap.gatherings}
        self.care_wanted.clear()
        self.loaded, self.wants_snapshot = True, False
        self.care.stale.update(("followups", "safety"))      # read again after every (re)connect
        self.version += 1
        # a snapshot does not carry the care objects: re-read them all (anything may have changed meanwhile)
        self.care_stale |= {(what, c) for what in ("requests", "library") for c in self.circles}
        if before is None:
            return []
        return [_new_call_alert(c) for c in snap.calls if c.id not in before and not c.mine and c.status == "open"]

    def apply_care(self, result: api.Result) -> list[Alert]:
        """A care list read again after a ``care.changed`` (session.CARE_LISTS): it replaces that list.
        Returns an alert when the poster of an item this person took sent how to reach them."""
        if not isinstance(result, api.NeedListResult):
            return []
        before = self.needs
        self.needs = {n.id: n for n in result.needs}
        self.boards = {b.circle: b for b in result.boards}
        self.version += 1
        return [_reach_alert(n) for n in result.needs
                if n.reach and n.taker == self.node_id and not n.mine and n.status == "taken"
                and (n.id not in before or before[n.id].reach != n.reach)]

    def fresh(self, event: api.Event) -> bool:
        """True when ``event`` is newer than what the model holds (the seq rule)."""
        return event.seq is None or event.seq > self.seq

    def apply(self, event: api.Event) -> list[Alert]:
        """Apply one event (skipped when its ``seq`` is not newer: see ``fresh``); return its alerts."""
        if not self.fresh(event):
            return []
        if event.seq is not None:
            self.seq = event.seq
        handler = _HANDLERS.get(type(event))
        if handler is None:
            return []
        self.version += 1
        return handler(self, event)

    def apply_all(self, events: Iterable[api.Event]) -> list[Alert]:
        """Apply events in order; their alerts, in order."""
        alerts: list[Alert] = []
        for event in events:
            alerts += self.apply(event)
        return alerts

    # --- output: the state as the daemon would answer it -------------------------------------------

    def to_snapshot(self) -> api.SnapshotResult:
        """The model as a ``SnapshotResult`` (lists in a fixed order, so two equal states compare equal)."""
        circles = tuple(s.to_snapshot() for s in sorted(self.circles.values(),
                                                          key=lambda s: (s.circle.name.casefold(), s.circle.id)))
        return api.SnapshotResult(
            seq=self.seq, node_id=self.node_id or "0" * 64, name=self.name, circles=circles,
            joining=tuple(self.joining[k] for k in sorted(self.joining)),
            calls=tuple(self.calls[k] for k in sorted(self.calls)),
            checkins=tuple(self.checkins[k] for k in sorted(self.checkins)),
            plan=self.plan, shares=self.shares, peers=tuple(self.peers[k] for k in sorted(self.peers)),
            needs=tuple(self.needs[k] for k in sorted(self.needs)),
            boards=tuple(self.boards[k] for k in sorted(self.boards)),
            gatherings=tuple(self.gatherings[k] for k in sorted(self.gatherings)))

    # --- gatherings (the app asks the daemon for what ``care.changed`` names) ------------------------

    def take_care_wanted(self) -> list[tuple[str, str]]:
        """The (what, id) pairs to ask the daemon for, once each."""
        wanted = list(self.care_wanted)
        self.care_wanted.clear()
        return wanted

    def put_gathering(self, gathering: Gathering) -> None:
        """A gathering as the daemon showed it now (``gathering.show``, ``gathering.list``, an op's answer)."""
        self.gatherings[gathering.id] = gathering
        self.version += 1

    def upcoming_gatherings(self, now: float) -> list[Gathering]:
        """Gatherings not called off and not over yet (under way ones too), soonest first."""
        return sorted((g for g in self.gatherings.values() if not g.cancelled and now < g.over_at),
                      key=lambda g: (g.when, g.id))

    def gatherings_in_order(self, now: float) -> list[Gathering]:
        """Every gathering known: the ones coming up soonest first, then past and called-off ones, latest first."""
        coming = self.upcoming_gatherings(now)
        seen = {g.id for g in coming}
        rest = sorted((g for g in self.gatherings.values() if g.id not in seen), key=lambda g: (-g.when, g.id))
        return coming + rest

    # --- derived: what the screens show ------------------------------------------------------------

    def calls_in_order(self, *, resolved: bool = True) -> list[Call]:
        """Calls as home lists them: needing someone first, then claimed, then resolved; within each,
        the most urgent first, then the one waiting longest (resolved ones: the latest first)."""
        def key(c: Call) -> tuple[int, int, float]:
            rank = STATUS_ORDER.get(c.status, 3)
            if c.status == "resolved":
                return rank, 0, -(c.resolved_at or c.created)
            return rank, URGENCY_ORDER.get(c.urgency, 9), c.created
        calls = [c for c in self.calls.values() if resolved or c.status != "resolved"]
        return sorted(calls, key=key)

    def home_calls(self, resolved_shown: int) -> tuple[list[Call], int]:
        """What home lists: every call still open or claimed, and the ``resolved_shown`` latest resolved
        ones; and how many earlier resolved ones it leaves to the calls screen. Home stays short and
        fast however long the circle's history (every change redraws the list)."""
        calls = self.calls_in_order()
        live = [c for c in calls if c.status != "resolved"]
        resolved = [c for c in calls if c.status == "resolved"]
        return live + resolved[:resolved_shown], max(0, len(resolved) - resolved_shown)

    def open_calls(self) -> list[Call]:
        """Calls nobody has yet (the one thing that matters most on the screen)."""
        return [c for c in self.calls_in_order(resolved=False) if c.status == "open"]

    def checkins_for_me(self) -> list[Checkin]:
        """Check-ins that ask this person and that they have not answered, newest first."""
        mine = [c for c in self.checkins.values() if self.node_id in c.not_answered]
        return sorted(mine, key=lambda c: -c.created)

    def checkins_in_order(self) -> list[Checkin]:
        """Every check-in: awaiting this person's answer first, then the newest."""
        waiting = {c.id for c in self.checkins_for_me()}
        return sorted(self.checkins.values(), key=lambda c: (c.id not in waiting, -c.created))

    def circles_in_order(self) -> list[CircleState]:
        """Circles this node is in (not the ones it left or was removed from), by name."""
        return sorted((s for s in self.circles.values() if s.circle.status == "member"),
                      key=lambda s: (s.circle.name.casefold(), s.circle.id))

    def linked(self) -> int:
        """Neighbours linked now."""
        return sum(1 for p in self.peers.values() if p.linked)

    def link_ways(self) -> tuple[int, int] | None:
        """(direct, through Tor): the neighbours linked now by the way they are linked; None while Tor plays
        no part (no peer linked or known through Tor), where "linked to 2 neighbours" says it all."""
        if not any(reach.peer_via(p) == reach.ONION for p in self.peers.values()):
            return None
        return reach.split_peers(self.peers.values())

    def online(self) -> set[str]:
        """Node ids linked to this node now (a member's id is their node's id)."""
        return {p.node_id for p in self.peers.values() if p.linked and p.node_id}

    def sync_states(self) -> list[str]:
        """Each circle's sync state (``sync_words`` turns them into the status line's word)."""
        return [s.sync for s in self.circles_in_order()]

    def me_in(self, circle: str) -> Member | None:
        """This person's row in a circle."""
        state = self.circles.get(circle)
        if state is None:
            return None
        return next((m for m in state.members.values() if m.me or m.id == self.node_id), None)

    def role_in(self, circle: str) -> str | None:
        state = self.circles.get(circle)
        return None if state is None else state.circle.role

    def available(self) -> bool:
        """This person said they are available in at least one circle (and it has not run out)."""
        return any((m := self.me_in(s.circle.id)) is not None and m.status == "available"
                   for s in self.circles_in_order())

    def names(self, circle: str | None = None, extra: dict[str, str] | None = None) -> dict[str, str]:
        """id -> name: a circle's members (all circles when None), then ``extra`` (a call's own names map,
        which knows people who left)."""
        out: dict[str, str] = {}
        states = self.circles.values() if circle is None else [s for s in [self.circles.get(circle)] if s]
        for state in states:
            out.update({m.id: m.name for m in state.members.values()})
        if extra:
            out.update(extra)
        return out

    def readers_of(self, checkin: Checkin) -> list[str]:
        """Ids of who will read this person's answer: the circle's facilitators, or everyone in it."""
        state = self.circles.get(checkin.circle)
        if state is None:
            return [checkin.author]
        people = [m for m in state.members.values() if m.role in vocab.PERSON_ROLES and m.id != self.node_id]
        if checkin.visibility == "facilitators":
            people = [m for m in people if m.role == "facilitator"]
        return [m.id for m in sorted(people, key=lambda m: m.name.casefold())]

    def set_requests(self, requests: Iterable[PrivateRequest]) -> bool:
        """What ``request.list`` answered: every private request this person can read. True when that
        changed what the model holds (the screens redraw only then)."""
        new = {r.id: r for r in requests}
        self.requests_loaded = True
        if new == self.requests:
            return False
        self.requests = new
        self.version += 1
        return True

    def set_library(self, listing: LibraryListResult) -> bool:
        """What ``library.list`` answered for one circle; True when that changed what the model holds."""
        if self.library.get(listing.circle) == listing:
            return False
        self.library[listing.circle] = listing
        self.version += 1
        return True

    def take_stale(self, what: str) -> set[str]:
        """The circles whose ``what`` (``vocab.CARE_OBJECTS``) a ``care.changed`` named since the last
        call, now no longer stale: the app re-reads them."""
        circles = {c for w, c in self.care_stale if w == what}
        self.care_stale -= {(what, c) for c in circles}
        return circles

    def my_reply(self, checkin: Checkin) -> api.Reply | None:
        return next((r for r in checkin.replies if r.member == self.node_id), None)

    def needs_in_order(self) -> list[Need]:
        """The board as its screen lists it: by category (in ``vocab.NEED_CATEGORIES`` order), within one
        open first, then taken, then done, the newest first; items of circles this node left are not in it."""
        here = {s.circle.id for s in self.circles_in_order()}
        category = {c: i for i, c in enumerate(vocab.NEED_CATEGORIES)}
        state = {s: i for i, s in enumerate(("open", "taken", "withheld", "done"))}
        return sorted((n for n in self.needs.values() if n.circle in here),
                      key=lambda n: (category.get(n.category, 99), state.get(n.status, 9), -n.created, n.id))

    def open_needs(self) -> list[Need]:
        """What home lists below the calls: items nobody has taken yet, newest first (this person's own too)."""
        return sorted((n for n in self.needs_in_order() if n.status == "open"), key=lambda n: (-n.created, n.id))


# --- event handlers: one per event type; each sets the state of the thing its event names ------------


def _new_call_alert(call: Call) -> Alert:
    caller = fmt.name_of(call.caller, call.names)
    return Alert("New call for support", f"{caller} asks for support in {fmt.safe(call.circle_name)} "
                 f"({fmt.urgency_words(call.urgency)})", bell=True,
                 severity="warning" if call.urgency == "now" else "information", call=call.id)


def _reach_alert(need: Need) -> Alert:
    who = "them" if need.anonymous or need.author is None else fmt.name_of(need.author, need.names)
    return Alert("How to reach them", f"About \"{fmt.one_line(need.text, 40)}\": reach {who} this way: "
                 f"{fmt.safe(need.reach, vocab.MAX_NOTE)}")


def _on_peer(model: Model, ev: api.PeerEvent) -> list[Alert]:
    old = model.peers.get(ev.address)
    if old is None:
        model.peers[ev.address] = Peer(node_id=ev.node_id, address=ev.address, linked=ev.linked, via=ev.via)
    else:
        model.peers[ev.address] = dataclasses.replace(old, node_id=ev.node_id, linked=ev.linked,
                                                      via=ev.via if ev.via is not None else old.via)
    return []


def _on_call(model: Model, ev: api.CallEvent) -> list[Alert]:
    call = model.calls.get(ev.call)
    names = model.names(ev.circle, dict(call.names) if call else None)
    return [Alert("Someone else has this call", f"{fmt.name_of(ev.claimer, names)}'s claim came first. You "
                  "are next in line if they let go, and you can still offer help.", severity="warning", call=ev.call)]


def _on_member(model: Model, ev: api.MemberEvent) -> list[Alert]:
    state = model.circles.get(ev.circle)
    if state is None:
        return []
    if ev.view is None or ev.change in ("left", "removed"):
        state.members.pop(ev.member, None)
        state.roster.pop(ev.member, None)
    else:
        state.members[ev.member] = ev.view
    people = [m for m in state.members.values() if m.role in vocab.PERSON_ROLES]
    mine = ev.member == model.node_id and ev.role is not None  # this person was made a facilitator, or a member
    state.circle = dataclasses.replace(
        state.circle, members=len(people), facilitators=sum(1 for m in people if m.role == "facilitator"),
        relays=sum(1 for m in state.members.values() if m.role == "relay"),
        role=ev.role if mine else state.circle.role)
    return []


def _on_invite(model: Model, ev: api.InviteEvent) -> list[Alert]:
    state = model.circles.get(ev.circle)
    invite = state.invites.get(ev.invite) if state else None
    if state is None or invite is None:
        return []
    if ev.change == "used":
        state.invites[ev.invite] = dataclasses.replace(invite, used_by=ev.member, used_by_name=ev.name, open=False)
    else:
        state.invites[ev.invite] = dataclasses.replace(invite, revoked=True, open=False)
    return []


def _on_join(model: Model, ev: api.JoinEvent) -> list[Alert]:
    if ev.outcome == "welcome":
        model.joining.pop(ev.circle, None)
        if ev.view is not None:
            model.circles[ev.circle] = CircleState(ev.view)
        model.wants_snapshot = True
        return [Alert("Welcome", f"You are in {fmt.safe(ev.name)} now.")]
    joining = model.joining.get(ev.circle)
    if joining is not None:
        model.joining[ev.circle] = dataclasses.replace(joining, status="refused", refused=ev.reason)
    return [Alert("Could not join", f"{fmt.safe(ev.name)} did not let this node in ({ev.reason or 'refused'}): "
                  "ask for a new invite.", severity="warning")]


def _on_presence(model: Model, ev: api.PresenceEvent) -> list[Alert]:
    state = model.circles.get(ev.circle)
    if state is None:
        return []
    member = state.members.get(ev.member)
    if member is not None:
        state.members[ev.member] = dataclasses.replace(member, status=ev.status, until=ev.until)
    row = state.roster.get(ev.member)
    name = ev.name if ev.name is not None else (row.name if row else member.name if member else None)
    load = row.load if row is not None and ev.status == "available" else 0
    full = ev.cap is not None and ev.status == "available" and load >= ev.cap
    state.roster[ev.member] = RosterRow(member=ev.member, name=name, status=ev.status, until=ev.until, cap=ev.cap,
                                        load=load, full=full)
    return []


def _on_sync(model: Model, ev: api.SyncEvent) -> list[Alert]:
    state = model.circles.get(ev.circle)
    if state is not None:
        state.sync = ev.state
    return []


def _on_notice(model: Model, ev: api.NoticeEvent) -> list[Alert]:
    circle = fmt.safe(ev.circle_name)
    if ev.kind == "removed":
        state = model.circles.get(ev.circle)
        if state is not None:
            state.circle = dataclasses.replace(state.circle, status="removed", role=None)
        return [Alert("Removed from a circle", f"You are no longer in {circle}.", severity="warning")]
    if ev.kind == "safety_overdue":
        model.care.stale.add("safety")
        return [Alert("No \"I'm OK\" in time", f"{fmt.safe(ev.name)} in {circle} is on a safety timer and has not "
                      "said \"I'm OK\" in time. Try to reach them; f shows the timer.", bell=True, severity="error")]
    if ev.kind == "followup_due":
        model.care.stale.add("followups")
        return [Alert("A check-in to do", f"{fmt.safe(ev.name)} in {circle} asked you to check in on them: it is "
                      "due now. f shows your follow-ups.", bell=True, severity="warning")]
    return [Alert("A new key", f"{fmt.safe(ev.name)} in {circle} joined with a new key: most likely a new device. "
                  "Compare fingerprints in person before you trust it.", severity="warning")]


def _on_call_changed(model: Model, ev: api.CallChangedEvent) -> list[Alert]:
    if ev.view is None or ev.change == "gone":
        model.calls.pop(ev.call, None)
        return []
    known = ev.call in model.calls
    model.calls[ev.call] = ev.view
    if ev.change == "new" and not known and not ev.view.mine and ev.view.status == "open":
        return [_new_call_alert(ev.view)]
    if (ev.change == "resolved" and ev.view.mine and ev.view.resolved_by != model.node_id
            and model.care.followup_for(ev.call) is None):
        return [Alert("Your call is resolved", f"{vocab.FOLLOWUP_QUESTION} Open the call and press i to ask "
                      "for a check-in.", call=ev.call)]
    return []


def _on_checkin_changed(model: Model, ev: api.CheckinChangedEvent) -> list[Alert]:
    if ev.view is None or ev.change == "gone":
        model.checkins.pop(ev.checkin, None)
        return []
    view = ev.view
    model.checkins[ev.checkin] = view
    alerts: list[Alert] = []
    if ev.change == "new" and view.author != model.node_id and model.node_id in view.not_answered:
        alerts.append(Alert("A check-in", f"{fmt.name_of(view.author, view.names)} asks in "
                            f"{fmt.safe(view.circle_name)}: {fmt.one_line(view.prompt, 60)}", checkin=view.id))
    if ev.change == "reply":
        for reply in view.replies:
            if reply.member in ev.members and reply.member != model.node_id and reply.suggest_call:
                alerts.append(Alert("Someone needs support now",
                                    f"{fmt.name_of(reply.member, view.names)} answered \"{vocab.SUGGEST_CALL_OPTION}\" "
                                    f"in {fmt.safe(view.circle_name)}.", bell=True, severity="warning",
                                    checkin=view.id))
    return alerts


def _on_care_changed(model: Model, ev: api.CareChangedEvent) -> list[Alert]:
    """A care object changed (the event carries no view). A gathering that went leaves the model, a new or
    changed one is asked for by id; private requests and libraries are re-read whole by their list op
    (``care_stale``: the app's ``reread_care``); follow-ups and safety timers likewise (``care.stale``)."""
    if ev.what in ("requests", "library"):
        model.care_stale.add((ev.what, ev.circle))
        return []
    if ev.what == "gatherings":
        if ev.change == "gone":
            model.gatherings.pop(ev.id, None)
            model.care_wanted.pop((ev.what, ev.id), None)
        else:
            model.care_wanted[(ev.what, ev.id)] = None
    elif ev.what == "needs":
        if ev.change == "gone":
            model.needs.pop(ev.id, None)    # other changes: the session reads need.list again (CARE_LISTS)
    else:
        model.care.stale.add(ev.what)          # follow-ups, safety timers, ...: their list is read again
    return []


def _on_gathering_reminder(model: Model, ev: api.GatheringReminderEvent) -> list[Alert]:
    if ev.view is None:
        return []
    model.gatherings[ev.gathering] = ev.view
    g = ev.view
    where = f" at {fmt.one_line(g.where, 60)}" if g.where else ""
    return [Alert("A gathering soon", f"{fmt.one_line(g.title, 60)} in {fmt.safe(g.circle_name)} starts "
                  f"in {max(1, g.remind)} min{where}.", bell=False, gathering=g.id)]


_HANDLERS: Final[dict[type, Callable[[Model, Any], list[Alert]]]] = {
    api.PeerEvent: _on_peer, api.CallEvent: _on_call, api.MemberEvent: _on_member, api.InviteEvent: _on_invite,
    api.JoinEvent: _on_join, api.PresenceEvent: _on_presence, api.SyncEvent: _on_sync, api.NoticeEvent: _on_notice,
    api.CallChangedEvent: _on_call_changed, api.CheckinChangedEvent: _on_checkin_changed,
    api.CareChangedEvent: _on_care_changed, api.GatheringReminderEvent: _on_gathering_reminder,
}
