"""The node's store effects, written the way the promise "the node never loses what it accepted" needs.

``Persist`` effects are gathered and written in one transaction (``flush``), fsynced when the batch
holds envelopes of this node (received ones are held by their senders too). The daemon flushes before
it yields, so before any link writer can send what it persists, and before a ``SaveState`` or a
deletion that follows them in the same effect list (``delete``), so those act on what is on disk.

A full disk (``DiskFull``) is a state, not a crash. What was received is dropped (it was never
acknowledged: nothing told a peer or a client it is stored, and its senders resend it once there is
room); this node's own envelopes are kept in memory and written at the next try, and ``flush`` raises
``DiskFull`` while they wait, so the op that made them hears "the disk is full" instead of an
acknowledgement. Writes are tried again at most every ``RETRY_SECONDS`` while the disk is full;
``probe`` (the daemon's timer) tries them, or looks for room when nothing waits.
"""

from __future__ import annotations

import logging
import shutil
from typing import Final

from .. import envelope as env
from ..errors import DiskFull
from ..node_events import DeleteEnvelopes, DeleteTopic, ExpireEnvelopes, Persist
from ..store import Store

log = logging.getLogger("meshcare.daemon")
#: While the disk is full, a write is tried again at most this often (each try costs a failed transaction).
RETRY_SECONDS: Final = 2.0
#: Free bytes on the disk that count as room again when nothing waits to be written (the next write decides).
ROOM_BYTES: Final = 1 << 20


class StoreWriter:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._own: list[env.Envelope] = []        # this node's envelopes: fsynced, kept through a full disk
        self._received: list[env.Envelope] = []   # received ones: dropped on a full disk
        self.full: DiskFull | None = None         # the disk was full at the last write (None: writes work)
        self.full_since: float | None = None
        self.retry_at: float | None = None        # when to try again while full (the daemon's timer)

    @property
    def pending(self) -> bool:
        """Envelopes gathered and not written yet."""
        return bool(self._own or self._received)

    def persist(self, effect: Persist) -> None:
        (self._received if effect.received else self._own).extend(effect.envelopes)

    def flush(self, now: float) -> None:
        """Write what ``persist`` gathered, in one transaction. Raises DiskFull while own envelopes wait
        for room (they stay pending); received ones are dropped then (module docstring)."""
        if not self.pending:
            return
        if self.full is not None and self.retry_at is not None and now < self.retry_at:
            self._hold_back()
            return
        try:
            self.store.add(self._own + self._received, int(now), durable=bool(self._own))
        except DiskFull as exc:
            self.became_full(exc, now)
            self._hold_back()
            return
        self._own, self._received = [], []
        if self.full is not None:
            self._recovered(now)

    def delete(self, effect: DeleteEnvelopes | DeleteTopic | ExpireEnvelopes, now: float) -> None:
        """Carry out one deletion, after what is pending (a full disk: the deletion still runs, it frees
        room; DiskFull is raised after it if own envelopes wait)."""
        waiting: DiskFull | None = None
        try:
            self.flush(now)
        except DiskFull as exc:
            waiting = exc
        if isinstance(effect, DeleteEnvelopes):
            self.store.delete(list(effect.ids))
        elif isinstance(effect, DeleteTopic):
            self.store.delete_topic(effect.topic)
        elif deleted := self.store.expire(effect.now):
            log.info("retention: deleted %d expired envelopes", deleted)
        if waiting is not None:
            raise waiting

    def probe(self, now: float) -> bool:
        """While full, at ``retry_at``: write what waits, or look for room if nothing does. True when the
        disk has room again (the caller resumes fetching)."""
        if self.full is None:
            return True
        if self.pending:
            self.retry_at = now     # due now: flush tries the write
            try:
                self.flush(now)
            except DiskFull:
                return False
            return self.full is None
        try:
            free = shutil.disk_usage(self.full.directory).free
        except OSError:
            free = 0
        if free >= ROOM_BYTES:
            self._recovered(now)
            return True
        self.retry_at = now + RETRY_SECONDS
        return False

    def _hold_back(self) -> None:
        """A write that cannot happen now: drop what was received, keep and report this node's own."""
        dropped, self._received = len(self._received), []
        if dropped:
            log.debug("disk full: dropped %d received envelopes (their senders still hold them)", dropped)
        if self._own and self.full is not None:
            raise DiskFull(f"{self.full}. This was not saved: it is kept in memory and written once there is "
                           "room, but lost if meshcare stops before then.", self.full.directory)

    def became_full(self, exc: DiskFull, now: float) -> None:
        """A write (here, or the state file's) met a full disk: log it once, try again later."""
        if self.full is None:
            log.warning("%s (writes are tried again every %.0f s)", exc, RETRY_SECONDS)
            self.full_since = now
        self.full = exc
        self.retry_at = now + RETRY_SECONDS

    def _recovered(self, now: float) -> None:
        log.warning("there is room on the disk again (it was full for %.0f s); writing resumed",
                    now - (self.full_since if self.full_since is not None else now))
        self.full = self.full_since = self.retry_at = None
