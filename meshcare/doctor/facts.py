"""The facts the checks judge, as plain frozen records. Pure: the probes (probes.py) gather them from the
system, and tests build them by hand to create each problem without root, a second user or a full disk."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..control.results_doctor import NodeHealthResult


@dataclass(frozen=True, slots=True)
class FileFact:
    """A file or directory as ``lstat`` sees it (``exists`` False: the other fields are meaningless)."""

    path: Path
    exists: bool
    is_dir: bool = False
    mode: int = 0          # permission bits only (0o7777)
    uid: int = -1


@dataclass(frozen=True, slots=True)
class Interface:
    """A network interface: its flags (``ip link``) and IPv4 addresses."""

    name: str
    up: bool
    multicast: bool
    loopback: bool
    ipv4: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DiskFact:
    """Free space on a filesystem, for unprivileged users (``statvfs``: f_bavail, f_favail)."""

    path: Path
    free_bytes: int
    total_bytes: int
    free_inodes: int
    total_inodes: int      # 0: the filesystem does not count inodes (btrfs): not checked


@dataclass(frozen=True, slots=True)
class UnitFact:
    """A systemd unit as ``systemctl show`` reports it."""

    name: str
    load: str              # LoadState: loaded | not-found | masked | error
    unit_file: str         # UnitFileState: enabled | disabled | static | ... ("" when not found)
    active: str            # ActiveState: active | inactive | failed | activating | ...
    sub: str = ""          # SubState: running | dead | failed | auto-restart | ...
    result: str = ""       # Result: success | exit-code | watchdog | ...


@dataclass(frozen=True, slots=True)
class DaemonFacts:
    """Whether a daemon runs for the data dir, answers, and what ``node.health`` says.

    ``pid``: the daemon holding the lock (None: none runs). ``answers``: its control socket answered.
    ``health``: its ``node.health`` (None when it does not run, does not answer, or is older than the op:
    ``note`` says which). ``socket_exists``: a control.sock file is there.
    """

    pid: int | None
    answers: bool
    socket_exists: bool
    health: NodeHealthResult | None = None
    note: str = ""
