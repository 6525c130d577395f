"""Private files written so that a crash leaves the old version or the new one, never a torn one.

Both the keystore and the circle state are secrets: they are written 0600 to a temporary file in the
same directory, fsynced, moved into place (``os.replace``, or ``os.link`` when an existing file must
never be overwritten), and the directory is fsynced so the rename itself survives a power cut.
"""

from __future__ import annotations

import os
from pathlib import Path


def write_synced(tmp: Path, data: bytes) -> None:
    """Create ``tmp`` (mode 0600, must not exist) holding ``data``, flushed to disk."""
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, data)
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
    """Atomically replace (or create) ``path`` with ``data``, mode 0600."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    write_synced(tmp, data)
    os.replace(tmp, path)
    sync_directory(path.parent)
