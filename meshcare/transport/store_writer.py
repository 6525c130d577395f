"""The node's store effects, written the way the promise "the node never loses what it accepted" needs.

``Persist`` effects are gathered and written in one transaction (``flush``), fsynced when the batch
holds envelopes of this node (received ones are held by their senders too). The daemon flushes before
it yields, so before any link writer can send what it persists, and before a ``SaveState`` or a
deletion that follows them in the same effect list (``delete``), so those act on what is on disk.
"""

from __future__ import annotations

import logging

from .. import envelope as env
from ..node_events import DeleteEnvelopes, DeleteTopic, ExpireEnvelopes, Persist
from ..store import Store

log = logging.getLogger("meshcare.daemon")


class StoreWriter:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._pending: list[env.Envelope] = []
        self._own = False  # the pending batch holds envelopes of this node: fsync it

    @property
    def pending(self) -> bool:
        """Envelopes gathered and not written yet."""
        return bool(self._pending)

    def persist(self, effect: Persist) -> None:
        self._pending.extend(effect.envelopes)
        self._own = self._own or not effect.received

    def flush(self, now: float) -> None:
        """Write what ``persist`` gathered, in one transaction."""
        if self._pending:
            batch, self._pending = self._pending, []
            self.store.add(batch, int(now), durable=self._own)
            self._own = False

    def delete(self, effect: DeleteEnvelopes | DeleteTopic | ExpireEnvelopes, now: float) -> None:
        """Carry out one deletion, after what is pending."""
        self.flush(now)
        if isinstance(effect, DeleteEnvelopes):
            self.store.delete(list(effect.ids))
        elif isinstance(effect, DeleteTopic):
            self.store.delete_topic(effect.topic)
        elif deleted := self.store.expire(effect.now):
            log.info("retention: deleted %d expired envelopes", deleted)
