"""All circles of this node, their lobbies, undecided envelopes, and the duties timers carry out. Pure.

The daemon asks the registry three things about the network: which topics to sync (``topics``), who may
sync each (``access``), and what to do with received envelopes (``verdicts``, then ``delivered``). It
asks it what is due (``duties`` / ``next_duty_time``) and builds posts through it (``post``,
``roster_op``), which rotates the epoch first when the roster requires it. Nothing here does I/O or
reads a clock: ``now`` is an argument and ``LocalState`` is plain data the daemon saves.

Duties, each idempotent because its result is itself folded state:

* ``admit``: a valid join request for an open invite: the inviter's node admits at once, other members
  after ``ADMIT_DELAY`` (and only if nobody did meanwhile).
* ``receipt``: this node can read a call and has not acknowledged it: a small signed receipt, so the
  caller sees honestly who it reached.
* ``escalate``: this node's own open, unclaimed call whose next ladder step is due.
* ``followup``: a call this node resolved with a follow-up time that has come.
* ``rotate``: a facilitator's node rotates the epoch when the roster needs it (someone left) or the
  circle's rotation period has passed.
* ``presence``: this node's availability, still in force, was posted under an epoch that someone who
  can read the circle now could not read (they joined since): it is posted again, unchanged, with its
  ``until`` explicit, so new members see who is around (presence.py keeps its ``since``).
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from .. import envelope as env
from ..crypto.keys import Identity
from ..errors import BadInput, NotFound, RemoteProtocolError
from .. import vocab
from ..ids import TopicId
from .state import CircleEntry, LocalState
from . import calls as cl
from . import checkins as ck
from . import membership as ms
from . import plans as pl
from . import presence as pr
from .circle import FUTURE_SLACK, Circle, Verdict
from .invites import Lobby, Token, open_welcome, parse_token

ADMIT_DELAY: Final = 10.0          # seconds other members wait before admitting in the inviter's stead
#: seconds (x1 to x2, by node) before a member acknowledges a removal it folded (a ``seen`` operation)
ACK_DELAY: Final = 5.0
ROTATE_DEBOUNCE: Final = 5.0       # a facilitator rotates this long after the roster started needing it
PLAN_INTERVAL: Final = 0.25       # recompute what is due at most this often while circles change
RETRY_AFTER: Final = 60.0         # a duty that failed or found nothing to do waits this long
MAX_HELD: Final = 5_000            # undecided envelopes kept (oldest dropped first; sync brings them back)
#: Open invites per circle. Each open invite is a lobby topic this node syncs and names in its Topics
#: frame (a peer rejects a frame of more than 4,096 tags): 64 is far more than a circle hands out at
#: once, and keeps ~60 circles' lobbies within that limit. The op refuses one more; the lobbies served
#: are the newest open invites up to the cap, so invites a hostile facilitator floods in cannot grow
#: the topic set either.
MAX_OPEN_INVITES: Final = vocab.MAX_OPEN_INVITES
#: Lobbies of closed invites (used, revoked, expired) are served this long after the invite's expiry,
#: only to answer a join request with a refusal; at most ``MAX_REFUSING`` of them per circle, newest first.
REFUSE_FOR: Final = 86_400
MAX_REFUSING: Final = 16
FOLLOWUP_PROMPT: Final = "Follow-up: how are you doing now?"


@dataclass(frozen=True, slots=True)
class Duty:
    kind: str                      # admit | refuse | receipt | escalate | followup | rotate | presence | seen
    topic: TopicId
    subject: bytes = b""           # call id, joining member, or removal (seen)
    step: int = 0


@dataclass(frozen=True, slots=True)
class JoinRequest:
    invite: bytes
    member: bytes
    name: str
    proof: bytes
    seen: float


@dataclass
class View:
    """Folded content of one circle (recomputed when the circle's version changes)."""

    version: int
    calls: dict[bytes, cl.CallState]
    checkins: dict[bytes, ck.CheckinState]
    shares: dict[bytes, pl.ShareState]
    posts_by_id: dict[bytes, Any] = field(default_factory=dict)


@dataclass(slots=True)
class _LobbyEntry:
    lobby: Lobby
    token: Token | None = None     # set when this node is the one joining
    name: str = ""
    refused: str | None = None     # a member's node answered: used | revoked | expired


class Registry:
    def __init__(self, identity: Identity, state: LocalState) -> None:
        self.identity = identity
        self.me = bytes(identity.node_id)
        self.state = state
        self.circles: dict[TopicId, Circle] = {}
        self.joining: dict[TopicId, _LobbyEntry] = {}        # lobby topic -> entry (this node joins)
        self.requests: dict[tuple[bytes, bytes], JoinRequest] = {}   # (circle topic, member)
        self.held: OrderedDict[bytes, env.Envelope] = OrderedDict()
        self.release_at: float | None = None   # when a held envelope from a fast clock becomes acceptable
        self.purge_due = False                 # an equivocation was found: the shell runs the purge
        self._views: dict[bytes, View] = {}
        self._needs_rotation_since: dict[bytes, float] = {}
        self._removals_seen: dict[tuple[bytes, bytes], float] = {}   # (topic, removal) -> first folded here
        self._claims_told: set[tuple[bytes, bytes]] = set()          # (topic, call) whose lost claim was told
        self.notices: list[dict[str, Any]] = []                       # for the person: control events
        self._postponed: dict[Duty, float] = {}
        self._plan: tuple[tuple[object, ...], float, float | None] | None = None
        self._lobby_now = 0                                  # the latest `now` the lobby set was judged at
        self.refusals: dict[tuple[bytes, bytes], tuple[bytes, str, float]] = {}  # (topic, member) -> why
        self._refused: set[tuple[bytes, bytes]] = set()      # (lobby topic, member) somebody answered
        for entry in list(state.circles.values()):
            self._open(entry)
        for joining in state.joining.values():
            self._join_lobby(parse_token(joining.token), joining.name)

    # ---------------------------------------------------------------------------------------------
    # circles

    def _open(self, entry: CircleEntry) -> Circle:
        circle = Circle(self.identity, entry.secret, entry.founder, entry.roster_keys)
        self.circles[circle.topic] = circle
        self.state.circles[circle.topic] = entry
        return circle

    def add_circle(self, secret: bytes, founder: bytes, now: int,
                   roster_keys: Mapping[int, bytes] | None = None) -> Circle:
        from .circle import circle_topic
        topic = circle_topic(secret, founder)
        if topic in self.circles:
            return self.circles[topic]
        return self._open(CircleEntry(secret, founder, set(), now, dict(roster_keys or {})))

    def drop_circle(self, topic: bytes) -> None:
        """Forget a circle this node left or was removed from (its envelopes are deleted by the caller)."""
        self.circles.pop(TopicId(topic), None)
        self.state.circles.pop(topic, None)
        self.state.seq.pop(topic, None)
        self.state.prev.pop(topic, None)
        self._views.pop(topic, None)

    def _join_lobby(self, token: Token, name: str) -> _LobbyEntry:
        lobby = Lobby(token.invite_key, token.topic)
        entry = _LobbyEntry(lobby, token, name)
        self.joining[lobby.topic] = entry
        return entry

    def start_join(self, token: Token, name: str, now: int) -> tuple[TopicId, env.Envelope]:
        """Begin joining with ``token``: returns the lobby topic to sync and the join request to publish."""
        if token.topic in self.circles:
            raise BadInput("this node is already in that circle")
        if now >= token.expires:
            raise BadInput("this invite has expired; ask for a new one")
        entry = self._join_lobby(token, name)
        from .state import Joining
        self.state.joining[token.invite_key] = Joining(token.encode(), name, now)
        return entry.lobby.topic, entry.lobby.join_request(self.identity, token, name, now)

    def find(self, ref: str) -> Circle:
        """A circle by name or unique id prefix. Raises BadInput naming the choices."""
        ref = ref.strip()
        if not ref:
            raise BadInput("name a circle (its name or the start of its id)")
        exact = [c for c in self.circles.values() if c.roster.name == ref]
        if len(exact) == 1:
            return exact[0]
        prefix = [c for c in self.circles.values() if c.topic.hex().startswith(ref.lower())]
        matches = exact or prefix
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise NotFound(f"no circle called {ref!r} on this node; `meshcare circle list` shows yours")
        raise BadInput(f"{ref!r} matches several circles; use more of the id")

    # ---------------------------------------------------------------------------------------------
    # network questions

    def topics(self, now: int) -> set[TopicId]:
        """Topics to sync: every circle, the lobbies of its open invites, and lobbies this node joins by."""
        self._lobby_now = max(self._lobby_now, now)
        out: set[TopicId] = set(self.circles) | set(self.joining)
        for circle in self.circles.values():
            if circle.roster.role(self.me) is None:
                continue
            out |= {Lobby(key, circle.topic).topic for key in self.served_invites(circle, now)}
        return out

    def served_invites(self, circle: Circle, now: int) -> list[bytes]:
        """The invites whose lobbies this node serves: those open at ``now`` (or just used: the welcome
        travels), the newest ``MAX_OPEN_INVITES`` of them in the roster's fold order."""
        invites = circle.roster.invites
        live = [key for key, invite in invites.items() if invite.lobby_open_at(now)]
        closed = [key for key, invite in invites.items()
                  if not invite.lobby_open_at(now) and now < invite.expires + REFUSE_FOR]
        closed += [key for key, invite in circle.roster.void_invites.items() if now < invite.expires + REFUSE_FOR]
        return live[-MAX_OPEN_INVITES:] + closed[-MAX_REFUSING:]

    def open_invites(self, circle: Circle, now: int) -> int:
        """How many invites of ``circle`` are open (unused, unrevoked, unexpired) at ``now``."""
        return sum(1 for invite in circle.roster.invites.values() if invite.open_at(now))

    def lobby(self, topic: bytes) -> tuple[Lobby, Circle | None] | None:
        """The lobby named ``topic``: one this node joins by, or one of a served invite (judged at the
        latest time the topic set was computed), else None."""
        entry = self.joining.get(TopicId(topic))
        if entry is not None:
            return entry.lobby, None
        for circle in self.circles.values():
            for key in self.served_invites(circle, self._lobby_now):
                lobby = Lobby(key, circle.topic)
                if lobby.topic == topic:
                    return lobby, circle
        return None

    def access(self, topic: bytes, node: bytes) -> bool:
        circle = self.circles.get(TopicId(topic))
        if circle is not None:
            if self.me not in circle.roster.ever:
                # still joining: the roster that says who is a member has not arrived yet. Any node that
                # knows the topic may bring it (everything it sends is verified and folded anyway); the
                # other side applies the real rule, because it knows we were admitted.
                return True
            return circle.roster.may_sync(node)
        return self.lobby(topic) is not None    # knowing the lobby's tag is the test

    def verdicts(self, envelopes: Sequence[env.Envelope], now: int) -> list[bool | None]:
        """After the signature check: accept, reject, or hold (None) each envelope."""
        self._lobby_now = max(self._lobby_now, now)
        out: list[bool | None] = []
        for e in envelopes:
            circle = self.circles.get(e.topic)
            if circle is not None:
                v = circle.verdict(e, now)
                if v is Verdict.DEFER:
                    self._hold(e, now)
                if v is Verdict.DROP:
                    self.purge_due = True
                # DROP is None to the engine: not stored and not charged (an honest peer may forward one)
                out.append(True if v is Verdict.ACCEPT else False if v is Verdict.REJECT else None)
                continue
            found = self.lobby(e.topic)
            if found is None:
                out.append(False)
                continue
            try:
                found[0].read(e)
            except RemoteProtocolError:
                out.append(False)
            else:
                out.append(True)
        return out

    def _hold(self, e: env.Envelope, now: int) -> None:
        self.held[e.id] = e
        self.held.move_to_end(e.id)
        while len(self.held) > MAX_HELD:
            self.held.popitem(last=False)
        self._arm_release(e, now)

    def _arm_release(self, e: env.Envelope, now: float) -> None:
        """A held envelope from a fast clock becomes acceptable once ours catches up: remember when."""
        if e.created > now + FUTURE_SLACK:
            ready = float(e.created - FUTURE_SLACK)
            self.release_at = ready if self.release_at is None else min(self.release_at, ready)

    def take_due_release(self, now: float) -> list[env.Envelope]:
        """Held envelopes that only waited for our clock (``release_at``), once it has come; re-arms for
        any that still wait. The shell calls this from its timer loop."""
        if self.release_at is None or self.release_at > now:
            return []
        self.release_at = None
        out = self.take_released(int(now))
        for e in self.held.values():
            self._arm_release(e, now)
        return out

    def take_released(self, now: int) -> list[env.Envelope]:
        """Held envelopes the circles can now accept (call after the roster changed)."""
        out = []
        for key, e in list(self.held.items()):
            circle = self.circles.get(e.topic)
            if circle is None or e.is_expired(now):
                del self.held[key]
                continue
            v = circle.verdict(e, now)
            if v is not Verdict.DEFER:
                del self.held[key]
                if v is Verdict.ACCEPT:
                    out.append(e)
                elif v is Verdict.DROP:
                    self.purge_due = True
        return out

    def delivered(self, e: env.Envelope, now: float) -> tuple[bool, Circle | None]:
        """Take an accepted envelope in. Returns (roster or circle set changed, the circle it joined, if any)."""
        circle = self.circles.get(e.topic)
        if circle is not None:
            circle.ingest(e)
            return e.epoch < ms.ROSTER_LIMIT, None
        found = self.lobby(e.topic)
        if found is None:
            return False, None
        lobby, owner = found
        try:
            post = lobby.read(e)
        except RemoteProtocolError:
            return False, None
        if post["k"] == "join" and owner is not None:
            invite = owner.roster.invites.get(lobby.invite_key)
            key = (bytes(owner.topic), bytes(post["member"]))
            if post["member"] in owner.roster.members:
                return False, None
            if invite is None:
                if (lobby.invite_key in owner.roster.void_invites
                        and (bytes(lobby.topic), key[1]) not in self._refused):
                    self.refusals.setdefault(key, (lobby.invite_key, "invalid", now))
                return False, None
            if invite.open_at(int(now)):
                self.requests.setdefault(key, JoinRequest(lobby.invite_key, post["member"], post["name"],
                                                          post["proof"], now))
            elif (bytes(lobby.topic), key[1]) not in self._refused:
                reason = "used" if invite.used_by is not None else "revoked" if invite.revoked else "expired"
                self.refusals.setdefault(key, (lobby.invite_key, reason, now))
            return False, None
        if post["k"] == "refusal" and owner is not None:
            self._refused.add((bytes(lobby.topic), bytes(post["member"])))   # somebody answered already
            self.refusals.pop((bytes(owner.topic), bytes(post["member"])), None)
            return False, None
        entry = self.joining.get(e.topic)
        if post["k"] == "refusal" and entry is not None and entry.token is not None and post["member"] == self.me:
            entry.refused = str(post["reason"])
            return False, None
        if post["k"] == "welcome" and entry is not None and entry.token is not None and post["member"] == self.me:
            try:
                secret, roster_keys = open_welcome(self.identity, post["sealed"], entry.token)
            except RemoteProtocolError:
                return False, None
            joined = self.add_circle(secret, entry.token.founder, int(now), roster_keys)
            return True, joined
        return False, None

    def finish_joins(self) -> bool:
        """Drop lobbies of joins that are complete (the roster has us). True if any ended."""
        done = [t for t, entry in self.joining.items()
                if entry.token is not None and entry.token.topic in self.circles
                and self.circles[TopicId(entry.token.topic)].roster.role(self.me) is not None]
        for t in done:
            entry = self.joining.pop(t)
            self.state.joining.pop(entry.lobby.invite_key, None)
        return bool(done)

    def expire(self, now: int) -> None:
        for circle in self.circles.values():
            circle.expire(now)
        for key, e in list(self.held.items()):
            if e.is_expired(now):
                del self.held[key]

    # ---------------------------------------------------------------------------------------------
    # views

    def view(self, circle: Circle) -> View:
        cached = self._views.get(circle.topic)
        if cached is not None and cached.version == circle.version:
            return cached
        posts, roster = circle.posts, circle.roster
        calls = cl.fold_calls(posts, members=frozenset(roster.members), facilitators=roster.facilitators)
        view = View(circle.version, calls, ck.fold_checkins(posts), pl.fold_shares(posts),
                    {p.id: p for p in posts})
        self._views[circle.topic] = view
        return view

    def presence(self, circle: Circle, now: int) -> dict[bytes, pr.PresenceState]:
        return pr.fold_presence(circle.posts, now)

    def names(self) -> dict[bytes, str]:
        """Member id -> name across circles: current members first, then the last name anyone who left
        or was removed had (history keeps naming them, not showing an id)."""
        out: dict[bytes, str] = {}
        for circle in self.circles.values():
            for member in circle.roster.members.values():
                out.setdefault(member.id, member.name)
        for circle in self.circles.values():
            for member_id, name in circle.names_ever().items():
                out.setdefault(member_id, name)
        return out

    def audience_then(self, circle: Circle, call: cl.CallState) -> frozenset[bytes]:
        """Who ``call``'s ladder reaches at its current step, judged by the circle as it was when the
        call was made (the readers and facilitators of the epoch it was sealed under): people who
        joined later were never asked and must not be counted as "not reached"."""
        epoch_number = circle.epoch_of(call.id)
        epoch = circle.roster.epochs.get(epoch_number) if epoch_number is not None else None
        if epoch is None:
            return circle.call_audience(call.caller, _ladder(call), call.step)
        readers = epoch.recipients
        audience = {call.caller}
        for step in call.ladder[: call.step + 1]:
            if step.to == "circle":
                audience |= readers
            elif step.to == "facilitators":
                audience |= epoch.facilitators
            else:
                audience |= set(step.members) & readers
        return frozenset(audience)

    # ---------------------------------------------------------------------------------------------
    # writing

    def next_link(self, circle: Circle) -> tuple[int, bytes]:
        """(seq, prev) of this node's next envelope in ``circle``: after the higher of what the local
        state saved and what the circle accepted from us (the store re-ingested at start), so a crash
        between publishing and saving, or the expiry of our own posts, never makes us reuse a seq."""
        saved = self.state.seq.get(circle.topic, 0)
        top_seq, top_id = circle.chains.top(self.me)
        if top_seq > saved:
            return top_seq + 1, top_id
        return saved + 1, self.state.prev.get(circle.topic, b"") if saved else b""

    def _sealed(self, circle: Circle, e: env.Envelope) -> env.Envelope:
        self.state.seq[circle.topic] = e.seq
        self.state.prev[circle.topic] = e.id
        circle.ingest(e)
        return e

    def leave_fields(self, circle: Circle) -> dict[str, Any]:
        """A leave names this node's last envelope before it (the leave itself is the next one)."""
        seq, prev = self.next_link(circle)
        return {"last_seq": seq - 1, "last_id": prev}

    def removal_fields(self, circle: Circle, member: bytes) -> dict[str, Any]:
        """A remove: the member's last envelope this node accepted, a new epoch key for the readers who
        stay and a new roster-key generation (relays get it sealed), none of it for ``member``."""
        roster = circle.roster
        relays = {m for m, v in roster.members.items() if v.role == "relay"} - {member}
        return {"member": member, **circle.departure_fields(member),
                **circle.new_generation_fields(roster.readers - {member}, relays)}

    def roster_op(self, circle: Circle, kind: str, fields: Mapping[str, Any], now: int,
                  generation: int | None = None) -> env.Envelope:
        seq, prev = self.next_link(circle)
        return self._sealed(circle, circle.roster_envelope(kind, fields, seq=seq, now=now, prev=prev,
                                                           generation=generation))

    def rotate(self, circle: Circle, now: int) -> env.Envelope:
        """A new epoch; after a leave also a new roster-key generation (the leaver holds the old one), and
        when someone lacks the current generation (admitted concurrently with the removal that made it)."""
        roster = circle.roster
        if roster.roster_stale or roster.roster_key_missing:
            relays = {m for m, v in roster.members.items() if v.role == "relay"}
            generation = circle.repair_generation() if roster.roster_key_missing else None
            return self.roster_op(circle, "rotate", circle.new_generation_fields(roster.readers, relays), now,
                                  generation)
        return self.roster_op(circle, "rotate", circle.new_epoch_fields(roster.readers), now)

    def post(self, circle: Circle, kind: str, body: Mapping[str, Any], now: int,
             audience: Iterable[bytes] = ()) -> list[env.Envelope]:
        """Envelopes to publish for one post: a rotation first if the roster needs one, then the post."""
        role = circle.roster.role(self.me)
        if role is None:
            raise BadInput("this node is not (or not yet) a member of that circle")
        if role == "relay":
            raise BadInput("this node is the circle's relay: it carries messages but cannot post")
        out = []
        if circle.roster.needs_rotation or not circle.can_read() or _needs_authority(circle, self.me, kind, body):
            out.append(self.rotate(circle, now))
        seq, prev = self.next_link(circle)
        out.append(self._sealed(circle, circle.post_envelope(kind, body, seq=seq, now=now, audience=audience,
                                                             prev=prev)))
        return out

    # ---------------------------------------------------------------------------------------------
    # duties

    def _admit_delay(self, invite: ms.Invite) -> float:
        if invite.by == self.me:
            return 0.0
        jitter = int.from_bytes(hashlib.blake2b(self.me, digest_size=2).digest(), "big") / 65536
        return ADMIT_DELAY * (1 + jitter)

    def _ack_delay(self) -> float:
        """How long after folding someone else's removal this node says ``seen`` (unless a third member
        did first): a few seconds, spread by node so that usually one member answers."""
        jitter = int.from_bytes(hashlib.blake2b(self.me, digest_size=2).digest(), "big") / 65536
        return ACK_DELAY * (1 + jitter)

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

    def duties(self, now: float) -> list[Duty]:
        """Everything due at ``now``, in a stable order."""
        plan = self._schedule(now)
        self._plan = (self._plan_key(), now, min((due for _, due in plan), default=None))
        return [d for d, due in plan if due <= now]

    def next_duty_time(self, now: float) -> float | None:
        """When ``duties`` next has work. Cheap to call on every timer wake: the plan is recomputed only
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

    def _plan_key(self) -> tuple[object, ...]:
        return (tuple((t, c.version) for t, c in self.circles.items()), len(self.requests), len(self.refusals),
                tuple(sorted(self._postponed.values())), tuple(self._needs_rotation_since.items()))

    def postpone(self, duty: Duty, now: float) -> None:
        """A duty that could not be carried out (or found nothing to do) waits ``RETRY_AFTER`` before the
        next try, so a persistent problem costs a log line a minute, not a busy loop."""
        self._postponed[duty] = now + RETRY_AFTER

    def _schedule(self, now: float) -> list[tuple[Duty, float]]:
        for duty, until in list(self._postponed.items()):
            if until <= now:
                del self._postponed[duty]
        return [(d, max(due, self._postponed.get(d, due))) for d, due in self._planned(now)]

    def _planned(self, now: float) -> list[tuple[Duty, float]]:
        out: list[tuple[Duty, float]] = []
        for (topic, member), request in list(self.requests.items()):
            circle = self.circles.get(TopicId(topic))
            invite = circle.roster.invites.get(request.invite) if circle else None
            if (circle is None or invite is None or not invite.open_at(int(now))
                    or member in circle.roster.members or circle.roster.role(self.me) in (None, "relay")):
                del self.requests[(topic, member)]
                continue
            out.append((Duty("admit", circle.topic, member), request.seen + self._admit_delay(invite)))
        for (topic, member), (key, _, seen) in list(self.refusals.items()):
            circle = self.circles.get(TopicId(topic))
            invite = _any_invite(circle, key) if circle else None
            if circle is None or invite is None or circle.roster.role(self.me) in (None, "relay"):
                del self.refusals[(topic, member)]
                continue
            # a void invite's maker may be the one removed: every member answers after the delay
            delay = self._admit_delay(invite) if key in circle.roster.invites else ADMIT_DELAY
            out.append((Duty("refuse", circle.topic, member), seen + delay))
        for circle in self.circles.values():
            role = circle.roster.role(self.me)
            if role is not None:
                out.extend(self._unacknowledged(circle, now))     # relays too: they are always on
            if role in (None, "relay"):
                continue
            if role == "facilitator":
                due = self._rotation_due(circle, now)
                if due is not None:
                    out.append((Duty("rotate", circle.topic), due))
            if self._presence_unseen(circle, int(now)) is not None:
                out.append((Duty("presence", circle.topic), now))
            view = self.view(circle)
            for call_id, call in view.calls.items():
                if call.caller == self.me:
                    when = cl.next_escalation_time(call)
                    if when is not None:
                        step = cl.next_escalation(call, int(max(now, when)))
                        out.append((Duty("escalate", circle.topic, call_id, step or call.step + 1), float(when)))
                elif self.me not in call.received_by and call.status != "resolved":
                    out.append((Duty("receipt", circle.topic, call_id), now))
                if (call.resolved_by == self.me and call.followup_at is not None
                        and call_id not in self.state.followups and call.status == "resolved"):
                    out.append((Duty("followup", circle.topic, call_id), float(call.followup_at)))
                self._note_lost_claim(circle, call_id, call)
        return out

    def _note_lost_claim(self, circle: Circle, call_id: bytes, call: Any) -> None:
        """A claim of ours that another claim, first in the circle's order, overtook (two people claimed
        while apart: both were told "you have this call" at first). Queued once as a notice for the
        person, so the one who lost the race is told who has the call."""
        key = (bytes(circle.topic), call_id)
        if (self.me in call.also_claimed and call.claimer not in (None, self.me) and call.status != "resolved"
                and key not in self._claims_told):
            self._claims_told.add(key)
            self.notices.append({"event": "claim_lost", "circle": circle.topic.hex(), "call": call_id.hex(),
                                 "claimer": call.claimer.hex()})

    def claim_told(self, topic: bytes, call_id: bytes) -> None:
        """The person already heard who has this call (the claim op's answer): no notice later."""
        self._claims_told.add((bytes(topic), call_id))

    def take_notices(self) -> list[dict[str, Any]]:
        """Notices for the person (control events), oldest first; each is handed out once."""
        out, self.notices = self.notices, []
        return out

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

    def carry_out(self, duty: Duty, now: int) -> list[tuple[TopicId, env.Envelope]]:
        """The envelopes one duty publishes (topic, envelope), in order."""
        circle = self.circles.get(duty.topic)
        if circle is None:
            return []
        if duty.kind == "admit":
            request = self.requests.pop((bytes(duty.topic), duty.subject), None)
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
                open_to_circle = [cid for cid, call in self.view(circle).calls.items()
                                  if any(s.to == "circle" for s in call.ladder[: call.step + 1])]
                fields["history"] = circle.history_for(request.member, open_to_circle)
            admit = self.roster_op(circle, "admit", fields, now)
            lobby = Lobby(request.invite, circle.topic)
            welcome = lobby.welcome(self.identity, request.member, circle.secret, circle.founder, now,
                                    invite.expires, circle.roster_keys_for_joiner())
            return [(circle.topic, admit), (lobby.topic, welcome)]
        if duty.kind == "refuse":
            refusal = self.refusals.pop((bytes(duty.topic), duty.subject), None)
            if refusal is None:
                return []
            key, reason, _ = refusal
            invite = _any_invite(circle, key)
            if invite is None:
                return []
            lobby = Lobby(key, circle.topic)
            self._refused.add((bytes(lobby.topic), duty.subject))
            answer = lobby.refusal(self.identity, duty.subject, reason, now, invite.expires + REFUSE_FOR)
            return [(lobby.topic, answer)]
        if duty.kind == "seen":
            if duty.subject not in circle.roster.unacknowledged or circle.roster.role(self.me) is None:
                return []
            return [(circle.topic, self.roster_op(circle, "seen", {}, now))]
        if duty.kind == "rotate":
            self._needs_rotation_since.pop(circle.topic, None)
            return [(circle.topic, self.rotate(circle, now))]
        if duty.kind == "presence":
            mine = self._presence_unseen(circle, now)
            if mine is None:
                return []
            body = {"status": mine.body["status"], "until": pr.effective_until(mine), "cap": mine.body["cap"]}
            return [(circle.topic, e) for e in self.post(circle, "presence", body, now)]
        view = self.view(circle)
        call = view.calls.get(duty.subject)
        if call is None:
            return []
        if duty.kind == "receipt":
            return [(circle.topic, e) for e in self.post(circle, "receipt", {"call": call.id}, now)]
        if duty.kind == "escalate":
            step = cl.next_escalation(call, now)
            if step is None:
                return []
            audience = circle.call_audience(call.caller, _ladder(call), step)
            return [(circle.topic, e) for e in self.post(circle, "escalate", {"call": call.id, "step": step}, now,
                                                          audience=audience)]
        if duty.kind == "followup":
            self.state.followups.add(call.id)
            body = {"prompt": FOLLOWUP_PROMPT, "call": call.id, "visibility": "circle"}
            return [(circle.topic, e) for e in self.post(circle, "checkin", body, now)]
        return []


def _any_invite(circle: Circle, key: bytes) -> ms.Invite | None:
    """An invite of the roster, or a void one (from an operation that does not count)."""
    return circle.roster.invites.get(key) or circle.roster.void_invites.get(key)


def _needs_authority(circle: Circle, me: bytes, kind: str, body: Mapping[str, Any]) -> bool:
    """True when this node, a facilitator now, is about to post a circle check-in under an epoch that
    began before it became one. Every node judges check-in authority by the epoch's facilitator set
    (deterministic: the same on every node, whatever arrives later), and a role change opens no
    epoch; so the newly promoted facilitator rotates first, and the check-in goes out under an epoch
    that names it."""
    roster = circle.roster
    if kind != "checkin" or body.get("call") is not None or roster.role(me) != "facilitator":
        return False
    epoch = roster.epochs.get(roster.current) if roster.current is not None else None
    return epoch is not None and me not in epoch.facilitators


def _ladder(call: cl.CallState) -> list[dict[str, Any]]:
    return [{"after": s.after, "to": s.to, "members": list(s.members)} for s in call.ladder]
