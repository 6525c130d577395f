"""The circle scenario (``meshcare sim --scenario circle``): real nodes found and run one support circle.

Theory of operation
-------------------
Every node is a real ``Node`` (``members.py``) over the virtual network (``world.py``); the scenario
only does what people do, through the control ops (``OPS[name](node, args, now)``, as the daemon runs
them) and reads what their nodes show through the same ops. Nothing is handed to a node behind the
protocol: invites travel as tokens (from one person to another, like a QR code), joining goes through
the invite's lobby and the circle's admit duty, and every post is sealed and checked by the real code.
The phases follow each other as soon as the previous one is over (or after ``PHASE_LIMIT`` virtual
seconds without finishing, counted in the join phase from the last invite; the report says so):

1. ``join``: nodes boot; after ``warmup`` node 0 creates the circle (``circle.create``) and invites
   everyone else (``circle.invite``; the first ``facilitators`` as facilitators). Each invitee uses its
   token a moment later (``circle.join``); it is a member once its own node says so. The phase ends when
   every node's roster holds everyone. Invites go out in waves of at most ``LIVE_INVITES`` live ones: a
   member serves the lobbies of the newest 64 invites that are open *or were used in the last 15
   minutes* (``Registry.served_invites``), so a faster pace would drop the lobby of an early invitee
   before its welcome reached it (found by this scenario: such joiners never become members, and the
   admit duty of a member holding their request faults publishing into a lobby it no longer syncs).
2. ``calls``: ``calls`` calls for support (``call.create``), ``call_every`` seconds apart, each from a
   random online member; for each, one random other member claims it (``call.claim``) a moment after
   their node shows it. ``churn`` of the nodes (never node 0) go down in the first half of the calls
   and come back ``churn_down`` x U(0.5, 1.5) seconds later, from their store and their last saved
   state. The phase ends when every call is readable at every member it was for and every claim shows
   at its caller.
3. ``checkin``: a facilitator asks the circle (``checkin.create``); every member answers a random
   option (``checkin.reply``) a moment after their node shows it. Over when every facilitator's tally
   (``checkin.show``) counts every reply.
4. ``removal``: node 0 removes a random online member who is not a facilitator (``circle.remove``).
   Over when every other online node's roster no longer has them.
5. ``after_removal``: ``calls_after`` more calls, as in 2 (without churn). The removed node must
   receive and read none of them; every remaining member must read all of them.

The scenario looks at a node's state only after an event that could have changed what it watches (a
``Notify`` of a watched post, or a roster change), once per event (``World.after_handle``): reading a
roster or a view in the middle of a burst would force folds the node itself defers.
"""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final, cast

from ..errors import LocalProtocolError, MeshcareError, NotFound
from ..ids import TopicId
from ..node import Node
from ..node_events import Fault, Log, Notify, Started
from ..ops import OPS, perform
from ..store.memory import MemoryStore
from ..sync.config import SyncConfig
from .circle_track import CallTrack, CheckinTrack, report
from .members import Members
from .metrics import DeliveryLog
from .network import Clock, LinkModel
from .topology import build
from .world import World

if TYPE_CHECKING:
    from .config import SimConfig

CIRCLE: Final = "sim circle"
PHASE_LIMIT: Final = 600.0      # virtual seconds a phase may take before the run moves on (not finished)
LIVE_INVITES: Final = 48        # invites at once that are open or were used less than LOBBY_GRACE ago
LOBBY_GRACE: Final = 960.0      # a used invite's lobby is served 900 s after its use (membership.Invite),
                                # counted from when the joiner's node became a member, plus a margin
INVITE_TICK: Final = 0.5        # how often the founder hands out more invites
TOKEN_DELAY: Final = (0.5, 1.5)     # seconds from an invite to its token being used
CLAIM_THINK: Final = (1.0, 3.0)     # seconds from a call showing to its claimer claiming it
REPLY_THINK: Final = (1.0, 5.0)     # seconds from a check-in showing to the reply
RETRY: Final = 1.0              # an op waiting for its node to come back tries again this often


class CircleSimulation:
    """One run of the circle scenario (see the module docstring); ``config`` is a ``SimConfig``."""

    def __init__(self, config: SimConfig, start: float) -> None:
        self.config = config
        master = random.Random(config.seed)
        rngs = {name: random.Random(master.getrandbits(64))
                for name in ("topology", "network", "scenario", "members", "world")}
        n = self.n = config.nodes
        self.start = start
        self.topology = build(config.topology, n, rngs["topology"], lans=config.lans, degree=config.degree,
                              bridges=config.bridges, sample=config.sample)
        self.stores = [MemoryStore() for _ in range(n)]
        self.members = Members(self.stores, rngs["members"], SyncConfig(gossip=config.gossip),
                               memo=config.verify_memo)
        self.clock = Clock(start)
        self.rng = rngs["scenario"]
        model = LinkModel(rngs["network"], config.latency_ms / 1000.0, config.jitter_ms / 1000.0, config.loss)
        self.nodes: list[Node | None] = [None] * n
        self.world = World(self.clock, model, self.topology, self.stores, TopicId(bytes(16)), DeliveryLog(n),
                           self._make, rngs["world"], [0] * n, config.connect_timeout,
                           boot=lambda node: (Started(),), node_ids=self.members.node_ids)
        self.world.on_effect = self._effect
        self.world.after_handle = self._after
        self.hex_ids = [i.hex() for i in self.members.node_ids]
        self.index = {h: i for i, h in enumerate(self.hex_ids)}
        self.facilitators = [0] + list(range(1, 1 + min(config.facilitators, n - 1)))
        # the state of the run
        self.phase = ""
        self.phase_times: dict[str, dict[str, Any]] = {}
        self.phase_wall: dict[str, float] = {}          # wall seconds per phase (start time while it runs)
        self.topic: str | None = None
        self.created_at: float | None = None
        self.to_invite = list(range(1, n))
        self.invited: list[int] = []
        self.deadline = start
        self.joined_at: dict[int, float] = {}           # node -> when it used its token
        self.admitted_at: dict[int, float] = {0: start}
        self.full_roster: set[int] = set()              # nodes whose roster holds all n members
        self.calls: list[CallTrack] = []
        self.checkin: CheckinTrack | None = None
        self.removed: int | None = None
        self.removed_at: float | None = None
        self.removal_known: dict[int, float] = {}
        self.removed_received: set[str] = set()
        self.removed_readable: set[str] = set()
        self.refused: dict[str, int] = {}               # op -> times a node refused it (BadInput, ...)
        self.faults: list[str] = []
        self.warnings = 0
        self.done_at: float | None = None
        self._watch: dict[str, tuple[str, Any]] = {}    # post id -> what it is (call, claim, checkin, reply)
        self._dirty: dict[int, list[str]] = {}          # node -> watched posts it took in since last looked
        self._unread: dict[int, list[str]] = {}         # node -> calls it took in but could not show yet
        self._roster_dirty: set[int] = set()
        for node in range(n):
            self.clock.at(start + self.rng.random() * config.boot_spread, self.world.up, node)
        self.clock.at(start + config.warmup, self._create)

    # --- the nodes and the ops -----------------------------------------------------------------------

    def _make(self, node: int) -> Node:
        made = self.nodes[node] = self.members.make(node, self.world.saved[node])
        return made

    def up(self, node: int) -> Node | None:
        """The node's current process, or None while it is down."""
        return self.nodes[node] if self.world.online[node] else None

    def op(self, node: int, name: str, /, **args: Any) -> dict[str, Any] | None:
        """Run a control op on ``node`` and carry out its effects; None when the node refused it (counted)."""
        target = self.up(node)
        if target is None:
            raise LocalProtocolError(f"the scenario ran {name} on node {node}, which is down (use when_up)")
        try:
            result, effects = perform(OPS, name, target, args, self.clock.now)
        except MeshcareError:
            self.refused[name] = self.refused.get(name, 0) + 1
            return None
        self.world.act(node, effects)
        return dict(result)

    def show(self, node: int, name: str, key: str, ref: str) -> dict[str, Any] | None:
        """What ``node`` shows of a call or check-in (``call.show`` / ``checkin.show``); None if it
        cannot show it yet."""
        target = self.up(node)
        if target is None:
            return None
        try:
            result, _ = perform(OPS, name, target, {key: ref}, self.clock.now)
        except NotFound:
            return None
        return cast(dict[str, Any], result[key])

    def when_up(self, node: int, action: Callable[[], None]) -> None:
        """Run ``action`` now if ``node`` is up, else try again every ``RETRY`` seconds (a person whose
        device is off acts once it is back)."""
        if self.world.online[node]:
            action()
        elif self.phase != "done":
            self.clock.after(RETRY, self.when_up, node, action)

    def think(self, span: tuple[float, float]) -> float:
        return span[0] + self.rng.random() * (span[1] - span[0])

    # --- phases ----------------------------------------------------------------------------------------

    def _enter(self, phase: str) -> None:
        now = self.clock.now
        wall = time.perf_counter()
        if self.phase:
            times = self.phase_times[self.phase]
            times["end_s"] = round(now - self.start, 6)
            times["events"] = self.world.events - times["events"]
            self.phase_wall[self.phase] = round(wall - self.phase_wall[self.phase], 3)
        self.phase = phase
        if phase == "done":
            self.done_at = now
            self.clock.after(self.config.drain, self.clock.stop)
            return
        self.phase_times[phase] = {"start_s": round(now - self.start, 6), "completed": False,
                                   "events": self.world.events}
        self.phase_wall[phase] = wall
        self.deadline = now
        self._extend()

    def _extend(self) -> None:
        """Give the current phase ``PHASE_LIMIT`` more virtual seconds from now."""
        if self.clock.now + PHASE_LIMIT > self.deadline:
            self.deadline = self.clock.now + PHASE_LIMIT
            self.clock.at(self.deadline, self._timeout, self.phase)

    def _timeout(self, phase: str) -> None:
        """Move on from ``phase`` if it finished or its time is up (stale wake-ups find nothing to do)."""
        if self.phase != phase:
            return
        if phase == "join" and self.to_invite and not self.phase_times[phase]["completed"]:
            self._extend()                  # the next wave of invites waits for lobbies to close
        elif self.phase_times[phase]["completed"] or self.clock.now >= self.deadline:
            self._next()

    def _finished(self) -> None:
        """The current phase reached its goal: the next one starts right after the event at hand."""
        times = self.phase_times[self.phase]
        if not times["completed"]:
            times["completed"] = True
            self.clock.after(0.0, self._timeout, self.phase)

    def _next(self) -> None:
        after: dict[str, Callable[[], None]] = {
            "join": self._start_calls, "calls": self._start_checkin, "checkin": self._start_removal,
            "removal": self._start_after_removal, "after_removal": self._over}
        after[self.phase]()

    def _over(self) -> None:
        self._enter("done")

    # 1. join

    def _create(self) -> None:
        self._enter("join")
        result = self.op(0, "circle.create", name=CIRCLE)
        if result is None:
            raise LocalProtocolError("the founder's node refused to create the circle")
        self.topic = result["circle"]["id"]
        self.created_at = self.clock.now
        self._invite()

    def _invite(self) -> None:
        if self.phase != "join" or not self.to_invite:
            return
        now = self.clock.now
        live = sum(1 for i in self.invited if i not in self.admitted_at or self.admitted_at[i] + LOBBY_GRACE > now)
        while self.to_invite and live < LIVE_INVITES:
            node = self.to_invite[0]
            role = "facilitator" if node in self.facilitators else "member"
            result = self.op(0, "circle.invite", circle=CIRCLE, role=role)
            if result is None:
                break                       # refused (too many open): the next tick tries again
            self.to_invite.pop(0)
            self.invited.append(node)
            live += 1
            self._extend()
            self.clock.after(self.think(TOKEN_DELAY), self.when_up, node,
                             functools.partial(self._join, node, result["token"]))
        self.clock.after(INVITE_TICK, self._invite)

    def _join(self, node: int, token: str) -> None:
        if self.op(node, "circle.join", token=token, name=f"member {node}") is not None:
            self.joined_at[node] = self.clock.now

    def _check_roster(self, node: int, target: Node) -> None:
        """After a roster change at ``node``: admitted? does it see everyone? does it know the removal?"""
        if self.topic is None:
            return
        circle = target.registry.circles.get(TopicId(bytes.fromhex(self.topic)))
        if circle is None:
            return
        roster = circle.roster
        now = self.clock.now
        if node not in self.admitted_at and roster.role(target.registry.me) is not None:
            self.admitted_at[node] = now
        if self.phase == "join" and len(roster.members) == self.n:
            self.full_roster.add(node)
            if len(self.full_roster) == self.n:
                self._finished()
        removed = self.removed
        if removed is not None and node not in self.removal_known \
                and roster.role(self.members.node_ids[removed]) is None:
            self.removal_known[node] = now
            if self.phase == "removal" and all(i in self.removal_known for i in range(self.n)
                                               if i != removed and self.world.online[i]):
                self._finished()

    # 2 and 5. calls

    def _start_calls(self) -> None:
        self._enter("calls")
        every, count = self.config.call_every, self.config.calls
        for i in range(count):
            self.clock.after(self.config.settle + i * every, self._call, "calls")
        window = max(1.0, count * every) / 2     # go down in the first half: calls are made meanwhile
        candidates = list(range(1, self.n))
        for node in self.rng.sample(candidates, min(len(candidates), round(self.config.churn * self.n))):
            down = self.config.settle + self.rng.random() * window
            self.clock.after(down, self.world.down, node)
            self.clock.after(down + self.config.churn_down * (0.5 + self.rng.random()), self.world.up, node)
        if count == 0:
            self.clock.after(self.config.settle, self._calls_over)

    def _call(self, phase: str) -> None:
        online = [i for i in range(self.n) if self.world.online[i] and i in self.admitted_at
                  and i != self.removed]
        caller = self.rng.choice(online)
        result = self.op(caller, "call.create", circle=CIRCLE, text=f"call {len(self.calls)}: could someone come by?")
        if result is None:
            return
        call = result["call"]
        expected = frozenset(self.index[h] for h in call["waiting_on"])
        track = CallTrack(len(self.calls), call["id"], caller, phase, self.clock.now, expected)
        others = sorted(expected)
        if others:
            track.claimer = self.rng.choice(others)
        self.calls.append(track)
        self._watch[track.id] = ("call", track)
        self._calls_over()

    def _read_call(self, node: int, track: CallTrack) -> bool:
        """Does ``node`` show the call now? Record it (and let its claimer claim)."""
        if node in track.read_at or node not in track.expected:
            return True
        if self.show(node, "call.show", "call", track.id) is None:
            return False
        track.read_at[node] = self.clock.now
        if node == track.claimer:
            self.clock.after(self.think(CLAIM_THINK), self.when_up, node, lambda: self._claim(track))
        self._calls_over()
        return True

    def _claim(self, track: CallTrack) -> None:
        if track.claimer is None:
            return
        result = self.op(track.claimer, "call.claim", call=track.id)
        if result is None:
            return
        track.claim_id, track.claimed_at = result["id"], self.clock.now
        self._watch[result["id"]] = ("claim", track)
        self._claim_seen(track.caller, track)

    def _claim_seen(self, node: int, track: CallTrack) -> None:
        if node != track.caller or track.claim_seen_at is not None:
            return
        shown = self.show(node, "call.show", "call", track.id)
        if shown is not None and track.claimer is not None and shown["claimer"] == self.hex_ids[track.claimer]:
            track.claim_seen_at = self.clock.now
            self._calls_over()

    def _calls_over(self) -> None:
        phase = self.phase
        if phase not in ("calls", "after_removal"):
            return
        wanted = self.config.calls if phase == "calls" else self.config.calls_after
        mine = [c for c in self.calls if c.phase == phase]
        if len(mine) == wanted and all(c.complete for c in mine):
            self._finished()

    # 3. check-in

    def _start_checkin(self) -> None:
        self._enter("checkin")
        author = self.facilitators[-1]
        self.when_up(author, lambda: self._ask(author))

    def _ask(self, author: int) -> None:
        result = self.op(author, "checkin.create", circle=CIRCLE, prompt="How is everyone doing this week?")
        if result is None:
            self._next()
            return
        checkin = result["checkin"]
        expected = frozenset(i for i in range(self.n) if i != author and i in self.admitted_at)
        self.checkin = CheckinTrack(checkin["id"], author, self.clock.now, tuple(checkin["options"]), expected)
        self._watch[checkin["id"]] = ("checkin", self.checkin)

    def _read_checkin(self, node: int, track: CheckinTrack) -> bool:
        if node in track.read_at or node not in track.expected:
            return True
        if self.show(node, "checkin.show", "checkin", track.id) is None:
            return False
        track.read_at[node] = self.clock.now
        self.clock.after(self.think(REPLY_THINK), self.when_up, node, lambda: self._reply(node, track))
        return True

    def _reply(self, node: int, track: CheckinTrack) -> None:
        option = self.rng.randrange(len(track.options))
        result = self.op(node, "checkin.reply", checkin=track.id, option=option + 1)
        if result is None:
            return
        track.replies[node] = track.options[option]
        track.replied_at[node] = self.clock.now
        self._watch[result["id"]] = ("reply", track)
        for facilitator in self.facilitators:
            self._tally(facilitator, track)

    def _tally(self, node: int, track: CheckinTrack) -> None:
        if node not in self.facilitators or self.phase != "checkin" or len(track.replies) < len(track.expected):
            return
        expected = track.tally()
        for facilitator in self.facilitators:
            shown = self.show(facilitator, "checkin.show", "checkin", track.id)
            if shown is None or shown["tally"] != expected or shown["answered"] != len(track.replies):
                return
        track.converged_at = self.clock.now
        self._finished()

    # 4. removal

    def _start_removal(self) -> None:
        self._enter("removal")
        candidates = [i for i in range(self.n) if i not in self.facilitators and self.world.online[i]
                      and i in self.admitted_at]
        if not candidates:
            self._next()
            return
        removed = self.rng.choice(candidates)
        if self.op(0, "circle.remove", circle=CIRCLE, member=self.hex_ids[removed]) is None:
            self._next()
            return
        self.removed, self.removed_at = removed, self.clock.now
        for node in range(self.n):
            target = self.up(node)
            if target is not None:
                self._check_roster(node, target)

    def _start_after_removal(self) -> None:
        self._enter("after_removal")
        every = self.config.call_every
        for i in range(self.config.calls_after):
            self.clock.after(self.config.settle + i * every, self._call, "after_removal")
        if self.config.calls_after == 0:
            self.clock.after(self.config.settle, self._calls_over)

    def _look_removed(self, call_id: str) -> None:
        """The removed node and a call posted after its removal: did it get it, can it read it?"""
        removed = self.removed
        if removed is None or self.up(removed) is None:
            return
        if self.stores[removed].has(bytes.fromhex(call_id)):
            self.removed_received.add(call_id)
        if self.show(removed, "call.show", "call", call_id) is not None:
            self.removed_readable.add(call_id)

    # --- what the nodes do -------------------------------------------------------------------------------

    def _effect(self, node: int, effect: object) -> None:
        if isinstance(effect, Notify):
            if effect.name != "circle":
                return
            data = effect.data
            if data["roster"] or node not in self.admitted_at:
                self._roster_dirty.add(node)
            if data["id"] in self._watch or node in self._unread:
                self._dirty.setdefault(node, []).append(data["id"])
        elif isinstance(effect, Fault):
            self.faults.append(f"node {node}: {effect.where}: {effect.exception!r}")
        elif isinstance(effect, Log) and effect.level == "warning":
            self.warnings += 1

    def _after(self, node: int) -> None:
        """Once per event at ``node``: look at what it took in (see the module docstring)."""
        target = self.nodes[node]
        if target is None or not self.world.online[node]:
            return
        if node in self._roster_dirty:
            self._roster_dirty.discard(node)
            self._check_roster(node, target)
        ids = self._dirty.pop(node, None)
        if ids is None:
            return
        for call_id in self._unread.pop(node, []):
            if call_id not in ids:
                ids.append(call_id)
        for post_id in ids:
            kind, track = self._watch.get(post_id, ("", None))
            if kind == "call":
                if node == self.removed and track.phase == "after_removal":
                    self._look_removed(post_id)
                elif not self._read_call(node, track):
                    self._unread.setdefault(node, []).append(post_id)
            elif kind == "claim":
                self._claim_seen(node, track)
            elif kind == "checkin":
                self._read_checkin(node, track)
            elif kind == "reply":
                self._tally(node, track)

    # --- running and reporting ------------------------------------------------------------------------

    def run(self, limit: float) -> dict[str, Any]:
        started = time.perf_counter()
        self.clock.run(self.start + limit)
        return self.report(time.perf_counter() - started)

    def report(self, wall: float) -> dict[str, Any]:
        """The result object of ``meshcare sim --scenario circle --json`` (``circle_track.report``)."""
        removed = self.removed
        if removed is not None:
            node = self.nodes[removed]
            held: Mapping[bytes, object] = node.registry.held if node is not None else {}
            for c in self.calls:
                if c.phase == "after_removal" and (self.stores[removed].has(bytes.fromhex(c.id))
                                                   or bytes.fromhex(c.id) in held):
                    self.removed_received.add(c.id)
        return report(self, wall)
