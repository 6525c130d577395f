"""The envelope store: both implementations must give identical answers, and SqliteStore must be durable.

Most tests run against MemoryStore and SqliteStore through the ``store`` fixture; a hypothesis property
compares the two on random sets and ranges; the SQLite-only tests cover the file (schema versions,
permissions, no plaintext on disk, crash durability under SIGKILL, the query plan).
"""

from __future__ import annotations

import os
import select
import signal
import sqlite3
import stat
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import nacl.signing
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meshcare import ranges
from meshcare.store import sqlite as store_sqlite
from meshcare.envelope import Envelope, decode, filler_prev, seal
from meshcare.errors import LocalProtocolError, StoreError
from meshcare.ids import TopicId
from meshcare.ranges import KEY_MAX, KEY_MIN, RangeKey
from meshcare.store.sqlite import SCHEMA_VERSION, SqliteStore
from meshcare.store.memory import MemoryStore, split_ranks
from meshcare.store import Store
from meshcare.store.factory import open_store

NOW = 1_700_000_000
REPO = Path(__file__).resolve().parent.parent


class Author:
    """Seals envelopes for one author in one topic with as few knobs as a test needs."""

    def __init__(self, topic: bytes | None = None) -> None:
        self.sk = nacl.signing.SigningKey.generate()
        self.topic = TopicId(topic or os.urandom(16))
        self.key = os.urandom(32)
        self.seq = 1

    @property
    def id(self) -> bytes:
        return bytes(self.sk.verify_key)

    def make(self, created: int = NOW, ttl: int = 3600, *, seq: int | None = None,
             plaintext: bytes = b"hello", topic: bytes | None = None) -> Envelope:
        if seq is None:
            seq, self.seq = self.seq, self.seq + 1
        return seal(signing_key=self.sk, topic=TopicId(topic or self.topic), epoch=0, key=self.key, seq=seq,
                    lamport=seq, created=created, expires=created + ttl, plaintext=plaintext,
                    prev=filler_prev(seq))

    def many(self, n: int, created: int = NOW, ttl: int = 3600) -> list[Envelope]:
        """``n`` envelopes, three per ``created`` second so ties are broken by id."""
        return [self.make(created + i // 3, ttl) for i in range(n)]


def sorted_keys(envs: list[Envelope]) -> list[RangeKey]:
    return sorted(RangeKey(e.created, e.id) for e in envs)


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    s: Store = MemoryStore() if request.param == "memory" else SqliteStore(tmp_path / "store.sqlite3")
    with s:
        yield s


@pytest.fixture
def author() -> Author:
    return Author()


# ---------------------------------------------------------------------------------------------------
# Shared behaviour


def test_add_is_idempotent(store: Store, author: Author) -> None:
    envs = author.many(5)
    assert store.add(envs, NOW) == [True] * 5
    assert store.add(envs, NOW) == [False] * 5
    assert len(store) == 5


def test_duplicates_within_a_batch_count_once(store: Store, author: Author) -> None:
    a, b, c = author.many(3)
    assert store.add([a, b, a], NOW) == [True, True, False]
    assert store.add([c, b, c], NOW) == [True, False, False]
    assert store.add([], NOW) == []
    assert len(store) == 3


def test_add_rejects_expired(store: Store, author: Author) -> None:
    at_expiry = author.make(NOW - 10, ttl=10)   # expires == now counts as expired
    long_gone = author.make(NOW - 100, ttl=10)
    fresh = author.make(NOW - 10, ttl=11)
    assert store.add([at_expiry, long_gone, fresh], NOW) == [False, False, True]
    assert not store.has(at_expiry.id) and store.has(fresh.id)


def test_get_has_missing_get_many(store: Store, author: Author) -> None:
    envs = author.many(4)
    store.add(envs[:3], NOW)
    stranger = envs[3].id
    assert store.get(envs[0].id) == envs[0].encoded
    assert decode(store.get(envs[1].id) or b"") == envs[1]
    assert store.get(stranger) is None
    assert store.has(envs[2].id) and not store.has(stranger)
    assert store.get_many([envs[2].id, stranger, envs[0].id]) == [envs[2].encoded, envs[0].encoded]
    assert store.missing([stranger, envs[1].id, b"\x00" * 32]) == [stranger, b"\x00" * 32]
    assert store.get_many([]) == [] and store.missing([]) == []


def test_fetch_is_by_topic_unexpired_and_once_per_id(store: Store, author: Author) -> None:
    """A peer that asks for ids in one topic gets that topic's live envelopes only, each once: not
    another topic's envelope (issue 9 item 11), not an expired one, not a repeated id twice."""
    other = Author()
    mine, theirs = author.many(3), other.many(2)
    short = author.make(NOW, ttl=10)
    store.add([*mine, *theirs, short], NOW)
    ids = [e.id for e in mine]
    asked = [ids[2], theirs[0].id, ids[0], ids[2], short.id, b"x" * 32, ids[0]]
    assert store.fetch(author.topic, asked, NOW) == [mine[2].encoded, mine[0].encoded, short.encoded]
    assert store.fetch(author.topic, asked, NOW + 10) == [mine[2].encoded, mine[0].encoded]  # expired: gone
    assert store.fetch(other.topic, asked, NOW) == [theirs[0].encoded]
    assert store.fetch(author.topic, [], NOW) == []
    many = author.many(1200)
    store.add(many, NOW)
    assert store.fetch(author.topic, [e.id for e in reversed(many)], NOW) == [e.encoded for e in reversed(many)]


def test_missing_and_get_many_beyond_one_chunk(store: Store, author: Author) -> None:
    envs = author.many(20)
    store.add(envs, NOW)
    unknown = [os.urandom(32) for _ in range(1200)]
    mixed = unknown[:600] + [e.id for e in envs] + unknown[600:]
    assert store.missing(mixed) == unknown
    assert store.get_many(mixed) == [e.encoded for e in envs]


def test_range_bounds_are_inclusive_exclusive(store: Store, author: Author) -> None:
    envs = author.many(9)  # created NOW, NOW+1, NOW+2, three each
    store.add(envs, NOW)
    k = sorted_keys(envs)
    t = author.topic
    assert store.keys(t, KEY_MIN, KEY_MAX, NOW) == k
    assert store.keys(t, k[2], k[5], NOW) == k[2:5]
    assert store.keys(t, k[4], k[4], NOW) == []
    assert store.keys(t, k[5], k[2], NOW) == []
    assert store.keys(t, RangeKey(NOW + 1, b""), KEY_MAX, NOW) == k[3:]
    assert store.keys(t, KEY_MIN, RangeKey(NOW + 1, b""), NOW) == k[:3]
    assert store.keys(t, RangeKey(NOW + 3, b""), KEY_MAX, NOW) == []
    assert store.keys(t, KEY_MIN, KEY_MIN, NOW) == []
    assert store.keys(t, KEY_MAX, KEY_MAX, NOW) == []
    assert store.keys(t, KEY_MAX, RangeKey(2**64, b""), NOW) == []
    assert store.keys(t, k[7], RangeKey(2**64, b""), NOW) == k[7:]
    assert store.keys(t, RangeKey(-5, b""), RangeKey(NOW, b"\xff" * 33), NOW) == k[:3]
    assert store.keys(os.urandom(16), KEY_MIN, KEY_MAX, NOW) == []


def test_limit(store: Store, author: Author) -> None:
    envs = author.many(6)
    store.add(envs, NOW)
    k = sorted_keys(envs)
    t = author.topic
    assert store.keys(t, k[1], KEY_MAX, NOW, limit=2) == k[1:3]
    assert store.keys(t, KEY_MIN, KEY_MAX, NOW, limit=0) == []
    assert store.keys(t, KEY_MIN, KEY_MAX, NOW, limit=100) == k
    assert [key for key, _ in store.items(t, KEY_MIN, KEY_MAX, NOW, limit=3)] == k[:3]
    with pytest.raises(LocalProtocolError):
        store.keys(t, KEY_MIN, KEY_MAX, NOW, limit=-1)


def test_items_are_sorted_with_their_bytes(store: Store, author: Author) -> None:
    envs = author.many(5)
    store.add(envs[::-1], NOW)
    by_id: dict[bytes, bytes] = {e.id: e.encoded for e in envs}
    got = store.items(author.topic, KEY_MIN, KEY_MAX, NOW)
    assert [k for k, _ in got] == sorted_keys(envs)
    assert all(data == by_id[k.id] for k, data in got)


def test_count_and_fingerprint_match_the_reference(store: Store, author: Author) -> None:
    envs = author.many(30)
    store.add(envs, NOW)
    k = sorted_keys(envs)
    t = author.topic
    for lower, upper in [(KEY_MIN, KEY_MAX), (k[3], k[17]), (k[0], k[1]), (k[10], k[10]), (k[29], KEY_MAX)]:
        ids = [key.id for key in k if lower <= key < upper]
        assert store.count(t, lower, upper, NOW) == len(ids)
        assert store.fingerprint(t, lower, upper, NOW) == (len(ids), ranges.fingerprint_of(ids))
    assert store.fingerprint(os.urandom(16), KEY_MIN, KEY_MAX, NOW) == (0, ranges.fingerprint_of([]))


@pytest.mark.parametrize(("n", "parts"), [(100, 4), (100, 3), (10, 2), (7, 16), (1, 2), (0, 4), (5, 1)])
def test_split_points_give_near_equal_pieces(store: Store, author: Author, n: int, parts: int) -> None:
    envs = author.many(n)
    store.add(envs, NOW)
    t = author.topic
    points = store.split_points(t, KEY_MIN, KEY_MAX, NOW, parts)
    assert len(points) == max(min(parts, n) - 1, 0) and points == sorted(set(points))
    bounds = [KEY_MIN, *points, KEY_MAX]
    sizes = [store.count(t, lo, hi, NOW) for lo, hi in zip(bounds, bounds[1:])]
    assert sum(sizes) == n
    assert max(sizes) - min(sizes) <= 1 and (all(sizes) or n == 0)


def test_split_points_of_a_subrange(store: Store, author: Author) -> None:
    envs = author.many(40)
    store.add(envs, NOW)
    k = sorted_keys(envs)
    assert store.split_points(author.topic, k[10], k[30], NOW, 4) == [k[15], k[20], k[25]]
    with pytest.raises(LocalProtocolError):
        store.split_points(author.topic, KEY_MIN, KEY_MAX, NOW, 0)


def test_expired_envelopes_are_invisible_then_deleted(store: Store, author: Author) -> None:
    short = [author.make(NOW, ttl=10) for _ in range(4)]
    long = author.many(5, ttl=1000)
    store.add(short + long, NOW)
    t, later = author.topic, NOW + 10
    live = sorted_keys(long)
    assert store.keys(t, KEY_MIN, KEY_MAX, later) == live
    assert store.count(t, KEY_MIN, KEY_MAX, later) == 5
    assert store.fingerprint(t, KEY_MIN, KEY_MAX, later) == (5, ranges.fingerprint_of(k.id for k in live))
    assert [k for k, _ in store.items(t, KEY_MIN, KEY_MAX, later)] == live
    assert store.split_points(t, KEY_MIN, KEY_MAX, later, 5) == live[1:]
    assert store.count(t, KEY_MIN, KEY_MAX, NOW) == 9  # still there for an earlier clock
    assert len(store) == 9 and store.get(short[0].id) == short[0].encoded
    assert store.expire(later) == 4
    assert store.expire(later) == 0
    assert len(store) == 5 and not store.has(short[0].id)
    assert store.keys(t, KEY_MIN, KEY_MAX, NOW) == live
    assert store.expire(NOW + 10_000) == 5 and len(store) == 0 and store.topics() == []


def test_expire_many_at_once(store: Store, author: Author) -> None:
    doomed = [author.make(NOW + i % 7, ttl=5, seq=1 + i % 10) for i in range(150)]  # enough to rebuild lists
    kept = [author.make(NOW + 100, seq=1 + i % 3) for i in range(20)]
    store.add(doomed + kept, NOW)
    assert store.max_seq(author.topic, author.id) == 10
    assert store.expire(NOW + 50) == 150
    assert store.keys(author.topic, KEY_MIN, KEY_MAX, NOW + 50) == sorted_keys(kept)
    assert store.fingerprint(author.topic, KEY_MIN, KEY_MAX, NOW + 50)[0] == 20
    assert store.max_seq(author.topic, author.id) == 3
    assert store.author_heads(author.topic, NOW + 50) == {author.id: 3}


def test_author_heads_and_max_seq(store: Store) -> None:
    alice = Author()
    bob = Author(alice.topic)
    store.add([alice.make(seq=1), alice.make(seq=3, ttl=10), alice.make(seq=2), bob.make(seq=7)], NOW)
    t = alice.topic
    assert store.author_heads(t, NOW) == {alice.id: 3, bob.id: 7}
    assert store.author_heads(t, NOW + 10) == {alice.id: 2, bob.id: 7}  # seq 3 has expired
    assert store.max_seq(t, alice.id) == 3  # ...but a sender still must not reuse it
    assert store.max_seq(t, os.urandom(32)) == -1
    assert store.max_seq(os.urandom(16), alice.id) == -1
    assert store.author_heads(os.urandom(16), NOW) == {}
    store.expire(NOW + 10)
    assert store.max_seq(t, alice.id) == 2


def test_topics_and_delete_topic(store: Store) -> None:
    a, b = Author(), Author()
    store.add(a.many(3) + b.many(2), NOW)
    assert store.topics() == sorted([a.topic, b.topic])
    assert store.delete_topic(a.topic) == 3
    assert store.delete_topic(a.topic) == 0
    assert store.topics() == [b.topic] and len(store) == 2
    assert store.keys(a.topic, KEY_MIN, KEY_MAX, NOW) == []
    assert store.max_seq(a.topic, a.id) == -1


def test_split_ranks() -> None:
    assert split_ranks(100, 4) == [25, 50, 75]
    assert split_ranks(3, 10) == [1, 2]
    assert split_ranks(10, 1) == [] and split_ranks(0, 3) == []
    assert split_ranks(10**6, 10**9)[-1] == 10**6 - 1  # no loop to a billion


def test_limb_columns_match_ranges_limbs() -> None:
    for _ in range(100):
        eid = os.urandom(32)
        assert store_sqlite._LIMBS.unpack(eid) == ranges.limbs(eid)


def test_open_store_factory(tmp_path: Path) -> None:
    assert isinstance(open_store(None), MemoryStore)
    with open_store(tmp_path / "s.sqlite3", synchronous="normal") as s:
        assert isinstance(s, SqliteStore)


# ---------------------------------------------------------------------------------------------------
# Property: the two implementations agree


@cache
def _pool() -> tuple[list[Envelope], list[bytes], list[bytes]]:
    """40 envelopes over 2 topics and 3 authors, created within 16 s, made once for all examples."""
    topics = [os.urandom(16) for _ in range(2)]
    authors = [Author() for _ in range(3)]
    envs = [authors[i % 3].make(NOW + (i * 7) % 16, ttl=1 + (i * 13) % 40, seq=1 + i % 5, topic=topics[i % 2])
            for i in range(40)]
    return [decode(e.encoded) for e in envs], topics, [a.id for a in authors]


@st.composite
def range_key(draw: st.DrawFn) -> RangeKey:
    envs = _pool()[0]
    return draw(st.one_of(
        st.just(KEY_MIN), st.just(KEY_MAX),
        st.sampled_from(envs).map(lambda e: RangeKey(e.created, e.id)),
        st.builds(RangeKey, st.integers(NOW - 2, NOW + 18), st.binary(max_size=33)),
    ))


def test_memory_and_sqlite_agree(tmp_path: Path) -> None:
    envs, topics, authors = _pool()
    sql = SqliteStore(tmp_path / "agree.sqlite3", synchronous="NORMAL")

    @settings(max_examples=50, deadline=None)
    @given(mask=st.lists(st.booleans(), min_size=len(envs), max_size=len(envs)),
           again=st.lists(st.sampled_from(envs), max_size=5), add_at=st.integers(NOW - 1, NOW + 20),
           expire_at=st.none() | st.integers(NOW, NOW + 30), now=st.integers(NOW - 1, NOW + 60),
           lower=range_key(), upper=range_key(), parts=st.integers(1, 6),
           limit=st.none() | st.integers(0, 10))
    def check(mask: list[bool], again: list[Envelope], add_at: int, expire_at: int | None, now: int,
              lower: RangeKey, upper: RangeKey, parts: int, limit: int | None) -> None:
        for topic in topics:
            sql.delete_topic(topic)
        mem = MemoryStore()
        chosen = [e for e, keep in zip(envs, mask) if keep] + again  # ``again``: duplicates, in-batch too
        assert mem.add(chosen, add_at) == sql.add(chosen, add_at)
        if expire_at is not None:
            assert mem.expire(expire_at) == sql.expire(expire_at)
        assert len(mem) == len(sql) and mem.topics() == sql.topics()
        for topic in topics:
            keys = mem.keys(topic, lower, upper, now)
            assert sql.keys(topic, lower, upper, now) == keys
            assert mem.keys(topic, lower, upper, now, limit) == sql.keys(topic, lower, upper, now, limit)
            assert mem.count(topic, lower, upper, now) == sql.count(topic, lower, upper, now) == len(keys)
            fp = (len(keys), ranges.fingerprint_of(k.id for k in keys))
            assert mem.fingerprint(topic, lower, upper, now) == fp
            assert sql.fingerprint(topic, lower, upper, now) == fp
            assert mem.split_points(topic, lower, upper, now, parts) == \
                sql.split_points(topic, lower, upper, now, parts)
            assert mem.items(topic, lower, upper, now, limit) == sql.items(topic, lower, upper, now, limit)
            assert mem.author_heads(topic, now) == sql.author_heads(topic, now)
            assert [mem.max_seq(topic, a) for a in authors] == [sql.max_seq(topic, a) for a in authors]
            asked = [e.id for e in again] + [e.id for e in envs[::3]]
            assert mem.fetch(topic, asked, now) == sql.fetch(topic, asked, now)

    with sql:
        check()


# ---------------------------------------------------------------------------------------------------
# SqliteStore: the file


def _pragma(path: Path, name: str) -> object:
    with sqlite3.connect(path) as db:
        return db.execute(f"PRAGMA {name}").fetchone()[0]


def test_fresh_store_has_current_schema_and_wal(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    with SqliteStore(path):
        pass
    assert _pragma(path, "user_version") == SCHEMA_VERSION
    assert _pragma(path, "journal_mode") == "wal"


def test_synchronous_setting(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "a.sqlite3") as full, \
            SqliteStore(tmp_path / "b.sqlite3", synchronous="NORMAL") as normal:
        assert full._db.execute("PRAGMA synchronous").fetchone()[0] == 2
        assert normal._db.execute("PRAGMA synchronous").fetchone()[0] == 1
    with pytest.raises(LocalProtocolError):
        SqliteStore(tmp_path / "c.sqlite3", synchronous="OFF")


def test_reopen_keeps_data(tmp_path: Path, author: Author) -> None:
    path = tmp_path / "s.sqlite3"
    envs = author.many(10)
    with SqliteStore(path) as s:
        s.add(envs, NOW)
    with SqliteStore(path) as s:
        assert len(s) == 10
        expected = (10, ranges.fingerprint_of(e.id for e in envs))
        assert s.fingerprint(author.topic, KEY_MIN, KEY_MAX, NOW) == expected


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    SqliteStore(path).close()
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    expected = rf"newer meshcare \(schema {SCHEMA_VERSION + 1}\b.*upgrade meshcare or use another MESHCARE_HOM"
    with pytest.raises(StoreError, match=expected):
        SqliteStore(path)


def test_migrations_run_in_order_and_roll_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              author: Author) -> None:
    path = tmp_path / "s.sqlite3"
    with SqliteStore(path) as s:
        s.add(author.many(3), NOW)
    broken = (*store_sqlite.MIGRATIONS, ("ALTER TABLE envelopes ADD COLUMN extra INTEGER", "NOT SQL"))
    monkeypatch.setattr(store_sqlite, "MIGRATIONS", broken)
    monkeypatch.setattr(store_sqlite, "SCHEMA_VERSION", len(broken))
    with pytest.raises(StoreError):
        SqliteStore(path)
    assert _pragma(path, "user_version") == SCHEMA_VERSION  # nothing half-applied
    good = (*store_sqlite.MIGRATIONS[:-1], ("ALTER TABLE envelopes ADD COLUMN extra INTEGER",))
    monkeypatch.setattr(store_sqlite, "MIGRATIONS", good)
    with SqliteStore(path) as s:
        assert len(s) == 3
        assert s._db.execute("SELECT COUNT(extra) FROM envelopes").fetchone()[0] == 0
    assert _pragma(path, "user_version") == SCHEMA_VERSION + 1


def test_garbage_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    path.write_bytes(os.urandom(8192))
    with pytest.raises(StoreError, match="not a meshcare store"):
        SqliteStore(path)


def test_foreign_sqlite_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE contacts (name TEXT)")
    with pytest.raises(StoreError, match="not a meshcare store"):
        SqliteStore(path)


def test_missing_directory_is_a_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="MESHCARE_HOME"):
        SqliteStore(tmp_path / "nope" / "s.sqlite3")


def test_closed_store_use_is_a_local_error(tmp_path: Path, author: Author) -> None:
    s = SqliteStore(tmp_path / "s.sqlite3")
    s.close()
    s.close()
    with pytest.raises(LocalProtocolError):
        s.add(author.many(1), NOW)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_files_are_owner_only(tmp_path: Path, author: Author) -> None:
    path = tmp_path / "s.sqlite3"
    old = os.umask(0o022)
    try:
        with SqliteStore(path) as s:
            s.add(author.many(3), NOW)
            sidecars = [tmp_path / "s.sqlite3-wal", tmp_path / "s.sqlite3-shm"]
            assert all(p.exists() for p in sidecars)
            assert [_mode(p) for p in [path, *sidecars]] == [0o600] * 3
        loose = tmp_path / "loose.sqlite3"
        SqliteStore(loose).close()
        loose.chmod(0o644)
        SqliteStore(loose).close()
        assert _mode(loose) == 0o600
    finally:
        os.umask(old)


def test_plaintext_never_reaches_the_disk(tmp_path: Path, author: Author) -> None:
    marker = b"MARKER-suicidal-thoughts-7f3a9c"
    path = tmp_path / "s.sqlite3"

    def disk() -> bytes:
        return b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith(path.name))

    s = SqliteStore(path)
    s.add([author.make(plaintext=b"I need someone to talk to. " + marker)], NOW)
    assert marker not in disk()  # while open: main file and WAL
    s.close()
    assert marker not in disk()
    assert len(disk()) > 0


def test_range_queries_use_the_range_index(tmp_path: Path, author: Author) -> None:
    with SqliteStore(tmp_path / "s.sqlite3") as s:
        s.add(author.many(50), NOW)
        s._db.execute("ANALYZE")  # the plan must hold with statistics too
        for columns, tail, params in [("created, id", " ORDER BY created, id LIMIT ?", (10,)),
                                      ("COUNT(*), SUM(l0), SUM(l7)", "", ())]:
            query = s._range_query(columns, author.topic, RangeKey(NOW, b"\x01"), RangeKey(NOW + 5, b""),
                                   NOW, tail, params)
            assert query is not None
            plan = " ".join(row[3] for row in s._db.execute("EXPLAIN QUERY PLAN " + query[0], query[1]))
            assert "COVERING INDEX envelopes_range (topic=? AND (created,id)>" in plan, plan
            assert "TEMP B-TREE" not in plan, plan  # no sort: the index order is the range order


# ---------------------------------------------------------------------------------------------------
# SqliteStore: crash durability

_CHILD = textwrap.dedent("""
    import os, sys, time
    from pathlib import Path
    import nacl.signing
    from meshcare.envelope import filler_prev, seal
    from meshcare.store.sqlite import SqliteStore

    sk, topic, key = nacl.signing.SigningKey.generate(), os.urandom(16), os.urandom(32)
    store = SqliteStore(Path(sys.argv[1]))
    now, seq, deadline = int(time.time()), 1, time.monotonic() + 60
    while time.monotonic() < deadline:  # the parent kills us long before; never outlive a lost parent
        batch = [seal(signing_key=sk, topic=topic, epoch=0, key=key, seq=seq + i, lamport=seq + i,
                      created=now, expires=now + 3600, plaintext=os.urandom(200), prev=filler_prev(seq + i))
                 for i in range(25)]
        seq += len(batch)
        stored = store.add(batch, now)
        print(" ".join(e.id.hex() for e, ok in zip(batch, stored) if ok), flush=True)
""")


def _read_ids(proc: subprocess.Popen[bytes], want: int, timeout: float) -> list[bytes]:
    """Ids the child reported stored (whole lines only), until ``want`` of them or the deadline."""
    assert proc.stdout is not None
    fd, buf, ids = proc.stdout.fileno(), b"", list[bytes]()
    deadline = time.monotonic() + timeout
    while len(ids) < want:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"child reported only {len(ids)} ids in {timeout}s"
        if select.select([fd], [], [], remaining)[0]:
            chunk = os.read(fd, 65536)
            assert chunk, f"child exited early with {proc.wait(5)}"
            buf += chunk
            *lines, buf = buf.split(b"\n")
            ids += [bytes.fromhex(h.decode()) for line in lines for h in line.split()]
    return ids


@pytest.mark.slow
@pytest.mark.timeout(60)
def test_reported_envelopes_survive_sigkill(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    errors = (tmp_path / "child.err").open("wb")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-c", _CHILD, str(path)], stdout=subprocess.PIPE,
                            stderr=errors, env=env)
    try:
        reported = _read_ids(proc, 300, timeout=30)
        os.kill(proc.pid, signal.SIGKILL)  # mid-stream: the child writes in a tight loop
        assert proc.wait(timeout=10) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        assert proc.stdout is not None
        proc.stdout.close()
        errors.close()
    assert (tmp_path / "child.err").read_bytes() == b""
    with SqliteStore(path) as s:
        assert s.missing(reported) == []
        assert len(s) >= len(reported)
    assert _pragma(path, "integrity_check") == "ok"


def test_received_envelopes_skip_the_fsync_but_own_ones_do_not(tmp_path):
    """durable=False relaxes synchronous for that one transaction only (received envelopes are also at peers)."""
    from tests.helpers import make_envelope
    store = SqliteStore(tmp_path / "s.sqlite3")
    seen = []
    store._db.set_trace_callback(seen.append)
    assert store.add([make_envelope(seq=1)], NOW_FOR_DURABILITY, durable=False) == [True]
    assert "PRAGMA synchronous = NORMAL" in seen and seen[-1] == "PRAGMA synchronous = FULL"
    seen.clear()
    assert store.add([make_envelope(seq=2)], NOW_FOR_DURABILITY) == [True]
    assert not any("synchronous" in s for s in seen)
    assert store._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    store.close()


NOW_FOR_DURABILITY = 1_800_000_000


def test_delete_some_envelopes_keeps_ranges_and_expiry_consistent(store: Store, author: Author) -> None:
    envs = [author.make(NOW + i, ttl=50, seq=i + 1) for i in range(8)]
    store.add(envs, NOW)
    doomed = [envs[1].id, envs[6].id, os.urandom(32)]
    assert store.delete(doomed) == 2
    assert store.delete(doomed) == 0
    live = sorted_keys([e for i, e in enumerate(envs) if i not in (1, 6)])
    t = author.topic
    assert store.keys(t, KEY_MIN, KEY_MAX, NOW) == live
    assert store.fingerprint(t, KEY_MIN, KEY_MAX, NOW) == (6, ranges.fingerprint_of(k.id for k in live))
    assert store.max_seq(t, author.id) == 8
    assert store.expire(NOW + 1000) == 6 and len(store) == 0     # deleted ones are not expired twice
