"""Serving one link: the handshake, admission to the links table, and the link's reader and writer.

Why it is apart from ``daemon.py``: the daemon dials, accepts and carries out the node's effects; what happens
on one authenticated stream is this module's, and it needs only narrow pieces of the daemon: the links table
(shared, keyed by the remote node id), the node's event sink, the output a node has for a link, the
admission slots, the faults backstop and the Tor side (``tor/onion_links.py``: the binding a handshake over
Tor names, NEWNYM after a stalled one).

One link per node pair (``_admit``): when both dial at once, the connection dialled by the smaller node id
survives; but a direct link (LAN, an address) always beats a link through Tor to the same node, never the
reverse. A link replaced or dropped may still wake once before its cancellation lands: only the link
registered under its node id reads for the node or takes its output (``_on_data``, ``_output_for``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import trio

from ..control.events import Event as ControlEvent
from ..crypto.channel import Channel
from ..crypto.keys import Identity
from ..errors import LinkError, RemoteProtocolError
from ..ids import NodeId
from ..node_events import DataReceived, Event, LinkClosed, LinkOpened
from ..ops.events import peer_event
from ..text import for_log
from . import links
from .admission import Admission
from .backstop import Faults
from .links import Address, Link
from .tor.onion_links import OnionLinks
from .trace import mark

log = logging.getLogger("meshcare.daemon")


class LinkServer:
    """Runs links for one daemon (``Daemon.run_link`` is ``run_link`` here).

    ``links_table``: the daemon's table of links by node id (this class adds and removes its entries; the daemon's
    ``DropLink`` removes one too). ``event``: hands the node an event and carries out its effects.
    ``publish``: a control event for subscribers (``peer``). ``output``: what the node has to send a linked
    node, written to disk first. ``port``: the port this node listens on (a handshake's binding names it).
    ``now``: the daemon's clock. ``wire_closed``: ciphertext bytes (in, out) of links that have closed.
    """

    def __init__(self, identity: Identity, links_table: dict[NodeId, Link], *, event: Callable[[Event], None],
                 publish: Callable[[ControlEvent], None], output: Callable[[NodeId], bytes],
                 port: Callable[[], int], now: Callable[[], float], admission: Admission, onion: OnionLinks,
                 faults: Faults) -> None:
        self._identity = identity
        self.links = links_table
        self._event = event
        self._publish = publish
        self._output = output
        self._port = port
        self._now = now
        self._admission = admission
        self._onion = onion
        self._faults = faults
        self.wire_closed = [0, 0]

    async def run_link(self, stream: trio.abc.Stream, host: str, *, initiator: bool,
                       key: Address | None = None, admitted: str | None = None, via: str = "direct") -> None:
        """Handshake on ``stream`` and serve the link until it ends. Usable with any trio stream.

        ``key``: the address dialled (None when accepted). ``admitted``: the admission slot this
        connection holds until its handshake ends. ``via``: "onion" for a link through Tor. Never raises
        but for cancellation: whatever goes wrong on this link (even a bug) ends this link only.
        """
        try:
            async with stream:
                channel, early, started = await self._handshake(stream, host, initiator, key, admitted, via)
                if channel is not None:
                    await self._serve(stream, host, channel, early, started, initiator, key, via)
        except Exception as exc:  # noqa: BLE001 - the backstop: a bug on one link never ends the node
            self._faults.report("a link", exc, self._now())

    async def _handshake(self, stream: trio.abc.Stream, host: str, initiator: bool, key: Address | None,
                         admitted: str | None, via: str = "direct") -> tuple[Channel | None, bytes, float]:
        started = trio.current_time()
        onion = via == "onion"
        own_key, port = self._onion.binding(initiator, self._port()) if onion else (None, self._port())
        try:
            channel, early = await links.handshake(
                stream, self._identity, initiator, port,
                links.TOR_HANDSHAKE_TIMEOUT if onion else links.HANDSHAKE_TIMEOUT, own_key)
        except (LinkError, RemoteProtocolError) as exc:
            log.info("handshake with %s failed: %s", for_log(host), for_log(links.describe(exc)))
            if key is not None:
                self._event(LinkClosed(key, links.describe(exc), isinstance(exc, RemoteProtocolError)))
                if onion and isinstance(exc, LinkError):
                    self._onion.stalled(self._now())   # a stalled circuit: fresh ones for the next try
            return None, b"", started
        except Exception:  # not swallowed: the engine hears the dial ended, the backstop logs the bug
            if key is not None:
                self._event(LinkClosed(key, "internal error during the handshake"))
            raise
        finally:
            if admitted is not None:
                (self._onion.admission if onion else self._admission).leave(admitted)
        return channel, early, started

    async def _serve(self, stream: trio.abc.Stream, host: str, channel: Channel, early: bytes, started: float,
                     initiator: bool, dialled: Address | None, via: str = "direct") -> None:
        node = channel.remote_node
        address = dialled if dialled is not None else links.accepted_address(host, channel, via)
        wake_send, wake_recv = trio.open_memory_channel[None](1)
        link = self._admit(address, channel, stream, initiator, wake_send, via)
        if link is None:
            if dialled is not None:  # the engine's dial ends here; the node at that address is known
                self._event(LinkClosed(dialled, "already linked with that node", node=bytes(node)))
            return
        ended: list[BaseException] = []

        async def guarded(work: Callable[..., Awaitable[None]], *args: object) -> None:
            try:
                await work(*args)
            except (LinkError, RemoteProtocolError) as exc:
                ended.append(exc)
            except Exception as exc:  # noqa: BLE001 - the backstop: this link ends, the node does not
                self._faults.report("serving a link", exc, self._now())
                ended.append(exc)
            link.scope.cancel()

        async def opened() -> None:
            if self.links.get(node) is not link:
                return      # (replaced before it began: the node never hears of it, as _on_data)
            # the dialler's handshake spans 1.5 round trips, the listener's 1: an estimate
            rtt = (trio.current_time() - started) / (1.5 if initiator else 1.0)
            self._event(LinkOpened(node, channel.handshake_hash, initiator, rtt, bytes(node), dialled,
                                   slow=via == "onion"))
            if early:
                self._event(DataReceived(node, early))
            await links.read_loop(stream, channel, self._on_data(link))

        try:
            with link.scope:
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(guarded, links.write_loop, stream, channel, wake_recv,
                                       lambda: self._output_for(link))
                    await guarded(opened)
        finally:
            reason = links.describe(ended[0]) if ended else "closed"
            misbehaved = bool(ended) and isinstance(ended[0], RemoteProtocolError)
            log.info("link %s ended: %s", links.show(address), for_log(reason))
            self.wire_closed[0] += channel.wire_in
            self.wire_closed[1] += channel.wire_out
            if self.links.get(node) is link:
                del self.links[node]
                self._event(LinkClosed(node, reason, misbehaved))
                self._publish(peer_event(links.show(address), node, False, link.via))

    def _output_for(self, link: Link) -> bytes:
        """Only the link currently registered under its node id takes that node's output: a replaced link's
        writer, waking once more before its cancellation lands, must not swallow the new link's Hello."""
        if self.links.get(link.key) is not link:
            return link.take_farewell()
        return self._output(link.key)

    def _on_data(self, link: Link) -> Callable[[bytes], Awaitable[None]]:
        """Only the link currently registered under its node id hands bytes to the node: trio returns what a
        socket already read even to a reader cancelled meanwhile, so a link just replaced (``_admit``) or
        dropped may deliver once more, and by node id alone its old session's Hello would reach the new
        link's session ("unexpected Hello frame while live": both ends then dropped as misbehaving)."""
        async def deliver(data: bytes) -> None:
            if self.links.get(link.key) is not link:
                return
            self._event(DataReceived(link.key, data))
            mark("data.handled")
        return deliver

    def _admit(self, address: Address, channel: Channel, stream: trio.abc.Stream, initiator: bool,
               wake: trio.MemorySendChannel[None], via: str = "direct") -> Link | None:
        """One link per node pair: a direct link beats one through Tor (never the reverse); otherwise the
        connection dialled by the smaller node id wins."""
        node_id = channel.remote_node
        if node_id == self._identity.node_id:
            log.info("%s is this node itself; not linking", links.show(address))
            return None
        mine = self._identity.node_id
        other = self.links.get(node_id)
        if other is not None:
            dialler_new = mine if initiator else node_id
            dialler_old = mine if other.initiator else node_id
            if via != other.via:
                if via == "onion":
                    return None  # a direct link to that node is up: it is faster, and it stays
            elif dialler_old <= dialler_new:
                return None  # keep the existing link; the engine already has it under the node id
            other.scope.cancel()
            del self.links[node_id]
            self._event(LinkClosed(node_id, "replaced by a direct link" if via != other.via
                                   else "replaced by a simultaneous connection"))
        link = Link(node_id, address, node_id, initiator, stream, channel, wake, via=via)
        self.links[node_id] = link
        self._publish(peer_event(links.show(address), node_id, True, via))
        return link



async def farewell(link: Link) -> None:
    """Give the link's own writer a second to send the goodbye, then end the link. Only the writer
    ever writes a link's stream: a second sender would interleave bytes and Noise nonces."""
    with trio.move_on_after(1.0):
        await link.farewell_sent.wait()
    link.scope.cancel()
