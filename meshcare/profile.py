"""The resource profile: how much memory the daemon lets its store and caches take.

A Raspberry Pi Zero 2 W has 512 MB for the whole system, so a node there runs ``small``: SQLite keeps a
1 MiB page cache and maps nothing, and the WAL is trimmed after each checkpoint. Everywhere else it runs
``standard`` (SQLite's defaults). The profile is chosen once at start: ``--profile`` on the daemon wins, then ``profile =``
in config.toml, then the machine: under 1 GiB of memory (MemTotal in /proc/meminfo, or the cgroup's limit
when that is lower, as under systemd's ``MemoryMax=``) means ``small``.

What neither profile changes: every table that grows with peers, envelopes or circles is bounded in both
(docs/benchmarks.md, "Raspberry Pi" section, lists them); received envelopes are written with
``synchronous=NORMAL`` and own ones with FULL in both; nothing is written while the node is idle.

Pure: parsing and choosing take text and numbers; ``machine_memory`` is the one reader of the system.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

from .errors import ConfigError

#: Machines with less memory than this (total, or the cgroup's limit) run the small profile.
SMALL_BELOW: Final = 1 << 30
AUTO: Final = "auto"


@dataclass(frozen=True, slots=True)
class Profile:
    """The limits one profile sets. ``sqlite_cache_kib``: SQLite's page cache (``PRAGMA cache_size`` as a
    negative KiB count); ``sqlite_mmap_bytes``: how much of the file SQLite may map (0: reads go through
    the page cache only, so a big store never shows up as resident memory); ``wal_limit_bytes``: the
    size the WAL file is truncated to after a checkpoint (``journal_size_limit``)."""

    name: str
    sqlite_cache_kib: int
    sqlite_mmap_bytes: int
    wal_limit_bytes: int

    def pragmas(self) -> tuple[str, ...]:
        """The SQLite statements that apply this profile to a connection."""
        return (f"PRAGMA cache_size = -{self.sqlite_cache_kib}",
                f"PRAGMA mmap_size = {self.sqlite_mmap_bytes}",
                f"PRAGMA journal_size_limit = {self.wal_limit_bytes}")


SMALL: Final = Profile("small", sqlite_cache_kib=1024, sqlite_mmap_bytes=0, wal_limit_bytes=4 << 20)
#: SQLite's own defaults for the cache and mmap (what every figure before the profiles was measured with;
#: a mapped store would count as resident memory), and a WAL trimmed back to 64 MiB after a burst.
STANDARD: Final = Profile("standard", sqlite_cache_kib=2000, sqlite_mmap_bytes=0, wal_limit_bytes=64 << 20)
PROFILES: Final = {p.name: p for p in (SMALL, STANDARD)}
CHOICES: Final = (*PROFILES, AUTO)


def check_name(text: str, where: str) -> str:
    """A profile name as given (``small``, ``standard`` or ``auto``), lower-cased. Raises ConfigError
    naming ``where`` it came from."""
    name = text.strip().lower()
    if name not in CHOICES:
        raise ConfigError(f"{where}: profile must be one of {', '.join(CHOICES)} (got {text!r})")
    return name


def choose(requested: str, memory_bytes: int | None) -> Profile:
    """The profile for ``requested`` (a name from ``CHOICES``; ``auto`` decides by ``memory_bytes``, the
    memory this process may use, None when unknown: then ``standard``)."""
    if requested != AUTO:
        return PROFILES[check_name(requested, "profile")]
    if memory_bytes is not None and memory_bytes < SMALL_BELOW:
        return SMALL
    return STANDARD


def parse_meminfo(text: str) -> int | None:
    """MemTotal in bytes from the text of /proc/meminfo, or None if it is not there."""
    for line in text.splitlines():
        name, _, rest = line.partition(":")
        if name.strip() == "MemTotal":
            fields = rest.split()
            if fields and fields[0].isdigit():
                unit = fields[1].lower() if len(fields) > 1 else "b"
                return int(fields[0]) * (1024 if unit == "kb" else 1)
    return None


def parse_cgroup_limit(text: str) -> int | None:
    """A cgroup memory limit in bytes (v2 ``memory.max``, v1 ``memory.limit_in_bytes``), or None for no
    limit (``max``, or v1's huge "unlimited" number, or text that is not a number)."""
    value = text.strip()
    if not value.isdigit():
        return None
    limit = int(value)
    return None if limit >= 1 << 62 else limit


def cgroup_limit_paths(proc_cgroup: str, root: Path = Path("/sys/fs/cgroup")) -> list[Path]:
    """Where this process's memory limit may be, from the text of /proc/self/cgroup: the v2 unified
    hierarchy (``0::/path``) and the v1 memory controller (``N:memory:/path``), with its parents (a
    limit set on a parent slice binds too)."""
    paths: list[Path] = []
    for line in proc_cgroup.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, where = parts
        if controllers == "":
            base, file = root, "memory.max"
        elif "memory" in controllers.split(","):
            base, file = root / "memory", "memory.limit_in_bytes"
        else:
            continue
        rel = Path(where.lstrip("/"))
        for part in [rel, *rel.parents]:
            paths.append(base / part / file)
    return paths


def effective_memory(mem_total: int | None, cgroup_limits: list[int | None]) -> int | None:
    """The memory this process may use: the lowest of MemTotal and any cgroup limit."""
    known = [m for m in (mem_total, *cgroup_limits) if m is not None]
    return min(known) if known else None


def machine_memory() -> int | None:
    """The memory this process may use, read from /proc and /sys (None on a system without them)."""
    def read(path: Path) -> str | None:
        try:
            return path.read_text(encoding="ascii", errors="replace")
        except OSError:
            return None

    meminfo = read(Path("/proc/meminfo"))
    cgroup = read(Path("/proc/self/cgroup")) or ""
    limits = [parse_cgroup_limit(text) for path in cgroup_limit_paths(cgroup) if (text := read(path)) is not None]
    return effective_memory(parse_meminfo(meminfo) if meminfo else None, limits)
