"""Events into and effects out of the ``Node`` (``node.py``), the one facade of the core.

Events are past-tense facts the shell (the trio daemon, a test, the simulator) reports; effects are
imperatives it carries out, in the order given, before it reports the next event. The link and peer
events and the engine's effects are the sync engine's own (``sync/events.py``), re-exported here so a
shell needs this one module; ``Deliver`` never leaves the node: it is taken in by the circles and comes
out as ``Notify`` (and ``SaveState``, ``Log``, ...).

Effects that touch the store apply in order: pending ``Persist`` batches are written before a
``SaveState`` or any deletion that follows them, so what is forwarded or deleted was on disk first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

from .circles.changes import Fact
from .circles.state import LocalState
from .envelope import Envelope
from .ids import TopicId
from .sync.events import (Connect, DataReceived, DropLink, LinkClosed, LinkOpened, OutputReady, PeerDiscovered,
                          PeerKey, PeerLost, Persist)

__all__ = ["Authored", "Connect", "DataReceived", "DeleteEnvelopes", "DeleteTopic", "DropLink", "Effect", "Event",
           "ExpireEnvelopes", "Fault", "LinkClosed", "LinkOpened", "Log", "Notify", "OutputReady", "PeerDiscovered",
           "PeerKey", "PeerLost", "Persist", "PlainTopicJoined", "SaveState", "Started", "Tell", "TorChanged"]


# --- events --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Started:
    """The shell is up (its listener bound): restore the circles from the store, join their topics.

    ``hints``: the addresses this node advertises in invite tokens (where it listens; empty when it
    listens on every interface and peers find it by mDNS).
    """

    hints: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TorChanged:
    """What tor offers this node changed (the daemon says so at start with ``--tor`` and on every change:
    the onion service published, tor lost, tor back).

    ``dial``: tor's SOCKS port is configured, so members' onion addresses are worth dialling;
    ``onion``: this node's published onion service as "xxx.onion:PORT", None when it has none (dial
    out only, not published yet, or tor gone). The node names it in invites and tells its circles
    (a ``reach`` roster operation, unless the person turned that off for a circle).
    """

    dial: bool
    onion: str | None = None


@dataclass(frozen=True, slots=True)
class Authored:
    """This node made these envelopes (an op or a duty, through the registry): persist them (fsynced),
    gossip them, save the local state that counted them."""

    items: tuple[tuple[TopicId, Envelope], ...]


@dataclass(frozen=True, slots=True)
class PlainTopicJoined:
    """Sync ``topic`` without a circle: anyone may, and any validly signed envelope is accepted.
    Tests and benchmarks only (``meshcare daemon --bench-ops``)."""

    topic: TopicId


Event: TypeAlias = (Started | Authored | PlainTopicJoined | PeerDiscovered | PeerLost | LinkOpened
                    | DataReceived | LinkClosed | TorChanged)


# --- effects (besides the engine's Connect, OutputReady, Persist, DropLink) -----------------------


@dataclass(frozen=True, slots=True)
class SaveState:
    """Write the local state file (circle secrets, counters, plan) now, after pending Persists."""

    state: LocalState


@dataclass(frozen=True, slots=True)
class DeleteEnvelopes:
    """Delete these envelopes from the store (a roster change showed they were never acceptable)."""

    ids: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class DeleteTopic:
    """Delete everything stored under ``topic`` (a circle this node left or was removed from)."""

    topic: TopicId


@dataclass(frozen=True, slots=True)
class ExpireEnvelopes:
    """The store's retention sweep: delete envelopes expired at ``now``."""

    now: int


@dataclass(frozen=True, slots=True)
class Notify:
    """A control event for subscribed clients (docs/control.md: ``envelope``, ``circle``, ``call``)."""

    name: str
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Tell:
    """Tell subscribed clients a fact about this node's circles (``circles/changes.py``: a member joined,
    a call changed, catching up, ...); ``meshcare.ops.events`` makes the control event of it."""

    fact: Fact


@dataclass(frozen=True, slots=True)
class Log:
    """A line for the node's log: what the node did on its own (a duty, a purge) or could not do."""

    level: Literal["info", "warning"]
    message: str


@dataclass(frozen=True, slots=True)
class Fault:
    """An unexpected exception (a bug) in one of the node's paths (``where``); that path was postponed
    with a growing backoff and everything else went on. The shell reports it (log, counter)."""

    where: str
    exception: Exception


Effect: TypeAlias = (Connect | OutputReady | Persist | DropLink | SaveState | DeleteEnvelopes | DeleteTopic
                     | ExpireEnvelopes | Notify | Tell | Log | Fault)
