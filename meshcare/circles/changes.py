"""What changed in this node's circles, as typed facts for the people watching. Pure.

Theory of operation
-------------------
The ``Node`` marks a circle *touched* whenever something may have changed it (an envelope taken in,
this node's own post, a purge, the retention sweep) and asks ``Changes.take`` for the facts at the end
of every ``handle`` and ``handle_deadline``. For each touched circle a cheap summary (the folded roster,
the registry's cached view of calls and check-ins, each member's presence) is compared with the one
kept from last time; the differences are the facts. So a remote post, a local op, a duty, a purge and
an expiry all say what they changed the same way, and nothing is hooked into the folds.

Cost: only touched circles are summarized, and one whose version did not move costs a comparison of
object identities. The calls and check-ins are the registry's view, cached by version and shared with
the duties and the ops; presence is folded from presence posts only. A circle is summarized at most
once every ``INTERVAL`` seconds: the first change goes out at once, what follows within the interval is
gathered into the next summary (``next_time``). A catch-up of thousands of envelopes costs a few
summaries a second, not one per frame, and twenty updates in a row give one or two facts, not twenty.
Except for what travels in the urgent lane (a call for support, an escalation): a circle touched by one
is summarized at once, unless this node is catching up on it, because a call must reach the screen in
milliseconds rather than wait out an interval (it made a call's event up to 250 ms late:
docs/benchmarks.md, section 10). Since the folds are kept up to date post by post (folded.py), such a
summary costs an identity check per call and member.
Presence runs out by the clock: the earliest ``until`` of each circle is a deadline (``next_time``).
So do gathering reminders: this person is told ``GatheringSoon`` once, ``remind`` minutes before a
gathering they said yes or maybe to, or host (``gatherings.reminders``); the earliest untold one is a
deadline too. A reminder due while the node was off is told when it starts, if the gathering has not.

News only once in: a circle is summarized silently until this node is in its roster. A newcomer is
told ``JoinAnswered("welcome")`` once (and then whether it is still catching up), not "X joined" for
everyone who was already there; a circle just created, or restored from the store at start
(``baseline``), is the starting point, not news.

The facts carry ids as bytes; ``meshcare.ops.events`` turns them into the control API's event records.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, TypeAlias

from ..ids import TopicId
from ..vocab import CARE_OBJECTS
from . import calls as cl
from . import checkins as ck
from . import gatherings as gt
from . import membership as ms
from . import plans as pl
from .circle import Circle
from .registry import Registry, View

#: A circle this node is catching up on is summarized at most this often (seconds); changes within it
#: come out together.
INTERVAL: Final = 0.25


# --- the facts -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MemberChanged:
    """Someone joined the circle, left it, was removed, got another role, or renamed themself
    (``vocab.MEMBER_CHANGES``). This node's own removal is a ``Notice`` instead."""

    circle: TopicId
    member: bytes
    name: str
    change: str
    role: str | None          # the role now (None once they are gone)
    was: str | None           # the role before (None when they joined)
    previous_name: str | None = None      # renamed: the name they had before


@dataclass(frozen=True, slots=True)
class InviteChanged:
    """An invite of the circle was used (``member`` joined with it) or revoked."""

    circle: TopicId
    invite: bytes
    change: str
    by: bytes                 # who made the invite
    mine: bool                # this node made it
    member: bytes | None = None
    name: str | None = None


@dataclass(frozen=True, slots=True)
class JoinAnswered:
    """This node's request to join was answered: welcome (it is in the roster now) or refused."""

    circle: TopicId
    name: str                 # the circle's name, as the invite token gave it
    outcome: str
    reason: str | None = None  # refused: ``vocab.REFUSAL_REASONS``


@dataclass(frozen=True, slots=True)
class PresenceChanged:
    """A member's availability changed, or ran out (status ``unknown``)."""

    circle: TopicId
    member: bytes
    status: str
    until: int | None
    cap: int | None


@dataclass(frozen=True, slots=True)
class SyncChanged:
    """This node started or finished catching up on the circle (``SyncEngine.catching_up``)."""

    circle: TopicId
    catching_up: bool


@dataclass(frozen=True, slots=True)
class Notice:
    """Something the person should see as a banner (``vocab.NOTICES``): ``removed`` (``member`` is this
    node), ``key_changed`` (``member`` joined under the name of ``previous``, who left or was removed)."""

    circle: TopicId
    circle_name: str
    kind: str
    member: bytes
    name: str
    previous: bytes | None = None


@dataclass(frozen=True, slots=True)
class CallChanged:
    """A call appeared, changed (``parts``: ``vocab.CALL_PARTS``), was resolved, or is gone (expired)."""

    circle: TopicId
    call: bytes
    change: str
    parts: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CheckinChanged:
    """A check-in appeared, got replies (``members``: whose current answer is new or changed), had its
    tally change otherwise (a reply went), asks other members (``asked``: someone joined or left), or
    is gone (expired)."""

    circle: TopicId
    checkin: bytes
    change: str
    members: tuple[bytes, ...] = ()


@dataclass(frozen=True, slots=True)
class CareChanged:
    """One object of a care fold (``what``: ``vocab.CARE_OBJECTS``, e.g. a gathering, a need, a private
    request) appeared, changed or went (``vocab.CARE_CHANGES``). Only what this node can read: a
    private post sealed to others is never in its folds, so it is never told."""

    circle: TopicId
    what: str
    id: bytes
    change: str


@dataclass(frozen=True, slots=True)
class GatheringSoon:
    """A gathering this person said yes or maybe to, or hosts, starts in ``remind`` minutes (at ``when``)."""

    circle: TopicId
    gathering: bytes
    when: int


Fact: TypeAlias = (MemberChanged | InviteChanged | JoinAnswered | PresenceChanged | SyncChanged | Notice
                   | CallChanged | CheckinChanged | CareChanged | GatheringSoon)


# --- summaries ---------------------------------------------------------------------------------------

#: A member's presence as the facts show it: (status, until, cap).
_Presence: TypeAlias = tuple[str, int | None, int | None]


@dataclass(frozen=True, slots=True)
class _Summary:
    version: int
    roster: ms.Roster
    view: View
    presence: Mapping[bytes, _Presence]     # current members who said something still in force
    live: bool                              # this node is, or was, in the roster
    expires: int | None                     # the earliest ``until`` among those presences
    reminders: tuple[tuple[int, bytes], ...] = ()   # (when to remind, gathering) for this person


def _summarize(registry: Registry, circle: Circle, now: int) -> _Summary:
    roster = circle.roster
    folded = registry.presence(circle, now)
    presence = {m: (s.status, s.until, s.cap) for m, s in folded.items()
                if m in roster.members and s.status != "unknown"}
    expires = min((u for _, u, _ in presence.values() if u is not None), default=None)
    view = registry.view(circle)
    return _Summary(circle.version, roster, view, presence, registry.me in roster.ever, expires,
                    gt.reminders(view.gatherings, registry.me))


class Changes:
    """The summaries of one node's circles and what it was told about its joins (module docstring)."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.me = registry.me
        self._seen: dict[TopicId, _Summary] = {}
        self._touched: set[TopicId] = set()
        self._urgent: set[TopicId] = set()          # touched by an urgent-lane envelope: summarize at once
        self._at: dict[TopicId, float] = {}              # when each circle was last summarized
        self._lobbies = False                            # an envelope of a lobby was taken in
        self._awaiting: dict[bytes, str] = {}            # circles this node joins -> name (welcome due)
        self._refused: set[bytes] = set()                # lobbies whose refusal was told
        self._catching_up: frozenset[bytes] = frozenset()
        self._expires: int | None = None                 # the earliest presence ``until`` of any circle
        self._remind_at: int | None = None               # the earliest gathering reminder not told yet
        self._reminded: set[tuple[bytes, int]] = set()   # (gathering, time) of reminders told

    @property
    def catching_up(self) -> frozenset[bytes]:
        """The circles the last ``SyncChanged`` facts said this node is catching up on (a snapshot says
        the same as the events did)."""
        return self._catching_up

    def touch(self, topic: bytes, *, urgent: bool = False) -> None:
        """Something may have changed in ``topic`` (a circle or a lobby); ``urgent``: by an envelope of
        the urgent lane, which is summarized without waiting for the interval."""
        if topic in self.registry.circles:
            self._touched.add(TopicId(topic))
            if urgent:
                self._urgent.add(TopicId(topic))
        else:
            self._lobbies = True

    def touch_all(self) -> None:
        self._touched.update(self.registry.circles)

    def baseline(self, now: float) -> None:
        """Take every circle and join as it is now, silently (the start: nothing here is news)."""
        self._note_joins()
        for topic, circle in self.registry.circles.items():
            self._seen[topic] = _summarize(self.registry, circle, int(now))
            self._at[topic] = now
        self._touched.clear()
        self._expiry()

    def next_time(self) -> float | None:
        """When ``take`` next has work of its own: a touched circle's interval ends, or a presence runs out."""
        times = [self._at.get(t, 0.0) + INTERVAL for t in self._touched]
        if self._expires is not None:
            times.append(float(self._expires))
        if self._remind_at is not None:
            times.append(float(self._remind_at))
        return min(times, default=None)

    def take(self, now: float, catching_up: frozenset[bytes]) -> list[Fact]:
        """The facts since the last call: joins answered, then each touched circle's changes (those
        summarized less than ``INTERVAL`` ago wait for ``next_time``), then sync states."""
        t = int(now)
        expired = self._expires is not None and self._expires <= t
        remind = self._remind_at is not None and self._remind_at <= t
        if not (self._touched or self._lobbies or expired or remind or catching_up or self._catching_up):
            return []                           # the common case: nothing to look at
        out: list[Fact] = []
        if self._lobbies:
            self._lobbies = False
            out += self._joins_answered()
        if expired:
            self._touched.update(topic for topic, s in self._seen.items() if s.expires is not None and s.expires <= t)
        for topic in sorted(self._touched):
            circle = self.registry.circles.get(topic)
            if circle is None:
                self._forget(topic)
                continue
            at_once = topic in self._urgent and topic not in catching_up
            if not at_once and now < self._at.get(topic, now - INTERVAL) + INTERVAL:
                continue
            self._urgent.discard(topic)
            self._touched.discard(topic)
            self._at[topic] = now
            out += self._diff(circle, t)
        if len(self._seen) > len(self.registry.circles):      # circles dropped without a touch
            for topic in set(self._seen) - set(self.registry.circles):
                self._forget(topic)
        if remind:
            out += self._reminders(t)
        self._expiry()
        out += self._sync(catching_up)
        return out

    def _expiry(self) -> None:
        self._expires = min((s.expires for s in self._seen.values() if s.expires is not None), default=None)
        self._remind_at = min((at for s in self._seen.values() if s.live for at, gid in s.reminders
                               if (gid, at) not in self._reminded), default=None)

    def _reminders(self, now: int) -> list[Fact]:
        """Reminders due by ``now`` and not told yet, for gatherings that have not started; the told set
        keeps only reminders still wanted (a gathering gone, cancelled or re-answered leaves it)."""
        out: list[Fact] = []
        wanted: set[tuple[bytes, int]] = set()
        for topic, summary in self._seen.items():
            if not summary.live:
                continue
            for at, gid in summary.reminders:
                wanted.add((gid, at))
                if at > now or (gid, at) in self._reminded:
                    continue
                self._reminded.add((gid, at))
                state = summary.view.gatherings.get(gid)
                if state is not None and now < state.when:
                    out.append(GatheringSoon(topic, gid, state.when))
        self._reminded &= wanted
        return out

    def _forget(self, topic: TopicId) -> None:
        self._seen.pop(topic, None)
        self._at.pop(topic, None)
        self._touched.discard(topic)
        self._urgent.discard(topic)

    # ---------------------------------------------------------------------------------------------
    # joins (this node joining others' circles)

    def _note_joins(self) -> None:
        for entry in self.registry.joining.values():
            if entry.token is not None:
                self._awaiting.setdefault(entry.token.topic, entry.token.circle_name)

    def _joins_answered(self) -> list[Fact]:
        self._note_joins()
        joining = {entry.token.topic for entry in self.registry.joining.values() if entry.token is not None}
        for topic in [t for t in self._awaiting if t not in joining and t not in self.registry.circles]:
            del self._awaiting[topic]            # a join given up (its lobby is gone): no welcome to wait for
        self._refused &= set(self.registry.joining)
        out: list[Fact] = []
        for lobby, entry in self.registry.joining.items():
            if entry.token is not None and entry.refused is not None and lobby not in self._refused:
                self._refused.add(lobby)
                out.append(JoinAnswered(TopicId(entry.token.topic), entry.token.circle_name, "refused", entry.refused))
        return out

    # ---------------------------------------------------------------------------------------------
    # one circle

    def _diff(self, circle: Circle, now: int) -> list[Fact]:
        before = self._seen.get(circle.topic)
        if (before is not None and before.version == circle.version
                and (before.expires is None or before.expires > now)):
            return []
        after = _summarize(self.registry, circle, now)
        self._seen[circle.topic] = after
        out: list[Fact] = []
        name = self._awaiting.get(circle.topic)
        if after.live and name is not None:
            del self._awaiting[circle.topic]
            out.append(JoinAnswered(circle.topic, name, "welcome"))
        if before is None or not before.live:
            return out                  # the starting point: nothing before it to compare with
        if before.roster is not after.roster:
            out += self._members(circle, before.roster, after.roster)
            out += _invites(circle.topic, before.roster, after.roster, self.me)
        out += _presence(circle.topic, before.presence, after.presence, after.roster.members)
        if before.view is not after.view:
            out += _calls(circle.topic, before.view, after.view)
            out += _checkins(circle.topic, before.view.checkins, after.view.checkins,
                             _asked(before.roster, after.roster))
            out += _care(circle.topic, before.view, after.view)
        return out

    def _members(self, circle: Circle, old: ms.Roster, new: ms.Roster) -> list[Fact]:
        out: list[Fact] = []
        topic = circle.topic
        for member, m in new.members.items():
            was = old.members.get(member)
            if was is None:
                out.append(MemberChanged(topic, member, m.name, "joined", m.role, None))
                out += self._key_changed(circle, new, m)
            else:
                if was.role != m.role:
                    out.append(MemberChanged(topic, member, m.name, "role", m.role, was.role))
                if was.name != m.name:
                    out.append(MemberChanged(topic, member, m.name, "renamed", m.role, was.role, was.name))
        for member, m in old.members.items():
            if member in new.members:
                continue
            how = circle.departure(member) or "left"
            if member == self.me and how == "removed":
                out.append(Notice(topic, new.name, "removed", member, m.name))
            else:
                out.append(MemberChanged(topic, member, m.name, how, None, m.role))
        return out

    @staticmethod
    def _key_changed(circle: Circle, roster: ms.Roster, joined: ms.Member) -> list[Fact]:
        """``joined`` has the name of someone who left or was removed, with another id: most likely that
        person on a new device (or reinstalled), possibly someone else; either way the person should
        hear it and compare fingerprints in person."""
        gone = [m for m, name in circle.names_ever().items()
                if name == joined.name and m != joined.id and m not in roster.members]
        return [Notice(circle.topic, roster.name, "key_changed", joined.id, joined.name, gone[-1])] if gone else []

    # ---------------------------------------------------------------------------------------------
    # sync states

    def _sync(self, catching_up: frozenset[bytes]) -> list[Fact]:
        circles = {topic for topic, summary in self._seen.items() if summary.live}   # joining: quiet
        busy = catching_up & circles
        out: list[Fact] = [SyncChanged(TopicId(t), True) for t in sorted(busy - self._catching_up)]
        out += [SyncChanged(TopicId(t), False) for t in sorted((self._catching_up - busy) & circles)]
        self._catching_up = frozenset(busy)
        return out


def _invites(topic: TopicId, old: ms.Roster, new: ms.Roster, me: bytes) -> list[Fact]:
    out: list[Fact] = []
    for key, invite in new.invites.items():
        was = old.invites.get(key)
        if invite.used_by is not None and (was is None or was.used_by is None):
            name = new.members[invite.used_by].name if invite.used_by in new.members else None
            out.append(InviteChanged(topic, key, "used", invite.by, invite.by == me, invite.used_by, name))
        elif invite.revoked and (was is None or not was.revoked):
            out.append(InviteChanged(topic, key, "revoked", invite.by, invite.by == me))
    return out


def _presence(topic: TopicId, old: Mapping[bytes, _Presence], new: Mapping[bytes, _Presence],
              members: Mapping[bytes, ms.Member]) -> list[Fact]:
    """Members whose presence changed; one whose presence ran out (or whose post went) reads as
    ``unknown``. A member who is gone is not reported (the ``member`` fact says they went)."""
    out: list[Fact] = []
    for member in sorted(set(old) | set(new)):
        if old.get(member) == new.get(member) or member not in members:
            continue
        status, until, cap = new.get(member, ("unknown", None, None))
        out.append(PresenceChanged(topic, member, status, until, cap))
    return out


def _calls(topic: TopicId, before: View, after: View) -> list[Fact]:
    """Calls that appeared, changed or went. A call's thread shows the support plans shared in it (and
    its caller's circle-wide one): a share or a retraction changes the call's ``plans``."""
    old, new = before.calls, after.calls
    shares = before.shares is not after.shares and before.shares != after.shares
    out: list[Fact] = []
    for call_id, call in new.items():
        was = old.get(call_id)
        if was is None:
            out.append(CallChanged(topic, call_id, "new"))
            continue
        if was is call and not shares:
            continue                    # folded.py keeps the very object of a call nothing touched
        parts = _parts(was, call) if was != call else ()
        if shares and (pl.shares_for_call(before.shares, call_id, was.caller)
                       != pl.shares_for_call(after.shares, call_id, call.caller)):
            parts += ("plans",)
        if parts:
            change = "resolved" if call.status == "resolved" and was.status != "resolved" else "updated"
            out.append(CallChanged(topic, call_id, change, parts))
    out += [CallChanged(topic, call_id, "gone") for call_id in old if call_id not in new]
    return out


def _parts(was: cl.CallState, now: cl.CallState) -> tuple[str, ...]:
    """Which parts of a call changed (``vocab.CALL_PARTS``, in that order)."""
    changed = {"status": was.status != now.status,
               "claim": (was.claimer, was.also_claimed) != (now.claimer, now.also_claimed),
               "offers": (was.offers, was.accepted) != (now.offers, now.accepted),
               "updates": was.updates != now.updates,
               "step": was.step != now.step,
               "reach": was.received_by != now.received_by,
               "followup": (was.followup_at, was.checkins) != (now.followup_at, now.checkins)}
    return tuple(part for part, yes in changed.items() if yes)


def _asked(old: ms.Roster, new: ms.Roster) -> tuple[frozenset[bytes], frozenset[bytes]] | None:
    """Who the circle's check-ins ask (its readers), before and after; None when that did not change."""
    before, after = old.readers, new.readers
    return None if before == after else (before, after)


def _checkins(topic: TopicId, old: Mapping[bytes, ck.CheckinState], new: Mapping[bytes, ck.CheckinState],
              asked: tuple[frozenset[bytes], frozenset[bytes]] | None = None) -> list[Fact]:
    """Check-ins that appeared, got replies, lost one, or went; with ``asked`` (the readers before and
    after, when they changed), those whose members not answered changed (``asked``)."""
    out: list[Fact] = []
    for checkin_id, checkin in new.items():
        was = old.get(checkin_id)
        if was is None:
            out.append(CheckinChanged(topic, checkin_id, "new"))
        elif was.replies != checkin.replies:
            before = {r.member: r.id for r in was.replies}
            members = tuple(r.member for r in checkin.replies if before.get(r.member) != r.id)
            out.append(CheckinChanged(topic, checkin_id, "reply" if members else "tally", members))
        elif asked is not None and (ck.not_answered(was, asked[0] - {was.author})
                                    != ck.not_answered(checkin, asked[1] - {checkin.author})):
            out.append(CheckinChanged(topic, checkin_id, "asked"))
    out += [CheckinChanged(topic, checkin_id, "gone") for checkin_id in old if checkin_id not in new]
    return out



def _care(topic: TopicId, before: View, after: View) -> list[Fact]:
    """Objects of the care folds that appeared, changed or went: compared by identity first (folded.py
    keeps the very object of a state nothing touched), then by value."""
    out: list[Fact] = []
    for what in CARE_OBJECTS:
        old, new = getattr(before, what), getattr(after, what)
        if old is new:
            continue
        for key, state in new.items():
            was = old.get(key)
            if was is None:
                out.append(CareChanged(topic, what, key, "new"))
            elif was is not state and was != state:
                out.append(CareChanged(topic, what, key, "updated"))
        out += [CareChanged(topic, what, key, "gone") for key in old if key not in new]
    return out
