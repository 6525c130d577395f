"""Disk space on the data dir's filesystem. Pure: judges a ``DiskFact``.

A full disk makes the store refuse writes: the node then refuses what it cannot keep (it never
acknowledges what it did not write), so calls stop getting through. An SD card on a Pi also wears and
slows down when nearly full. Thresholds: a problem under ``PROBLEM_BYTES`` free or ``PROBLEM_INODES``
free inodes, a warning under ``WARN_BYTES`` or ``WARN_INODE_SHARE`` of the inodes.
"""

from __future__ import annotations

from typing import Final

from .facts import DiskFact
from .findings import Finding, ok, problem, warning

DISK: Final = "disk"
PROBLEM_BYTES: Final = 64 * 2**20
WARN_BYTES: Final = 512 * 2**20
PROBLEM_INODES: Final = 1000
WARN_INODE_SHARE: Final = 0.05

FIX = ("free space on that filesystem: see what is big with `du -xsh ~/* /var/log 2>/dev/null | sort -h`; "
       "`sudo journalctl --vacuum-size=50M` and `sudo apt clean` often free a lot on a Pi.")


def _size(n: int) -> str:
    """Bytes for people: 512.0 MiB."""
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024:
            return f"{n} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"


def judge_disk(d: DiskFact) -> list[Finding]:
    """Free bytes and inodes against the thresholds."""
    out: list[Finding] = []
    where = f"the filesystem of {d.path}"
    if d.free_bytes < PROBLEM_BYTES:
        out.append(problem(DISK, f"only {_size(d.free_bytes)} free on {where}: the node will soon refuse what it "
                                 "cannot store.", FIX))
    elif d.free_bytes < WARN_BYTES:
        out.append(warning(DISK, f"{_size(d.free_bytes)} free on {where} (less than {_size(WARN_BYTES)}).", FIX))
    if d.total_inodes:
        if d.free_inodes < PROBLEM_INODES:
            out.append(problem(DISK, f"only {d.free_inodes} free inodes on {where}: no new files can be made.",
                               "delete many small files you do not need (`sudo du --inodes -xs /* | sort -n` shows "
                               "where they are)."))
        elif d.free_inodes < WARN_INODE_SHARE * d.total_inodes:
            out.append(warning(DISK, f"{d.free_inodes} free inodes on {where} (under "
                                     f"{WARN_INODE_SHARE:.0%}).",
                               "delete small files you do not need (`sudo du --inodes -xs /* | sort -n`)."))
    return out or [ok(DISK, f"{_size(d.free_bytes)} free on {where}.")]
