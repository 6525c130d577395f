"""Events into and effects out of the sync engine (``SyncEngine``).

Events are past-tense facts the shell (trio daemon or simulator) reports; effects are imperatives the
shell carries out, in the order given, before it reports the next event. Peers are named by an opaque,
hashable ``PeerKey`` the shell chooses. The daemon names a link by the remote node id (authenticated in
the handshake) and a peer to dial by its address (``Connect``, ``PeerDiscovered``); ``LinkOpened.address``
ties the two together. The simulator uses one int for both.

Outgoing bytes are not effects: the engine keeps a bounded, prioritised queue per peer and returns
``OutputReady(peer)``; the shell then calls ``SyncEngine.take_output(peer, max_bytes)`` when it can write,
so the engine decides what goes first (urgent before bulk) and coalesces frames into one write.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import TypeAlias

from ..envelope import Envelope
from ..ids import TopicId

PeerKey: TypeAlias = Hashable


# --- events --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PeerDiscovered:
    """A peer became reachable (mDNS, a static --peer, or the simulator's topology).

    ``segment`` names the network it was found on (an interface, a LAN); the engine keeps links into
    every segment it sees, so bridge nodes actually bridge. ``node``: the node id the address is known to
    belong to (a member's onion address from the roster), b"" when unknown: while that node is linked
    (over any address) the address is not dialled, so a LAN link to a member keeps its onion address idle.
    """

    peer: PeerKey
    segment: Hashable = 0
    node: bytes = b""


@dataclass(frozen=True, slots=True)
class PeerLost:
    """Discovery no longer sees the peer (a hint only: liveness comes from links)."""

    peer: PeerKey


@dataclass(frozen=True, slots=True)
class LinkOpened:
    """An authenticated link is up. ``handshake_hash`` binds topic tags to this link only.

    ``rtt``: the round trip the shell measured (e.g. during the handshake), in seconds; 0 if unknown.
    The engine waits for announced envelopes a few round trips, not a fixed quarter second, on fast links.
    """

    peer: PeerKey
    handshake_hash: bytes
    initiator: bool
    rtt: float = 0.0
    node: bytes = b""       # the peer's identity, bound in the handshake: decides which circles it may sync
    #: where this link was dialled (the peer of the ``Connect``), None when it was accepted. A shell whose
    #: links are keyed by node id (the daemon) names the address here, so the engine ends that dial and
    #: does not dial the address again while its node is linked; the simulator's keys are both at once.
    address: PeerKey | None = None
    #: a slow link (through Tor): pinged and declared dead later (``SyncConfig.ping_interval_slow``,
    #: ``dead_after_slow``)
    slow: bool = False


@dataclass(frozen=True, slots=True)
class DataReceived:
    """Plaintext bytes from a link (after Noise), in order; any chunking."""

    peer: PeerKey
    data: bytes


@dataclass(frozen=True, slots=True)
class LinkClosed:
    """The link is gone (closed by either side, or broken); ``misbehaved``: the shell caught the peer
    breaking the protocol below the engine (bad MAC, bad handshake), so it is backed off like one."""

    peer: PeerKey
    reason: str = ""
    misbehaved: bool = False
    #: for a dial (``peer`` is the address) that reached a node the shell already has a link with and
    #: kept that link: the node found there, so the engine stops dialling that address while it is linked
    node: bytes = b""


@dataclass(frozen=True, slots=True)
class TopicJoined:
    """Start syncing a topic (the node is a member or relay of its circle).

    ``lobby``: the topic of an open invite (shared with anyone holding the token). When a node holds
    more topics than one Topics frame may name, circles are offered before lobbies.
    """

    topic: TopicId
    lobby: bool = False


@dataclass(frozen=True, slots=True)
class TopicLeft:
    topic: TopicId


@dataclass(frozen=True, slots=True)
class Published:
    """This node authored ``envelope``; gossip it (the engine persists it first)."""

    envelope: Envelope


@dataclass(frozen=True, slots=True)
class AccessChanged:
    """Who may sync which topic changed (a circle's roster changed): re-offer topics on every link."""


@dataclass(frozen=True, slots=True)
class Preferred:
    """These nodes are this node's mailboxes (``meshcare mailbox set``): keep a link to each whenever one
    of its addresses is known, dial them before anyone else, never trim them. Replaces the last set."""

    nodes: frozenset[bytes]


@dataclass(frozen=True, slots=True)
class Released:
    """Envelopes the verifier deferred are now accepted (their author's admission or epoch arrived).

    They are handled as if just received from nobody: persisted, delivered, and gossiped if fresh.
    """

    envelopes: tuple[Envelope, ...]


Event: TypeAlias = (PeerDiscovered | PeerLost | LinkOpened | DataReceived | LinkClosed | TopicJoined
                    | TopicLeft | Published | AccessChanged | Released | Preferred)


# --- effects -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Connect:
    """Open a link to this discovered peer (the engine keeps a bounded neighbour set).

    One link per peer pair: if a link with the peer already exists (it dialled us meanwhile), the shell
    reports nothing; if the dial fails, it reports ``LinkClosed(peer)``.
    """

    peer: PeerKey


@dataclass(frozen=True, slots=True)
class OutputReady:
    """Bytes are queued for ``peer``: call ``take_output(peer, max_bytes)`` when the link can write."""

    peer: PeerKey


@dataclass(frozen=True, slots=True)
class Persist:
    """Store these accepted envelopes, before anything else in this effect list happens.

    ``received``: they came from peers, which hold them too (the shell may skip the fsync); False for
    this node's own envelopes, which must survive a power cut.
    """

    envelopes: tuple[Envelope, ...]
    received: bool = False


@dataclass(frozen=True, slots=True)
class Deliver:
    """A new envelope for the local application (circles, control events); already persisted."""

    envelope: Envelope
    peer: PeerKey | None


@dataclass(frozen=True, slots=True)
class DropLink:
    """Close the link to ``peer`` (protocol error, over budget, neighbour set trimmed).

    ``farewell`` holds the last bytes to write first (queued frames and a Close with the reason), so the
    peer learns why; a shell may skip it when the link is already broken.
    """

    peer: PeerKey
    reason: str
    misbehaved: bool = False
    farewell: bytes = b""


Effect: TypeAlias = Connect | OutputReady | Persist | Deliver | DropLink
