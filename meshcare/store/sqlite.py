"""The durable envelope store on stdlib sqlite3 (see ``meshcare.store`` for the contract).

WAL journal, ``synchronous=FULL`` by default (an always-on Raspberry Pi may lose power), one
``BEGIN IMMEDIATE`` transaction per ``add`` batch committed before ``add`` returns, so whatever it
reported as stored survives a crash. Each id is also stored as eight 32-bit limb columns, so SQL ``SUM``
gives the exact 256-bit id sum a range fingerprint needs. ``PRAGMA user_version`` holds the schema
version and ``PRAGMA application_id`` marks the file as ours; ``MIGRATIONS`` upgrade older files in one
transaction at open. The file is created owner-only (0600) before SQLite touches it, and SQLite gives
the ``-wal``/``-shm`` files the same mode.
"""

from __future__ import annotations

import functools
import os
import sqlite3
import stat
import struct
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Concatenate, Final, ParamSpec, TypeVar

from .. import ranges
from ..envelope import Envelope
from ..errors import LocalProtocolError, StoreError
from ..files import disk_full
from ..ranges import KEY_MIN, RangeKey
from ..profile import STANDARD, Profile
from .memory import ClosingContext, check_limit, split_ranks

#: Created times are non-negative 63-bit integers; a bound above this (KEY_MAX) means "no bound".
MAX_CREATED: Final = 2**63 - 1
SYNC_MODES: Final = ("FULL", "NORMAL", "EXTRA")
#: Parameters per ``IN (...)`` query: well under SQLite's variable limit, big enough to amortise.
CHUNK: Final = 500
#: "mshc": lets us tell a meshcare store from some other SQLite file that happens to sit there.
APPLICATION_ID: Final = 0x6D736863
_LIMBS: Final = struct.Struct("<8I")  # the same split as ranges.limbs(), about 10x faster

#: MIGRATIONS[n] takes a store from schema version n to n + 1 (statements run in one transaction).
MIGRATIONS: Final[tuple[tuple[str, ...], ...]] = (
    (
        """CREATE TABLE envelopes (
            id BLOB PRIMARY KEY NOT NULL,
            topic BLOB NOT NULL,
            created INTEGER NOT NULL,
            expires INTEGER NOT NULL,
            author BLOB NOT NULL,
            seq INTEGER NOT NULL,
            lane INTEGER NOT NULL,
            size INTEGER NOT NULL,
            l0 INTEGER NOT NULL, l1 INTEGER NOT NULL, l2 INTEGER NOT NULL, l3 INTEGER NOT NULL,
            l4 INTEGER NOT NULL, l5 INTEGER NOT NULL, l6 INTEGER NOT NULL, l7 INTEGER NOT NULL,
            data BLOB NOT NULL
        )""",
        # (topic, created, id) orders ranges; expires and the limbs make it covering for count,
        # split_points and fingerprint (3-10x faster than visiting the table, about 8% more space).
        "CREATE INDEX envelopes_range ON envelopes "
        "(topic, created, id, expires, l0, l1, l2, l3, l4, l5, l6, l7)",
        "CREATE INDEX envelopes_expires ON envelopes (expires)",
        "CREATE INDEX envelopes_author ON envelopes (topic, author, seq)",
    ),
)
SCHEMA_VERSION: Final = len(MIGRATIONS)

_INSERT: Final = ("INSERT OR IGNORE INTO envelopes (id, topic, created, expires, author, seq, lane, size, "
                  "l0, l1, l2, l3, l4, l5, l6, l7, data) VALUES (" + ", ".join("?" * 17) + ")")
_SUM_LIMBS: Final = ", ".join(f"SUM(l{i})" for i in range(ranges.LIMBS))

_Params = tuple[object, ...]
_P = ParamSpec("_P")
_R = TypeVar("_R")
_Method = Callable[Concatenate["SqliteStore", _P], _R]


def _guarded(method: _Method[_P, _R]) -> _Method[_P, _R]:
    """Turn sqlite3 failures into meshcare errors that say whose fault it was and what to do."""

    @functools.wraps(method)
    def wrapper(self: SqliteStore, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return method(self, *args, **kwargs)
        except (sqlite3.ProgrammingError, sqlite3.InterfaceError) as e:  # closed store, bad argument
            raise LocalProtocolError(f"envelope store misused: {e}") from e
        except sqlite3.DatabaseError as e:
            if _disk_full(e):
                raise disk_full(self.path.parent, f"cannot write to the envelope store {self.path}") from e
            raise StoreError(f"the envelope store {self.path} failed: {e}. Check free disk space and "
                             "permissions; a damaged store can be moved away (peers will resend what "
                             "they still hold)") from e

    return wrapper


def _disk_full(e: sqlite3.DatabaseError) -> bool:
    """SQLITE_FULL, or an I/O error whose cause was ENOSPC (SQLite reports a failed WAL write either way)."""
    code = getattr(e, "sqlite_errorcode", None)
    return code == sqlite3.SQLITE_FULL or (code is not None and code & 0xFF == sqlite3.SQLITE_IOERR
                                           and "full" in str(e).lower())


def _range_sql(lower: RangeKey, upper: RangeKey) -> tuple[str, _Params] | None:
    """SQL conditions for ``[lower, upper)``, or None if the range is empty.

    A bound above the 63-bit integer range (KEY_MAX) cannot be bound as an SQLite integer: as an upper
    bound it means "no condition", as a lower bound an empty range. Row values keep both columns usable
    by the range index.
    """
    if upper <= lower or lower.created > MAX_CREATED:
        return None
    sql, params = "", _Params()
    if lower != KEY_MIN:
        sql, params = " AND (created, id) >= (?, ?)", (lower.created, lower.id)
    if upper.created <= MAX_CREATED:
        sql, params = sql + " AND (created, id) < (?, ?)", (*params, upper.created, upper.id)
    return sql, params


def _prepare_file(path: Path) -> None:
    """Create the file owner-only before SQLite opens it (-wal/-shm inherit its mode), or tighten it."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        mode = os.stat(path).st_mode
        if stat.S_ISREG(mode) and mode & 0o077:
            os.chmod(path, 0o600)
        return
    os.close(fd)


class SqliteStore(ClosingContext):
    """The durable store (stdlib sqlite3); see the module docstring. Use from one thread."""

    def __init__(self, path: Path, *, synchronous: str = "FULL", profile: Profile = STANDARD) -> None:
        sync = synchronous.upper()
        if sync not in SYNC_MODES:
            raise LocalProtocolError(f"synchronous must be one of {SYNC_MODES}, got {synchronous!r}")
        self.path = Path(path)
        try:
            _prepare_file(self.path)
            self._db = sqlite3.connect(self.path, isolation_level=None)
        except (OSError, sqlite3.Error) as e:
            raise StoreError(f"cannot open the envelope store {self.path}: {e}. Check that the "
                             "directory exists and is writable, or use another MESHCARE_HOME") from e
        try:
            self._db.execute("PRAGMA journal_mode = WAL").fetchone()
            self._db.execute(f"PRAGMA synchronous = {sync}")
            for pragma in profile.pragmas():       # page cache, mmap and WAL size (meshcare/profile.py)
                self._db.execute(pragma).fetchall()
            self._sync = sync
            self.profile = profile
            self._migrate()
            self._tighten_sidecars()
        except sqlite3.DatabaseError as e:
            self._db.close()
            if getattr(e, "sqlite_errorcode", None) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
                raise StoreError(f"the envelope store {self.path} is locked by another program (an sqlite3 "
                                 "shell or a backup holding it?); close that program and start again") from e
            raise StoreError(f"cannot use {self.path} as the envelope store ({e}): it is damaged, not "
                             "a meshcare store, or not writable. Move it away (peers will resend what they "
                             "still hold) or use another MESHCARE_HOME") from e
        except (StoreError, OSError):
            self._db.close()
            raise

    def _pragma_int(self, name: str) -> int:
        value = self._db.execute(f"PRAGMA {name}").fetchone()[0]
        if not isinstance(value, int):
            raise StoreError(f"SQLite answered PRAGMA {name} with {value!r}, not an integer")
        return value

    def _check_schema(self) -> int:
        """The file's schema version, once we know this code can use the file."""
        version, app_id = self._pragma_int("user_version"), self._pragma_int("application_id")
        if app_id not in (0, APPLICATION_ID) or (app_id == 0 and version != 0) or (
                version == 0 and self._db.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchone()):
            raise StoreError(f"{self.path} is an SQLite file but not a meshcare store; move it away or "
                             "use another MESHCARE_HOME")
        if version > SCHEMA_VERSION:
            raise StoreError(f"this store was written by a newer meshcare (schema {version}, this version "
                             f"knows up to {SCHEMA_VERSION}); upgrade meshcare or use another MESHCARE_HOME")
        return version

    def _migrate(self) -> None:
        """Bring an older (or new, empty) file up to SCHEMA_VERSION, all-or-nothing."""
        if self._check_schema() == SCHEMA_VERSION:
            return
        with self._transaction():
            version = self._check_schema()  # again under the write lock: another process may have won
            for step in MIGRATIONS[version:]:
                for statement in step:
                    self._db.execute(statement)
            self._db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _tighten_sidecars(self) -> None:
        """SQLite gives -wal/-shm the main file's mode; make sure, in case the main file was loose."""
        for suffix in ("-wal", "-shm"):
            sidecar = self.path.with_name(self.path.name + suffix)
            if sidecar.exists() and sidecar.stat().st_mode & 0o077:
                os.chmod(sidecar, 0o600)

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """BEGIN IMMEDIATE (take the write lock up front) ... COMMIT, or ROLLBACK on any exception."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    @_guarded
    def add(self, envelopes: Sequence[Envelope], now: int, *, durable: bool = True) -> list[bool]:
        out = [False] * len(envelopes)
        batch: dict[bytes, int] = {}  # id -> first index in the batch, unexpired only
        for i, env in enumerate(envelopes):
            if env.expires > now and env.id not in batch:
                batch[env.id] = i
        if not batch:
            return out
        relaxed = not durable and self._sync == "FULL"
        if relaxed:  # received envelopes: peers hold them too, skip the fsync (still crash-safe in WAL)
            self._db.execute("PRAGMA synchronous = NORMAL")
        try:
            self._add_rows(envelopes, batch)
        finally:
            if relaxed:
                self._db.execute("PRAGMA synchronous = FULL")
        for i in batch.values():
            out[i] = True
        return out

    def _add_rows(self, envelopes: Sequence[Envelope], batch: dict[bytes, int]) -> None:
        with self._transaction():
            for known in self._present(list(batch)):
                del batch[known]
            rows = [(e.id, e.topic, e.created, e.expires, e.author, e.seq, int(e.lane), len(e.encoded),
                     *_LIMBS.unpack(e.id), e.encoded) for e in (envelopes[i] for i in batch.values())]
            self._db.executemany(_INSERT, rows)

    def _present(self, ids: Sequence[bytes]) -> set[bytes]:
        """Which of ``ids`` are stored, in chunks small enough for one ``IN (...)``."""
        found: set[bytes] = set()
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start:start + CHUNK]
            sql = f"SELECT id FROM envelopes WHERE id IN ({', '.join('?' * len(chunk))})"
            found.update(row[0] for row in self._db.execute(sql, chunk))
        return found

    @_guarded
    def get(self, envelope_id: bytes) -> bytes | None:
        row = self._db.execute("SELECT data FROM envelopes WHERE id = ?", (envelope_id,)).fetchone()
        return None if row is None else row[0]

    @_guarded
    def get_many(self, ids: Sequence[bytes]) -> list[bytes]:
        found: dict[bytes, bytes] = {}
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start:start + CHUNK]
            sql = f"SELECT id, data FROM envelopes WHERE id IN ({', '.join('?' * len(chunk))})"
            found.update(self._db.execute(sql, chunk))
        return [found[i] for i in ids if i in found]

    @_guarded
    def fetch(self, topic: bytes, ids: Sequence[bytes], now: int) -> list[bytes]:
        found: dict[bytes, bytes] = {}
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start:start + CHUNK]
            sql = (f"SELECT id, data FROM envelopes WHERE topic = ? AND expires > ? "
                   f"AND id IN ({', '.join('?' * len(chunk))})")
            found.update(self._db.execute(sql, (topic, now, *chunk)))
        out: list[bytes] = []
        for i in ids:
            data = found.pop(i, None)  # pop: a repeated id is sent once
            if data is not None:
                out.append(data)
        return out

    @_guarded
    def has(self, envelope_id: bytes) -> bool:
        return self._db.execute("SELECT 1 FROM envelopes WHERE id = ?", (envelope_id,)).fetchone() is not None

    @_guarded
    def missing(self, ids: Sequence[bytes]) -> list[bytes]:
        present = self._present(ids)
        return [i for i in ids if i not in present]

    def _select(self, columns: str, topic: bytes, lower: RangeKey, upper: RangeKey, now: int,
                tail: str = "", tail_params: _Params = ()) -> list[tuple[Any, ...]]:
        """Run ``SELECT columns`` over the unexpired rows of a range (no rows if the range is empty)."""
        query = self._range_query(columns, topic, lower, upper, now, tail, tail_params)
        return [] if query is None else self._db.execute(*query).fetchall()

    @staticmethod
    def _range_query(columns: str, topic: bytes, lower: RangeKey, upper: RangeKey, now: int,
                     tail: str = "", tail_params: _Params = ()) -> tuple[str, _Params] | None:
        bounds = _range_sql(lower, upper)
        if bounds is None:
            return None
        sql = f"SELECT {columns} FROM envelopes WHERE topic = ? AND expires > ?{bounds[0]}{tail}"
        return sql, (topic, now, *bounds[1], *tail_params)

    @_guarded
    def keys(self, topic: bytes, lower: RangeKey, upper: RangeKey, now: int,
             limit: int | None = None) -> list[RangeKey]:
        check_limit(limit)
        rows = self._select("created, id", topic, lower, upper, now, " ORDER BY created, id LIMIT ?",
                            (-1 if limit is None else limit,))
        return [RangeKey(c, i) for c, i in rows]

    @_guarded
    def count(self, topic: bytes, lower: RangeKey, upper: RangeKey, now: int) -> int:
        rows = self._select("COUNT(*)", topic, lower, upper, now)
        return int(rows[0][0]) if rows else 0

    @_guarded
    def fingerprint(self, topic: bytes, lower: RangeKey, upper: RangeKey, now: int) -> tuple[int, bytes]:
        rows = self._select(f"COUNT(*), {_SUM_LIMBS}", topic, lower, upper, now)
        if not rows or rows[0][0] == 0:
            return 0, ranges.fingerprint(0, 0)
        count, *limb_sums = rows[0]
        return count, ranges.fingerprint(ranges.sum_from_limbs(limb_sums), count)

    @_guarded
    def split_points(self, topic: bytes, lower: RangeKey, upper: RangeKey, now: int,
                     parts: int) -> list[RangeKey]:
        """Each point is found from the previous one with ``OFFSET`` (the gap), so the whole call walks
        the range once instead of once per point."""
        points: list[RangeKey] = []
        start, rank = lower, 0
        for target in split_ranks(self.count(topic, lower, upper, now), parts):
            rows = self._select("created, id", topic, start, upper, now,
                                " ORDER BY created, id LIMIT 1 OFFSET ?", (target - rank,))
            if not rows:  # cannot happen single-threaded; stay safe if the file changed under us
                break
            start, rank = RangeKey(*rows[0]), target
            points.append(start)
        return points

    @_guarded
    def items(self, topic: bytes, lower: RangeKey, upper: RangeKey, now: int,
              limit: int | None = None) -> list[tuple[RangeKey, bytes]]:
        check_limit(limit)
        rows = self._select("created, id, data", topic, lower, upper, now, " ORDER BY created, id LIMIT ?",
                            (-1 if limit is None else limit,))
        return [(RangeKey(c, i), d) for c, i, d in rows]

    @_guarded
    def expire(self, now: int) -> int:
        """Delete what expired by ``now``. Looks first (the expires index answers at once) and opens a
        write transaction only when there is something to delete: the retention sweep runs every ten
        minutes, and an idle node must write nothing (an SD card wears with every write)."""
        if self._db.execute("SELECT 1 FROM envelopes WHERE expires <= ? LIMIT 1", (now,)).fetchone() is None:
            return 0
        with self._transaction():
            return self._db.execute("DELETE FROM envelopes WHERE expires <= ?", (now,)).rowcount

    @_guarded
    def topics(self) -> list[bytes]:
        return [row[0] for row in self._db.execute("SELECT DISTINCT topic FROM envelopes ORDER BY topic")]

    @_guarded
    def author_heads(self, topic: bytes, now: int) -> dict[bytes, int]:
        sql = "SELECT author, MAX(seq) FROM envelopes WHERE topic = ? AND expires > ? GROUP BY author"
        return dict(self._db.execute(sql, (topic, now)))

    @_guarded
    def max_seq(self, topic: bytes, author: bytes) -> int:
        sql = "SELECT MAX(seq) FROM envelopes WHERE topic = ? AND author = ?"
        value = self._db.execute(sql, (topic, author)).fetchone()[0]
        return -1 if value is None else int(value)

    @_guarded
    def delete(self, ids: Sequence[bytes]) -> int:
        with self._transaction():
            return sum(self._db.execute("DELETE FROM envelopes WHERE id = ?", (i,)).rowcount for i in set(ids))

    @_guarded
    def delete_topic(self, topic: bytes) -> int:
        with self._transaction():
            return self._db.execute("DELETE FROM envelopes WHERE topic = ?", (topic,)).rowcount

    @_guarded
    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM envelopes").fetchone()[0])

    def close(self) -> None:
        """Idempotent. The last connection to close checkpoints the WAL into the main file."""
        self._db.close()
