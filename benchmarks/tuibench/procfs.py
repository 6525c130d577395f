"""What /proc says about the TUI and the daemons: CPU ticks, wake-ups, resident memory, the process tree.

The TUI is not a child of the benchmark: tmux's server starts the pane's shell, and the shell starts
``python -m meshcare ... tui``. So the benchmark asks tmux for the pane's pid and walks /proc from
there (``descendants``: every process whose parent chain leads to it), picking the one whose command
line is the TUI's (``find_tui``). Every function takes the /proc root, so the tests give them a
directory of their own.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

PROC = Path("/proc")
#: Clock ticks per second (utime and stime in /proc/PID/stat count these).
TICKS = os.sysconf("SC_CLK_TCK")


def parse_stat(text: str) -> tuple[int, int]:
    """(parent pid, utime + stime in ticks) from the text of /proc/PID/stat. The command name (field 2,
    in parentheses) may hold spaces and parentheses itself, so fields are counted after its last ")".
    Raises ValueError on anything else."""
    head, sep, tail = text.rpartition(")")
    fields = tail.split()
    if not sep or "(" not in head or len(fields) < 13:
        raise ValueError(f"not a /proc/PID/stat line: {text[:80]!r}")
    return int(fields[1]), int(fields[11]) + int(fields[12])


def parse_rss_kib(text: str) -> int:
    """VmRSS in KiB from the text of /proc/PID/status (0 when absent: a zombie has none)."""
    for line in text.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def parse_switches(text: str) -> int:
    """voluntary + nonvoluntary context switches from the text of a /proc/PID/task/TID/status: how many
    times the thread stopped running, i.e. about how often it woke up (0 when absent)."""
    total = 0
    for line in text.splitlines():
        if line.startswith(("voluntary_ctxt_switches:", "nonvoluntary_ctxt_switches:")):
            total += int(line.split()[1])
    return total


def switches(pid: int, root: Path = PROC) -> int:
    """Context switches of every thread of ``pid`` so far (threads that ended are not counted)."""
    total = 0
    for task in (root / str(pid) / "task").iterdir():
        try:
            total += parse_switches((task / "status").read_text())
        except OSError:
            continue
    return total


def cpu_ticks(pid: int, root: Path = PROC) -> int:
    """User + system CPU of ``pid`` so far, in ticks (its own, not its children's)."""
    return parse_stat((root / str(pid) / "stat").read_text())[1]


def rss_kib(pid: int, root: Path = PROC) -> int:
    """Resident memory of ``pid`` in KiB."""
    return parse_rss_kib((root / str(pid) / "status").read_text())


def cmdline(pid: int, root: Path = PROC) -> list[str]:
    """The arguments ``pid`` was started with ([] when it is gone or a kernel thread)."""
    try:
        raw = (root / str(pid) / "cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def parents(root: Path = PROC) -> dict[int, int]:
    """Every process's parent pid, read from each /proc/PID/stat (processes that end meanwhile are
    skipped)."""
    out: dict[int, int] = {}
    for entry in root.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            out[int(entry.name)] = parse_stat((entry / "stat").read_text())[0]
        except (OSError, ValueError):
            continue
    return out


def descendants(pid: int, parent_of: dict[int, int]) -> list[int]:
    """The children of ``pid``, their children, and so on, nearest first (breadth first)."""
    children: dict[int, list[int]] = {}
    for child, parent in parent_of.items():
        children.setdefault(parent, []).append(child)
    found: list[int] = []
    frontier = [pid]
    while frontier:
        nxt: list[int] = []
        for p in frontier:
            for child in sorted(children.get(p, ())):
                found.append(child)
                nxt.append(child)
        frontier = nxt
    return found


def is_tui(argv: Iterable[str]) -> bool:
    """A ``meshcare ... tui`` command line: ``python -m meshcare [--home D] tui`` or the ``meshcare``
    script with ``tui`` among its arguments."""
    args = list(argv)
    for i, arg in enumerate(args):
        named = arg == "meshcare" or arg.endswith("/meshcare")
        if named and "tui" in args[i + 1:]:
            return True
    return False


def find_tui(pane_pid: int, root: Path = PROC) -> int | None:
    """The pid of the TUI started in the pane whose shell is ``pane_pid`` (the pane itself when it
    is the TUI), or None when it is not (or no longer) running."""
    for pid in [pane_pid, *descendants(pane_pid, parents(root))]:
        if is_tui(cmdline(pid, root)):
            return pid
    return None
