"""A link over any trio stream: the Noise handshake, then a reader and a coalescing writer.

The decisions are elsewhere (``crypto/channel.py`` for the bytes, ``circles/node.py`` for what to send);
this module only moves bytes. The writer sends whatever the engine has queued for the peer as one
``send_all`` (one call per frame costs ~10 µs; one per batch is ~30x cheaper).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import trio

from ..crypto.binding import OnionKeyLike
from ..crypto.channel import Channel, Handshake
from ..crypto.keys import Identity
from ..crypto.onion_key import onion_address
from ..errors import LinkBroken, LinkClosed, RemoteProtocolError
from ..ids import NodeId
from .trace import mark

READ_SIZE = 1 << 16
HANDSHAKE_TIMEOUT = 10.0
#: A handshake over Tor: three messages across a six-hop rendezvous circuit, on a circuit possibly just built
TOR_HANDSHAKE_TIMEOUT = 30.0
Address = tuple[str, int]   # an address to dial: (host, listening port)


@dataclass(eq=False)
class Link:
    """One authenticated link, registered in ``Daemon.links`` under its node id (``key``).

    ``address``: where it was dialled, or (remote IP, the listening port its binding claims) when
    accepted; shown to people (``meshcare peers``), never used to find or replace a link.
    """

    key: NodeId
    address: Address
    node_id: NodeId
    initiator: bool
    stream: trio.abc.Stream
    channel: Channel
    wake: trio.MemorySendChannel[None]
    scope: trio.CancelScope = field(default_factory=trio.CancelScope)
    #: "direct" (the LAN, an address) or "onion" (through Tor)
    via: str = "direct"
    opened: float = field(default_factory=time.time)
    #: Set when the link is dropped: the goodbye its writer sends last (b"": none, or already taken).
    farewell: bytes | None = None
    farewell_sent: trio.Event = field(default_factory=trio.Event)

    def take_farewell(self) -> bytes:
        """What the writer of a dropped link still sends: the goodbye once; then nothing, which also
        tells ``farewell_sent`` that the goodbye (if any) has gone out."""
        if self.farewell is None:
            return b""
        data, self.farewell = self.farewell, b""
        if not data:
            self.farewell_sent.set()
        return data

    def kick(self) -> None:
        try:
            self.wake.send_nowait(None)
        except (trio.WouldBlock, trio.ClosedResourceError, trio.BrokenResourceError):
            pass  # a wake-up is already pending, or the link is going away


async def _receive(stream: trio.abc.Stream) -> bytes:
    try:
        data = await stream.receive_some(READ_SIZE)
    except (trio.BrokenResourceError, OSError) as exc:
        raise LinkBroken(f"connection failed: {exc}") from None
    except trio.ClosedResourceError:
        raise LinkClosed("link closed") from None
    if not data:
        raise LinkClosed("the peer closed the connection")
    return bytes(data)


async def send(stream: trio.abc.Stream, data: bytes) -> None:
    """``send_all`` with meshcare's link errors."""
    try:
        await stream.send_all(data)
    except (trio.BrokenResourceError, OSError) as exc:
        raise LinkBroken(f"connection failed: {exc}") from None
    except trio.ClosedResourceError:
        raise LinkClosed("link closed") from None


async def handshake(stream: trio.abc.Stream, identity: Identity, initiator: bool, listen_port: int,
                    timeout: float = HANDSHAKE_TIMEOUT, onion: OnionKeyLike | None = None) -> tuple[Channel, bytes]:
    """Run Noise_XX on ``stream``; return the channel and any transport plaintext already received.
    ``onion``: name this onion key in the binding (``crypto/binding.py``: a dial over Tor).

    Raises LinkBroken/LinkClosed for the connection, RemoteProtocolError for a bad peer, and
    LinkBroken when the peer does not finish within ``timeout`` seconds.
    """
    state = Handshake(identity, initiator, listen_port, onion)
    with trio.move_on_after(timeout) as scope:
        first = state.start()
        if first:
            await send(stream, first)
        while state.channel is None:
            reply = state.receive(await _receive(stream))
            if reply:
                await send(stream, reply)
    if scope.cancelled_caught:
        raise LinkBroken(f"the peer did not complete the handshake within {timeout:.0f} s")
    if state.channel is None:  # unreachable: the loop only ends with a channel or by the timeout
        raise LinkBroken("the handshake ended without a channel")
    return state.channel, state.early_data


async def read_loop(stream: trio.abc.Stream, channel: Channel, on_data: Callable[[bytes], Awaitable[None]]) -> None:
    """Decrypt everything the peer sends and hand it on, until the link ends (raises LinkError)."""
    while True:
        plaintext = channel.open(await _receive(stream))
        mark("link.read")
        if plaintext:
            await on_data(plaintext)


async def write_loop(stream: trio.abc.Stream, channel: Channel, wake: trio.MemoryReceiveChannel[None],
                     take: Callable[[], bytes]) -> None:
    """Each time ``wake`` fires, send everything ``take()`` returns, encrypted, in one write."""
    async for _ in wake:
        while True:
            data = take()
            if not data:
                break
            sealed = channel.seal(data)
            mark("link.sending")
            await send(stream, sealed)


def describe(exc: BaseException) -> str:
    """A one-line reason for the log and the engine."""
    if isinstance(exc, RemoteProtocolError):
        return f"protocol error: {exc}"
    return str(exc) or type(exc).__name__


def as_address(peer: object) -> Address | None:
    """``peer`` as an address to dial (the daemon names peers to dial by address), else None."""
    if isinstance(peer, tuple) and len(peer) == 2 and isinstance(peer[0], str) and isinstance(peer[1], int):
        return peer[0], peer[1]
    return None


def accepted_address(host: str, channel: Channel, via: str) -> Address:
    """What an accepted link shows as its address: the remote host and the port its binding names; over
    Tor (where the host is always 127.0.0.1) the onion address its binding names and proves, if any."""
    if via == "onion":
        if channel.remote_onion is not None:
            return onion_address(channel.remote_onion), channel.remote_port
        # a dialler without an onion service (dial out only): 127.0.0.1 and the port of its LAN listener
        # would name this machine, not the peer; port 0 says "reachable at no address we know"
        return host, 0
    return host, channel.remote_port


def show(address: Address) -> str:
    """``host:port`` (``[v6]:port``) for people and the log."""
    host, port = address
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
