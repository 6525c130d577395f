"""``Node``: the one facade of the core. It owns the circles (``Registry``, ``Duties``) and the topic sync
engine (``SyncEngine``), and joins them; events in, effects out (``node_events.py``); time, randomness
and the signature check are arguments. Pure: a shell (the trio daemon, a test, the simulator) feeds it.

Theory of operation
-------------------
* **Receiving.** The engine asks the node for a verdict on each batch of new envelopes (``_verdicts``):
  the injected ``check_signatures``, then expiry and size, then the circle's judgement (membership,
  epoch, role, departure cut-off; undecided ones are held by the registry and come back as
  ``Released``). Envelopes the engine accepted come back as ``Deliver``: the registry takes them in,
  and they leave the node as ``Notify`` effects.
* **Roster ripple.** When a roster changed (an admit, a removal, a rotation, a welcome that made this
  node a member) or an equivocation needs purging, the node ripples the change through: finished
  joins, the topics the engine syncs, who may sync them (``AccessChanged``), envelopes the new roster
  shows were never acceptable (``DeleteEnvelopes``), held envelopes it now accepts (``Released``). It
  loops until nothing changes, at the end of the ``handle`` or ``handle_deadline`` that caused it.
* **Writing.** Ops and duties build envelopes through the registry and report them as ``Authored``:
  the engine persists (``Persist``, fsynced) and gossips them. The local state that counts them (this
  node's seq and prev per circle) is *not* rewritten for each: the store holds the node's own envelopes
  and ``Registry.next_link`` continues after the higher of the saved seq and the chain the store
  rebuilds at start-up. The state only has to be on disk before one of those envelopes can leave the
  store, so ``SaveState`` goes out first in front of any ``ExpireEnvelopes``, ``DeleteEnvelopes`` or
  ``DeleteTopic`` while a count is unsaved (rewriting the whole file, with an fsync, a rename and a
  directory fsync, on every post was a third of a post's cost: docs/benchmarks.md, section 10).
* **Timers** (``next_deadline`` / ``handle_deadline``): the engine's, the circles' duties
  (``duties.py``), a ripple waiting after a fault, held envelopes from a fast clock, the retention
  sweep (expired envelopes; circles this node left are deleted), and the change summaries.
* **Onion peers.** While tor can dial (``TorChanged.dial``), the onion addresses members gave in every
  circle (``Roster.reach``, never this node's own) are discovered peers of segment "onion", each with
  the member it belongs to (so a LAN link to them keeps it idle); after each roster ripple, and when
  tor comes or goes, what changed is told to the engine (``PeerDiscovered`` / ``PeerLost``). The own
  published address goes to the duties (a ``reach`` operation where the roster shows another).
* **Telling.** Whatever touched a circle (an envelope taken in, whoever made it; a purge; the sweep)
  marks it; at the end of each ``handle`` and ``handle_deadline`` the node diffs the touched circles'
  summaries and says what changed as ``Tell`` effects (``circles/changes.py``: members, invites, joins,
  presence, calls, check-ins), and which circles it started or finished catching up on (the engine's
  ``catching_up``). The shell only passes them on.

Why the signature check is a synchronous, injected function and not an event: the engine must decide
persistence and forwarding with the verdict in hand (a rejected envelope charges its sender, an accepted
one is persisted before it is forwarded), within the handling of one frame. The thread pool that makes
the check fast stays in the shell, behind ``check_signatures``; an injected pure function keeps the
node deterministic.

Isolation (the one place the core catches ``Exception``): every timer path, each duty, the ripple and
the taking-in of each delivered envelope runs under ``_Paths.run``. An unexpected exception there is a
bug; it postpones only that path (1 s doubling to 300 s) and leaves as a ``Fault`` effect, which the
shell logs and counts; everything else goes on. A duty refused for a reason (``BadInput``,
``RemoteProtocolError``) is a ``Log`` warning and waits ``RETRY_AFTER``. Exceptions from the engine
while it handles a link's event are not caught here: the shell closes that link.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Hashable, Sequence
from typing import Final

from . import envelope as env
from .circles.changes import Changes, Fact
from .circles.duties import Duties, Duty
from .circles import reach as rc
from .circles.membership import ROSTER_LIMIT
from .circles.registry import Registry
from .circles.state import LocalState
from .crypto.keys import Identity
from .crypto.seal import RandomBytes, system_random
from .errors import BadInput, RemoteProtocolError
from .ids import TopicId
from .node_events import (Authored, DeleteEnvelopes, DeleteTopic, Effect, Event, ExpireEnvelopes, Fault, Log,
                          Notify, PeerDiscovered, PeerKey, PeerLost, PlainTopicJoined, SaveState, Started, Tell,
                          TorChanged)
from .ranges import KEY_MAX, KEY_MIN
from .store import Store
from .sync import events as sync
from .sync.engine import SyncConfig, SyncEngine
from .sync.neighbours import ONION_SEGMENT
from .text import for_log

#: Signature check of a batch: element i says whether envelope i's signature holds.
CheckSignatures = Callable[[Sequence[env.Envelope]], list[bool]]

SWEEP_INTERVAL: Final = 600.0      # seconds between retention sweeps
DUTIES_PER_PASS: Final = 8         # duties carried out per handle_deadline; the others wait for the next
BACKOFF_START: Final = 1.0         # a faulted path waits this long first, doubling ...
BACKOFF_MAX: Final = 300.0         # ... up to this
_MAX_BACKOFFS: Final = 1024        # faulted duties remembered (a duty that vanished is forgotten first)

ENGINE: Final = "engine timers"
DUTIES: Final = "circle duties"
RIPPLE: Final = "roster change effects"
RELEASE: Final = "fast-clock release"
SWEEP: Final = "retention sweep"
DELIVER: Final = "taking in an envelope"
CHANGES: Final = "change summaries"


class _Paths:
    """Per-path backoff after a fault (see the module docstring: Isolation)."""

    def __init__(self) -> None:
        self._not_before: dict[Hashable, float] = {}
        self._delay: dict[Hashable, float] = {}

    def waiting(self, key: Hashable, now: float) -> bool:
        return self._not_before.get(key, 0.0) > now

    def not_before(self, key: Hashable, when: float | None) -> float | None:
        """``when``, or later if ``key`` waits out a backoff."""
        return None if when is None else max(when, self._not_before.get(key, when))

    def run(self, key: Hashable, where: str, now: float, out: list[Effect], work: Callable[[], None], *,
            reset: bool = True) -> float | None:
        """Run ``work``. On an unexpected exception: ``Fault(where, exc)`` goes to ``out``, ``key`` waits
        a backoff, and that delay is returned; else None (and, with ``reset``, the backoff starts over)."""
        try:
            work()
        except Exception as exc:  # noqa: BLE001 - the core's one isolation point (module docstring)
            delay = min(BACKOFF_MAX, self._delay.get(key, BACKOFF_START / 2) * 2)
            if len(self._delay) >= _MAX_BACKOFFS and key not in self._delay:
                oldest = next(iter(self._delay))
                self._delay.pop(oldest)
                self._not_before.pop(oldest, None)
            self._delay[key] = delay
            self._not_before[key] = now + delay
            out.append(Fault(where, exc))
            return delay
        if reset:
            self._delay.pop(key, None)
            self._not_before.pop(key, None)
        return None


class Node:
    """One node: its circles and its topic sync. Not thread-safe; one owner calls it."""

    def __init__(self, identity: Identity, store: Store, state: LocalState, *, rng: random.Random,
                 config: SyncConfig | None = None,
                 check_signatures: CheckSignatures = env.signatures_valid,
                 random_bytes: RandomBytes = system_random) -> None:
        self.identity = identity
        self.store = store
        # every key and nonce the circles and the ops draw (a seeded source makes a simulation repeatable)
        self.registry = Registry(identity, state, random_bytes)
        self.duties = Duties(self.registry)
        self.changes = Changes(self.registry)
        self.engine = SyncEngine(store, self._verdicts, rng=rng, config=config, access=self._access)
        self._check_signatures = check_signatures
        #: topics synced without a circle (tests, benchmarks) -> the last seq this node used in each
        self.plain_topics: dict[TopicId, int] = {}
        self.known: dict[PeerKey, Hashable] = {}   # discovered, static and invite-hinted peers -> where from
        self.hints: tuple[str, ...] = ()           # addresses this node names in invite tokens
        self.tor = TorChanged(dial=False)          # what tor offers this node (the shell says)
        self._onions: dict[tuple[str, int], bytes] = {}   # members' onion addresses the engine was told
        self._joined: set[TopicId] = set()
        self._ripple_due = False
        self._next_sweep = 0.0                     # at the first timer, then every SWEEP_INTERVAL
        self._now = 0.0                            # the latest time an event or deadline was handled at
        self._pending: list[Effect] = []           # found outside handle (planning): out with the next call
        self._counts_unsaved = False               # own envelopes counted since the last SaveState
        self._paths = _Paths()
        #: this person's mailboxes -> when an envelope new to this node last came from it (``mailbox.status``;
        #: since the daemon started: kept in memory only)
        self.mailbox_seen: dict[bytes, float] = {}

    @property
    def state(self) -> LocalState:
        return self.registry.state

    # ---------------------------------------------------------------------------------------------
    # the facade

    def handle(self, event: Event, now: float) -> list[Effect]:
        """Apply one event; return the effects to carry out, in order. An exception the engine raises
        for a link's event propagates (the shell closes that link)."""
        self._now = now
        out, self._pending = self._pending, []
        if isinstance(event, Started):
            self._restore(event, now, out)
        elif isinstance(event, Authored):
            self._authored(event.items, now, out)
        elif isinstance(event, TorChanged):
            if event.onion is not None and rc.address_of(event.onion) is None:
                out.append(Log("warning", f"not telling circles the onion address {for_log(event.onion)}: "
                                          "it is not written xxx.onion:PORT (the daemon's bug)"))
                event = TorChanged(event.dial, None)
            self.tor = event
            self.duties.own_onion = event.onion
            self._dial_onions(now, out)
        elif isinstance(event, PeerDiscovered) and self._is_me(event):
            pass                                   # a node never dials itself (its own onion, say)
        elif isinstance(event, PlainTopicJoined):
            if event.topic not in self.plain_topics:
                self.plain_topics[event.topic] = max(0, self.store.max_seq(event.topic, self.identity.node_id))
            self._sync_topics(now, out)
        else:
            if isinstance(event, PeerDiscovered):
                self.known[event.peer] = event.segment
            elif isinstance(event, PeerLost):
                self.known.pop(event.peer, None)
            self._engine(event, now, out)
        self._settle(now, out)
        self._tell(now, out)
        return out

    def next_deadline(self) -> float | None:
        """The earliest time ``handle_deadline`` has work (None: nothing scheduled). A path waiting out
        a fault's backoff counts from the end of its wait."""
        now, paths = self._now, self._paths
        times = [paths.not_before(ENGINE, self.engine.next_deadline()), self._duty_time(now),
                 paths.not_before(RIPPLE, now) if self._ripple_due else None,
                 paths.not_before(RELEASE, self.registry.release_at), paths.not_before(SWEEP, self._next_sweep),
                 paths.not_before(CHANGES, self.changes.next_time())]
        if self._pending:
            times.append(now)
        return min((t for t in times if t is not None), default=None)

    def handle_deadline(self, now: float) -> list[Effect]:
        """Run every path that is due at ``now``, each isolated from the others."""
        self._now = now
        out, self._pending = self._pending, []
        paths = self._paths
        if self._due(ENGINE, self.engine.next_deadline(), now):
            paths.run(ENGINE, ENGINE, now, out, lambda: self._absorb(self.engine.handle_deadline(now), now, out))
        if not paths.waiting(DUTIES, now):
            paths.run(DUTIES, DUTIES, now, out, lambda: self._run_duties(now, out))
        if self._due(RELEASE, self.registry.release_at, now):
            paths.run(RELEASE, RELEASE, now, out, lambda: self._release(now, out))
        if self._due(SWEEP, self._next_sweep, now):
            self._next_sweep = now + SWEEP_INTERVAL
            paths.run(SWEEP, SWEEP, now, out, lambda: self._sweep(now, out))
        self._settle(now, out)
        self._tell(now, out)
        return out

    def pause_fetching(self) -> None:
        """The shell cannot store what arrives (a full disk): ask peers for nothing (``SyncEngine``)."""
        self.engine.pause_fetching()

    def resume_fetching(self, now: float) -> list[Effect]:
        """There is room again: catch up every topic with one neighbour now."""
        self._now = now
        out: list[Effect] = []
        self._absorb(self.engine.resume_fetching(now), now, out)
        return out

    def take_output(self, peer: PeerKey, max_bytes: int | None = None) -> bytes:
        """Coalesced bytes queued for ``peer`` (urgent first); b"" when nothing is queued or no link."""
        return self.engine.take_output(peer, max_bytes)

    def statistics(self) -> dict[str, int]:
        """Counters for the status screen and the simulator (the engine's; see ``SyncEngine``)."""
        return self.engine.statistics()

    def topics_changed(self, now: float) -> list[Effect]:
        """Sync exactly the topics the circles want now: for an op that changed them without publishing
        (a recovery request's lobby, ops/recovery.py)."""
        out: list[Effect] = []
        self._sync_topics(now, out)
        return out

    def mailboxes_changed(self, now: float) -> list[Effect]:
        """This person changed their mailboxes (``state.mailboxes``, ``ops/mailbox.py``): save the choice
        and keep a link to each from now on (the engine dials them first and never trims them)."""
        self._now = now
        out: list[Effect] = [SaveState(self.state)]
        for gone in set(self.mailbox_seen) - self.state.mailboxes:
            del self.mailbox_seen[gone]
        self._engine(sync.Preferred(frozenset(self.state.mailboxes)), now, out)
        return out

    def next_plain_seq(self, topic: TopicId) -> int:
        """The seq of this node's next envelope in a plain topic (``PlainTopicJoined`` first)."""
        self.plain_topics[topic] += 1
        return self.plain_topics[topic]

    # ---------------------------------------------------------------------------------------------
    # the engine and what it delivers

    def _is_me(self, event: PeerDiscovered) -> bool:
        """The address is this node's own: by the node id it came with, or this node's published onion."""
        own = rc.address_of(self.tor.onion or "")
        return event.node == bytes(self.identity.node_id) or (own is not None and event.peer == own)

    def _dial_onions(self, now: float, out: list[Effect]) -> None:
        """Tell the engine which members' onion addresses to dial (module docstring: Onion peers)."""
        wanted = (rc.member_onions((c.roster.reach for c in self.registry.circles.values()), self.registry.me)
                  if self.tor.dial else {})
        lost, found = rc.onion_changes(self._onions, wanted)
        for address in lost:
            del self._onions[address]
            self.known.pop(address, None)
            self._engine(PeerLost(address), now, out)
        for address, node in found:
            self._onions[address] = node
            self.known[address] = ONION_SEGMENT
            self._engine(PeerDiscovered(address, ONION_SEGMENT, node=node), now, out)

    def _engine(self, event: sync.Event, now: float, out: list[Effect]) -> None:
        self._absorb(self.engine.handle(event, now), now, out)

    def _absorb(self, effects: list[sync.Effect], now: float, out: list[Effect]) -> None:
        """Pass the engine's effects on; take in what it delivers (each envelope isolated: a bug in
        one must not lose the Persist of the others)."""
        for effect in effects:
            if isinstance(effect, sync.Deliver):
                envelope = effect.envelope
                if isinstance(effect.peer, bytes) and effect.peer in self.state.mailboxes:
                    self.mailbox_seen[effect.peer] = now
                self._paths.run(DELIVER, DELIVER, now, out, lambda: self._delivered(envelope, now, out))
            else:
                out.append(effect)

    def _delivered(self, e: env.Envelope, now: float, out: list[Effect]) -> None:
        if e.topic not in self.plain_topics:
            self.changes.touch(e.topic, urgent=e.lane == env.Lane.URGENT)
            changed, joined = self.registry.delivered(e, now)
            if joined is not None:
                out.append(Log("info", f"joined circle {joined.topic.hex()[:12]}"))
                out.append(SaveState(self.state))
            elif self.registry.take_state_dirty():      # a recovery share this node now holds
                out.append(SaveState(self.state))
            self._ripple_due = self._ripple_due or changed
            out.append(Notify("circle", {"circle": e.topic.hex(), "author": e.author.hex(), "id": e.id.hex(),
                                         "roster": e.epoch < ROSTER_LIMIT}))
        out.append(Notify("envelope", {"id": e.id.hex(), "topic": e.topic.hex(), "author": e.author.hex(),
                                       "lane": int(e.lane)}))

    def _verdicts(self, envelopes: Sequence[env.Envelope], now: int) -> list[bool | None]:
        """The engine's verifier: signature, expiry and size, then the circle's verdict (None: undecided
        yet, held by the registry). Plain topics take any validly signed envelope."""
        items = list(envelopes)
        out: list[bool | None] = []
        circle_items: list[tuple[int, env.Envelope]] = []
        for e, signed in zip(items, self._check_signatures(items)):
            valid = signed and not e.is_expired(now) and e.size <= env.MAX_ENVELOPE_SIZE
            if valid and e.topic not in self.plain_topics:
                circle_items.append((len(out), e))
            out.append(valid)
        if circle_items:
            verdicts = self.registry.verdicts([e for _, e in circle_items], now)
            if self.registry.purge_due:       # an equivocated post: the held copy goes too (in the ripple)
                self.registry.purge_due = False
                self._ripple_due = True
            for (index, _), verdict in zip(circle_items, verdicts):
                out[index] = verdict
        return out

    def _access(self, topic: bytes, node: bytes) -> bool:
        return topic in self.plain_topics or self.registry.access(topic, node)

    # ---------------------------------------------------------------------------------------------
    # circles

    def _restore(self, event: Started, now: float, out: list[Effect]) -> None:
        """Fold every circle from the store (roster first), then sync the topics the circles want.

        Everything stored was accepted once: roster first (one fold), then posts (each waits for the
        key it needs, if any); nothing is judged again. This node's chain moves on from the last of its
        envelopes the store holds, seq and prev together: after a crash between publishing and saving
        the state, the saved counter is behind, and building on it would reuse a seq or name a stale
        prev (an equivocation every node would drop)."""
        self.hints = event.hints
        t = int(now)
        me = bytes(self.identity.node_id)
        for topic, circle in self.registry.circles.items():
            stored = [env.decode(r) for r in
                      self.store.get_many([k.id for k in self.store.keys(topic, KEY_MIN, KEY_MAX, t)])]
            for e in sorted(stored, key=lambda e: e.epoch != 0):
                circle.ingest(e)
            last = max((e for e in stored if e.author == me), key=lambda e: e.seq, default=None)
            if last is not None and last.seq > self.state.seq.get(topic, 0):
                self.state.seq[topic] = last.seq
                self.state.prev[topic] = last.id
        self.registry.finish_joins()
        self.changes.baseline(now)
        self._sync_topics(now, out)
        if self.state.mailboxes:
            self._engine(sync.Preferred(frozenset(self.state.mailboxes)), now, out)
        self._dial_onions(now, out)

    def _authored(self, items: Sequence[tuple[TopicId, env.Envelope]], now: float, out: list[Effect]) -> None:
        in_circles = False
        for topic, envelope in items:
            if topic not in self._joined:
                self._sync_topics(now, out)
            self._engine(sync.Published(envelope), now, out)
            in_circles = in_circles or topic not in self.plain_topics
        if in_circles:
            self._counts_unsaved = True            # the store holds them; saved before any can leave it

    def _save_counts_first(self, out: list[Effect]) -> None:
        """Before an effect that deletes envelopes: the state that counted this node's own goes to disk
        first, so a seq is never used twice even once the envelopes that showed it are gone."""
        if self._counts_unsaved:
            self._counts_unsaved = False
            out.append(SaveState(self.state))

    def _sync_topics(self, now: float, out: list[Effect]) -> None:
        """Join and leave topics so the engine syncs exactly what the circles (and plain topics) want."""
        wanted = self.registry.topics(int(now)) | set(self.plain_topics)
        for topic in sorted(wanted - self._joined):
            # invite lobbies are offered after circles when a link's tag limit is reached
            lobby = topic not in self.registry.circles and topic not in self.plain_topics
            self._engine(sync.TopicJoined(topic, lobby=lobby), now, out)
        for topic in sorted(self._joined - wanted):
            self._engine(sync.TopicLeft(topic), now, out)
        self._joined = wanted

    def _settle(self, now: float, out: list[Effect]) -> None:
        """Run a due roster ripple (isolated) and hand out the notices planning found."""
        if self._ripple_due and not self._paths.waiting(RIPPLE, now):
            self._paths.run(RIPPLE, RIPPLE, now, out, lambda: self._ripple(now, out))
        out.extend(Notify("call", notice) for notice in self.duties.take_notices())

    def _tell(self, now: float, out: list[Effect]) -> None:
        """What changed in the circles, as ``Tell`` effects (isolated: a bug in a summary postpones the
        telling, never the handling)."""
        if self._paths.waiting(CHANGES, now):
            return
        facts: list[Fact] = []
        self._paths.run(CHANGES, CHANGES, now, out,
                        lambda: facts.extend(self.changes.take(now, self.engine.catching_up())))
        out.extend(Tell(fact) for fact in facts)

    def _ripple(self, now: float, out: list[Effect]) -> None:
        """Roster changes ripple until nothing changes (see the module docstring)."""
        while self._ripple_due:
            self._ripple_due = False
            try:
                self._ripple_once(now, out)
            except BaseException:
                self._ripple_due = True     # tried again after the backoff
                raise

    def _ripple_once(self, now: float, out: list[Effect]) -> None:
        if self.registry.finish_joins():
            out.append(SaveState(self.state))
        self._sync_topics(now, out)
        self._engine(sync.AccessChanged(), now, out)
        self._dial_onions(now, out)
        purged: list[bytes] = []
        for topic, circle in self.registry.circles.items():
            gone = circle.purge_unacceptable()
            if gone:
                purged += gone
                self.changes.touch(topic)
        if purged:
            out.append(Log("info", f"deleting {len(purged)} envelopes a roster change showed were not acceptable"))
            self._save_counts_first(out)
            out.append(DeleteEnvelopes(tuple(purged)))
        released = self.registry.take_released(int(now))
        if released:
            self._engine(sync.Released(tuple(released)), now, out)
        if self.registry.purge_due:             # an equivocation surfaced among the held: purge again
            self.registry.purge_due = False
            self._ripple_due = True

    # ---------------------------------------------------------------------------------------------
    # timers

    def _due(self, key: str, when: float | None, now: float) -> bool:
        return when is not None and when <= now and not self._paths.waiting(key, now)

    def _duty_time(self, now: float) -> float | None:
        """When the duties next have work (planning isolated like carrying out; its notices are kept
        for the next call)."""
        found: list[float | None] = [None]

        def plan() -> None:
            found[0] = self.duties.next_time(now)
        if not self._paths.waiting(DUTIES, now):
            self._paths.run(DUTIES, DUTIES, now, self._pending, plan, reset=False)
        self._pending.extend(Notify("call", notice) for notice in self.duties.take_notices())
        if self._paths.waiting(DUTIES, now):
            return self._paths.not_before(DUTIES, now)
        return found[0]

    def _run_duties(self, now: float, out: list[Effect]) -> None:
        when = self.duties.next_time(now)
        if when is None or when > now:
            return
        # at most a handful per pass: the rest stay due, so the shell calls again after the links had
        # their turn (a receipt for each of 400 calls that came in a burst took 40 ms in one go, and
        # every message behind it waited: docs/benchmarks.md, section 10)
        for duty in self.duties.due(now)[:DUTIES_PER_PASS]:
            self._isolated_duty(duty, now, out)
            self._settle(now, out)

    def _isolated_duty(self, duty: Duty, now: float, out: list[Effect]) -> None:
        """One duty under its own backoff: a bug in it postpones that duty only."""
        delay = self._paths.run(duty, f"the {duty.kind} duty", now, out, lambda: self._carry_out(duty, now, out))
        if delay is not None:
            self.duties.postpone(duty, now, delay)

    def _carry_out(self, duty: Duty, now: float, out: list[Effect]) -> None:
        try:
            items = self.duties.carry_out(duty, int(now))
        except (BadInput, RemoteProtocolError) as exc:
            out.append(Log("warning", f"could not carry out {duty.kind} in {duty.topic.hex()[:12]}: {for_log(exc)}"))
            self.duties.postpone(duty, now)
            return
        if not items:
            self.duties.postpone(duty, now)
            return
        out.append(Log("info", f"{duty.kind} in circle {duty.topic.hex()[:12]}"))
        self._authored(items, now, out)

    def _release(self, now: float, out: list[Effect]) -> None:
        """Envelopes held only because their author's clock ran ahead of ours: their time has come."""
        released = self.registry.take_due_release(now)
        if released:
            self._engine(sync.Released(tuple(released)), now, out)

    def _sweep(self, now: float, out: list[Effect]) -> None:
        """Retention: expired envelopes leave the store and the circles; circles this node left go."""
        t = int(now)
        self._save_counts_first(out)
        self.registry.keep_recovery_shares()      # before retention takes the posts that carried them
        if self.registry.take_state_dirty():
            out.append(SaveState(self.state))
        out.append(ExpireEnvelopes(t))
        self.registry.expire(t)
        self.changes.touch_all()
        me = self.registry.me
        for topic, circle in list(self.registry.circles.items()):
            if circle.roster.exists and me in circle.roster.ever and circle.roster.role(me) is None:
                out.append(Log("info", f"left circle {topic.hex()[:12]}; deleting what this node held of it"))
                out.append(DeleteTopic(topic))
                self.registry.drop_circle(topic)
                out.append(SaveState(self.state))
        self._sync_topics(now, out)   # and lobbies of invites that expired meanwhile are no longer served
        self._dial_onions(now, out)
