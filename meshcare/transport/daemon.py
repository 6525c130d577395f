"""``meshcare daemon``: the node's trio shell. The pure ``Node`` decides; this carries out its effects.

Task layout (docs/architecture.md)::

    Daemon.run ─┬─ signals        SIGTERM/SIGINT -> cancel everything (goodbyes are shielded)
                ├─ listener       listening.py (the port, or the next free one) -> accept -> admission -> link
                ├─ onion listener tor/onion_links.py, with --tor and an onion service: 127.0.0.1, any port;
                │                 tor maps the onion's port to it (every link accepted there is via "onion")
                ├─ onion service  tor/onion_service.py: keeps the onion service published, TorState, TorChanged
                ├─ dialer tasks   one per Connect effect -> open_tcp_stream (a .onion host: tor/onion_links.py,
                │                 through tor's SOCKS port) -> link
                ├─ links          link_serving.py, one task per connection: handshake -> admit (one link per
                │                 node pair) -> a nursery: read_loop (bytes -> node) + write_loop (node -> bytes)
                ├─ timers         sleeps until node.next_deadline(), then node.handle_deadline()
                ├─ discovery      zeroconf (its own threads) -> PeerDiscovered / PeerLost
                └─ control        Unix socket control.sock: the ops table (meshcare/ops) + status, peers, snapshot,
                                  node.rename (it keeps the name in the keystore)

What stays here: sockets, dialling and accepting, the links table, admission, the backstop, the one timer loop,
the thread pool that checks signatures, and applying the node's effects: ``Persist`` is batched and
written before this task yields (what is forwarded or acknowledged is on disk first; ``SaveState`` and
deletions write pending envelopes before they act), ``SaveState`` goes to the state file, ``Notify`` to
the ``EventHub``, ``Tell`` too (as the control event ``ops.events`` makes of its fact), each numbered
(``seq``, which ``snapshot`` answers too), and to the ``Notifier`` if it wants the fact (a new call, a
check-in reply: ``notify_command``), ``Fault`` to ``Faults``. The one event this shell says of its own is
``peer`` (a link opened or ended). Every node call happens on the trio thread.

Serving a link (``link_serving.py``, ``LinkServer``; ``Daemon.run_link`` hands a stream to it): the handshake,
admission to the links table, the link's reader and writer, and what its end tells the node. Links are
keyed by the remote node id, authenticated in the handshake: nothing a peer claims (its
source address, the listening port its binding names) can make its link collide with another node's.
Dialling is by address (``Connect(address)``); ``LinkOpened`` carries the address dialled (None when
accepted), so the engine ends that dial and does not dial an address whose node is already linked. One
link per node pair: when both dial at once, the connection dialled by the smaller node id survives; but a
direct link (LAN, an address) always beats a link through Tor to the same node, never the reverse
(``LinkServer._admit``). ``DropLink`` leaves the goodbye to the link's own writer (``link_serving.farewell``).

Tor (``--tor``): ``tor/onion_links.py`` holds the Tor side (the onion listener and its admission bucket,
onion dials through tor's SOCKS port with their own timeout and fresh circuits, NEWNYM after a failure, tor's
state told to the node as ``TorChanged``); here an onion link only gets ``links.TOR_HANDSHAKE_TIMEOUT`` and is a
slow link (``LinkOpened.slow``).

Backstop (``backstop.py``): every per-link task and discovery callback catches ``Exception`` (never
``BaseException``), logs it once with its traceback, and closes that link; the node isolates its own
timer and duty paths and reports their faults as ``Fault`` effects. Accepted connections pass
``admission.py`` before their handshake.
"""

from __future__ import annotations

import logging
import os
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Final

import trio

from ..control.events import Event as ControlEvent
from ..control.protocol import Data
from ..control.views_doctor import TorStatus
from ..crypto.keys import Identity
from ..crypto.onion_key import is_onion
from ..errors import DiskFull
from ..ids import NodeId
from ..circles.changes import Fact
from ..circles.state import LocalState
from ..node import Node
from ..node_events import (Connect, DeleteEnvelopes, DeleteTopic, DropLink, Effect, Event,
                           ExpireEnvelopes, Fault, LinkClosed, Log, Notify, OutputReady, PeerDiscovered,
                           PeerKey, PeerLost, Persist, SaveState, Started, Tell)
from ..ops import OPS, Operation, perform
from ..ops.events import event_of
from ..store import Store
from ..sync.engine import SyncConfig
from ..text import for_log
from . import links
from .admission import Admission, AdmissionLimits
from .backstop import Faults
from .control_server import Dispatcher, EventHub, EventItem
from .links import Address, Link
from .link_serving import LinkServer, farewell
from .listening import open_listeners
from .notifier import Notifier
from .signatures import SignatureCheck
from .state_file import LocalStateFile, MemoryStateFile
from .group_commit import GroupCommit
from .health import DiscoveryWatch
from .presenter import Presenter
from .store_writer import StoreWriter
from .shell_ops import shell_ops
from .trace import mark
from .tor.onion_links import OnionLinks
from .tor.onion_service import OnionService
from .tor.tor_state import TorOptions

log = logging.getLogger("meshcare.daemon")
DIAL_TIMEOUT: Final = 5.0
EVENT_BUFFER: Final = 1000      # control events buffered per subscriber before it counts as fallen behind


class Daemon:
    """The node's shell: links, control, timers. Construct, then ``await run()`` in a nursery.

    ``extra_ops``: more control ops for this daemon (``ops.bench.BENCH_OPS`` for tests, benchmarks).
    ``port_tries``: ports tried from ``listen``'s up when it is in use (``listening.py``; 1: that one only).
    ``keep_name``: writes a new name to the keystore (``node.rename``; None: the name lives in memory only).
    ``notifier``: runs ``notify_command`` for new calls and "need support now" replies (None: off).
    ``profile``: the name of the memory profile the store was opened with (``status`` reports it).
    ``tor``: link through Tor too (``--tor``): tor's ports and the onion key (None: no Tor at all).
    """

    def __init__(self, identity: Identity, store: Store, *, listen: Address = ("0.0.0.0", 7447),
                 peers: Sequence[Address] = (), config: SyncConfig | None = None,
                 threads: int | None = None, state: LocalStateFile | MemoryStateFile | None = None,
                 admission: AdmissionLimits | None = None, extra_ops: Mapping[str, Operation] | None = None,
                 port_tries: int = 1, keep_name: Callable[[str], None] | None = None,
                 notifier: Notifier | None = None, profile: str = "standard", tor: TorOptions | None = None) -> None:
        self.identity = identity
        self.store = store
        self.listen = listen
        self.static_peers = list(peers)
        self._state_file = state if state is not None else MemoryStateFile()
        self._signatures = SignatureCheck(threads)
        self.node = Node(identity, store, self._state_file.load(), rng=random.Random(os.urandom(16)),
                         config=config, check_signatures=self._signatures)
        self._writes = StoreWriter(store)
        self._unsaved_state: LocalState | None = None   # a state the full disk kept from its file
        self.links: dict[NodeId, Link] = {}
        self.admission = Admission(admission)
        self.faults = Faults(log)
        self.events = EventHub(EVENT_BUFFER)
        self.notifier = notifier
        # events waiting for the write they announce: (name, data), or a fact for the presenter
        self._shown: list[tuple[str, Data] | Fact] = []
        self.presenter = Presenter(self._present_one, self.events.close,
                                   lambda exc: self.faults.report("presenting an event", exc, self.now()))
        self._group = GroupCommit(self._commit)
        self.event_seq = 0          # the number of the last event published (control events' ``seq``)
        self._ops: dict[str, Operation] = {**OPS, **(extra_ops or {}), **shell_ops(self)}
        self._dispatcher = Dispatcher({name: self._async_op(name) for name in self._ops})
        self._epoch: float | None = None  # wall time minus trio's clock, fixed at start
        self.started = time.time()
        self._timers_changed = trio.Event()
        self._nursery: trio.Nursery | None = None
        self.port = listen[1]
        self._port_tries = port_tries
        self.keep_name = keep_name
        self.profile = profile      # the memory profile's name (meshcare/profile.py), for ``status``
        self.discovery_watch = DiscoveryWatch()  # service._discover fills it; node.health reads it
        self.tor = tor
        self.onion = OnionLinks(tor, self._event, lambda: (len(self.links), self.node.engine.config.max_links),
                                lambda stream, source: self.run_link(stream, "127.0.0.1", initiator=False,
                                                                     admitted=source, via="onion"))
        self.serving = LinkServer(identity, self.links, event=self._event, publish=self._publish,
                                  output=self._output, port=lambda: self.port, now=self.now,
                                  admission=self.admission, onion=self.onion, faults=self.faults)
        self.wire_closed = self.serving.wire_closed  # ciphertext bytes in/out of links that have closed

    # ---------------------------------------------------------------------------------------------
    # running

    def now(self) -> float:
        """Unix time as trio's clock runs it: tests with MockClock move the node's time too."""
        if self._epoch is None:
            self._epoch = time.time() - trio.current_time()
            self.started = self._epoch + trio.current_time()
        return self._epoch + trio.current_time()

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Serve until cancelled. ``task_status.started()`` once the listener accepts connections."""
        try:
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                listeners = await nursery.start(self._listen)
                self.port = listeners[0].socket.getsockname()[1]
                await self.onion.open(nursery)
                self._event(Started(tuple(self._hints())))
                self.onion.start(nursery)
                nursery.start_soon(self._timers)
                nursery.start_soon(self.presenter.run)
                if self.notifier is not None:
                    nursery.start_soon(self.notifier.run)
                for peer in self.static_peers:
                    self._event(PeerDiscovered(peer, "static"))
                log.info("node %s listening on %s:%d", self.identity.node_id.hex()[:16], self.listen[0], self.port)
                task_status.started()
        finally:
            self._signatures.close()
            self.events.close()

    async def _listen(self, *, task_status: trio.TaskStatus[list[trio.SocketListener]] = trio.TASK_STATUS_IGNORED) -> None:
        listeners = await open_listeners(self.listen[0], self.listen[1], tries=self._port_tries)
        await trio.serve_listeners(self._accepted, listeners, task_status=task_status)

    def tor_status(self) -> TorStatus | None:
        """The ``tor`` map of ``status`` and ``node.health`` (None without ``--tor``)."""
        return self.onion.status()

    @property
    def onion_service(self) -> OnionService | None:
        """The onion service task (None without ``--tor``)."""
        return self.onion.service

    @property
    def onion_listen_port(self) -> int | None:
        """The loopback port tor maps the onion service to (None without an onion service)."""
        return self.onion.listen_port

    async def _accepted(self, stream: trio.SocketStream) -> None:
        try:
            host = stream.socket.getpeername()[0]
        except OSError:
            await trio.aclose_forcefully(stream)
            return
        source = self.admission.enter(host, len(self.links), self.node.engine.config.max_links)
        if source is None:  # too many strangers mid-handshake, or no room for another link: close at once
            await trio.aclose_forcefully(stream)
            return
        await self.run_link(stream, host, initiator=False, admitted=source)

    async def dial(self, key: Address) -> None:
        """Carry out a Connect effect (``key`` is an address; a ``.onion`` host goes through tor)."""
        if is_onion(key[0]):
            onion, reason = await self.onion.dial(key, self.now())     # (a failure asks tor for NEWNYM)
            if onion is None:
                log.info("dial %s: %s", links.show(key), for_log(reason))
                self._event(LinkClosed(key, reason))
                return
            await self.run_link(onion, key[0], initiator=True, key=key, via="onion")
            return
        try:
            with trio.fail_after(DIAL_TIMEOUT):
                stream = await trio.open_tcp_stream(*key)
        except (OSError, trio.TooSlowError) as exc:
            log.debug("dial %s failed: %s", links.show(key), exc)
            self._event(LinkClosed(key, f"dial failed: {exc}"))
            return
        await self.run_link(stream, key[0], initiator=True, key=key)

    async def run_link(self, stream: trio.abc.Stream, host: str, *, initiator: bool,
                       key: Address | None = None, admitted: str | None = None, via: str = "direct") -> None:
        """Handshake on ``stream`` and serve the link until it ends (``link_serving.py``). Usable with any trio
        stream. ``key``: the address dialled (None when accepted). ``admitted``: the admission slot this
        connection holds until its handshake ends. ``via``: "onion" for a link through Tor. Never raises
        but for cancellation: whatever goes wrong on this link (even a bug) ends this link only.
        """
        await self.serving.run_link(stream, host, initiator=initiator, key=key, admitted=admitted, via=via)

    def _output(self, node: NodeId) -> bytes:
        """What the node has to send ``node``'s link (``LinkServer`` asks only for the registered link)."""
        if self._writes.pending:
            self._commit_quietly()          # what a link sends is on disk first (an op's group may wait)
        return self.node.take_output(node)

    async def _timers(self) -> None:
        """The one place the daemon sleeps: until the node's next deadline, or until an event may have
        moved it (every ``_apply`` sets ``_timers_changed``)."""
        while True:
            self._timers_changed = trio.Event()
            deadline = self.node.next_deadline()
            now = self.now()
            retry = self._writes.retry_at
            if retry is not None:
                if retry <= now:
                    self._probe_disk(now)
                    continue
                deadline = retry if deadline is None else min(deadline, retry)
            if deadline is None or deadline > now:
                with trio.move_on_after(3600.0 if deadline is None else deadline - now):
                    await self._timers_changed.wait()
                continue
            mark("timers.start")
            try:
                effects = self.node.handle_deadline(now)
            except Exception as exc:  # noqa: BLE001 - the backstop: the node isolates its paths; never end here
                await trio.sleep(self.faults.report("the node's timers", exc, now))
                continue
            self._apply(effects)
            mark("timers.done")
            await trio.lowlevel.checkpoint()   # the links run between two rounds of due timers

    # ---------------------------------------------------------------------------------------------
    # effects

    def _event(self, event: Event) -> None:
        self._apply(self.node.handle(event, self.now()))

    def _apply(self, effects: Sequence[Effect], *, commit: bool = True) -> None:
        """Carry out the node's effects in order; pending envelopes are written before anything that
        needs them on disk, and events wait for that write (nothing is shown before it is stored).
        ``commit``: write now (before this task yields, so before any writer can send); an op passes
        False and joins the group commit instead (transport/group_commit.py)."""
        for effect in effects:
            if isinstance(effect, Persist):
                self._writes.persist(effect)
            elif isinstance(effect, OutputReady):
                link = self._link(effect.peer)
                if link is not None:
                    link.kick()
            elif isinstance(effect, Notify):
                self._shown.append((effect.name, effect.data))
            elif isinstance(effect, Tell):
                if self.events.subscribed or self._notifies(effect.fact):   # (views are built for someone only)
                    self._shown.append(effect.fact)
            elif isinstance(effect, SaveState):
                self._commit_quietly()
                self._save_state(effect.state)
            elif isinstance(effect, (DeleteEnvelopes, DeleteTopic, ExpireEnvelopes)):
                try:
                    self._writes.delete(effect, self.now())
                except DiskFull:
                    pass            # (the deletion ran; own envelopes wait for room: _commit tells the op)
            elif isinstance(effect, Connect):
                address = links.as_address(effect.peer)
                if address is not None and self._nursery is not None:  # (a node already linked: _admit settles it)
                    self._nursery.start_soon(self.dial, address)
            elif isinstance(effect, DropLink):
                self._drop(effect)
            elif isinstance(effect, Log):
                log.log(logging.WARNING if effect.level == "warning" else logging.INFO, "%s", effect.message)
            elif isinstance(effect, Fault):
                self.faults.report(effect.where, effect.exception, self.now())
        if commit:
            self._commit_quietly()
        self._watch_disk()
        self._timers_changed.set()

    def _commit(self) -> None:
        """Write what is pending (one transaction; fsynced if it holds this node's own envelopes), then
        show the events that waited for it."""
        self._writes.flush(self.now())
        shown, self._shown = self._shown, []
        facts = []
        for item in shown:
            if isinstance(item, tuple):
                self._send_event(*item)
            else:
                facts.append(item)
        self.presenter.add(facts)

    def _commit_quietly(self) -> None:
        """``_commit`` where nobody waits for an answer (a link, a timer): a full disk is already logged and
        shown by ``status``; own envelopes wait for room, and the op that made them heard DiskFull."""
        try:
            self._commit()
        except DiskFull:
            pass

    def _save_state(self, state: LocalState) -> None:
        """Write the state file; on a full disk keep it to write when there is room (``_probe_disk``)."""
        try:
            self._state_file.save(state)
            self._unsaved_state = None
        except DiskFull as exc:
            self._unsaved_state = state
            self._writes.became_full(exc, self.now())

    def _watch_disk(self) -> None:
        """A full disk pauses fetching (what arrives would be dropped, so ask for nothing)."""
        if self._writes.full is not None and self.node.engine.fetching:
            self.node.pause_fetching()

    def _probe_disk(self, now: float) -> None:
        """While the disk is full (at the writer's ``retry_at``): write what waits, and once there is room,
        resume fetching so catch-up goes on by itself."""
        if not self._writes.probe(now):
            return
        if self._unsaved_state is not None:
            self._save_state(self._unsaved_state)
            if self._unsaved_state is not None:
                return
        self._apply(self.node.resume_fetching(now))

    @property
    def disk_full(self) -> str | None:
        """What ``status`` says of a full disk (None: writes work)."""
        full = self._writes.full
        if full is None:
            return None
        since = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(self._writes.full_since or self.now()))
        return f"{full} (full since {since})"

    def _present_one(self, fact: Fact) -> None:
        subscribed, notifies = self.events.subscribed, self._notifies(fact)
        if subscribed or notifies:          # (the views an event shows are built for someone only)
            event = event_of(fact, self.node, self.now())
            if subscribed:
                self._publish(event)
            if notifies and self.notifier is not None:
                self.notifier.consider(event, self.now())

    def _notifies(self, fact: Fact) -> bool:
        return self.notifier is not None and self.notifier.wants(fact)

    def _publish(self, event: ControlEvent) -> None:
        self._send_event(event.NAME, event.to_data())

    def _send_event(self, name: str, data: Data) -> None:
        """Publish an event to the subscribers with its number (``seq``: what a snapshot is ordered by).
        Numbered even when no one listens (a snapshot's ``seq`` stays right), but not copied or checked:
        a node catching up emits one per envelope, and doing that work for nobody slowed it measurably."""
        self.event_seq += 1
        if not self.events.subscribed:
            return
        self.events.publish(name, {**data, "seq": self.event_seq})

    def _drop(self, effect: DropLink) -> None:
        link = self._link(effect.peer)
        if link is None or self._nursery is None:
            return
        del self.links[link.key]
        log.info("dropping link %s: %s", links.show(link.address), for_log(effect.reason))
        link.farewell = effect.farewell
        link.kick()
        self._nursery.start_soon(farewell, link)  # (link_serving.py)

    def _link(self, peer: PeerKey) -> Link | None:
        """The link of ``peer`` (links are keyed by node id; anything else names no link)."""
        return self.links.get(NodeId(peer)) if isinstance(peer, bytes) else None

    def _hints(self) -> list[str]:
        """Addresses put in invite tokens: where this node listens (the joiner may also find it by mDNS)."""
        host = self.listen[0]
        if host in ("0.0.0.0", "::", ""):
            return []
        return [links.show((host, self.port))]

    def discovered(self, key: Address, segment: str) -> None:
        self._event(PeerDiscovered(key, segment))

    def lost(self, key: Address) -> None:
        self._event(PeerLost(key))

    # ---------------------------------------------------------------------------------------------
    # control (ControlHandler): the ops table, and the three ops that need this shell

    async def request(self, op: str, args: Data) -> Data:
        """Perform ``op``; raises UnknownOp for an op in no table, or whatever the op raises."""
        return await self._dispatcher.request(op, args)

    def subscribe(self) -> trio.MemoryReceiveChannel[EventItem]:
        return self.events.subscribe()

    def perform(self, op: str, args: Data) -> Data:
        """``request`` without the event loop: run one op now and carry out its effects. Raises UnknownOp
        for an op in no table, BadInput (NotFound) as the op does."""
        result, effects = perform(self._ops, op, self.node, args, self.now())
        mark("op.done")
        self._apply(effects)
        mark("op.applied")
        return result

    def _async_op(self, op: str) -> Callable[[Data], Awaitable[Data]]:
        async def run(args: Data) -> Data:
            result, effects = perform(self._ops, op, self.node, args, self.now())
            mark("op.done")
            self._apply(effects, commit=False)
            writes = any(isinstance(e, Persist) and not e.received or isinstance(e, SaveState) for e in effects)
            try:
                await self._group.join()
            except DiskFull:    # the round's own envelopes wait for room: only an op that wrote hears it
                if writes:
                    raise
            full = self._writes.full
            if writes and full is not None and self._unsaved_state is not None:
                raise DiskFull(f"{full}. This change was not saved: it is kept in memory and written once there "
                               "is room, but lost if meshcare stops before then.", full.directory)
            mark("op.applied")
            return result
        return run
