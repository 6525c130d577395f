"""Private files written so that a crash leaves the old version or the new one, never a torn one.

Both the keystore and the circle state are secrets: they are written 0600 to a temporary file in the
same directory, fsynced, moved into place (``os.replace``, or ``os.link`` when an existing file must
never be overwritten), and the directory is fsynced so the rename itself survives a power cut.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from .errors import DiskFull

#: The errnos that mean "no room": the disk is full, or this user's quota is.
NO_ROOM = (errno.ENOSPC, errno.EDQUOT)


def disk_full(directory: Path, what: str) -> DiskFull:
    """The one error a full disk becomes, wherever it was met (the store, the state file)."""
    return DiskFull(f"the disk is full: {what}; free some space on the disk that holds {directory} (meshcare "
                    "keeps running, and writes again by itself once there is room)", str(directory))


def write_synced(tmp: Path, data: bytes) -> None:
    """Create ``tmp`` (mode 0600, must not exist) holding ``data``, flushed to disk."""
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        view = memoryview(data)
        while view:             # os.write may write part of it (a disk filling up): the rest, or ENOSPC
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)


def sync_directory(directory: Path) -> None:
    """Make a rename or link in ``directory`` durable."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def replace_private(path: Path, data: bytes) -> None:
    """Atomically replace (or create) ``path`` with ``data``, mode 0600. A failed write leaves the old file
    and no temporary one; a full disk raises ``DiskFull``."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    try:
        write_synced(tmp, data)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        if exc.errno in NO_ROOM:
            raise disk_full(path.parent, f"cannot write {path}") from exc
        raise
    sync_directory(path.parent)
