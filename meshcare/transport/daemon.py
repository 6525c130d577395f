"""``meshcare daemon``: the node. One trio nursery; the pure engine decides, this shell carries it out.

Task layout (docs/architecture.md)::

    Daemon.run ─┬─ signals        SIGTERM/SIGINT -> cancel everything (goodbyes are shielded)
                ├─ listener       trio.serve_tcp -> accept -> handshake -> link
                ├─ dialer tasks   one per Connect effect -> open_tcp_stream -> handshake -> link
                ├─ link nurseries one per link: read_loop (bytes -> engine) + write_loop (engine -> bytes)
                ├─ timers         sleeps until engine.next_deadline(), then handle_deadline()
                ├─ discovery      zeroconf (its own threads) -> PeerDiscovered / PeerLost
                └─ control        Unix socket control.sock: status, peers, subscribe, ...

Links are keyed by the remote node id, authenticated in the handshake: nothing a peer claims (its
source address, the listening port its binding names) can make its link collide with another node's.
Dialling is by address (``Connect(address)``); ``LinkOpened`` carries the address dialled (None when
accepted), so the engine ends that dial and does not dial an address whose node is already linked. One
link per node pair: when both dial at once, the connection dialled by the smaller node id survives.
Every engine call happens on the trio thread; effects are applied before the next event (``Persist``
first: what is acknowledged or forwarded is already on disk).

Backstop (``backstop.py``): every per-link task, timer and duty path catches ``Exception`` (never
``BaseException``), logs it once with its traceback, and closes that link or postpones that duty; the
node keeps running. Accepted connections pass ``admission.py`` before their handshake.
"""

from __future__ import annotations

import logging
import os
import random
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import trio

from .. import envelope as env
from ..sync import events as ev
from ..sync.engine import SyncEngine, SyncConfig
from ..circles.membership import ROSTER_LIMIT
from ..circles.registry import Registry
from ..crypto.channel import Channel
from ..crypto.keys import Identity
from ..errors import BadInput, LinkError, RemoteProtocolError
from ..ids import NodeId, TopicId
from .state_file import LocalStateFile, MemoryStateFile
from ..ranges import KEY_MAX, KEY_MIN
from ..store import Store
from ..text import for_log
from . import links
from .admission import Admission, AdmissionLimits
from .links import Link, Address
from .backstop import Faults
from .circle_ops import CircleOps
from .topic_ops import TestTopic, TopicOps

log = logging.getLogger("meshcare.daemon")
DIAL_TIMEOUT = 5.0
VERIFY_CHUNK = 32
SWEEP_INTERVAL = 600.0   # delete expired envelopes this often
_AFTER = "roster change effects"


class Daemon(CircleOps, TopicOps):
    """The node: engine + store + circles + links + control. Construct, then ``await run()`` in a nursery."""

    def __init__(self, identity: Identity, store: Store, *, listen: Address = ("0.0.0.0", 7447),
                 peers: Sequence[Address] = (), config: SyncConfig | None = None,
                 threads: int | None = None, state: LocalStateFile | MemoryStateFile | None = None,
                 admission: AdmissionLimits | None = None) -> None:
        self.identity = identity
        self.store = store
        self.listen = listen
        self.static_peers = list(peers)
        self._state_file = state if state is not None else MemoryStateFile()
        self.registry = Registry(identity, self._state_file.load())
        self._joined: set[TopicId] = set()
        self._roster_changed = False
        self._in_after = False
        self._next_sweep = 0.0
        self.engine = SyncEngine(store, self._verify, rng=random.Random(os.urandom(16)), config=config,
                                 access=self._access)
        self.links: dict[NodeId, Link] = {}
        self.admission = Admission(admission)
        self.faults = Faults(log)
        self._not_before: dict[str, float] = {}  # timer paths postponed after a fault -> when to retry
        self.known: dict[Address, str] = {}  # discovered or static peers -> where from
        self.topics: dict[TopicId, TestTopic] = {}
        self._epoch: float | None = None  # wall time minus trio's clock, fixed at start
        self.started = time.time()
        self._pool = ThreadPoolExecutor(threads or os.cpu_count() or 1, thread_name_prefix="meshcare-verify")
        self._subscribers: list[trio.MemorySendChannel[tuple[str, dict[str, Any]]]] = []
        self._timers_changed = trio.Event()
        self._nursery: trio.Nursery | None = None
        self._seq = 0
        self._unsaved: list[env.Envelope] = []
        self._unsaved_own = False  # the pending batch holds envelopes of this node: fsync it
        self._wire = [0, 0]  # ciphertext bytes in/out of links that have closed
        self.port = listen[1]

    # ---------------------------------------------------------------------------------------------
    # running

    def now(self) -> float:
        """Unix time as trio's clock runs it: tests with MockClock move the engine's time too."""
        if self._epoch is None:
            self._epoch = time.time() - trio.current_time()
            self.started = self._epoch + trio.current_time()
        return self._epoch + trio.current_time()

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Serve until cancelled. ``task_status.started()`` once the listener accepts connections."""
        try:
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                self._load_circles()
                listeners = await nursery.start(self._listen)
                self.port = listeners[0].socket.getsockname()[1]
                nursery.start_soon(self._timers)
                for peer in self.static_peers:
                    self._event(ev.PeerDiscovered(peer, "static"))
                    self.known[peer] = "static"
                log.info("node %s listening on %s:%d", self.identity.node_id.hex()[:16], self.listen[0], self.port)
                task_status.started()
        finally:
            self._pool.shutdown(wait=False, cancel_futures=True)

    async def _listen(self, *, task_status: trio.TaskStatus[list[trio.SocketListener]] = trio.TASK_STATUS_IGNORED) -> None:
        await trio.serve_tcp(self._accepted, self.listen[1], host=self.listen[0] or None, task_status=task_status)

    async def _accepted(self, stream: trio.SocketStream) -> None:
        try:
            host = stream.socket.getpeername()[0]
        except OSError:
            await trio.aclose_forcefully(stream)
            return
        source = self.admission.enter(host, len(self.links), self.engine.config.max_links)
        if source is None:  # too many strangers mid-handshake, or no room for another link: close at once
            await trio.aclose_forcefully(stream)
            return
        await self.run_link(stream, host, initiator=False, admitted=source)

    async def dial(self, key: Address) -> None:
        """Carry out a Connect effect (``key`` is an address)."""
        try:
            with trio.fail_after(DIAL_TIMEOUT):
                stream = await trio.open_tcp_stream(*key)
        except (OSError, trio.TooSlowError) as exc:
            log.debug("dial %s failed: %s", _addr(key), exc)
            self._event(ev.LinkClosed(key, f"dial failed: {exc}"))
            return
        await self.run_link(stream, key[0], initiator=True, key=key)

    async def run_link(self, stream: trio.abc.Stream, host: str, *, initiator: bool,
                       key: Address | None = None, admitted: str | None = None) -> None:
        """Handshake on ``stream`` and serve the link until it ends. Usable with any trio stream.

        ``key``: the address dialled (None when accepted). ``admitted``: the admission slot this
        connection holds until its handshake ends. Never raises but for cancellation: whatever goes wrong
        on this link (even a bug) ends this link only.
        """
        try:
            async with stream:
                channel, early, started = await self._handshake(stream, host, initiator, key, admitted)
                if channel is not None:
                    await self._serve(stream, host, channel, early, started, initiator, key)
        except Exception as exc:  # noqa: BLE001 - the backstop: a bug on one link never ends the node
            self.faults.report("a link", exc, self.now())

    async def _handshake(self, stream: trio.abc.Stream, host: str, initiator: bool, key: Address | None,
                         admitted: str | None) -> tuple[Channel | None, bytes, float]:
        started = trio.current_time()
        try:
            channel, early = await links.handshake(stream, self.identity, initiator, self.port)
        except (LinkError, RemoteProtocolError) as exc:
            log.info("handshake with %s failed: %s", for_log(host), for_log(links.describe(exc)))
            if key is not None:
                self._event(ev.LinkClosed(key, links.describe(exc), isinstance(exc, RemoteProtocolError)))
            return None, b"", started
        except Exception:  # not swallowed: the engine hears the dial ended, the backstop logs the bug
            if key is not None:
                self._event(ev.LinkClosed(key, "internal error during the handshake"))
            raise
        finally:
            if admitted is not None:
                self.admission.leave(admitted)
        return channel, early, started

    async def _serve(self, stream: trio.abc.Stream, host: str, channel: Channel, early: bytes, started: float,
                     initiator: bool, dialled: Address | None) -> None:
        node = channel.remote_node
        address = dialled if dialled is not None else (host, channel.remote_port)
        wake_send, wake_recv = trio.open_memory_channel[None](1)
        link = self._admit(address, channel, stream, initiator, wake_send)
        if link is None:
            if dialled is not None:  # the engine's dial ends here; the node at that address is known
                self._event(ev.LinkClosed(dialled, "already linked with that node", node=bytes(node)))
            return
        ended: list[BaseException] = []

        async def guarded(work: Any, *args: Any) -> None:
            try:
                await work(*args)
            except (LinkError, RemoteProtocolError) as exc:
                ended.append(exc)
            except Exception as exc:  # noqa: BLE001 - the backstop: this link ends, the node does not
                self.faults.report("serving a link", exc, self.now())
                ended.append(exc)
            link.scope.cancel()

        async def opened() -> None:
            # the dialler's handshake spans 1.5 round trips, the listener's 1: an estimate
            rtt = (trio.current_time() - started) / (1.5 if initiator else 1.0)
            self._event(ev.LinkOpened(node, channel.handshake_hash, initiator, rtt, bytes(node), dialled))
            if early:
                self._event(ev.DataReceived(node, early))
            await links.read_loop(stream, channel, self._on_data(node))

        try:
            with link.scope:
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(guarded, links.write_loop, stream, channel, wake_recv,
                                       lambda: self._output_for(link))
                    await guarded(opened)
        finally:
            reason = links.describe(ended[0]) if ended else "closed"
            misbehaved = bool(ended) and isinstance(ended[0], RemoteProtocolError)
            log.info("link %s ended: %s", _addr(address), for_log(reason))
            self._wire[0] += channel.wire_in
            self._wire[1] += channel.wire_out
            if self.links.get(node) is link:
                del self.links[node]
                self._event(ev.LinkClosed(node, reason, misbehaved))
                self._notify("peer", {"address": _addr(address), "node_id": node.hex(), "linked": False})

    def _output_for(self, link: Link) -> bytes:
        """Only the link currently registered under its node id takes that node's output: a replaced link's
        writer, waking once more before its cancellation lands, must not swallow the new link's Hello."""
        if self.links.get(link.key) is not link:
            return link.take_farewell()
        return self.engine.take_output(link.key)

    def _on_data(self, node: NodeId):  # type: ignore[no-untyped-def]
        async def deliver(data: bytes) -> None:
            self._event(ev.DataReceived(node, data))
        return deliver

    def _admit(self, address: Address, channel: Channel, stream: trio.abc.Stream, initiator: bool,
               wake: trio.MemorySendChannel[None]) -> Link | None:
        """One link per node pair; the connection dialled by the smaller node id wins."""
        node_id = channel.remote_node
        if node_id == self.identity.node_id:
            log.info("%s is this node itself; not linking", _addr(address))
            return None
        mine = self.identity.node_id
        other = self.links.get(node_id)
        if other is not None:
            dialler_new = mine if initiator else node_id
            dialler_old = mine if other.initiator else node_id
            if dialler_old <= dialler_new:
                return None  # keep the existing link; the engine already has it under the node id
            other.scope.cancel()
            del self.links[node_id]
            self._event(ev.LinkClosed(node_id, "replaced by a simultaneous connection"))
        link = Link(node_id, address, node_id, initiator, stream, channel, wake)
        self.links[node_id] = link
        self._notify("peer", {"address": _addr(address), "node_id": node_id.hex(), "linked": True})
        return link

    def _due(self, where: str, deadline: float | None, now: float) -> bool:
        return deadline is not None and deadline <= now and self._not_before.get(where, 0.0) <= now

    def _guard(self, where: str, now: float, work: Any, *args: Any) -> None:
        """Run one timer path; a fault is logged (once) and that path waits a backoff before its next try."""
        try:
            work(*args)
        except Exception as exc:  # noqa: BLE001 - the backstop for timers and duties
            self._not_before[where] = now + self.faults.report(where, exc, now)
        else:
            if self._not_before.pop(where, None) is not None:
                self.faults.ok(where)

    async def _timers(self) -> None:
        """The one place the daemon sleeps: until the engine's, the circles' or the sweep's next deadline
        (a path postponed after a fault: not before its backoff ends)."""
        while True:
            now = self.now()
            engine = self.engine.next_deadline()
            duties = self.registry.next_duty_time(now)
            for notice in self.registry.take_notices():     # planning found them (a lost claim race)
                self._notify("call", notice)
            after = now if self._roster_changed else None
            release = self.registry.release_at
            due = {"engine timers": engine, "circle duties": duties, "retention sweep": self._next_sweep,
                   _AFTER: after, "fast-clock release": release}
            times = [max(t, self._not_before.get(where, t)) for where, t in due.items() if t is not None]
            delay = 3600.0 if not times else max(0.0, min(times) - now)
            with trio.move_on_after(delay):
                await self._timers_changed.wait()
            if self._timers_changed.is_set():
                self._timers_changed = trio.Event()
            now = self.now()
            if self._due("engine timers", engine, now):
                self._guard("engine timers", now, lambda: self._apply(self.engine.handle_deadline(now)))
            if self._due("circle duties", duties, now):
                self._guard("circle duties", now, self._run_duties, now)
            if self._due("retention sweep", self._next_sweep, now):
                self._next_sweep = now + SWEEP_INTERVAL
                self._guard("retention sweep", now, self._sweep, now)
            if self._due(_AFTER, after, now) and self._roster_changed:
                self._guard(_AFTER, now, self._after_effects)
            if self._due("fast-clock release", release, now):
                self._guard("fast-clock release", now, self._release_due, now)

    # ---------------------------------------------------------------------------------------------
    # engine

    def _event(self, event: ev.Event, *, flush: bool = True) -> None:
        self._apply(self.engine.handle(event, self.now()), flush=flush)

    def _flush(self) -> None:
        """Write what Persist effects asked for, in one transaction. Runs before this task yields, so
        before any writer task can send those envelopes (writers only run when we await)."""
        if self._unsaved:
            batch, self._unsaved = self._unsaved, []
            self.store.add(batch, int(self.now()), durable=self._unsaved_own)
            self._unsaved_own = False

    def _apply(self, effects: list[ev.Effect], *, flush: bool = True) -> None:
        for effect in effects:
            if isinstance(effect, ev.Persist):
                self._unsaved.extend(effect.envelopes)
                self._unsaved_own = self._unsaved_own or not effect.received
            elif isinstance(effect, ev.OutputReady):
                link = self.links.get(effect.peer)  # type: ignore[call-overload]
                if link is not None:
                    link.kick()
            elif isinstance(effect, ev.Deliver):
                self._delivered(effect.envelope)
                self._notify("envelope", {"id": effect.envelope.id.hex(), "topic": effect.envelope.topic.hex(),
                                          "author": effect.envelope.author.hex(), "lane": int(effect.envelope.lane)})
            elif isinstance(effect, ev.Connect):
                peer: Address = effect.peer  # type: ignore[assignment]  # dials are by address
                if self._nursery is not None:  # (an address whose node is linked: _admit settles it)
                    self._nursery.start_soon(self.dial, peer)
            elif isinstance(effect, ev.DropLink):
                link = self.links.pop(effect.peer, None)  # type: ignore[call-overload]
                if link is not None and self._nursery is not None:
                    log.info("dropping link %s: %s", _addr(link.address), for_log(effect.reason))
                    link.farewell = effect.farewell
                    link.kick()
                    self._nursery.start_soon(self._farewell, link)
        if flush:
            self._flush()
        if self._roster_changed and not self._in_after and self._not_before.get(_AFTER, 0.0) <= self.now():
            self._in_after = True
            try:
                self._guard(_AFTER, self.now(), self._after_effects)
            finally:
                self._in_after = False
        self._timers_changed.set()

    async def _farewell(self, link: Link) -> None:
        """Give the link's own writer a second to send the goodbye, then end the link. Only the writer
        ever writes a link's stream: a second sender would interleave bytes and Noise nonces."""
        with trio.move_on_after(1.0):
            await link.farewell_sent.wait()
        link.scope.cancel()

    def _verify(self, envelopes: Sequence[env.Envelope], now: int) -> list[bool | None]:
        """Signature, expiry and size (in worker threads: libsodium releases the GIL), then the circle's
        verdict: membership, epoch, role, departure cut-off (None: undecided yet, held aside)."""
        items = list(envelopes)
        if len(items) <= VERIFY_CHUNK:
            ok = env.signatures_valid(items)
        else:
            chunks = [items[i:i + VERIFY_CHUNK] for i in range(0, len(items), VERIFY_CHUNK)]
            ok = [flag for part in self._pool.map(env.signatures_valid, chunks) for flag in part]
        out: list[bool | None] = []
        circle_items: list[tuple[int, env.Envelope]] = []
        for e, flag in zip(items, ok):
            valid = flag and not e.is_expired(now) and e.size <= env.MAX_ENVELOPE_SIZE
            if valid and e.topic not in self.topics:
                circle_items.append((len(out), e))
            out.append(valid)
        if circle_items:
            verdicts = self.registry.verdicts([e for _, e in circle_items], now)
            if self.registry.purge_due:       # an equivocated post: the held copy goes too (after effects)
                self.registry.purge_due = False
                self._roster_changed = True
            for (index, _), verdict in zip(circle_items, verdicts):
                out[index] = verdict
        return out

    # ---------------------------------------------------------------------------------------------
    # circles (the registry decides; this carries out)

    def _access(self, topic: bytes, node: bytes) -> bool:
        return topic in self.topics or self.registry.access(topic, node)

    def _load_circles(self) -> None:
        """Fold every circle from the store (roster first), then sync the topics the circles want."""
        now = int(self.now())
        for topic, circle in self.registry.circles.items():
            # everything stored was accepted once: roster first (one fold), then posts (each waits for
            # the key it needs, if any); nothing is judged again here
            stored = [env.decode(r) for r in
                      self.store.get_many([k.id for k in self.store.keys(topic, KEY_MIN, KEY_MAX, now)])]
            for e in sorted(stored, key=lambda e: e.epoch != 0):
                circle.ingest(e)
            mine = self.store.max_seq(topic, self.identity.node_id)
            self.registry.state.seq[topic] = max(self.registry.state.seq.get(topic, 0), mine)
        self.registry.finish_joins()
        self.sync_topics()

    def sync_topics(self) -> None:
        """Join and leave topics so the engine syncs exactly what the circles (and test topics) want."""
        wanted = self.registry.topics(int(self.now())) | set(self.topics)
        for topic in sorted(wanted - self._joined):
            # invite lobbies are offered after circles when a link's tag limit is reached
            lobby = topic not in self.registry.circles and topic not in self.topics
            self._event(ev.TopicJoined(topic, lobby=lobby))
        for topic in sorted(self._joined - wanted):
            self._event(ev.TopicLeft(topic))
        self._joined = wanted

    def access_changed(self) -> None:
        self._event(ev.AccessChanged())

    def publish(self, items: Sequence[tuple[TopicId, env.Envelope]]) -> None:
        """Gossip envelopes this node made (persisted, fsynced, before any link can send them)."""
        for topic, envelope in items:
            if topic not in self._joined:
                self.sync_topics()
            self._event(ev.Published(envelope), flush=False)
        self._flush()

    def save_state(self) -> None:
        self._state_file.save(self.registry.state)

    def advertised_hints(self) -> list[str]:
        """Addresses put in invite tokens: where this node listens (the joiner may also find it by mDNS)."""
        host = self.listen[0]
        if host in ("0.0.0.0", "::", ""):
            return []
        return [_addr((host, self.port))]

    def add_hints(self, hints: Sequence[str]) -> None:
        for hint in hints:
            host, _, port = hint.rpartition(":")
            if host and port.isdigit():
                key = (host.strip("[]"), int(port))
                if key not in self.known:
                    self.known[key] = "invite"
                    self._event(ev.PeerDiscovered(key, "invite"))

    def _delivered(self, envelope: env.Envelope) -> None:
        if envelope.topic in self.topics:
            return
        changed, joined = self.registry.delivered(envelope, self.now())
        if joined is not None:
            log.info("joined circle %s", joined.topic.hex()[:12])
            self.save_state()
        if changed:
            self._roster_changed = True
        self._notify("circle", {"circle": envelope.topic.hex(), "author": envelope.author.hex(),
                                "id": envelope.id.hex(), "roster": envelope.epoch < ROSTER_LIMIT})

    def _after_effects(self) -> None:
        """Roster changes ripple: link access, topics, held envelopes, finished joins."""
        while self._roster_changed:
            self._roster_changed = False
            try:
                self._ripple()
            except BaseException:
                self._roster_changed = True  # retried after the backstop's backoff
                raise
        self._timers_changed.set()

    def _ripple(self) -> None:
        """One round of ``_after_effects``."""
        if self.registry.finish_joins():
            self.save_state()
        self.sync_topics()
        self._event(ev.AccessChanged())
        purged = [i for circle in self.registry.circles.values() for i in circle.purge_unacceptable()]
        if purged:
            log.info("deleting %d envelopes a roster change showed were not acceptable", len(purged))
            self.store.delete(purged)
        released = self.registry.take_released(int(self.now()))
        if released:
            self._event(ev.Released(tuple(released)))
        if self.registry.purge_due:             # an equivocation surfaced among the held: purge again
            self.registry.purge_due = False
            self._roster_changed = True

    def _release_due(self, now: float) -> None:
        """Envelopes held only because their author's clock ran ahead of ours: their time has come."""
        released = self.registry.take_due_release(now)
        if released:
            self._event(ev.Released(tuple(released)))

    def _run_duties(self, now: float) -> None:
        for duty in self.registry.duties(now):
            try:
                items = self.registry.carry_out(duty, int(now))
            except (BadInput, RemoteProtocolError) as exc:
                log.warning("could not carry out %s in %s: %s", duty.kind, duty.topic.hex()[:12], for_log(exc))
                self.registry.postpone(duty, now)
                continue
            except Exception as exc:  # noqa: BLE001 - the backstop: this duty waits, the others go on
                self.faults.report(f"the {duty.kind} duty", exc, now)
                self.registry.postpone(duty, now)
                continue
            if not items:
                self.registry.postpone(duty, now)
            else:
                log.info("%s in circle %s", duty.kind, duty.topic.hex()[:12])
                self.publish(items)
                self.save_state()
                if duty.kind in ("admit", "rotate"):
                    self._roster_changed = True
                    self._after_effects()

    def _sweep(self, now: float) -> None:
        """Retention: expired envelopes leave the store and the circles; circles this node left go."""
        deleted = self.store.expire(int(now))
        self.registry.expire(int(now))
        me = bytes(self.identity.node_id)
        for topic, circle in list(self.registry.circles.items()):
            if circle.roster.exists and me in circle.roster.ever and circle.roster.role(me) is None:
                log.info("left circle %s; deleting what this node held of it", topic.hex()[:12])
                self.store.delete_topic(topic)
                self.registry.drop_circle(topic)
                self.save_state()
                self.sync_topics()
        self.sync_topics()          # lobbies of invites that expired meanwhile are no longer served
        if deleted:
            log.info("retention: deleted %d expired envelopes", deleted)

    # ---------------------------------------------------------------------------------------------
    # control (ControlHandler)

    def _notify(self, name: str, data: dict[str, Any]) -> None:
        for channel in list(self._subscribers):
            try:
                channel.send_nowait((name, data))
            except trio.WouldBlock:
                log.warning("a control client is not keeping up with events; disconnecting it")
                channel.close()
                self._subscribers.remove(channel)
            except (trio.ClosedResourceError, trio.BrokenResourceError):
                self._subscribers.remove(channel)

    def subscribe(self) -> trio.MemoryReceiveChannel[tuple[str, dict[str, Any]]]:
        send, receive = trio.open_memory_channel[tuple[str, dict[str, Any]]](1000)
        self._subscribers.append(send)
        return receive

    async def request(self, op: str, args: dict[str, Any]) -> dict[str, Any]:
        handler = getattr(self, "op_" + op.replace(".", "_").replace("-", "_"), None)
        if handler is None:
            raise BadInput(f"unknown request {op!r}")
        result: dict[str, Any] = handler(args)
        return result

    def op_status(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"node_id": self.identity.node_id.hex(), "name": self.identity.name,
                "listen": f"{self.listen[0]}:{self.port}", "uptime_s": round(self.now() - self.started, 3),
                "links": len(self.links), "envelopes": len(self.store),
                "topics": len(self.topics),
                "statistics": {**self.engine.statistics(), **self.admission.statistics(),
                               "internal_errors": self.faults.count},
                "wire_bytes_in": self._wire[0] + sum(link.channel.wire_in for link in self.links.values()),
                "wire_bytes_out": self._wire[1] + sum(link.channel.wire_out for link in self.links.values())}

    def op_peers(self, args: dict[str, Any]) -> dict[str, Any]:
        peers = [{"node_id": link.node_id.hex(), "address": _addr(link.address), "linked": True,
                  "initiator": link.initiator, "since": round(link.opened, 3),
                  "topics": len(self.engine.shared_topics(key))} for key, link in self.links.items()]
        linked = {link.address for link in self.links.values()}
        peers += [{"node_id": None, "address": _addr(key), "linked": False, "source": source}
                  for key, source in self.known.items() if key not in linked]
        return {"peers": peers}

    def discovered(self, key: Address, segment: str) -> None:
        self.known[key] = segment
        self._event(ev.PeerDiscovered(key, segment))

    def lost(self, key: Address) -> None:
        self.known.pop(key, None)
        self._event(ev.PeerLost(key))


def _addr(key: Address) -> str:
    host, port = key
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
