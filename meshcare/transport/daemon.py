"""``meshcare daemon``: the node. One trio nursery; the pure engine decides, this shell carries it out.

Task layout (docs/architecture.md)::

    Daemon.run ─┬─ signals        SIGTERM/SIGINT -> cancel everything (goodbyes are shielded)
                ├─ listener       trio.serve_tcp -> accept -> handshake -> link
                ├─ dialer tasks   one per Connect effect -> open_tcp_stream -> handshake -> link
                ├─ link nurseries one per link: read_loop (bytes -> engine) + write_loop (engine -> bytes)
                ├─ timers         sleeps until engine.next_deadline(), then handle_deadline()
                ├─ discovery      zeroconf (its own threads) -> PeerDiscovered / PeerLost
                └─ control        Unix socket control.sock: status, peers, subscribe, ...

Peers are keyed by their listening address ``(host, port)``: a dialled peer by the address dialled, an
accepting peer by its remote IP and the listening port its link binding names, so both directions of
a pair meet under one key. One link per node pair: when both dial at once, the connection dialled by
the smaller node id survives. Every engine call happens on the trio thread; effects are applied before
the next event (``Persist`` first: what is acknowledged or forwarded is already on disk).
"""

from __future__ import annotations

import logging
import os
import random
import signal
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import trio

from .. import envelope as env
from ..circles import events as ev
from ..circles.node import CircleNode, SyncConfig
from ..circles.registry import Registry
from ..crypto import kdf
from ..crypto.channel import Channel
from ..crypto.keys import Identity
from ..errors import BadInput, LinkError, RemoteProtocolError
from ..ids import NodeId, TopicId
from ..local_state import LocalStateFile, MemoryStateFile
from ..ranges import KEY_MAX, KEY_MIN
from ..store import Store
from . import links
from .circle_ops import CircleOps

log = logging.getLogger("meshcare.daemon")
PeerKey = tuple[str, int]
DIAL_TIMEOUT = 5.0
VERIFY_CHUNK = 32
SWEEP_INTERVAL = 600.0   # delete expired envelopes this often


@dataclass(eq=False)
class Link:
    key: PeerKey
    node_id: NodeId
    initiator: bool
    stream: trio.abc.Stream
    channel: Channel
    wake: trio.MemorySendChannel[None]
    scope: trio.CancelScope = field(default_factory=trio.CancelScope)
    opened: float = field(default_factory=time.time)

    def kick(self) -> None:
        try:
            self.wake.send_nowait(None)
        except (trio.WouldBlock, trio.ClosedResourceError, trio.BrokenResourceError):
            pass  # a wake-up is already pending, or the link is going away


@dataclass(frozen=True, slots=True)
class TestTopic:
    """A topic joined by secret over the control socket (until circles exist: tests and benchmarks)."""

    topic: TopicId
    key: bytes


class Daemon(CircleOps):
    """The node: engine + store + circles + links + control. Construct, then ``await run()`` in a nursery."""

    def __init__(self, identity: Identity, store: Store, *, listen: PeerKey = ("0.0.0.0", 7447),
                 peers: Sequence[PeerKey] = (), config: SyncConfig | None = None,
                 threads: int | None = None, state: LocalStateFile | MemoryStateFile | None = None) -> None:
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
        self.engine = CircleNode(store, self._verify, rng=random.Random(os.urandom(16)), config=config,
                                 access=self._access)
        self.links: dict[PeerKey, Link] = {}
        self.known: dict[PeerKey, str] = {}  # discovered or static peers -> where from
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
        host = stream.socket.getpeername()[0]
        await self.run_link(stream, host, initiator=False)

    async def dial(self, key: PeerKey) -> None:
        """Carry out a Connect effect."""
        try:
            with trio.fail_after(DIAL_TIMEOUT):
                stream = await trio.open_tcp_stream(*key)
        except (OSError, trio.TooSlowError) as exc:
            log.debug("dial %s:%d failed: %s", key[0], key[1], exc)
            self._event(ev.LinkClosed(key, f"dial failed: {exc}"))
            return
        await self.run_link(stream, key[0], initiator=True, key=key)

    async def run_link(self, stream: trio.abc.Stream, host: str, *, initiator: bool,
                       key: PeerKey | None = None) -> None:
        """Handshake on ``stream`` and serve the link until it ends. Usable with any trio stream."""
        async with stream:
            started = trio.current_time()
            try:
                channel, early = await links.handshake(stream, self.identity, initiator, self.port)
            except (LinkError, RemoteProtocolError) as exc:
                log.info("handshake with %s failed: %s", host, links.describe(exc))
                if key is not None:
                    self._event(ev.LinkClosed(key, links.describe(exc), isinstance(exc, RemoteProtocolError)))
                return
            key = key if key is not None else (host, channel.remote_port)
            wake_send, wake_recv = trio.open_memory_channel[None](1)
            link = self._admit(key, channel, stream, initiator, wake_send)
            if link is None:
                return
            ended: list[BaseException] = []

            async def guarded(work: Any, *args: Any) -> None:
                try:
                    await work(*args)
                except (LinkError, RemoteProtocolError) as exc:
                    ended.append(exc)
                link.scope.cancel()

            try:
                with link.scope:
                    async with trio.open_nursery() as nursery:
                        nursery.start_soon(guarded, links.write_loop, stream, channel, wake_recv,
                                           lambda: self._output_for(link))
                        # the dialler's handshake spans 1.5 round trips, the listener's 1: an estimate
                        rtt = (trio.current_time() - started) / (1.5 if initiator else 1.0)
                        self._event(ev.LinkOpened(key, channel.handshake_hash, initiator, rtt, bytes(channel.remote_node)))
                        if early:
                            self._event(ev.DataReceived(key, early))
                        await guarded(links.read_loop, stream, channel, self._on_data(key))
            finally:
                reason = links.describe(ended[0]) if ended else "closed"
                misbehaved = bool(ended) and isinstance(ended[0], RemoteProtocolError)
                log.info("link %s ended: %s", _addr(key), reason)
                self._wire[0] += channel.wire_in
                self._wire[1] += channel.wire_out
                if self.links.get(key) is link:
                    del self.links[key]
                    self._event(ev.LinkClosed(key, reason, misbehaved))
                    self._notify("peer", {"address": _addr(key), "node_id": link.node_id.hex(), "linked": False})

    def _output_for(self, link: Link) -> bytes:
        """Only the link currently registered under its key takes that key's output: a replaced link's
        writer, waking once more before its cancellation lands, must not swallow the new link's Hello."""
        if self.links.get(link.key) is not link:
            return b""
        return self.engine.take_output(link.key)

    def _on_data(self, key: PeerKey):  # type: ignore[no-untyped-def]
        async def deliver(data: bytes) -> None:
            self._event(ev.DataReceived(key, data))
        return deliver

    def _admit(self, key: PeerKey, channel: Channel, stream: trio.abc.Stream, initiator: bool,
               wake: trio.MemorySendChannel[None]) -> Link | None:
        """One link per node pair; the connection dialled by the smaller node id wins."""
        node_id = channel.remote_node
        if node_id == self.identity.node_id:
            log.info("%s:%d is this node itself; not linking", *key)
            return None
        mine = self.identity.node_id
        for other in list(self.links.values()):
            if other.node_id != node_id:
                continue
            dialler_new = mine if initiator else node_id
            dialler_old = mine if other.initiator else node_id
            if dialler_old <= dialler_new:
                return None  # keep the existing link; the engine already has it under its key
            other.scope.cancel()
            del self.links[other.key]
            self._event(ev.LinkClosed(other.key, "replaced by a simultaneous connection"))
        link = Link(key, node_id, initiator, stream, channel, wake)
        self.links[key] = link
        self._notify("peer", {"address": _addr(key), "node_id": node_id.hex(), "linked": True})
        return link

    async def _timers(self) -> None:
        """The one place the daemon sleeps: until the engine's, the circles' or the sweep's next deadline."""
        while True:
            now = self.now()
            engine = self.engine.next_deadline()
            duties = self.registry.next_duty_time(now)
            deadline = min((t for t in (engine, duties, self._next_sweep) if t is not None), default=None)
            delay = 3600.0 if deadline is None else max(0.0, deadline - now)
            with trio.move_on_after(delay):
                await self._timers_changed.wait()
            if self._timers_changed.is_set():
                self._timers_changed = trio.Event()
            now = self.now()
            if engine is not None and engine <= now:
                self._apply(self.engine.handle_deadline(now))
            if duties is not None and duties <= now:
                self._run_duties(now)
            if self._next_sweep <= now:
                self._next_sweep = now + SWEEP_INTERVAL
                self._sweep(now)

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
                peer: PeerKey = effect.peer  # type: ignore[assignment]  # this shell's keys are addresses
                if self._nursery is not None and peer not in self.links:
                    self._nursery.start_soon(self.dial, peer)
            elif isinstance(effect, ev.DropLink):
                link = self.links.pop(effect.peer, None)  # type: ignore[call-overload]
                if link is not None and self._nursery is not None:
                    log.info("dropping link %s: %s", _addr(link.key), effect.reason)
                    self._nursery.start_soon(self._farewell, link, effect.farewell)
        if flush:
            self._flush()
        if self._roster_changed and not self._in_after:
            self._in_after = True
            try:
                self._after_effects()
            finally:
                self._in_after = False
        self._timers_changed.set()

    async def _farewell(self, link: Link, data: bytes) -> None:
        with trio.move_on_after(1.0):
            if data:
                try:
                    await links.send(link.stream, link.channel.seal(data))
                except LinkError:
                    pass
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
            self._event(ev.TopicJoined(topic))
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
                                "id": envelope.id.hex(), "roster": envelope.epoch == 0})

    def _after_effects(self) -> None:
        """Roster changes ripple: link access, topics, held envelopes, finished joins."""
        while self._roster_changed:
            self._roster_changed = False
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
        self._timers_changed.set()

    def _run_duties(self, now: float) -> None:
        for duty in self.registry.duties(now):
            try:
                items = self.registry.carry_out(duty, int(now))
            except (BadInput, RemoteProtocolError) as exc:
                log.warning("could not carry out %s in %s: %s", duty.kind, duty.topic.hex()[:12], exc)
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
                "topics": len(self.topics), "statistics": self.engine.statistics(),
                "wire_bytes_in": self._wire[0] + sum(link.channel.wire_in for link in self.links.values()),
                "wire_bytes_out": self._wire[1] + sum(link.channel.wire_out for link in self.links.values())}

    def op_peers(self, args: dict[str, Any]) -> dict[str, Any]:
        peers = [{"node_id": link.node_id.hex(), "address": _addr(key), "linked": True,
                  "initiator": link.initiator, "since": round(link.opened, 3),
                  "topics": len(self.engine.shared_topics(key))} for key, link in self.links.items()]
        peers += [{"node_id": None, "address": _addr(key), "linked": False, "source": source}
                  for key, source in self.known.items() if key not in self.links]
        return {"peers": peers}

    def op_topic_join(self, args: dict[str, Any]) -> dict[str, Any]:
        secret = _secret(args)
        topic = TopicId(kdf.derive_key(secret, kdf.TOPIC, size=16))
        self.topics[topic] = TestTopic(topic, kdf.derive_key(kdf.derive_key(secret, kdf.EPOCH_ZERO), kdf.EPOCH_BODY, topic))
        self.sync_topics()
        return {"topic": topic.hex()}

    def op_topic_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        secret = _secret(args)
        topic = TopicId(kdf.derive_key(secret, kdf.TOPIC, size=16))
        joined = self.topics.get(topic)
        if joined is None:
            raise BadInput("join the topic first (topic.join)")
        text = args.get("text", "")
        count = args.get("count", 1)
        if not isinstance(text, str) or type(count) is not int or not 1 <= count <= 100_000:
            raise BadInput("text must be a string and count an integer from 1 to 100000")
        ids = []
        lane = env.Lane.URGENT if args.get("urgent") else env.Lane.NORMAL
        for i in range(count):
            now = int(self.now())
            self._seq = max(self._seq, self.store.max_seq(topic, self.identity.node_id)) + 1
            body = text.encode() if count == 1 else f"{i:08d}{text}".encode()
            envelope = env.seal(signing_key=self.identity.signing_key, topic=topic, epoch=0, key=joined.key,
                                seq=self._seq, lamport=self._seq, created=now, expires=now + 30 * 86_400,
                                plaintext=body, lane=lane, prev=env.filler_prev(self._seq))
            self._event(ev.Published(envelope), flush=False)
            ids.append(envelope.id.hex())
        self._flush()
        return {"id": ids[0], "ids": ids}

    def op_topic_ids(self, args: dict[str, Any]) -> dict[str, Any]:
        secret = _secret(args)
        topic = TopicId(kdf.derive_key(secret, kdf.TOPIC, size=16))
        keys = self.store.keys(topic, KEY_MIN, KEY_MAX, int(self.now()))
        return {"ids": [k.id.hex() for k in keys]}

    def discovered(self, key: PeerKey, segment: str) -> None:
        self.known[key] = segment
        self._event(ev.PeerDiscovered(key, segment))

    def lost(self, key: PeerKey) -> None:
        self.known.pop(key, None)
        self._event(ev.PeerLost(key))


def _addr(key: PeerKey) -> str:
    host, port = key
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _secret(args: dict[str, Any]) -> bytes:
    secret = args.get("secret")
    if isinstance(secret, str):
        try:
            secret = bytes.fromhex(secret)
        except ValueError:
            raise BadInput("secret must be hex") from None
    if not isinstance(secret, bytes) or len(secret) < 16:
        raise BadInput("secret must be at least 16 bytes")
    return secret


async def serve_signals(cancel: trio.CancelScope) -> None:
    """SIGTERM (systemd) and SIGINT end the daemon cleanly: cancel, let shielded goodbyes run, exit 0."""
    with trio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
        async for signum in signals:
            log.info("received %s; shutting down", signal.Signals(signum).name)
            cancel.cancel()
            return
