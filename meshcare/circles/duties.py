"""What this node's timers do for its circles: the duty plan and carrying each duty out. Pure.

``Duties`` reads the circles through the ``Registry`` (folded rosters and posts, join requests and
refusals the registry recorded as envelopes arrived) and writes through it (``post``, ``roster_op``,
``rotate``). Nothing here does I/O or reads a clock: ``now`` is an argument; the ``Node`` asks when
the next duty is due (``next_time``), what is due (``due``), and publishes what ``carry_out`` returns.

Duties, each idempotent because its result is itself folded state:

* ``admit``: a valid join request for an open invite: the inviter's node admits at once, other members
  after ``ADMIT_DELAY`` (and only if nobody did meanwhile).
* ``refuse``: a join request with an invite that was used, revoked, expired or is void: answered with
  a signed refusal in the lobby, so the joiner is told why instead of waiting for ever.
* ``receipt``: this node can read a call and has not acknowledged it: a small signed receipt, so the
  caller sees honestly who it reached.
* ``escalate``: this node's own open, unclaimed call whose next ladder step is due.
* ``followup``: a call this node resolved with a follow-up time that has come.
* ``rotate``: a facilitator's node rotates the epoch when the roster needs it (someone left) or the
  circle's rotation period has passed.
* ``presence``: this node's availability, still in force, was posted under an epoch that someone who
  can read the circle now could not read (they joined since): it is posted again, unchanged, with its
  ``until`` explicit, so new members see who is around (presence.py keeps its ``since``).
* ``library``: a text of the circle's library whose newest post nears the end of the circle's retention
  is posted again, unchanged, by one facilitator's node (``library.keeper``), so the library does not
  empty itself (library.py).
* ``reach``: someone took one of this person's board items and they left a way to be reached (kept on
  this node only, ``LocalState.reach``): it is sent to the taker alone, sealed to them (``need_reach``),
  once per taker (this node's own ``need_reach`` posts say who has it: board.py ``reach_due``). An item
  that is done has its text forgotten.
* ``onion``: this node's published onion address differs from what the circle's roster shows for it (or
  the person turned sharing it off there, and the roster still shows one): a ``reach`` roster operation
  says the address (or ""), at most one per circle per ``reach.REPOST_AFTER`` unless the value is new
  (circles/reach.py). Members and relays alike: a relay is the node most worth reaching.
* ``seen``: a removal by others, of others, that no third member has built on yet is acknowledged, so
  its target cannot undo it later with a backdated counter-removal (remove_wins.py).

Planning also finds notices for the person (``take_notices``): a claim of ours that lost a race.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Final

from .. import envelope as env
from ..ids import TopicId
from . import board as bd
from . import calls as cl
from . import library as lb
from . import membership as ms
from . import presence as pr
from . import reach as rc
from .circle import Circle
from .invites import Lobby
from .registry import REFUSE_FOR, Registry, any_invite

ADMIT_DELAY: Final = 10.0          # seconds other members wait before admitting in the inviter's stead
#: seconds (x1 to x2, by node) before a member acknowledges a removal it folded (a ``seen`` operation)
ACK_DELAY: Final = 5.0
ROTATE_DEBOUNCE: Final = 5.0       # a facilitator rotates this long after the roster started needing it
PLAN_INTERVAL: Final = 0.25       # recompute what is due at most this often while circles change
RETRY_AFTER: Final = 60.0         # a duty that failed or found nothing to do waits this long
FOLLOWUP_PROMPT: Final = "Follow-up: how are you doing now?"


@dataclass(frozen=True, slots=True)
class Duty:
    kind: str                      # admit | refuse | receipt | escalate | followup | rotate | presence | seen | library | reach | onion
    topic: TopicId
    subject: bytes = b""           # call id, joining member, or removal (seen)
    step: int = 0


class Duties:
    """The duty plan of one node's circles (see the module docstring)."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.me = registry.me
        self._postponed: dict[Duty, float] = {}
        self._plan: tuple[tuple[object, ...], float, float | None] | None = None
        self._needs_rotation_since: dict[bytes, float] = {}
        self._removals_seen: dict[tuple[bytes, bytes], float] = {}   # (topic, removal) -> first folded here
        self._claims_told: set[tuple[bytes, bytes]] = set()          # (topic, call) whose lost claim was told
        self._notices: list[dict[str, Any]] = []                      # for the person: control events
        #: this node's published onion service ("xxx.onion:PORT"), None without one (``TorChanged``)
        self.own_onion: str | None = None
        self._reach_posted: dict[bytes, tuple[float, str]] = {}      # topic -> (when, value) of our last reach

    # ---------------------------------------------------------------------------------------------
    # planning

    def due(self, now: float) -> list[Duty]:
        """Everything due at ``now``, in a stable order."""
        plan = self._schedule(now)
        self._plan = (self._plan_key(), now, min((due for _, due in plan), default=None))
        return [d for d, due in plan if due <= now]

    def next_time(self, now: float) -> float | None:
        """When ``due`` next has work. Cheap to call on every timer wake: the plan is recomputed only
        when a circle changed, and then at most every ``PLAN_INTERVAL`` (a catch-up of thousands of
        envelopes must not refold every circle per frame)."""
        key = self._plan_key()
        if self._plan is not None:
            old_key, at, earliest = self._plan
            if old_key == key:
                return earliest
            if now < at + PLAN_INTERVAL:
                return at + PLAN_INTERVAL if earliest is None else min(earliest, at + PLAN_INTERVAL)
        earliest = min((due for _, due in self._schedule(now)), default=None)
        self._plan = (key, now, earliest)
        return earliest

    def postpone(self, duty: Duty, now: float, delay: float = RETRY_AFTER) -> None:
        """A duty that could not be carried out (or found nothing to do) waits ``delay`` before the next
        try, so a persistent problem costs a log line a minute, not a busy loop."""
        self._postponed[duty] = now + delay

    def claim_told(self, topic: bytes, call_id: bytes) -> None:
        """The person already heard who has this call (the claim op's answer): no notice later."""
        self._claims_told.add((bytes(topic), call_id))

    def take_notices(self) -> list[dict[str, Any]]:
        """Notices for the person (control events), oldest first; each is handed out once."""
        out, self._notices = self._notices, []
        return out

    def _plan_key(self) -> tuple[object, ...]:
        reg = self.registry
        return (tuple((t, c.version) for t, c in reg.circles.items()), len(reg.requests), len(reg.refusals),
                tuple(sorted(self._postponed.values())), tuple(self._needs_rotation_since.items()),
                self.own_onion, tuple(sorted(reg.state.unshared)), tuple(self._reach_posted.items()))

    def _schedule(self, now: float) -> list[tuple[Duty, float]]:
        for duty, until in list(self._postponed.items()):
            if until <= now:
                del self._postponed[duty]
        return [(d, max(due, self._postponed.get(d, due))) for d, due in self._planned(now)]

    def _planned(self, now: float) -> list[tuple[Duty, float]]:
        reg = self.registry
        out: list[tuple[Duty, float]] = []
        for (topic, member), request in list(reg.requests.items()):
            circle = reg.circles.get(TopicId(topic))
            invite = circle.roster.invites.get(request.invite) if circle else None
            if (circle is None or invite is None or not invite.open_at(int(now))
                    or member in circle.roster.members or circle.roster.role(self.me) in (None, "relay")):
                del reg.requests[(topic, member)]
                continue
            out.append((Duty("admit", circle.topic, member), request.seen + self._admit_delay(invite)))
        for (topic, member), (key, _, seen) in list(reg.refusals.items()):
            circle = reg.circles.get(TopicId(topic))
            invite = any_invite(circle, key) if circle else None
            if circle is None or invite is None or circle.roster.role(self.me) in (None, "relay"):
                del reg.refusals[(topic, member)]
                continue
            # a void invite's maker may be the one removed: every member answers after the delay
            delay = self._admit_delay(invite) if key in circle.roster.invites else ADMIT_DELAY
            out.append((Duty("refuse", circle.topic, member), seen + delay))
        for circle in reg.circles.values():
            role = circle.roster.role(self.me)
            if role is not None:
                out.extend(self._unacknowledged(circle, now))     # relays too: they are always on
                out.extend(self._onion_duty(circle, now))
            if role in (None, "relay"):
                continue
            if role == "facilitator":
                due = self._rotation_due(circle, now)
                if due is not None:
                    out.append((Duty("rotate", circle.topic), due))
                out.extend(self._library_duties(circle))
            if self._presence_unseen(circle, int(now)) is not None:
                out.append((Duty("presence", circle.topic), now))
            out.extend(self._call_duties(circle, now))
            needs, texts = self.registry.view(circle).needs, self.registry.state.reach
            out.extend((Duty("reach", circle.topic, need), now)
                       for need in bd.reach_due(needs, self.me, texts) + bd.reach_spent(needs, texts))
        return out

    def _call_duties(self, circle: Circle, now: float) -> list[tuple[Duty, float]]:
        out: list[tuple[Duty, float]] = []
        for call_id, call in self.registry.view(circle).calls.items():
            if call.caller == self.me:
                when = cl.next_escalation_time(call)
                if when is not None:
                    step = cl.next_escalation(call, int(max(now, when)))
                    out.append((Duty("escalate", circle.topic, call_id, step or call.step + 1), float(when)))
            elif self.me not in call.received_by and call.status != "resolved":
                out.append((Duty("receipt", circle.topic, call_id), now))
            if (call.resolved_by == self.me and call.followup_at is not None
                    and call_id not in self.registry.state.followups and call.status == "resolved"):
                out.append((Duty("followup", circle.topic, call_id), float(call.followup_at)))
            self._note_lost_claim(circle, call_id, call)
        return out

    def _library_duties(self, circle: Circle) -> list[tuple[Duty, float]]:
        roster = circle.roster
        facilitators = roster.facilitators
        return [(Duty("library", circle.topic, note_id), float(self._repost_at(circle, note)))
                for note_id, note in self.registry.view(circle).library.items()
                if lb.keeper(note, facilitators) == self.me]

    @staticmethod
    def _repost_at(circle: Circle, note: lb.NoteState) -> int:
        return lb.repost_at(note, circle.roster.settings.retention_days, circle.expires_of(note.current))

    def _admit_delay(self, invite: ms.Invite) -> float:
        if invite.by == self.me:
            return 0.0
        return ADMIT_DELAY * (1 + self._jitter())

    def _ack_delay(self) -> float:
        """How long after folding someone else's removal this node says ``seen`` (unless a third member
        did first): a few seconds, spread by node so that usually one member answers."""
        return ACK_DELAY * (1 + self._jitter())

    def _jitter(self) -> float:
        """0 to 1, fixed per node: spreads who answers first without randomness."""
        return int.from_bytes(hashlib.blake2b(self.me, digest_size=2).digest(), "big") / 65536

    def _unacknowledged(self, circle: Circle, now: float) -> list[tuple[Duty, float]]:
        """Removals by others, of others, that no third member has built on: this node acknowledges them
        (a ``seen`` roster operation), so their target cannot undo them later with a backdated
        counter-removal (remove_wins.py, mutual removal)."""
        out = []
        for removal in circle.roster.unacknowledged:
            op = circle.roster_operation(removal)
            if op is None or self.me in (op.author, op.body["member"]):
                continue
            first = self._removals_seen.setdefault((bytes(circle.topic), removal), now)
            out.append((Duty("seen", circle.topic, removal), first + self._ack_delay()))
        return out

    def _reach_value(self, circle: Circle) -> str | None:
        """The ``reach`` this node owes ``circle`` now (circles/reach.py), None when it owes none or a
        new one would not count."""
        roster = circle.roster
        if roster.reach_refused(self.me) is not None:
            return None
        share = bytes(circle.topic) not in self.registry.state.unshared
        return rc.reach_to_post(self.own_onion, share, roster.reach.get(self.me))

    def _onion_duty(self, circle: Circle, now: float) -> list[tuple[Duty, float]]:
        value = self._reach_value(circle)
        if value is None:
            return []
        return [(Duty("onion", circle.topic), rc.reach_due(value, self._reach_posted.get(bytes(circle.topic)), now))]

    def _note_lost_claim(self, circle: Circle, call_id: bytes, call: cl.CallState) -> None:
        """A claim of ours that another claim, first in the circle's order, overtook (two people claimed
        while apart: both were told "you have this call" at first). Queued once as a notice for the
        person, so the one who lost the race is told who has the call."""
        key = (bytes(circle.topic), call_id)
        if (self.me in call.also_claimed and call.claimer is not None and call.claimer != self.me
                and call.status != "resolved" and key not in self._claims_told):
            self._claims_told.add(key)
            self._notices.append({"event": "claim_lost", "circle": circle.topic.hex(), "call": call_id.hex(),
                                  "claimer": call.claimer.hex()})

    def _presence_unseen(self, circle: Circle, now: int) -> Any:
        """This node's latest presence post in ``circle`` if it is still in force and some current
        reader could not read it (they joined after it was posted), else None."""
        mine = [p for p in circle.posts if p.kind == "presence" and p.author == self.me]
        if not mine:
            return None
        latest = max(mine, key=lambda p: p.order)
        roster = circle.roster
        posted_in = circle.epoch_of(latest.id)
        epoch = roster.epochs.get(posted_in) if posted_in is not None else None
        if epoch is None or pr.effective_until(latest) <= now:
            return None
        return latest if roster.readers - epoch.recipients else None

    def _rotation_due(self, circle: Circle, now: float) -> float | None:
        roster = circle.roster
        if roster.needs_rotation and circle.can_read():
            since = self._needs_rotation_since.setdefault(circle.topic, now)
            return since + ROTATE_DEBOUNCE
        self._needs_rotation_since.pop(circle.topic, None)
        if roster.settings.rotate_days and roster.current is not None:
            return float(roster.last_rotation + roster.settings.rotate_days * 86_400)
        return None

    # ---------------------------------------------------------------------------------------------
    # carrying out

    def carry_out(self, duty: Duty, now: int) -> list[tuple[TopicId, env.Envelope]]:
        """The envelopes one duty publishes (topic, envelope), in order; empty when it has nothing left
        to do. Raises BadInput or RemoteProtocolError when the circle's state does not allow it now."""
        reg = self.registry
        circle = reg.circles.get(duty.topic)
        if circle is None:
            return []
        if duty.kind == "admit":
            return self._admit(circle, duty, now)
        if duty.kind == "refuse":
            return self._refuse(circle, duty, now)
        if duty.kind == "seen":
            if duty.subject not in circle.roster.unacknowledged or circle.roster.role(self.me) is None:
                return []
            return [(circle.topic, reg.roster_op(circle, "seen", {}, now))]
        if duty.kind == "rotate":
            self._needs_rotation_since.pop(circle.topic, None)
            return [(circle.topic, reg.rotate(circle, now))]
        if duty.kind == "presence":
            mine = self._presence_unseen(circle, now)
            if mine is None:
                return []
            body = {"status": mine.body["status"], "until": pr.effective_until(mine), "cap": mine.body["cap"]}
            return [(circle.topic, e) for e in reg.post(circle, "presence", body, now)]
        if duty.kind == "library":
            return self._keep_library(circle, duty, now)
        if duty.kind == "onion":
            value = self._reach_value(circle)
            last = self._reach_posted.get(bytes(circle.topic))
            if value is None or rc.reach_due(value, last, now) > now:
                return []
            self._reach_posted[bytes(circle.topic)] = (float(now), value)
            return [(circle.topic, reg.roster_op(circle, "reach", {"onion": value}, now))]
        if duty.kind == "reach":
            return self._reach(circle, duty.subject, now)
        call = reg.view(circle).calls.get(duty.subject)
        if call is None:
            return []
        if duty.kind == "receipt":
            return [(circle.topic, e) for e in reg.post(circle, "receipt", {"call": call.id}, now)]
        if duty.kind == "escalate":
            step = cl.next_escalation(call, now)
            if step is None:
                return []
            if call.caller != self.me:
                return []             # only the caller widens a call (the fold ignores anyone else's)
            audience = reg.call_audience(circle, cl.ladder_data(call), step, now)
            body = {"call": call.id, "step": step, "narrowed": call.narrowed}
            return [(circle.topic, e) for e in reg.post(circle, "escalate", body, now, audience=audience)]
        if duty.kind == "followup":
            reg.state.followups.add(call.id)
            body = {"prompt": FOLLOWUP_PROMPT, "call": call.id, "visibility": "circle"}
            return [(circle.topic, e) for e in reg.post(circle, "checkin", body, now)]
        return []

    def _keep_library(self, circle: Circle, duty: Duty, now: int) -> list[tuple[TopicId, env.Envelope]]:
        """Post a library text's current version again (the same title and text, revising its first
        id) if this node still keeps it and it is due: library.py does not count it as a new version."""
        note = self.registry.view(circle).library.get(duty.subject)
        roster = circle.roster
        if note is None or lb.keeper(note, roster.facilitators) != self.me or now < self._repost_at(circle, note):
            return []
        body = {"title": note.title, "text": note.text, "revises": note.id}
        return [(circle.topic, e) for e in self.registry.post(circle, "library_note", body, now)]

    def _reach(self, circle: Circle, need_id: bytes, now: int) -> list[tuple[TopicId, env.Envelope]]:
        """How to reach this person, to whoever took their item now, sealed to that one person."""
        reg = self.registry
        state = reg.view(circle).needs.get(need_id)
        text = reg.state.reach.get(need_id)
        if state is not None and state.status == "done":
            reg.state.reach.pop(need_id, None)
        if state is None or need_id not in bd.reach_due({need_id: state}, self.me, reg.state.reach):
            return []
        body = {"to": [state.taker], "need": need_id, "text": text}
        return [(circle.topic, e) for e in reg.post(circle, "need_reach", body, now)]

    def _admit(self, circle: Circle, duty: Duty, now: int) -> list[tuple[TopicId, env.Envelope]]:
        reg = self.registry
        request = reg.requests.pop((bytes(duty.topic), duty.subject), None)
        invite = circle.roster.invites.get(request.invite) if request is not None else None
        if (request is None or invite is None or not invite.open_at(now)
                or request.member in circle.roster.members):
            return []       # used meanwhile (another holder, another admitter), revoked or expired
        readers = set(circle.roster.readers)
        if invite.role != "relay":
            readers.add(request.member)
        fields: dict[str, Any] = {"invite": request.invite, "member": request.member, "name": request.name,
                                  "proof": request.proof, **circle.new_epoch_fields(readers)}
        if circle.roster.settings.share_history and invite.role != "relay":
            # a narrowed call (its caller's "who not to involve" list) is never handed to anyone new: the
            # one joining may be someone its caller left out
            open_to_circle = [cid for cid, call in reg.view(circle).calls.items()
                              if not call.narrowed and any(s.to == "circle" for s in call.ladder[: call.step + 1])]
            fields["history"] = circle.history_for(request.member, open_to_circle)
        admit = reg.roster_op(circle, "admit", fields, now)
        lobby = Lobby(request.invite, circle.topic)
        welcome = lobby.welcome(reg.identity, request.member, circle.secret, circle.founder, now,
                                invite.expires, circle.roster_keys_for_joiner(), reg.random_bytes)
        return [(circle.topic, admit), (lobby.topic, welcome)]

    def _refuse(self, circle: Circle, duty: Duty, now: int) -> list[tuple[TopicId, env.Envelope]]:
        reg = self.registry
        refusal = reg.refusals.pop((bytes(duty.topic), duty.subject), None)
        if refusal is None:
            return []
        key, reason, _ = refusal
        invite = any_invite(circle, key)
        if invite is None:
            return []
        lobby = Lobby(key, circle.topic)
        reg.answered(lobby.topic, duty.subject)
        answer = lobby.refusal(reg.identity, duty.subject, reason, now, invite.expires + REFUSE_FOR,
                               reg.random_bytes)
        return [(lobby.topic, answer)]
