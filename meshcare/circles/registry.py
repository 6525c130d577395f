"""All circles of this node, their lobbies and undecided envelopes. Pure.

The ``Node`` asks the registry three things about the network: which topics to sync (``topics``), who
may sync each (``access``), and what to do with received envelopes (``verdicts``, then ``delivered``).
Posts are built through it (``post``, ``roster_op``), which rotates the epoch first when the roster
requires it. What timers do for the circles (admit, receipt, escalate, ...) is ``duties.py``, which
reads and writes through this registry. Nothing here does I/O or reads a clock: ``now`` is an argument
and ``LocalState`` is plain data the node hands to the shell to save.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from .. import envelope as env
from ..crypto.keys import Identity
from ..crypto.seal import RandomBytes, system_random
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
from .folded import BOARD_SETTINGS, Folded, presence_at
from .invites import Lobby, Token, open_welcome, parse_token

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


@dataclass(frozen=True, slots=True)
class JoinRequest:
    invite: bytes
    member: bytes
    name: str
    proof: bytes
    seen: float


@dataclass(frozen=True, slots=True)
class View:
    """Folded content of one circle as of ``version`` (folded.py keeps it up to date post by post)."""

    version: int
    calls: dict[bytes, cl.CallState]
    checkins: dict[bytes, ck.CheckinState]
    shares: dict[bytes, pl.ShareState]
    presence: dict[bytes, pr.PresenceState]     # as if nothing ran out: ``Registry.presence`` applies the clock
    # the care folds (``vocab.CARE_OBJECTS``, one field each): id -> its state; changes.py compares them
    # by identity, as it does calls, and tells ``CareChanged``
    ladders: Mapping[bytes, Any] = field(default_factory=dict)
    followups: Mapping[bytes, Any] = field(default_factory=dict)
    safety: Mapping[bytes, Any] = field(default_factory=dict)
    gatherings: Mapping[bytes, Any] = field(default_factory=dict)
    needs: Mapping[bytes, Any] = field(default_factory=dict)
    requests: Mapping[bytes, Any] = field(default_factory=dict)
    library: Mapping[bytes, Any] = field(default_factory=dict)
    #: the circle's template of group agreements (gatherings.py: the latest by a facilitator)
    agreements: tuple[str, ...] = vocab.DEFAULT_AGREEMENTS
    #: the board's settings in force (``board.Settings``: the facilitators' choices, in order), not a care
    #: object of its own: a change refolds the needs, which changes.py tells
    board_settings: tuple[Any, ...] = ()


@dataclass(slots=True)
class _LobbyEntry:
    lobby: Lobby
    token: Token | None = None     # set when this node is the one joining
    name: str = ""
    refused: str | None = None     # a member's node answered: used | revoked | expired


class Registry:
    def __init__(self, identity: Identity, state: LocalState,
                 random_bytes: RandomBytes = system_random) -> None:
        self.identity = identity
        self.me = bytes(identity.node_id)
        self.state = state
        self.random_bytes = random_bytes       # every key and nonce its circles draw
        self.circles: dict[TopicId, Circle] = {}
        self.joining: dict[TopicId, _LobbyEntry] = {}        # lobby topic -> entry (this node joins)
        self.requests: dict[tuple[bytes, bytes], JoinRequest] = {}   # (circle topic, member)
        self.held: OrderedDict[bytes, env.Envelope] = OrderedDict()
        self.release_at: float | None = None   # when a held envelope from a fast clock becomes acceptable
        self.purge_due = False                 # an equivocation was found: the node runs the purge
        self._views: dict[bytes, View] = {}
        self._folded: dict[bytes, Folded] = {}     # topic -> its folds, kept up to date post by post
        self._lobby_now = 0                                  # the latest `now` the lobby set was judged at
        # lobby topic -> (lobby, circle) of every served invite, and what it was computed from (the time
        # and each circle's roster object: a roster is refolded into a new object, never changed in place)
        self._served: dict[bytes, tuple[Lobby, Circle]] = {}
        self._served_from: tuple[int, list[ms.Roster]] | None = None
        self.refusals: dict[tuple[bytes, bytes], tuple[bytes, str, float]] = {}  # (topic, member) -> why
        self._refused: set[tuple[bytes, bytes]] = set()      # (lobby topic, member) somebody answered
        #: social recovery: the lobbies of this device's request and of requests this node released to
        #: (meshcare/recovery/lobby.py), and whether a share was taken into the state (the node saves it)
        self._recovery: tuple[tuple[bytes, ...], dict[bytes, Any]] = ((), {})
        self._requesting: tuple[bytes, bytes] = (b"", b"")     # this device's request: (private, public) key
        self.state_dirty = False
        for entry in list(state.circles.values()):
            self._open(entry)
        for joining in state.joining.values():
            self._join_lobby(parse_token(joining.token), joining.name)

    # ---------------------------------------------------------------------------------------------
    # circles

    def _open(self, entry: CircleEntry) -> Circle:
        circle = Circle(self.identity, entry.secret, entry.founder, entry.roster_keys, self.random_bytes)
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
        self._folded.pop(topic, None)
        self.state.avoid.pop(topic, None)

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
        return entry.lobby.topic, entry.lobby.join_request(self.identity, token, name, now, self.random_bytes)

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
        for topic, (_, circle) in self._served_lobbies().items():
            if circle.roster.role(self.me) is not None:
                out.add(TopicId(topic))
        out |= {TopicId(t) for t in self.recovery_lobbies()}
        return out

    def recovery_lobbies(self) -> dict[bytes, Any]:
        """Lobby topic -> ``RecoveryLobby`` of this device's recovery request and of the requests this node
        released a share to, while it serves them (judged at ``_lobby_now``)."""
        keys = tuple(k for k, (_, until) in sorted(self.state.released.items()) if until > self._lobby_now)
        requesting = self.state.requesting
        if requesting is not None:
            if self._requesting[0] != requesting.private:       # a scalar multiplication: once per request
                from ..crypto.seal import x25519_public_of
                self._requesting = (requesting.private, x25519_public_of(requesting.private))
            keys += (self._requesting[1],)
        if keys != self._recovery[0]:
            from ..recovery.lobby import RecoveryLobby
            lobbies = [RecoveryLobby(k) for k in keys]
            self._recovery = (keys, {bytes(lobby.topic): lobby for lobby in lobbies})
        return self._recovery[1]

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
        return self._served_lobbies().get(topic)

    def _served_lobbies(self) -> dict[bytes, tuple[Lobby, Circle]]:
        """Lobby topic -> (lobby, circle) for the served invites of every circle at ``_lobby_now``.

        Kept until the time moves or a roster is refolded: the engine asks ``access`` for every topic on
        every link each time it offers topics, and deriving every lobby's topic for each question cost a
        200-member circle most of its receive time (docs/benchmarks.md, the 200-node circle)."""
        rosters = [c.roster for c in self.circles.values()]
        cached = self._served_from
        if (cached is None or cached[0] != self._lobby_now or len(cached[1]) != len(rosters)
                or any(a is not b for a, b in zip(cached[1], rosters))):
            served: dict[bytes, tuple[Lobby, Circle]] = {}
            for circle in self.circles.values():
                for key in self.served_invites(circle, self._lobby_now):
                    lobby = Lobby(key, circle.topic)
                    served.setdefault(lobby.topic, (lobby, circle))
            self._served, self._served_from = served, (self._lobby_now, rosters)
        return self._served

    def access(self, topic: bytes, node: bytes) -> bool:
        circle = self.circles.get(TopicId(topic))
        if circle is not None:
            if self.me not in circle.roster.ever:
                # still joining: the roster that says who is a member has not arrived yet. Any node that
                # knows the topic may bring it (everything it sends is verified and folded anyway); the
                # other side applies the real rule, because it knows we were admitted.
                return True
            return circle.roster.may_sync(node)
        # knowing the lobby's tag is the test
        return self.lobby(topic) is not None or topic in self.recovery_lobbies()

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
                recovery = self.recovery_lobbies().get(e.topic)
                out.append(recovery is not None and _reads(recovery, e))
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
        any that still wait. The node calls this from its timers."""
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
            opened = circle.post_of(e.id)
            if opened is not None and opened.kind == "recovery_share":
                from ..recovery.holding import keep
                self.state_dirty = keep(self.state, bytes(circle.topic), opened, self.me) or self.state_dirty
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
            self.answered(lobby.topic, bytes(post["member"]))
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

    def answered(self, lobby_topic: bytes, member: bytes) -> None:
        """Somebody (this node included) answered ``member``'s join request in that lobby: no refusal
        is queued for it again."""
        self._refused.add((bytes(lobby_topic), member))

    def finish_joins(self) -> bool:
        """Drop lobbies of joins that are complete (the roster has us). True if any ended."""
        done = [t for t, entry in self.joining.items()
                if entry.token is not None and entry.token.topic in self.circles
                and self.circles[TopicId(entry.token.topic)].roster.role(self.me) is not None]
        for t in done:
            entry = self.joining.pop(t)
            self.state.joining.pop(entry.lobby.invite_key, None)
        return bool(done)

    def keep_recovery_shares(self) -> None:
        """Copy every share sealed to this node into the local state (posts that opened late, after their
        epoch key came); ``state_dirty`` says whether anything changed."""
        from ..recovery.holding import scan
        if scan(self.state, ((bytes(c.topic), c.posts) for c in self.circles.values()), self.me):
            self.state_dirty = True

    def take_state_dirty(self) -> bool:
        """Whether the local state changed since asked last (the node then saves it)."""
        dirty, self.state_dirty = self.state_dirty, False
        return dirty

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
        folded = self._folded.get(circle.topic)
        if folded is None:
            folded = self._folded[circle.topic] = Folded()
        roster = circle.roster
        cursor = circle.cursor
        changed = None if folded.cursor is None else circle.changed_since(folded.cursor)
        folded.catch_up(None if changed is None else [(i, circle.post_of(i)) for i in changed],
                        circle.posts if changed is None else (), cursor,
                        frozenset(roster.members), roster.facilitators)
        gatherings, agreements = folded.gathering_parts()
        view = View(circle.version, folded.calls.result, folded.checkins.result, folded.shares.result,
                    folded.presence.result, gatherings=gatherings, agreements=agreements,
                    ladders=folded.ladders.result, followups=folded.followups.result,
                    safety=folded.safety.result, requests=folded.requests.result, library=folded.library.result,
                    needs=folded.needs.result,
                    board_settings=folded.board_settings.result.get(BOARD_SETTINGS, ()))
        self._views[circle.topic] = view
        return view

    def presence(self, circle: Circle, now: int) -> dict[bytes, pr.PresenceState]:
        """Each member's presence as it reads at ``now`` (members who never said: absent)."""
        return presence_at(self.view(circle).presence, now)

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

    def avoided(self, circle: Circle) -> frozenset[bytes]:
        """This person's "who not to involve" list in ``circle`` (kept on this node only)."""
        return frozenset(self.state.avoid.get(bytes(circle.topic), ()))

    def call_audience(self, circle: Circle, ladder: Iterable[Mapping[str, Any]], step: int,
                      now: int) -> frozenset[bytes]:
        """Who a call of this node's reaches at ``step``, as it is sealed now: never anyone on this
        person's avoid list, and chosen members at their load cap skipped (they are not pinged)."""
        view = self.view(circle)
        chosen = {m for s in list(ladder)[: step + 1] if s["to"] == "chosen" for m in s["members"]}
        busy = pr.full_of(presence_at(view.presence, now), view.calls, chosen)
        return circle.call_audience(self.me, ladder, step, avoid=self.avoided(circle), skip=busy)

    def audience_then(self, circle: Circle, call: cl.CallState) -> frozenset[bytes]:
        """Who ``call``'s ladder reaches at its current step, judged by the circle as it was when the
        call was made (the readers and facilitators of the epoch it was sealed under): people who
        joined later were never asked and must not be counted as "not reached". This person's own calls
        leave out their avoid list. Someone else's narrowed call left people out that nobody else may
        know: only who visibly has it (the caller, members it chose, those who received it) counts."""
        epoch_number = circle.epoch_of(call.id)
        epoch = circle.roster.epochs.get(epoch_number) if epoch_number is not None else None
        if epoch is None:
            audience = set(circle.call_audience(call.caller, cl.ladder_data(call), call.step))
        else:
            readers = epoch.recipients
            audience = {call.caller}
            for step in call.ladder[: call.step + 1]:
                if step.to == "circle":
                    audience |= readers
                elif step.to == "facilitators":
                    audience |= epoch.facilitators
                else:
                    audience |= set(step.members) & readers
        if call.caller == self.me:
            audience -= self.avoided(circle) - {self.me}
        elif call.narrowed:
            chosen = {m for step in call.ladder[: call.step + 1] if step.to == "chosen" for m in step.members}
            audience &= {call.caller, self.me} | chosen | call.received_by
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
             audience: Iterable[bytes] = (), checked: bool = False) -> list[env.Envelope]:
        """Envelopes to publish for one post: a rotation first if the roster needs one, then the post
        (``checked``: ``body`` is posts.validate's output already; see Writing.seal_post)."""
        role = circle.roster.role(self.me)
        if role is None:
            raise BadInput("this node is not (or not yet) a member of that circle")
        if role == "relay":
            raise BadInput("this node is the circle's relay: it carries messages but cannot post")
        out = []
        if circle.roster.needs_rotation or not circle.can_read() or _needs_authority(circle, self.me, kind, body):
            out.append(self.rotate(circle, now))
        seq, prev = self.next_link(circle)
        own = circle.seal_post(kind, body, seq=seq, now=now, audience=audience, prev=prev, checked=checked)
        self.state.seq[circle.topic] = seq
        self.state.prev[circle.topic] = own.envelope.id
        circle.ingest_own(own)
        out.append(own.envelope)
        return out


def _reads(lobby: Any, e: env.Envelope) -> bool:
    """Whether a recovery lobby's envelope is a well-formed release (what the lobby's nodes accept)."""
    try:
        lobby.read(e)
    except RemoteProtocolError:
        return False
    return True


def any_invite(circle: Circle, key: bytes) -> ms.Invite | None:
    """An invite of the roster, or a void one (from an operation that does not count)."""
    return circle.roster.invites.get(key) or circle.roster.void_invites.get(key)


def _needs_authority(circle: Circle, me: bytes, kind: str, body: Mapping[str, Any]) -> bool:
    """True when this node, a facilitator now, is about to post a circle check-in (or a library text)
    under an epoch that began before it became one, or when a private request asks a facilitator who
    became one since that epoch began. Every node judges check-in authority by the epoch's facilitator set
    (deterministic: the same on every node, whatever arrives later), and a role change opens no
    epoch; so the newly promoted facilitator rotates first, and the check-in goes out under an epoch
    that names it."""
    roster = circle.roster
    epoch = roster.epochs.get(roster.current) if roster.current is not None else None
    if epoch is None:
        return False
    if kind == "request":
        # a private request to a facilitator promoted since the epoch began: the same, for the one asked
        return all(bytes(m) in roster.facilitators for m in body.get("to", ())) and \
            any(bytes(m) not in epoch.facilitators for m in body.get("to", ()))
    if kind in ("library_note", "library_remove") and roster.role(me) == "facilitator":
        return me not in epoch.facilitators
    if kind != "checkin" or body.get("call") is not None or roster.role(me) != "facilitator":
        return False
    return me not in epoch.facilitators

