"""``LinkTable``: the engine's links, and every frame it queues on them.

Each link is a ``Link`` record (its ``Session``, the peer's budget, who dialled, liveness, round trip). All
output goes through the table: ``send`` queues one frame on a link's session and yields ``OutputReady`` for
the shell to pull the bytes; ``send_ids`` splits an id list at ``MAX_IDS_PER_FRAME`` so that no frame we
send exceeds the frame cap, however many ids peers made us hold; ``push`` batches envelopes into Push frames
of at most ``PUSH_BATCH_BYTES`` (the session merges consecutive ones further while they wait, up to the
same size). A frame for a peer with no link, or one the session's full queue drops, is not sent; the
session counts the drops. ``forget`` folds a closed link's byte counters into the engine's statistics, so
they outlive the link.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import ItemsView, Iterator, Mapping, Sequence, ValuesView
from dataclasses import dataclass
from typing import Final

from . import events as ev
from .budget import PeerBudget
from .events import PeerKey
from .frames import MAX_IDS_PER_FRAME, Graft, Heads, IHave, Ping, Prune, Push, Reconcile, Want
from .session import QueueLane, Session

#: Envelope bytes one Push we build may carry (the frame cap is 256 KiB).
PUSH_BATCH_BYTES: Final = 200_000

#: The frames the engine sends (Hello, Topics, Pong and Close are the session's own).
Outgoing = Push | Ping | IHave | Graft | Prune | Want | Heads | Reconcile


@dataclass(slots=True)
class Link:
    """One link as the engine sees it: its session, its budget, who dialled, liveness, round trip."""

    session: Session
    budget: PeerBudget
    initiator: bool
    last_rx: float
    opened: float
    rtt: float = 0.0
    node: bytes = b""
    slow: bool = False      # through Tor: longer ping interval and dead_after (SyncConfig.*_slow)


class LinkTable(Mapping[PeerKey, Link]):
    """Links by peer, read as a mapping; changed only through ``add`` and ``forget``."""

    def __init__(self, stats: Counter[str]) -> None:
        self._links: dict[PeerKey, Link] = {}
        self._stats = stats      # the engine's counters: frames_out, and the totals of forgotten links

    # --- the mapping (delegated to the dict: these run for every frame) ---------------------------------

    def __getitem__(self, peer: PeerKey) -> Link:
        return self._links[peer]

    def __iter__(self) -> Iterator[PeerKey]:
        return iter(self._links)

    def __len__(self) -> int:
        return len(self._links)

    def __contains__(self, peer: object) -> bool:
        return peer in self._links

    def items(self) -> ItemsView[PeerKey, Link]:
        return self._links.items()

    def values(self) -> ValuesView[Link]:
        return self._links.values()

    # --- membership -----------------------------------------------------------------------------------

    def add(self, peer: PeerKey, link: Link) -> None:
        self._links[peer] = link

    def forget(self, peer: PeerKey) -> Link | None:
        """Remove ``peer``'s link, keeping its counters in the statistics; the link, or None if none."""
        link = self._links.pop(peer, None)
        if link is not None:
            self._stats["dropped_queue"] += link.session.dropped_frames
            for name in ("bytes_in", "bytes_out", "payload_in", "payload_out"):
                self._stats[name] += getattr(link.session, name)
        return link

    def sharing(self, topic: bytes) -> list[PeerKey]:
        """The peers this topic is shared with, in table order."""
        return [p for p, link in self._links.items() if topic in link.session.shared]

    # --- output ---------------------------------------------------------------------------------------

    def send(self, peer: PeerKey, frame: Outgoing, lane: QueueLane, out: list[ev.Effect]) -> None:
        link = self._links.get(peer)
        if link is None:
            return
        if not link.session.send(frame, lane):
            return  # counted by the session (dropped_frames)
        self._stats["frames_out"] += 1
        out.append(ev.OutputReady(peer))

    def send_ids(self, peer: PeerKey, kind: type[IHave] | type[Graft] | type[Want], topic: bytes,
                 ids: Sequence[bytes], lane: QueueLane, out: list[ev.Effect]) -> None:
        """Send an id list as as many frames as it takes (``MAX_IDS_PER_FRAME`` each)."""
        for start in range(0, len(ids), MAX_IDS_PER_FRAME):
            self.send(peer, kind(topic, list(ids[start:start + MAX_IDS_PER_FRAME])), lane, out)

    def push(self, peer: PeerKey, topic: bytes, raws: Sequence[bytes], lane: QueueLane, out: list[ev.Effect],
             *, catchup: bool = False) -> None:
        """Push encoded envelopes of ``topic`` in batches (``catchup``: the receiver does not re-broadcast
        them). Nothing is sent for an empty list."""
        batch: list[bytes] = []
        size = 0
        for raw in raws:
            if batch and size + len(raw) > PUSH_BATCH_BYTES:
                self.send(peer, Push(topic, batch, catchup), lane, out)
                batch, size = [], 0
            batch.append(raw)
            size += len(raw) + 3
        if batch:
            self.send(peer, Push(topic, batch, catchup), lane, out)
