"""The memory profile: which one a machine gets (MemTotal, cgroup limits, config.toml, the daemon's flag),
the SQLite pragmas each sets, the retention sweep that writes nothing when nothing expired, and the peer
tables that stay bounded under a flood of keys. Pure or on a temporary SQLite file: well under a second."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from meshcare import config, profile
from meshcare.errors import ConfigError
from meshcare.store.sqlite import SqliteStore
from meshcare.sync import neighbours
from meshcare.sync.config import SyncConfig
from meshcare.transport import command

GIB = 1 << 30
MEMINFO = "MemTotal:         {kib} kB\nMemFree:          1000 kB\nMemAvailable:     2000 kB\n"


# --- choosing --------------------------------------------------------------------------------------

def test_meminfo_is_read_in_bytes() -> None:
    assert profile.parse_meminfo(MEMINFO.format(kib=443_000)) == 443_000 * 1024
    assert profile.parse_meminfo("MemFree: 10 kB\n") is None
    assert profile.parse_meminfo("") is None


@pytest.mark.parametrize("text, limit", [("max\n", None), ("536870912\n", 512 << 20),
                                         ("9223372036854771712\n", None), ("", None), ("junk", None)])
def test_cgroup_limits(text: str, limit: int | None) -> None:
    assert profile.parse_cgroup_limit(text) == limit


def test_cgroup_paths_v2_and_v1_with_parents() -> None:
    root = Path("/sys/fs/cgroup")
    v2 = profile.cgroup_limit_paths("0::/system.slice/meshcare.service\n", root)
    assert v2 == [root / "system.slice/meshcare.service/memory.max", root / "system.slice/memory.max",
                  root / "memory.max"]
    v1 = profile.cgroup_limit_paths("5:cpu,cpuacct:/x\n4:memory:/user/1000\n", root)
    assert v1 == [root / "memory/user/1000/memory.limit_in_bytes", root / "memory/user/memory.limit_in_bytes",
                  root / "memory/memory.limit_in_bytes"]
    assert profile.cgroup_limit_paths("garbage\n", root) == []


@pytest.mark.parametrize("mem_total, limits, expected", [
    (512 << 20, [], "small"),                       # a Pi Zero 2 W
    (GIB - 1, [None], "small"),
    (GIB, [], "standard"),                          # exactly 1 GiB: a Pi 3 runs standard
    (8 * GIB, [None, 768 << 20], "small"),         # systemd MemoryMax= below 1 GiB on a big machine
    (8 * GIB, [4 * GIB], "standard"),
    (None, [], "standard"),                         # nothing known: standard
])
def test_auto_follows_the_lowest_limit(mem_total: int | None, limits: list[int | None], expected: str) -> None:
    assert profile.choose(profile.AUTO, profile.effective_memory(mem_total, limits)).name == expected


@given(st.integers(min_value=0, max_value=1 << 40))
def test_a_named_profile_ignores_the_machine(memory: int) -> None:
    assert profile.choose("small", memory) is profile.SMALL
    assert profile.choose("standard", memory) is profile.STANDARD


def test_machine_memory_reads_this_machine() -> None:
    memory = profile.machine_memory()
    assert memory is None or memory > 0


def test_config_key(tmp_path: Path) -> None:
    assert config.load(tmp_path).profile == "auto"
    (tmp_path / "config.toml").write_text('profile = "Small"\n')
    assert config.load(tmp_path).profile == "small"
    (tmp_path / "config.toml").write_text('profile = "tiny"\n')
    with pytest.raises(ConfigError, match="profile must be one of small, standard, auto"):
        config.load(tmp_path)
    (tmp_path / "config.toml").write_text("profile = 512\n")
    with pytest.raises(ConfigError, match="profile has the wrong type"):
        config.load(tmp_path)


def test_the_daemon_flag_wins_over_config(tmp_path: Path) -> None:
    parser = argparse.ArgumentParser()
    command.add_arguments(parser)
    settings = config.Settings(home=tmp_path, profile="small")
    assert command.settings_from_args(parser.parse_args([]), settings).profile == "small"
    assert command.settings_from_args(parser.parse_args(["--profile", "standard"]), settings).profile == "standard"
    with pytest.raises(SystemExit):
        parser.parse_args(["--profile", "huge"])


# --- the store under each profile -----------------------------------------------------------------

@pytest.mark.parametrize("chosen", [profile.SMALL, profile.STANDARD])
def test_sqlite_pragmas_follow_the_profile(tmp_path: Path, chosen: profile.Profile) -> None:
    with SqliteStore(tmp_path / "store.sqlite3", profile=chosen) as store:
        pragma = store._pragma_int
        assert pragma("cache_size") == -chosen.sqlite_cache_kib
        assert pragma("mmap_size") == chosen.sqlite_mmap_bytes
        assert pragma("journal_size_limit") == chosen.wal_limit_bytes
        assert store._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert profile.SMALL.sqlite_cache_kib < profile.STANDARD.sqlite_cache_kib
    assert profile.SMALL.sqlite_mmap_bytes == 0


def test_a_sweep_with_nothing_expired_writes_nothing(tmp_path: Path) -> None:
    """The retention sweep runs every ten minutes on an idle node: it must not open a write transaction."""
    with SqliteStore(tmp_path / "store.sqlite3", profile=profile.SMALL) as store:
        statements: list[str] = []
        store._db.set_trace_callback(statements.append)
        assert store.expire(1_000) == 0
        assert not any(s.startswith(("BEGIN", "DELETE", "COMMIT")) for s in statements), statements


# --- bounded tables ------------------------------------------------------------------------------

def test_peer_tables_stay_bounded_under_a_flood() -> None:
    import random

    table = neighbours.NeighbourSet(SyncConfig(), random.Random(1), {})
    flood = neighbours.MAX_REMEMBERED * 3
    for i in range(flood):
        peer = ("192.0.2.1", i)
        table.discovered(peer, "seg")
        table.back_off(bytes([i % 256, i // 256]) * 16, float(i), 10.0)
        table.opened(bytes(32), peer, initiator=True)
    assert len(table._known) == neighbours.MAX_REMEMBERED
    assert len(table._backoff) == neighbours.MAX_REMEMBERED
    assert len(table._address_node) <= neighbours.MAX_REMEMBERED
    assert ("192.0.2.1", flood - 1) in table._known and ("192.0.2.1", 0) not in table._known


def test_the_verify_key_cache_is_bounded() -> None:
    """Envelopes from many authors: the cache of parsed public keys keeps at most its maxsize."""
    import os

    from meshcare.crypto import sign

    limit = sign._verify_key.cache_info().maxsize
    assert limit is not None
    for _ in range(limit + 500):
        sign._verify_key(os.urandom(32))
    assert sign._verify_key.cache_info().currsize <= limit


def test_equivocations_seen_stay_bounded() -> None:
    """A hostile member signing thousands of conflicting envelopes: each counted once, the ids kept bounded."""
    from types import SimpleNamespace

    from meshcare.circles import chains

    table = chains.Chains()
    author = bytes(32)
    flood = chains.MAX_SEEN_EQUIVOCATIONS + 1000
    for i in range(flood):
        table.record_equivocation(SimpleNamespace(id=i.to_bytes(32, "big"), author=author))  # type: ignore[arg-type]  # only id and author are read
    assert len(table._seen) == chains.MAX_SEEN_EQUIVOCATIONS
    assert table.equivocations[author] == flood
