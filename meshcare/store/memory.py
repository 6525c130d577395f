"""The in-memory store: the reference implementation of ``meshcare.store.Store``.

Used by tests and the simulator, so it must stay fast at 100,000 envelopes: per topic, a sorted list of
``RangeKey`` searched with ``bisect``, a heap of expiry times (a range query only checks expiry per item
when something in the topic has already expired) and each author's sorted sequence numbers. The helpers
at the top are shared with ``sqlite`` so both stores split ranges and validate arguments alike.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left, insort
from collections import Counter
from collections.abc import Sequence
from itertools import islice
from types import TracebackType
from typing import Final, NamedTuple, Self

from .. import ranges
from ..envelope import Envelope
from ..errors import LocalProtocolError
from ..ranges import RangeKey

#: Removing more keys than this from a sorted list at once rebuilds the list instead of deleting
#: one by one (each ``del`` is a memmove of the tail).
_REBUILD_THRESHOLD: Final = 64


def split_ranks(count: int, parts: int) -> list[int]:
    """The distinct ranks in ``(0, count)`` at ``count * i // parts``; shared so both stores agree."""
    if parts < 1:
        raise LocalProtocolError(f"split_points needs parts >= 1, got {parts}")
    if parts >= count:  # every rank in (0, count) is hit, no need to loop up to a huge ``parts``
        return list(range(1, count))
    return sorted({count * i // parts for i in range(1, parts)})


def check_limit(limit: int | None) -> None:
    """Refuse a negative limit: SQLite reads it as "no limit", a Python slice as "all but the last"."""
    if limit is not None and limit < 0:
        raise LocalProtocolError(f"limit must be None or >= 0, got {limit}")


def _without(items: list[int], doomed: list[int]) -> list[int]:
    """``items`` (sorted) minus one occurrence of each of ``doomed``; in place when that is cheaper."""
    if len(doomed) <= _REBUILD_THRESHOLD:
        for x in doomed:
            del items[bisect_left(items, x)]
        return items
    drop = Counter(doomed)
    kept = []
    for x in items:
        if drop[x]:
            drop[x] -= 1
        else:
            kept.append(x)
    return kept


class ClosingContext:
    """``with store:`` closes it, whichever implementation it is."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


class _Record(NamedTuple):
    key: RangeKey
    topic: bytes
    expires: int
    author: bytes
    seq: int
    data: bytes


class _Topic:
    """One topic's indexes; emptied topics are dropped so ``topics()`` matches SQL's DISTINCT."""

    __slots__ = ("keys", "vals", "expiry", "seqs")

    def __init__(self) -> None:
        self.keys: list[RangeKey] = []
        self.vals: list[int] = []  # ranges.id_value of keys[i]: a fingerprint is one C-level sum()
        self.expiry: list[tuple[int, bytes]] = []  # heap of (expires, id)
        self.seqs: dict[bytes, list[int]] = {}  # author -> sorted seqs (duplicates allowed)

    def clean_at(self, now: int) -> bool:
        """True if nothing here has expired by ``now``, so ranges need no per-item expiry check."""
        return not self.expiry or self.expiry[0][0] > now

    def span(self, lower: RangeKey, upper: RangeKey) -> tuple[int, int]:
        lo = bisect_left(self.keys, lower)
        return lo, max(lo, bisect_left(self.keys, upper))


class MemoryStore(ClosingContext):
    """The reference implementation, in memory; see the module docstring."""

    def __init__(self) -> None:
        self._records: dict[bytes, _Record] = {}
        self._topics: dict[bytes, _Topic] = {}

    def add(self, envelopes: Sequence[Envelope], now: int, *, durable: bool = True) -> list[bool]:
        out: list[bool] = []
        for env in envelopes:
            fresh = env.expires > now and env.id not in self._records
            if fresh:
                self._insert(env)
            out.append(fresh)
        return out

    def _insert(self, env: Envelope) -> None:
        key = RangeKey(env.created, env.id)
        self._records[env.id] = _Record(key, env.topic, env.expires, env.author, env.seq, env.encoded)
        t = self._topics.get(env.topic)
        if t is None:
            t = self._topics[env.topic] = _Topic()
        value = ranges.id_value(env.id)
        if not t.keys or t.keys[-1] < key:  # the common case: envelopes arrive roughly in order
            t.keys.append(key)
            t.vals.append(value)
        else:
            i = bisect_left(t.keys, key)
            t.keys.insert(i, key)
            t.vals.insert(i, value)
        heapq.heappush(t.expiry, (env.expires, env.id))
        insort(t.seqs.setdefault(env.author, []), env.seq)

    def get(self, envelope_id: bytes) -> bytes | None:
        rec = self._records.get(envelope_id)
        return None if rec is None else rec.data

    def get_many(self, ids: Sequence[bytes]) -> list[bytes]:
        recs = self._records
        return [recs[i].data for i in ids if i in recs]

    def fetch(self, topic: bytes, ids: Sequence[bytes], now: int) -> list[bytes]:
        recs = self._records
        out: list[bytes] = []
        seen: set[bytes] = set()
        for i in ids:
            rec = recs.get(i)
            if rec is not None and rec.topic == topic and rec.expires > now and i not in seen:
                seen.add(i)
                out.append(rec.data)
        return out

    def has(self, envelope_id: bytes) -> bool:
        return envelope_id in self._records

    def missing(self, ids: Sequence[bytes]) -> list[bytes]:
        return [i for i in ids if i not in self._records]

    def _visible(self, topic: bytes, lower: RangeKey, upper: RangeKey, now: int,
                 limit: int | None = None) -> Sequence[RangeKey]:
        """The unexpired keys of a range, in order, without the expiry check when nothing expired."""
        check_limit(limit)
        t = self._topics.get(topic)
        if t is None:
            return []
        lo, hi = t.span(lower, upper)
        if t.clean_at(now):
            return t.keys[lo:hi if limit is None else min(hi, lo + limit)]
        recs = self._records
        live = (k for k in islice(t.keys, lo, hi) if recs[k.id].expires > now)
        return list(live if limit is None else islice(live, limit))

    def keys(self, topic: bytes, lower: RangeKey, upper: RangeKey, now: int,
             limit: int | None = None) -> list[RangeKey]:
        return list(self._visible(topic, lower, upper, now, limit))

    def count(self, topic: bytes, lower: RangeKey, upper: RangeKey, now: int) -> int:
        t = self._topics.get(topic)
        if t is not None and t.clean_at(now):
            lo, hi = t.span(lower, upper)
            return hi - lo
        return len(self._visible(topic, lower, upper, now))

    def fingerprint(self, topic: bytes, lower: RangeKey, upper: RangeKey, now: int) -> tuple[int, bytes]:
        t = self._topics.get(topic)
        if t is not None and t.clean_at(now):
            lo, hi = t.span(lower, upper)
            return hi - lo, ranges.fingerprint(sum(t.vals[lo:hi]), hi - lo)
        ks = self._visible(topic, lower, upper, now)
        return len(ks), ranges.fingerprint(ranges.sum_ids(k.id for k in ks), len(ks))

    def split_points(self, topic: bytes, lower: RangeKey, upper: RangeKey, now: int,
                     parts: int) -> list[RangeKey]:
        ks = self._visible(topic, lower, upper, now)
        return [ks[r] for r in split_ranks(len(ks), parts)]

    def items(self, topic: bytes, lower: RangeKey, upper: RangeKey, now: int,
              limit: int | None = None) -> list[tuple[RangeKey, bytes]]:
        recs = self._records
        return [(k, recs[k.id].data) for k in self._visible(topic, lower, upper, now, limit)]

    def expire(self, now: int) -> int:
        removed = 0
        for topic, t in list(self._topics.items()):
            gone: set[bytes] = set()
            while t.expiry and t.expiry[0][0] <= now:
                doomed = heapq.heappop(t.expiry)[1]
                if doomed in self._records:        # not deleted earlier by ``delete``
                    gone.add(doomed)
            if gone:
                self._remove(topic, t, gone)
                removed += len(gone)
        return removed

    def _remove(self, topic: bytes, t: _Topic, gone: set[bytes]) -> None:
        """Drop ``gone`` from the records and the topic's key and seq lists (not its expiry heap)."""
        recs = [self._records.pop(i) for i in gone]
        if len(gone) > _REBUILD_THRESHOLD:
            keep = [i for i, k in enumerate(t.keys) if k.id not in gone]
            t.keys, t.vals = [t.keys[i] for i in keep], [t.vals[i] for i in keep]
        else:
            for rec in recs:
                i = bisect_left(t.keys, rec.key)
                del t.keys[i], t.vals[i]
        doomed: dict[bytes, list[int]] = {}
        for rec in recs:
            doomed.setdefault(rec.author, []).append(rec.seq)
        for author, seqs in doomed.items():
            left = _without(t.seqs[author], seqs)
            if left:
                t.seqs[author] = left
            else:
                del t.seqs[author]
        if not t.keys:
            del self._topics[topic]

    def topics(self) -> list[bytes]:
        return sorted(self._topics)

    def author_heads(self, topic: bytes, now: int) -> dict[bytes, int]:
        t = self._topics.get(topic)
        if t is None:
            return {}
        if t.clean_at(now):
            return {author: seqs[-1] for author, seqs in t.seqs.items()}
        heads: dict[bytes, int] = {}
        for k in t.keys:
            rec = self._records[k.id]
            if rec.expires > now and rec.seq > heads.get(rec.author, -1):
                heads[rec.author] = rec.seq
        return heads

    def max_seq(self, topic: bytes, author: bytes) -> int:
        t = self._topics.get(topic)
        seqs = None if t is None else t.seqs.get(author)
        return seqs[-1] if seqs else -1

    def delete_topic(self, topic: bytes) -> int:
        t = self._topics.pop(topic, None)
        if t is None:
            return 0
        for k in t.keys:
            del self._records[k.id]
        return len(t.keys)

    def delete(self, ids: Sequence[bytes]) -> int:
        by_topic: dict[bytes, set[bytes]] = {}
        for i in set(ids):
            rec = self._records.get(i)
            if rec is None:
                continue
            for topic, t in self._topics.items():     # a node has a handful of topics
                at = bisect_left(t.keys, rec.key)
                if at < len(t.keys) and t.keys[at] == rec.key:
                    by_topic.setdefault(topic, set()).add(i)
                    break
        for topic, gone in by_topic.items():
            self._remove(topic, self._topics[topic], gone)   # expiry heap entries are skipped later
        return sum(len(g) for g in by_topic.values())

    def __len__(self) -> int:
        return len(self._records)

    def close(self) -> None:
        """Nothing to release; present so code can treat both stores alike."""
